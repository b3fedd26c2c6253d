//! Shadow tables for replays: an empty copy of a projection table, filled by a replay and then
//! swapped in atomically.
//!
//! The swap copies the shadow's rows into the live table inside one transaction (delete, insert,
//! drop) rather than renaming tables: views such as `daily_occupancy` keep pointing at the live
//! table, and readers see either the old rows or the new ones, never a mix or an empty table.

use crate::{Database, InfraError};

/// The projection tables a replay may rebuild: table names are never taken from input.
pub const REPLAYABLE: [&str; 4] = [
    "reservations",
    "analytics_messages",
    "analytics_turns",
    "inbox",
];

/// A shadow of one projection table.
#[derive(Debug)]
pub struct ShadowTable {
    db: Database,
    table: &'static str,
    shadow: &'static str,
}

fn shadow_name(table: &str) -> Option<&'static str> {
    match table {
        "reservations" => Some("reservations__replay"),
        "analytics_messages" => Some("analytics_messages__replay"),
        "analytics_turns" => Some("analytics_turns__replay"),
        "inbox" => Some("inbox__replay"),
        _ => None,
    }
}

impl ShadowTable {
    /// Creates an empty shadow of `table` (dropping a leftover of an interrupted replay).
    pub async fn create(db: &Database, table: &'static str) -> Result<Self, InfraError> {
        let shadow = shadow_name(table).ok_or_else(|| InfraError::Config {
            path: table.to_owned(),
            reason: format!("not a replayable table; expected one of {REPLAYABLE:?}"),
        })?;
        let drop = format!("DROP TABLE IF EXISTS {shadow}");
        match db {
            Database::Postgres(pool) => {
                sqlx::query(&drop).execute(pool).await?;
                sqlx::query(&format!(
                    "CREATE TABLE {shadow} (LIKE {table} INCLUDING ALL)"
                ))
                .execute(pool)
                .await?;
            }
            Database::Sqlite(pool) => {
                sqlx::query(&drop).execute(pool).await?;
                let ddl: String = sqlx::query_scalar(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
                )
                .bind(table)
                .fetch_one(pool)
                .await?;
                let create = ddl.replacen(table, shadow, 1);
                sqlx::query(&create).execute(pool).await?;
            }
        }
        Ok(Self {
            db: db.clone(),
            table,
            shadow,
        })
    }

    /// The table a replay writes into.
    pub fn name(&self) -> &'static str {
        self.shadow
    }

    /// Replaces the live table's rows with the shadow's in one transaction and drops the shadow;
    /// returns the number of rows now live.
    pub async fn swap_in(self) -> Result<u64, InfraError> {
        let (table, shadow) = (self.table, self.shadow);
        let delete = format!("DELETE FROM {table}");
        let copy = format!("INSERT INTO {table} SELECT * FROM {shadow}");
        let drop = format!("DROP TABLE {shadow}");
        let rows = crate::on_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(&delete).execute(&mut *tx).await?;
            let rows = sqlx::query(&copy).execute(&mut *tx).await?.rows_affected();
            sqlx::query(&drop).execute(&mut *tx).await?;
            tx.commit().await?;
            rows
        });
        Ok(rows)
    }
}
