//! Write-behind for key-value read models: a batch's views are kept in memory while its events
//! are applied and written at the batch's flush, one round trip for the batch.
//!
//! Applying an event read its view and wrote it back: two round trips per event, which made the
//! `session-view` replay 16× slower than the SQL projections. With the buffer a conversation's
//! view is read once per batch, however many of its events the batch holds, and every view the
//! batch changed is written in one pipeline (Redis) or one transaction (SQLite). Nothing is
//! checkpointed before the flush succeeds (see [`crate::EventHandler::flush`]), so a crash
//! between the two replays the batch onto the views as stored — idempotent as before.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

use crate::key_value::KeyValueStore;
use crate::ProjectionError;

/// Views changed by the current batch, by their store key, not yet written.
pub struct WriteBehind<T> {
    pending: Mutex<HashMap<String, (T, Duration)>>,
}

impl<T> Default for WriteBehind<T> {
    fn default() -> Self {
        Self {
            pending: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone + PartialEq + Serialize> WriteBehind<T> {
    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, (T, Duration)>> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The view the batch left at `key`, when it changed one.
    pub fn get(&self, key: &str) -> Option<T> {
        self.pending().get(key).map(|(view, _)| view.clone())
    }

    /// Takes the view the batch left at `key` out of the buffer (no copy), for the caller to
    /// [`Self::put`] back, changed or not.
    pub fn take(&self, key: &str) -> Option<T> {
        self.pending().remove(key).map(|(view, _)| view)
    }

    /// Keeps `view` for `key`, to be written with `ttl` at the flush.
    pub fn put(&self, key: String, view: T, ttl: Duration) {
        self.pending().insert(key, (view, ttl));
    }

    /// Writes every pending view to `store` at once; they stay pending if that fails, so the
    /// batch, delivered again, finds them.
    pub async fn flush(&self, store: &dyn KeyValueStore) -> Result<(), ProjectionError> {
        let written: Vec<(String, T)> = self
            .pending()
            .iter()
            .map(|(key, (view, _))| (key.clone(), view.clone()))
            .collect();
        let entries = self
            .pending()
            .iter()
            .map(|(key, (view, ttl))| {
                serde_json::to_string(view)
                    .map(|json| (key.clone(), json, *ttl))
                    .map_err(|e| ProjectionError::Storage(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if entries.is_empty() {
            return Ok(());
        }
        store.put_many(&entries).await?;
        // Only what was written leaves the buffer: a view a concurrent feeder changed meanwhile
        // (a replay's final pass beside the live projection) stays for its own flush.
        let mut pending = self.pending();
        for (key, view) in written {
            if pending.get(&key).is_some_and(|(now, _)| *now == view) {
                pending.remove(&key);
            }
        }
        Ok(())
    }
}

/// Rows of the batch being applied, for an append-only SQL projection: written in one
/// transaction at the flush instead of one commit per event.
pub struct Facts<T> {
    pending: Mutex<Vec<T>>,
}

impl<T> Default for Facts<T> {
    fn default() -> Self {
        Self {
            pending: Mutex::new(Vec::new()),
        }
    }
}

impl<T> Facts<T> {
    fn pending(&self) -> std::sync::MutexGuard<'_, Vec<T>> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn push(&self, fact: T) {
        self.pending().push(fact);
    }

    /// Every fact pushed so far, in order, leaving none.
    pub fn take(&self) -> Vec<T> {
        std::mem::take(&mut *self.pending())
    }

    /// Puts back facts whose write failed, ahead of any pushed since: a concurrent feeder's
    /// facts taken by this flush must not be lost with it.
    pub fn restore(&self, facts: Vec<T>) {
        let mut pending = self.pending();
        let newer = std::mem::replace(&mut *pending, facts);
        pending.extend(newer);
    }
}
