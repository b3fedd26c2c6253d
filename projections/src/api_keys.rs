//! The `api_keys` read model: every key with its role, hotel, expiry and revocation, for
//! `conserje keys list` and the admin API. Authentication never reads it — it loads the key's
//! own stream, which cannot be behind — so a key revoked a moment ago is refused at once even
//! while this table still shows it.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use conserje_domain::api_key::{ApiKey, ApiKeyEvent};
use conserje_domain::journal::StoredEvent;
use conserje_domain::metadata::keys;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use crate::{EventHandler, ProjectionError};

/// The name of this projection's consumer and checkpoint.
pub const PROJECTION: &str = "api-keys";

/// One key as the read model shows it (never its secret, nor the secret's hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRow {
    pub key_id: String,
    pub name: String,
    pub role: String,
    /// The hotel, or `*` for an admin key of every hotel.
    pub scope: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub issued_at: DateTime<Utc>,
    /// The actor that issued it (`admin:<name>`, or `system:first-start`).
    pub issued_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    /// The last event applied: an event at or below it was already applied and is skipped.
    pub last_sequence: i64,
}

/// Where the rows live.
#[async_trait]
pub trait ApiKeyRows: Send + Sync {
    async fn get(&self, key_id: &str) -> Result<Option<ApiKeyRow>, ProjectionError>;
    /// Inserts or replaces the row, unless the stored one is at a later sequence.
    async fn upsert(&self, row: &ApiKeyRow) -> Result<(), ProjectionError>;
    /// Every key, oldest first.
    async fn list(&self) -> Result<Vec<ApiKeyRow>, ProjectionError>;
}

pub struct ApiKeysProjection {
    rows: Arc<dyn ApiKeyRows>,
}

impl ApiKeysProjection {
    pub fn new(rows: Arc<dyn ApiKeyRows>) -> Self {
        Self { rows }
    }
}

/// The row after `event`, or `None` when the event changes nothing it shows (already applied,
/// or a revocation of a key the table never saw issued).
fn apply(
    current: Option<ApiKeyRow>,
    stored: &StoredEvent,
    event: ApiKeyEvent,
) -> Option<ApiKeyRow> {
    if current
        .as_ref()
        .is_some_and(|row| row.last_sequence >= stored.sequence)
    {
        return None;
    }
    let actor = stored.meta(keys::ACTOR).unwrap_or("unknown").to_owned();
    match event {
        ApiKeyEvent::ApiKeyIssued {
            name,
            role,
            scope,
            expires_at,
            ..
        } => Some(ApiKeyRow {
            key_id: stored.aggregate_id.clone(),
            name: name.to_string(),
            role: role.to_string(),
            scope: scope.to_string(),
            expires_at,
            issued_at: stored.recorded_at,
            issued_by: actor,
            revoked_at: None,
            revoked_by: None,
            last_sequence: stored.sequence,
        }),
        ApiKeyEvent::ApiKeyExpiryBroughtForward { expires_at } => current.map(|row| ApiKeyRow {
            expires_at: Some(expires_at),
            last_sequence: stored.sequence,
            ..row
        }),
        ApiKeyEvent::ApiKeyRevoked { .. } => current.map(|row| ApiKeyRow {
            revoked_at: Some(stored.recorded_at),
            revoked_by: Some(actor),
            last_sequence: stored.sequence,
            ..row
        }),
        // Console sign-ins are the audit trail's (who signed in when), not the key list's.
        ApiKeyEvent::ConsoleSignedIn { .. } | ApiKeyEvent::ConsoleSignedOut { .. } => {
            current.map(|row| ApiKeyRow {
                last_sequence: stored.sequence,
                ..row
            })
        }
    }
}

#[async_trait]
impl EventHandler for ApiKeysProjection {
    async fn handle(&self, stored: &StoredEvent) -> Result<(), ProjectionError> {
        if stored.aggregate_type != ApiKey::TYPE {
            return Ok(());
        }
        let event = ProjectionError::decode::<ApiKey>(stored)?;
        let current = self.rows.get(&stored.aggregate_id).await?;
        match apply(current, stored, event) {
            Some(row) => self.rows.upsert(&row).await,
            None => Ok(()),
        }
    }
}
