use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::values::{KeyName, Role, Scope};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApiKeyCommand {
    /// Issues the key whose stream this is. `secret_sha256` is the hex SHA-256 of the whole key
    /// as the caller will present it; the key itself is shown once and never stored.
    Issue {
        name: KeyName,
        role: Role,
        scope: Scope,
        secret_sha256: String,
        /// When it stops opening anything; `None` for a key that lasts until revoked.
        expires_at: Option<DateTime<Utc>>,
        /// The instant of the request, to refuse an expiry already past.
        now: DateTime<Utc>,
    },
    /// Revokes the key: from the event on, it opens nothing.
    Revoke { reason: Option<String> },
    /// Brings the key's expiry forward to `at` (a rotation's window: the key's successor is
    /// issued, and this one keeps working until `at` so its users can switch). Never extends.
    ExpireAt {
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    /// Signs the key's holder in to the staff console: the console's cookie carries a random
    /// token, and `token_sha256` (its hex SHA-256) is what opens the session until `expires_at`.
    SignIn {
        token_sha256: String,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    /// Ends the console session `token_sha256` opened (sign-out). Ending one that is not open
    /// (expired, or ended in another tab) does nothing.
    SignOut { token_sha256: String },
}
