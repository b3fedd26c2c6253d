use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::values::{KeyName, Role, Scope};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApiKeyEvent {
    ApiKeyIssued {
        name: KeyName,
        role: Role,
        scope: Scope,
        secret_sha256: String,
        expires_at: Option<DateTime<Utc>>,
    },
    ApiKeyRevoked {
        reason: Option<String>,
    },
    /// The key now stops working at `expires_at` (brought forward by a rotation).
    ApiKeyExpiryBroughtForward {
        expires_at: DateTime<Utc>,
    },
    /// The key's holder signed in to the staff console (see [`super::ApiKeyCommand::SignIn`]).
    ConsoleSignedIn {
        token_sha256: String,
        signed_in_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    },
    ConsoleSignedOut {
        token_sha256: String,
    },
}

impl DomainEvent for ApiKeyEvent {
    fn event_type(&self) -> String {
        match self {
            Self::ApiKeyIssued { .. } => "ApiKeyIssued",
            Self::ApiKeyRevoked { .. } => "ApiKeyRevoked",
            Self::ApiKeyExpiryBroughtForward { .. } => "ApiKeyExpiryBroughtForward",
            Self::ConsoleSignedIn { .. } => "ConsoleSignedIn",
            Self::ConsoleSignedOut { .. } => "ConsoleSignedOut",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
