//! The `inbox` read-model table, in PostgreSQL or SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use conserje_projections::inbox::{InboxFilter, InboxPulse, InboxRow, InboxRows};
use conserje_projections::ProjectionError;
use sqlx::FromRow;

use crate::{on_pool, Database};

/// The `inbox` table of `db`.
#[derive(Clone, Debug)]
pub struct SqlInboxRows {
    db: Database,
    table: &'static str,
}

const COLUMNS: &str = "session_id, tenant_id, channel, guest_ref, guest_name, language, \
     handed_off, handoff_reason, handed_off_at, waiting_since, started_at, last_message_at, \
     last_activity_at, message_count, last_sequence";

fn storage(err: sqlx::Error) -> ProjectionError {
    ProjectionError::Storage(err.to_string())
}

#[derive(Debug, FromRow)]
struct Columns {
    session_id: String,
    tenant_id: String,
    channel: String,
    guest_ref: String,
    guest_name: Option<String>,
    language: Option<String>,
    handed_off: bool,
    handoff_reason: Option<String>,
    handed_off_at: Option<DateTime<Utc>>,
    waiting_since: Option<DateTime<Utc>>,
    started_at: DateTime<Utc>,
    last_message_at: Option<DateTime<Utc>>,
    last_activity_at: DateTime<Utc>,
    message_count: i64,
    last_sequence: i64,
}

impl From<Columns> for InboxRow {
    fn from(c: Columns) -> Self {
        Self {
            session_id: c.session_id,
            tenant_id: c.tenant_id,
            channel: c.channel,
            guest_ref: c.guest_ref,
            guest_name: c.guest_name,
            language: c.language,
            handed_off: c.handed_off,
            handoff_reason: c.handoff_reason,
            handed_off_at: c.handed_off_at,
            waiting_since: c.waiting_since,
            started_at: c.started_at,
            last_message_at: c.last_message_at,
            last_activity_at: c.last_activity_at,
            message_count: c.message_count,
            last_sequence: c.last_sequence,
        }
    }
}

#[derive(Debug, FromRow)]
struct Pulse {
    conversations: i64,
    waiting: i64,
    version: i64,
}

impl SqlInboxRows {
    pub const TABLE: &'static str = "inbox";

    pub fn new(db: Database) -> Self {
        Self::into_table(db, Self::TABLE)
    }

    /// Writes into `table` instead: the shadow a replay builds.
    pub fn into_table(db: Database, table: &'static str) -> Self {
        Self { db, table }
    }
}

#[async_trait]
impl InboxRows for SqlInboxRows {
    async fn get(&self, session_id: &str) -> Result<Option<InboxRow>, ProjectionError> {
        let sql = format!("SELECT {COLUMNS} FROM {} WHERE session_id = $1", self.table);
        let found: Option<Columns> = on_pool!(&self.db, pool => {
            sqlx::query_as(&sql).bind(session_id).fetch_optional(pool).await
        })
        .map_err(storage)?;
        Ok(found.map(InboxRow::from))
    }

    async fn upsert(&self, row: &InboxRow) -> Result<(), ProjectionError> {
        let sql = format!(
            "INSERT INTO {table} ({COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (session_id) DO UPDATE SET guest_name = excluded.guest_name, \
             language = excluded.language, handed_off = excluded.handed_off, \
             handoff_reason = excluded.handoff_reason, handed_off_at = excluded.handed_off_at, \
             waiting_since = excluded.waiting_since, last_message_at = excluded.last_message_at, \
             last_activity_at = excluded.last_activity_at, \
             message_count = excluded.message_count, last_sequence = excluded.last_sequence \
             WHERE {table}.last_sequence < excluded.last_sequence",
            table = self.table
        );
        on_pool!(&self.db, pool => {
            sqlx::query(&sql)
                .bind(&row.session_id)
                .bind(&row.tenant_id)
                .bind(&row.channel)
                .bind(&row.guest_ref)
                .bind(row.guest_name.as_deref())
                .bind(row.language.as_deref())
                .bind(row.handed_off)
                .bind(row.handoff_reason.as_deref())
                .bind(row.handed_off_at)
                .bind(row.waiting_since)
                .bind(row.started_at)
                .bind(row.last_message_at)
                .bind(row.last_activity_at)
                .bind(row.message_count)
                .bind(row.last_sequence)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(storage)
    }

    async fn list(
        &self,
        tenant_id: &str,
        filter: &InboxFilter,
        limit: u32,
    ) -> Result<Vec<InboxRow>, ProjectionError> {
        // Optional filters as `($n IS NULL OR column = $n)`, so the statement is one text and
        // every value a bound parameter.
        let sql = format!(
            "SELECT {COLUMNS} FROM {} WHERE tenant_id = $1 \
             AND ($2 = FALSE OR handed_off) \
             AND (CAST($3 AS text) IS NULL OR channel = $3) \
             AND (CAST($4 AS text) IS NULL OR language = $4) \
             AND ($5 IS NULL OR last_activity_at >= $5) \
             ORDER BY handed_off DESC, \
             CASE WHEN handed_off THEN waiting_since END ASC, \
             last_activity_at DESC LIMIT $6",
            self.table
        );
        let rows: Vec<Columns> = on_pool!(&self.db, pool => {
            sqlx::query_as(&sql)
                .bind(tenant_id)
                .bind(filter.handed_off_only)
                .bind(filter.channel.as_deref())
                .bind(filter.language.as_deref())
                .bind(filter.active_since)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
        })
        .map_err(storage)?;
        Ok(rows.into_iter().map(InboxRow::from).collect())
    }

    async fn pulse(&self, tenant_id: &str) -> Result<InboxPulse, ProjectionError> {
        let sql = format!(
            "SELECT count(*) AS conversations, \
             CAST(COALESCE(sum(CASE WHEN handed_off AND waiting_since IS NOT NULL \
                  THEN 1 ELSE 0 END), 0) AS bigint) AS waiting, \
             CAST(COALESCE(sum(last_sequence), 0) AS bigint) AS version \
             FROM {} WHERE tenant_id = $1",
            self.table
        );
        let pulse: Pulse = on_pool!(&self.db, pool => {
            sqlx::query_as(&sql).bind(tenant_id).fetch_one(pool).await
        })
        .map_err(storage)?;
        Ok(InboxPulse {
            conversations: pulse.conversations,
            waiting: pulse.waiting,
            version: pulse.version,
        })
    }
}
