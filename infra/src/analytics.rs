//! The analytics tables analysts query with SQL, in PostgreSQL or SQLite.

use async_trait::async_trait;
use conserje_projections::message_stats::{MessageFact, MessageFacts};
use conserje_projections::ProjectionError;

use crate::Database;

/// `analytics_messages`, or its replay shadow.
#[derive(Clone, Debug)]
pub struct SqlMessageFacts {
    db: Database,
    table: &'static str,
}

impl SqlMessageFacts {
    pub const TABLE: &'static str = "analytics_messages";

    pub fn new(db: Database) -> Self {
        Self::into_table(db, Self::TABLE)
    }

    /// Writes into `table` instead: the shadow a replay builds.
    pub fn into_table(db: Database, table: &'static str) -> Self {
        Self { db, table }
    }
}

#[async_trait]
impl MessageFacts for SqlMessageFacts {
    async fn record(&self, fact: &MessageFact) -> Result<(), ProjectionError> {
        let sql = format!(
            "INSERT INTO {} (session_id, sequence, tenant_id, channel, day, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (session_id, sequence) DO NOTHING",
            self.table
        );
        let day = fact.received_at.date_naive();
        crate::on_pool!(&self.db, pool => {
            sqlx::query(&sql)
                .bind(&fact.session_id)
                .bind(fact.sequence)
                .bind(&fact.tenant_id)
                .bind(&fact.channel)
                .bind(day)
                .bind(fact.received_at)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(|e| ProjectionError::Storage(e.to_string()))
    }
}
