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
    /// One transaction for the whole batch, multi-row INSERTs of [`ROWS_PER_INSERT`]: one commit
    /// and a few statements instead of one of each per fact.
    async fn record_all(&self, facts: &[MessageFact]) -> Result<(), ProjectionError> {
        crate::on_pool!(&self.db, pool => async {
            let mut tx = pool.begin().await?;
            for rows in facts.chunks(ROWS_PER_INSERT) {
                let mut query = sqlx::QueryBuilder::new(format!(
                    "INSERT INTO {} (session_id, sequence, tenant_id, channel, day, received_at) ",
                    self.table
                ));
                query.push_values(rows, |mut row, fact| {
                    row.push_bind(&fact.session_id)
                        .push_bind(fact.sequence)
                        .push_bind(&fact.tenant_id)
                        .push_bind(&fact.channel)
                        .push_bind(fact.received_at.date_naive())
                        .push_bind(fact.received_at);
                });
                query.push(" ON CONFLICT (session_id, sequence) DO NOTHING");
                query.build().execute(&mut *tx).await?;
            }
            tx.commit().await
        }.await)
        .map_err(|e| ProjectionError::Storage(e.to_string()))
    }
}

/// Rows per multi-row INSERT: 14 parameters each stays below SQLite's 32,766 and PostgreSQL's
/// 65,535 bound parameters per statement.
const ROWS_PER_INSERT: usize = 500;

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
    /// One transaction for the whole batch: one commit instead of one per fact.
    async fn record_all(&self, facts: &[TurnFact]) -> Result<(), ProjectionError> {
        crate::on_pool!(&self.db, pool => async {
            let mut tx = pool.begin().await?;
            for rows in facts.chunks(ROWS_PER_INSERT) {
                let mut query = sqlx::QueryBuilder::new(format!(
                    "INSERT INTO {} (session_id, sequence, tenant_id, channel, day, recorded_at, \
                     kind, intent, language, confidence, model_version, handoff_reason, locale, \
                     from_context, message_id, receipt_status, failure_code) ",
                    self.table
                ));
                query.push_values(rows, |mut row, fact| {
                    let columns = Columns::of(&fact.kind);
                    row.push_bind(&fact.session_id)
                        .push_bind(fact.sequence)
                        .push_bind(&fact.tenant_id)
                        .push_bind(&fact.channel)
                        .push_bind(fact.recorded_at.date_naive())
                        .push_bind(fact.recorded_at)
                        .push_bind(columns.kind)
                        .push_bind(columns.intent)
                        .push_bind(columns.language)
                        .push_bind(columns.confidence)
                        .push_bind(columns.model_version)
                        .push_bind(columns.handoff_reason)
                        .push_bind(columns.locale)
                        .push_bind(columns.from_context)
                        .push_bind(columns.message_id)
                        .push_bind(columns.receipt_status)
                        .push_bind(columns.failure_code);
                });
                query.push(" ON CONFLICT (session_id, sequence) DO NOTHING");
                query.build().execute(&mut *tx).await?;
            }
            tx.commit().await
        }.await)
        .map_err(|e| ProjectionError::Storage(e.to_string()))
    }
}

/// The columns one kind of turn fills; the others stay NULL.
#[derive(Default)]
struct Columns<'a> {
    kind: &'static str,
    intent: Option<&'a str>,
    language: Option<&'a str>,
    confidence: Option<f64>,
    model_version: Option<&'a str>,
    handoff_reason: Option<&'a str>,
    locale: Option<&'a str>,
    from_context: Option<&'a str>,
    message_id: Option<&'a str>,
    receipt_status: Option<&'a str>,
    failure_code: Option<i64>,
}

impl<'a> Columns<'a> {
    fn of(kind: &'a TurnKind) -> Self {
        match kind {
            TurnKind::Intent {
                intent,
                language,
                locale,
                confidence,
                model_version,
                from_context,
            } => Self {
                kind: "intent",
                intent: Some(intent),
                language: Some(language),
                confidence: Some(f64::from(*confidence)),
                model_version: model_version.as_deref(),
                locale: Some(locale),
                from_context: from_context.as_deref(),
                ..Self::default()
            },
            TurnKind::Handoff { reason } => Self {
                kind: "handoff",
                handoff_reason: Some(reason),
                ..Self::default()
            },
            TurnKind::Receipt {
                message_id,
                status,
                failure_code,
            } => Self {
                kind: "receipt",
                message_id: Some(message_id),
                receipt_status: Some(status),
                failure_code: *failure_code,
                ..Self::default()
            },
        }
    }
}
