//! The `dead_letters` table: the index of the dead-letter topic, in PostgreSQL or SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use conserje_domain::dead_letter::{
    Awaiting, DeadLetterEntry, DeadLetterIndex, DeadLetterIndexError, DeadLetterReason,
};

use crate::Database;

/// Adds an entry, leaving one already there untouched.
const ADD: &str = "INSERT INTO dead_letters (dlq_topic, dlq_partition, dlq_offset, reason, \
     consumer, source_topic, tenant_id, awaits_operator, indexed_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (dlq_topic, dlq_partition, dlq_offset) DO NOTHING";

/// Marks an entry redriven, adding it when the index has not reached it yet.
const REDRIVEN: &str = "INSERT INTO dead_letters (dlq_topic, dlq_partition, dlq_offset, reason, \
     consumer, source_topic, tenant_id, awaits_operator, indexed_at, redriven_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
     ON CONFLICT (dlq_topic, dlq_partition, dlq_offset) \
     DO UPDATE SET redriven_at = excluded.redriven_at";

const WAITING: &str = "SELECT reason, count(*) AS waiting FROM dead_letters \
     WHERE awaits_operator AND redriven_at IS NULL GROUP BY reason ORDER BY reason";

#[derive(Clone, Debug)]
pub struct SqlDeadLetterIndex {
    db: Database,
}

impl SqlDeadLetterIndex {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Writes `entries` with `sql` (one of [`ADD`], [`REDRIVEN`]) in one transaction.
    async fn write(
        &self,
        sql: &str,
        entries: &[DeadLetterEntry],
        at: DateTime<Utc>,
    ) -> Result<(), DeadLetterIndexError> {
        if entries.is_empty() {
            return Ok(());
        }
        crate::on_pool!(&self.db, pool => async {
            let mut tx = pool.begin().await?;
            for entry in entries {
                sqlx::query(sql)
                    .bind(&entry.id.topic)
                    .bind(entry.id.partition)
                    .bind(entry.id.offset)
                    .bind(entry.reason.as_str())
                    .bind(&entry.consumer)
                    .bind(&entry.source_topic)
                    .bind(entry.tenant.as_deref())
                    .bind(entry.awaiting == Awaiting::Operator)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        }
        .await)
        .map_err(unavailable)
    }
}

fn unavailable(err: sqlx::Error) -> DeadLetterIndexError {
    DeadLetterIndexError(err.to_string())
}

#[async_trait]
impl DeadLetterIndex for SqlDeadLetterIndex {
    async fn add(&self, entries: &[DeadLetterEntry]) -> Result<(), DeadLetterIndexError> {
        self.write(ADD, entries, Utc::now()).await
    }

    async fn mark_redriven(
        &self,
        entries: &[DeadLetterEntry],
        at: DateTime<Utc>,
    ) -> Result<(), DeadLetterIndexError> {
        self.write(REDRIVEN, entries, at).await
    }

    async fn waiting_by_reason(
        &self,
    ) -> Result<Vec<(DeadLetterReason, u64)>, DeadLetterIndexError> {
        let rows: Vec<(String, i64)> = crate::on_pool!(&self.db, pool => {
            sqlx::query_as(WAITING).fetch_all(pool).await
        })
        .map_err(unavailable)?;
        Ok(rows
            .into_iter()
            .map(|(reason, waiting)| {
                (
                    DeadLetterReason::from_header(Some(&reason)),
                    u64::try_from(waiting).unwrap_or(0),
                )
            })
            .collect())
    }
}
