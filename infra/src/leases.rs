//! Leases on the store's consumers, so several conserje processes on one PostgreSQL run each
//! store-fed consumer (relay, booking process, SQL read models) once, not once per process.
//!
//! PostgreSQL: a session-level advisory lock, taken on a connection of its own that the lease
//! keeps open (detached from the pool, so leases never starve the pool's queries). The lock lives
//! exactly as long as that connection: dropping the lease, a crash or `kill -9` of the process
//! all end the session and free the lock, and a standby's next try takes it. Advisory locks are
//! per database, so deployments (and test databases) on one server never see each other's.
//!
//! SQLite: the embedded store belongs to one process, and every lease is granted.

use async_trait::async_trait;
use conserje_domain::journal::{JournalError, Lease, Leases};
use sha2::{Digest, Sha256};
use sqlx::postgres::PgConnection;
use sqlx::Connection;

use crate::Database;

/// Leases on the consumers of one store.
#[derive(Clone, Debug)]
pub struct SqlLeases {
    db: Database,
}

impl SqlLeases {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// The advisory-lock key of a consumer name: stable across processes and versions (a hash that
/// changed between two versions would let an old and a new process both run the relay).
fn lock_key(name: &str) -> i64 {
    let digest = Sha256::digest(format!("conserje-lease:{name}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

fn storage(err: sqlx::Error) -> JournalError {
    JournalError(err.to_string())
}

#[async_trait]
impl Leases for SqlLeases {
    async fn try_acquire(&self, name: &str) -> Result<Option<Box<dyn Lease>>, JournalError> {
        match &self.db {
            Database::Sqlite(_) => Ok(Some(Box::new(ProcessLease))),
            Database::Postgres(pool) => {
                let mut connection = pool.acquire().await.map_err(storage)?.detach();
                let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(lock_key(name))
                    .fetch_one(&mut connection)
                    .await
                    .map_err(storage)?;
                // Not taken: the connection closes here, holding nothing.
                Ok(taken.then(|| Box::new(AdvisoryLease { connection }) as Box<dyn Lease>))
            }
        }
    }
}

/// The embedded store's lease: its process is the only one.
struct ProcessLease;

#[async_trait]
impl Lease for ProcessLease {
    async fn still_held(&mut self) -> bool {
        true
    }
}

/// A PostgreSQL advisory lock and the session that holds it.
struct AdvisoryLease {
    connection: PgConnection,
}

#[async_trait]
impl Lease for AdvisoryLease {
    /// The session lock is held for as long as the session lives, so a live connection is a held
    /// lease; a failed ping means the session (and the lock with it) may be gone.
    async fn still_held(&mut self) -> bool {
        self.connection.ping().await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sha256("conserje-lease:event-relay"), first 8 bytes, big-endian.
    const PINNED_RELAY_KEY: i64 = -5_133_133_381_446_210_743;

    #[test]
    fn lock_keys_are_stable_and_distinct() {
        // Pinned: a key that changed between versions would let two versions run one consumer.
        assert_eq!(lock_key("event-relay"), lock_key("event-relay"));
        assert_ne!(lock_key("event-relay"), lock_key("booking-process"));
        assert_eq!(lock_key("event-relay"), PINNED_RELAY_KEY);
    }
}
