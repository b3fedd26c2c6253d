//! The PMS sync's retry schedule (`pms_sync_queue`), in PostgreSQL or SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use conserje_domain::pms::SyncQueue;
use uuid::Uuid;

use crate::{on_pool, Database};

#[derive(Clone, Debug)]
pub struct SqlSyncQueue {
    db: Database,
}

impl SqlSyncQueue {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl SyncQueue for SqlSyncQueue {
    async fn schedule(&self, reservation_id: Uuid, due: DateTime<Utc>) -> Result<(), String> {
        let sql = "INSERT INTO pms_sync_queue (reservation_id, due_at_ms) VALUES ($1, $2) \
                   ON CONFLICT (reservation_id) DO UPDATE SET due_at_ms = excluded.due_at_ms";
        on_pool!(&self.db, pool => {
            sqlx::query(sql)
                .bind(reservation_id.to_string())
                .bind(due.timestamp_millis())
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(|e| e.to_string())
    }

    async fn clear(&self, reservation_id: Uuid) -> Result<(), String> {
        on_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM pms_sync_queue WHERE reservation_id = $1")
                .bind(reservation_id.to_string())
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(|e| e.to_string())
    }

    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Uuid>, String> {
        let sql = "SELECT reservation_id FROM pms_sync_queue WHERE due_at_ms <= $1 \
                   ORDER BY due_at_ms LIMIT $2";
        let rows: Vec<(String,)> = on_pool!(&self.db, pool => {
            sqlx::query_as(sql)
                .bind(now.timestamp_millis())
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
        })
        .map_err(|e| e.to_string())?;
        Ok(rows
            .into_iter()
            .filter_map(|(id,)| Uuid::parse_str(&id).ok())
            .collect())
    }
}
