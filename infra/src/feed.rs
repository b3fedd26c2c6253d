//! The catch-up reader: events in a global order that a late commit can never jump behind, and the
//! consumers' checkpoints.
//!
//! PostgreSQL hands out `position` (a sequence) before commit, so position order is not commit
//! order: transaction A can take position 10, B position 11, B commit and A commit later. A reader
//! that had moved its checkpoint to 11 would never see 10. This reader orders by the writing
//! transaction's id and then position, and only returns rows whose transaction is older than
//! `pg_snapshot_xmin(pg_current_snapshot())` — the oldest transaction still running — so every
//! row it returns is final, and every row still to come sorts after the checkpoint.
//!
//! SQLite serialises writers, so its rowid is already commit order and the transaction id is 0.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use conserje_domain::journal::{
    Checkpoint, CheckpointStore, EventFeed, JournalError, Opener, StoredEvent,
};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::shredding::Shredder;
use crate::Database;

/// Reads the event table of `db` in global order, with guests' personal fields opened — or, for
/// [`SqlEventFeed::sealed`], exactly as stored.
#[derive(Clone)]
pub struct SqlEventFeed {
    db: Database,
    opener: Option<Arc<Shredder>>,
}

impl std::fmt::Debug for SqlEventFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlEventFeed")
            .field("db", &self.db.kind())
            .field("opens", &self.opener.is_some())
            .finish()
    }
}

impl SqlEventFeed {
    /// The feed of readers of events' content: projections, transcripts, process managers.
    pub fn new(db: Database) -> Self {
        let opener = Some(Arc::new(Shredder::new(db.clone())));
        Self { db, opener }
    }

    /// The events as stored, personal fields sealed: what the audit chain seals and verifies
    /// (forgetting a guest must not change a byte of it) and what the relay publishes (the
    /// topic's copies are shredded with the store's).
    pub fn sealed(db: Database) -> Self {
        Self { db, opener: None }
    }

    async fn opened(&self, mut events: Vec<StoredEvent>) -> Result<Vec<StoredEvent>, JournalError> {
        if let Some(opener) = &self.opener {
            opener.open(&mut events).await?;
        }
        Ok(events)
    }
}

fn storage(err: impl std::fmt::Display) -> JournalError {
    JournalError(err.to_string())
}

const PG_COLUMNS: &str =
    "position, transaction_id::text::bigint AS transaction_id, aggregate_type, \
     aggregate_id, sequence, event_type, event_version, payload, metadata, recorded_at";

const SQLITE_COLUMNS: &str =
    "rowid AS position, 0 AS transaction_id, aggregate_type, aggregate_id, \
     sequence, event_type, event_version, payload, metadata, recorded_at";

fn from_pg(row: &PgRow) -> Result<StoredEvent, sqlx::Error> {
    Ok(StoredEvent {
        position: row.try_get("position")?,
        transaction_id: row.try_get("transaction_id")?,
        aggregate_type: row.try_get("aggregate_type")?,
        aggregate_id: row.try_get("aggregate_id")?,
        sequence: row.try_get("sequence")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: row.try_get("payload")?,
        metadata: row.try_get("metadata")?,
        recorded_at: row.try_get("recorded_at")?,
    })
}

fn from_sqlite(row: &SqliteRow) -> Result<StoredEvent, sqlx::Error> {
    let json = |column: &str| -> Result<serde_json::Value, sqlx::Error> {
        let text: String = row.try_get(column)?;
        serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    };
    let recorded_at: String = row.try_get("recorded_at")?;
    Ok(StoredEvent {
        position: row.try_get("position")?,
        transaction_id: row.try_get("transaction_id")?,
        aggregate_type: row.try_get("aggregate_type")?,
        aggregate_id: row.try_get("aggregate_id")?,
        sequence: row.try_get("sequence")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: json("payload")?,
        metadata: json("metadata")?,
        recorded_at: recorded_at
            .parse::<DateTime<Utc>>()
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
    })
}

impl SqlEventFeed {
    /// How many stored events sort after `after`: a store-fed consumer's lag, and the length of a
    /// replay from the beginning. Counts events still held back behind open transactions too.
    pub async fn count_after(&self, after: Checkpoint) -> Result<i64, JournalError> {
        match &self.db {
            Database::Postgres(pool) => sqlx::query_scalar(
                "SELECT count(*) FROM events WHERE (transaction_id, position) > ($1::text::xid8, $2)",
            )
            .bind(after.transaction_id.to_string())
            .bind(after.position)
            .fetch_one(pool)
            .await,
            Database::Sqlite(pool) => {
                sqlx::query_scalar("SELECT count(*) FROM events WHERE rowid > ?1")
                    .bind(after.position)
                    .fetch_one(pool)
                    .await
            }
        }
        .map_err(storage)
    }

    /// When the first stored event after `after` was recorded, if there is one: how long the
    /// oldest event a store-fed consumer has not handled has waited. One index look-up
    /// (`events_global_order`; SQLite's rowid).
    pub async fn first_recorded_after(
        &self,
        after: Checkpoint,
    ) -> Result<Option<DateTime<Utc>>, JournalError> {
        match &self.db {
            Database::Postgres(pool) => sqlx::query_scalar(
                "SELECT recorded_at FROM events WHERE (transaction_id, position) > \
                 ($1::text::xid8, $2) ORDER BY transaction_id, position LIMIT 1",
            )
            .bind(after.transaction_id.to_string())
            .bind(after.position)
            .fetch_optional(pool)
            .await
            .map_err(storage),
            Database::Sqlite(pool) => {
                let text: Option<String> = sqlx::query_scalar(
                    "SELECT recorded_at FROM events WHERE rowid > ?1 ORDER BY rowid LIMIT 1",
                )
                .bind(after.position)
                .fetch_optional(pool)
                .await
                .map_err(storage)?;
                text.map(|t| t.parse::<DateTime<Utc>>())
                    .transpose()
                    .map_err(|e| JournalError(format!("unreadable recorded_at: {e}")))
            }
        }
    }
}

#[async_trait]
impl EventFeed for SqlEventFeed {
    async fn read_after(
        &self,
        after: Checkpoint,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, JournalError> {
        let events = self.read_after_as_stored(after, limit).await?;
        self.opened(events).await
    }

    async fn stream(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<StoredEvent>, JournalError> {
        let events = self.stream_as_stored(aggregate_type, aggregate_id).await?;
        self.opened(events).await
    }
}

impl SqlEventFeed {
    async fn read_after_as_stored(
        &self,
        after: Checkpoint,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, JournalError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        match &self.db {
            Database::Postgres(pool) => {
                let sql = format!(
                    "SELECT {PG_COLUMNS} FROM events \
                     WHERE (transaction_id, position) > ($1::text::xid8, $2) \
                       AND transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
                     ORDER BY transaction_id, position LIMIT $3"
                );
                let rows = sqlx::query(&sql)
                    .bind(after.transaction_id.to_string())
                    .bind(after.position)
                    .bind(limit)
                    .fetch_all(pool)
                    .await
                    .map_err(storage)?;
                rows.iter()
                    .map(from_pg)
                    .collect::<Result<_, _>>()
                    .map_err(storage)
            }
            Database::Sqlite(pool) => {
                let sql = format!(
                    "SELECT {SQLITE_COLUMNS} FROM events WHERE rowid > ?1 ORDER BY rowid LIMIT ?2"
                );
                let rows = sqlx::query(&sql)
                    .bind(after.position)
                    .bind(limit)
                    .fetch_all(pool)
                    .await
                    .map_err(storage)?;
                rows.iter()
                    .map(from_sqlite)
                    .collect::<Result<_, _>>()
                    .map_err(storage)
            }
        }
    }

    async fn stream_as_stored(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<StoredEvent>, JournalError> {
        match &self.db {
            Database::Postgres(pool) => {
                let sql = format!(
                    "SELECT {PG_COLUMNS} FROM events \
                     WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence"
                );
                let rows = sqlx::query(&sql)
                    .bind(aggregate_type)
                    .bind(aggregate_id)
                    .fetch_all(pool)
                    .await
                    .map_err(storage)?;
                rows.iter()
                    .map(from_pg)
                    .collect::<Result<_, _>>()
                    .map_err(storage)
            }
            Database::Sqlite(pool) => {
                let sql = format!(
                    "SELECT {SQLITE_COLUMNS} FROM events \
                     WHERE aggregate_type = ?1 AND aggregate_id = ?2 ORDER BY sequence"
                );
                let rows = sqlx::query(&sql)
                    .bind(aggregate_type)
                    .bind(aggregate_id)
                    .fetch_all(pool)
                    .await
                    .map_err(storage)?;
                rows.iter()
                    .map(from_sqlite)
                    .collect::<Result<_, _>>()
                    .map_err(storage)
            }
        }
    }
}

/// Checkpoints in the `projection_checkpoints` table of the same store as the events.
#[derive(Clone, Debug)]
pub struct SqlCheckpoints {
    db: Database,
}

impl SqlCheckpoints {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl CheckpointStore for SqlCheckpoints {
    async fn load(&self, consumer: &str) -> Result<Checkpoint, JournalError> {
        let sql = "SELECT transaction_id, position FROM projection_checkpoints WHERE consumer = $1";
        let found: Option<(i64, i64)> = crate::on_pool!(&self.db, pool => {
            sqlx::query_as(sql).bind(consumer).fetch_optional(pool).await
        })
        .map_err(storage)?;
        Ok(found
            .map(|(transaction_id, position)| Checkpoint {
                transaction_id,
                position,
            })
            .unwrap_or_default())
    }

    async fn save(&self, consumer: &str, checkpoint: Checkpoint) -> Result<(), JournalError> {
        let sql = "INSERT INTO projection_checkpoints (consumer, transaction_id, position) \
                   VALUES ($1, $2, $3) ON CONFLICT (consumer) DO UPDATE \
                   SET transaction_id = excluded.transaction_id, position = excluded.position";
        crate::on_pool!(&self.db, pool => {
            sqlx::query(sql)
                .bind(consumer)
                .bind(checkpoint.transaction_id)
                .bind(checkpoint.position)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(storage)?;
        Ok(())
    }
}
