//! The analytics tables analysts query with SQL, in PostgreSQL or SQLite.

use async_trait::async_trait;
use conserje_projections::conversation_stats::{TurnFact, TurnFacts, TurnKind};
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

/// `analytics_turns`, or its replay shadow.
#[derive(Clone, Debug)]
pub struct SqlTurnFacts {
    db: Database,
    table: &'static str,
}

impl SqlTurnFacts {
    pub const TABLE: &'static str = "analytics_turns";

    pub fn new(db: Database) -> Self {
        Self::into_table(db, Self::TABLE)
    }

    /// Writes into `table` instead: the shadow a replay builds.
    pub fn into_table(db: Database, table: &'static str) -> Self {
        Self { db, table }
    }
}

#[async_trait]
impl TurnFacts for SqlTurnFacts {
    async fn record(&self, fact: &TurnFact) -> Result<(), ProjectionError> {
        let sql = format!(
            "INSERT INTO {} (session_id, sequence, tenant_id, channel, day, recorded_at, kind, \
             intent, language, confidence, model_version, handoff_reason, locale, from_context) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (session_id, sequence) DO NOTHING",
            self.table
        );
        let (kind, intent, language, confidence, model_version, reason, locale, from_context) =
            match &fact.kind {
                TurnKind::Intent {
                    intent,
                    language,
                    locale,
                    confidence,
                    model_version,
                    from_context,
                } => (
                    "intent",
                    Some(intent.as_str()),
                    Some(language.as_str()),
                    Some(f64::from(*confidence)),
                    model_version.as_deref(),
                    None,
                    Some(locale.as_str()),
                    from_context.as_deref(),
                ),
                TurnKind::Handoff { reason } => (
                    "handoff",
                    None,
                    None,
                    None,
                    None,
                    Some(reason.as_str()),
                    None,
                    None,
                ),
            };
        let day = fact.recorded_at.date_naive();
        crate::on_pool!(&self.db, pool => {
            sqlx::query(&sql)
                .bind(&fact.session_id)
                .bind(fact.sequence)
                .bind(&fact.tenant_id)
                .bind(&fact.channel)
                .bind(day)
                .bind(fact.recorded_at)
                .bind(kind)
                .bind(intent)
                .bind(language)
                .bind(confidence)
                .bind(model_version)
                .bind(reason)
                .bind(locale)
                .bind(from_context)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(|e| ProjectionError::Storage(e.to_string()))
    }
}
