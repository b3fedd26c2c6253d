//! The key-value read-model store of the embedded default, in the embedded log's SQLite file
//! (its tables come with the log's migrations; see [`crate::embedded_log::SqliteLog::key_value`]).
//!
//! SQLite has no expiry of its own: every row carries the instant it expires, reads skip rows past
//! it, and [`SqliteKeyValue::purge_expired`] deletes them. Whoever runs the embedded profile must
//! call it periodically — it is what keeps the file bounded, as Redis's own expiry does in the
//! distributed profile.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use conserje_projections::key_value::KeyValueStore;
use conserje_projections::ProjectionError;
use sqlx::SqlitePool;

use crate::InfraError;

/// Key-value read models in SQLite tables, with Redis's expiry semantics.
#[derive(Clone, Debug)]
pub struct SqliteKeyValue {
    pool: SqlitePool,
}

impl SqliteKeyValue {
    /// Uses `pool`, which must already carry the embedded migrations and enforce foreign keys
    /// (a set's members are deleted with it by cascade); the pool of a
    /// [`crate::embedded_log::SqliteLog`] does both.
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

    /// The connection pool, for callers that share the file.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Deletes the values and sets that have expired (a set's members go with it); returns how
    /// many keys were deleted.
    pub async fn purge_expired(&self) -> Result<u64, InfraError> {
        let now = now_millis();
        let mut tx = self.pool.begin().await?;
        let values = sqlx::query("DELETE FROM kv_values WHERE expires_at <= ?")
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let sets = sqlx::query("DELETE FROM kv_sets WHERE expires_at <= ?")
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(values + sets)
    }
}

/// Milliseconds since the Unix epoch, the unit of the `expires_at` columns.
fn now_millis() -> i64 {
    // A clock set before 1970 is not a state worth failing reads over: treat it as the epoch.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

/// When something written now with `ttl` expires.
fn expiry(ttl: Duration) -> i64 {
    now_millis().saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX))
}

fn storage(err: impl std::fmt::Display) -> ProjectionError {
    ProjectionError::Storage(err.to_string())
}

/// The rows whose key starts with `?1`. `substr` rather than LIKE, which ignores ASCII case and
/// treats `%` and `_` in the prefix as wildcards; the `>=` lets the primary key skip the keys
/// sorting before the prefix.
const PREFIX_MATCH: &str = "key >= ?1 AND substr(key, 1, length(?1)) = ?1";

#[async_trait]
impl KeyValueStore for SqliteKeyValue {
    async fn put(&self, key: &str, value: &str, ttl: Duration) -> Result<(), ProjectionError> {
        self.put_many(&[(key.to_owned(), value.to_owned(), ttl)])
            .await
    }

    /// One transaction of multi-row upserts (300 keys each) for the whole batch: one fsync and a
    /// few statements instead of one of each per key.
    async fn put_many(
        &self,
        entries: &[(String, String, Duration)],
    ) -> Result<(), ProjectionError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await.map_err(storage)?;
        for rows in entries.chunks(300) {
            let mut query =
                sqlx::QueryBuilder::new("INSERT INTO kv_values (key, value, expires_at) ");
            query.push_values(rows, |mut row, (key, value, ttl)| {
                row.push_bind(key).push_bind(value).push_bind(expiry(*ttl));
            });
            query.push(
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
                 expires_at = excluded.expires_at",
            );
            query.build().execute(&mut *tx).await.map_err(storage)?;
        }
        tx.commit().await.map_err(storage)
    }

    async fn get(&self, key: &str) -> Result<Option<String>, ProjectionError> {
        sqlx::query_scalar("SELECT value FROM kv_values WHERE key = ? AND expires_at > ?")
            .bind(key)
            .bind(now_millis())
            .fetch_optional(&self.pool)
            .await
            .map_err(storage)
    }

    async fn add_member(
        &self,
        key: &str,
        member: &str,
        ttl: Duration,
    ) -> Result<(), ProjectionError> {
        let now = now_millis();
        let mut tx = self.pool.begin().await.map_err(storage)?;
        // A set that expired but was not purged yet is gone as far as readers know: adding to
        // it starts a new set, or its old members would come back to life.
        sqlx::query("DELETE FROM kv_sets WHERE key = ? AND expires_at <= ?")
            .bind(key)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(storage)?;
        sqlx::query(
            "INSERT INTO kv_sets (key, expires_at) VALUES (?, ?) \
             ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at",
        )
        .bind(key)
        .bind(expiry(ttl))
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        sqlx::query(
            "INSERT INTO kv_set_members (key, member) VALUES (?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(key)
        .bind(member)
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)
    }

    async fn remove_member(&self, key: &str, member: &str) -> Result<(), ProjectionError> {
        let mut tx = self.pool.begin().await.map_err(storage)?;
        sqlx::query("DELETE FROM kv_set_members WHERE key = ? AND member = ?")
            .bind(key)
            .bind(member)
            .execute(&mut *tx)
            .await
            .map_err(storage)?;
        // Redis deletes a set when its last member goes; so do we, so `ttl` agrees.
        sqlx::query(
            "DELETE FROM kv_sets WHERE key = ?1 \
             AND NOT EXISTS (SELECT 1 FROM kv_set_members WHERE key = ?1)",
        )
        .bind(key)
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)
    }

    async fn members(&self, key: &str) -> Result<Vec<String>, ProjectionError> {
        // BINARY collation orders by bytes, like sorting Rust strings, so both stores agree.
        sqlx::query_scalar(
            "SELECT m.member FROM kv_set_members m JOIN kv_sets s ON s.key = m.key \
             WHERE m.key = ? AND s.expires_at > ? ORDER BY m.member",
        )
        .bind(key)
        .bind(now_millis())
        .fetch_all(&self.pool)
        .await
        .map_err(storage)
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>, ProjectionError> {
        let now = now_millis();
        let expires_at: Option<i64> = sqlx::query_scalar(
            "SELECT expires_at FROM kv_values WHERE key = ?1 AND expires_at > ?2 \
             UNION ALL \
             SELECT expires_at FROM kv_sets WHERE key = ?1 AND expires_at > ?2 \
             LIMIT 1",
        )
        .bind(key)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(storage)?;
        Ok(expires_at.map(|at| Duration::from_millis(u64::try_from(at - now).unwrap_or(0))))
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64, ProjectionError> {
        let now = now_millis();
        let mut tx = self.pool.begin().await.map_err(storage)?;
        // Expired rows are deleted too but not counted: for readers they were already gone.
        let mut deleted = 0;
        for table in ["kv_values", "kv_sets"] {
            // RETURNING instead of counting first: the transaction's first statement is then a
            // write, which waits for the write lock instead of failing on a stale read snapshot.
            let expiries: Vec<i64> = sqlx::query_scalar(&format!(
                "DELETE FROM {table} WHERE {PREFIX_MATCH} RETURNING expires_at"
            ))
            .bind(prefix)
            .fetch_all(&mut *tx)
            .await
            .map_err(storage)?;
            deleted += expiries.iter().filter(|at| **at > now).count() as u64;
        }
        tx.commit().await.map_err(storage)?;
        Ok(deleted)
    }
}
