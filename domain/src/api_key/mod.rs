//! The `ApiKey` aggregate: one credential of the API, from issue to revocation.
//!
//! Keys are events, not rows, so that key management is audited like everything else: who issued
//! which key for which hotel and role, and who revoked it, is in the key's stream with the
//! metadata of the request that did it. The stream id is the key's public id; the secret part
//! never reaches the store, only its SHA-256 (the key is 256 random bits, so a fast hash is
//! enough: there is nothing to brute-force).

mod aggregate;
mod commands;
mod events;
mod values;

pub use aggregate::{ApiKey, Issued, MAX_CONSOLE_SESSIONS};
pub use commands::ApiKeyCommand;
pub use events::ApiKeyEvent;
pub use values::{ApiKeyError, KeyId, KeyName, Role, Scope};

#[cfg(test)]
mod tests;
