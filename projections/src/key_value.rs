//! Storage for read models that are looked up by key and must expire: the session view, the
//! reservations by guest. Redis in the distributed profile, SQLite in the embedded default.
//!
//! Every key is written with a time to live or is deleted by the projection that owns it, so the
//! store cannot grow without bound (the old system's Redis did: UC-003).

use std::time::Duration;

use async_trait::async_trait;

use crate::ProjectionError;

#[async_trait]
pub trait KeyValueStore: Send + Sync {
    /// Sets `key` to `value`, expiring after `ttl`.
    async fn put(&self, key: &str, value: &str, ttl: Duration) -> Result<(), ProjectionError>;

    /// Sets every `(key, value, ttl)` of `entries`, in one round trip where the store allows:
    /// what a projection's batch writes at its flush.
    async fn put_many(
        &self,
        entries: &[(String, String, Duration)],
    ) -> Result<(), ProjectionError> {
        for (key, value, ttl) in entries {
            self.put(key, value, *ttl).await?;
        }
        Ok(())
    }

    /// The value of `key`, unless absent or expired.
    async fn get(&self, key: &str) -> Result<Option<String>, ProjectionError>;

    /// Adds `member` to the set at `key` and (re)sets the set's time to live.
    async fn add_member(
        &self,
        key: &str,
        member: &str,
        ttl: Duration,
    ) -> Result<(), ProjectionError>;

    /// Removes `member` from the set at `key`.
    async fn remove_member(&self, key: &str, member: &str) -> Result<(), ProjectionError>;

    /// The members of the set at `key`, sorted (empty when absent or expired).
    async fn members(&self, key: &str) -> Result<Vec<String>, ProjectionError>;

    /// The remaining time to live of `key` (value or set), if it exists.
    async fn ttl(&self, key: &str) -> Result<Option<Duration>, ProjectionError>;

    /// Deletes every key (values and sets) starting with `prefix`; returns how many.
    async fn delete_prefix(&self, prefix: &str) -> Result<u64, ProjectionError>;
}
