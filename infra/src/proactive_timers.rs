//! The proactive messages' durable timers (`proactive_timers`), in PostgreSQL or SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use conserje_domain::proactive::{DueMessage, ProactiveKind, ProactiveTimers};
use uuid::Uuid;

use crate::{on_pool, Database};

#[derive(Clone, Debug)]
pub struct SqlProactiveTimers {
    db: Database,
}

impl SqlProactiveTimers {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl ProactiveTimers for SqlProactiveTimers {
    async fn schedule(
        &self,
        reservation_id: Uuid,
        kind: ProactiveKind,
        due: DateTime<Utc>,
    ) -> Result<(), String> {
        let sql = "INSERT INTO proactive_timers (reservation_id, kind, due_at_ms) \
                   VALUES ($1, $2, $3) ON CONFLICT (reservation_id, kind) \
                   DO UPDATE SET due_at_ms = excluded.due_at_ms";
        on_pool!(&self.db, pool => {
            sqlx::query(sql)
                .bind(reservation_id.to_string())
                .bind(kind.as_str())
                .bind(due.timestamp_millis())
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(|e| e.to_string())
    }

    async fn clear(&self, reservation_id: Uuid, kind: ProactiveKind) -> Result<(), String> {
        on_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM proactive_timers WHERE reservation_id = $1 AND kind = $2")
                .bind(reservation_id.to_string())
                .bind(kind.as_str())
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(|e| e.to_string())
    }

    async fn clear_all(&self, reservation_id: Uuid) -> Result<(), String> {
        on_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM proactive_timers WHERE reservation_id = $1")
                .bind(reservation_id.to_string())
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(|e| e.to_string())
    }

    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<DueMessage>, String> {
        let sql = "SELECT reservation_id, kind FROM proactive_timers WHERE due_at_ms <= $1 \
                   ORDER BY due_at_ms LIMIT $2";
        let rows: Vec<(String, String)> = on_pool!(&self.db, pool => {
            sqlx::query_as(sql)
                .bind(now.timestamp_millis())
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
        })
        .map_err(|e| e.to_string())?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, kind)| {
                Some(DueMessage {
                    reservation_id: Uuid::parse_str(&id).ok()?,
                    kind: ProactiveKind::parse(&kind)?,
                })
            })
            .collect())
    }
}
