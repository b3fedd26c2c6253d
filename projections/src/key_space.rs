//! Generations of a key-value projection's keys, so a replay can build a complete new copy
//! beside the live one and switch readers over in one write.
//!
//! Keys live under `<base><projection>:<generation>:`; the pointer `<base><projection>:active`
//! names the generation readers use. A replay writes a fresh generation, flips the pointer and
//! deletes the old generation's keys.

use std::sync::Arc;
use std::time::Duration;

use crate::key_value::KeyValueStore;
use crate::ProjectionError;

/// The pointer is owned by its projection and rewritten at every replay; the TTL only satisfies
/// the rule that every key expires.
const POINTER_TTL: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Generation used before any replay.
const FIRST_GENERATION: &str = "0";

#[derive(Clone)]
pub struct KeySpace {
    store: Arc<dyn KeyValueStore>,
    base: String,
    projection: &'static str,
    /// Set for a replay's space; `None` follows the pointer.
    pinned: Option<String>,
}

impl KeySpace {
    /// The space readers and the live projection use.
    pub fn live(store: Arc<dyn KeyValueStore>, base: &str, projection: &'static str) -> Self {
        Self {
            store,
            base: base.to_owned(),
            projection,
            pinned: None,
        }
    }

    pub fn store(&self) -> &Arc<dyn KeyValueStore> {
        &self.store
    }

    fn pointer(&self) -> String {
        format!("{}{}:active", self.base, self.projection)
    }

    async fn generation(&self) -> Result<String, ProjectionError> {
        match &self.pinned {
            Some(generation) => Ok(generation.clone()),
            None => Ok(self
                .store
                .get(&self.pointer())
                .await?
                .unwrap_or_else(|| FIRST_GENERATION.to_owned())),
        }
    }

    fn prefix_of(&self, generation: &str) -> String {
        format!("{}{}:{generation}:", self.base, self.projection)
    }

    /// The full key of `name` in the current generation.
    pub async fn key(&self, name: &str) -> Result<String, ProjectionError> {
        Ok(format!(
            "{}{name}",
            self.prefix_of(&self.generation().await?)
        ))
    }

    /// A new, empty generation for a replay to write.
    pub fn next_generation(&self) -> Self {
        Self {
            pinned: Some(uuid::Uuid::now_v7().simple().to_string()),
            ..self.clone()
        }
    }

    /// Points readers at this (replayed) generation and deletes the one they used before;
    /// returns how many old keys were deleted.
    pub async fn activate(&self) -> Result<u64, ProjectionError> {
        let Some(new) = &self.pinned else {
            return Ok(0);
        };
        let old = self
            .store
            .get(&self.pointer())
            .await?
            .unwrap_or_else(|| FIRST_GENERATION.to_owned());
        self.store.put(&self.pointer(), new, POINTER_TTL).await?;
        if &old == new {
            return Ok(0);
        }
        self.store.delete_prefix(&self.prefix_of(&old)).await
    }
}
