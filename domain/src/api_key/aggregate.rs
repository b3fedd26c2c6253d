use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::commands::ApiKeyCommand;
use super::events::ApiKeyEvent;
use super::values::{ApiKeyError, KeyName, Role, Scope};

/// What the key opens, as its events left it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub issued: Option<Issued>,
    pub revoked: bool,
    /// The open console sessions: token SHA-256 → when it expires. Sessions already expired
    /// when another opens are dropped then, so a key used at the desk every day for years does
    /// not carry every session it ever had.
    #[serde(default)]
    pub console_sessions: BTreeMap<String, DateTime<Utc>>,
}

/// How many console sessions one key may hold open at once (the desk's laptop, the manager's
/// phone, a tablet…); signing in beyond that ends the one that expires first.
pub const MAX_CONSOLE_SESSIONS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued {
    pub name: KeyName,
    pub role: Role,
    pub scope: Scope,
    pub secret_sha256: String,
    pub expires_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// The key's grant, when it still opens something at `now`: issued, not revoked, not expired.
    pub fn valid_at(&self, now: DateTime<Utc>) -> Option<&Issued> {
        let issued = self.issued.as_ref()?;
        let expired = issued.expires_at.is_some_and(|at| at <= now);
        (!self.revoked && !expired).then_some(issued)
    }

    /// Whether the console session whose token hashes to `token_sha256` is open at `now`: the
    /// key itself still valid, the session signed in and neither signed out nor expired.
    pub fn console_session_open(&self, token_sha256: &str, now: DateTime<Utc>) -> bool {
        self.valid_at(now).is_some()
            && self
                .console_sessions
                .get(token_sha256)
                .is_some_and(|expires_at| *expires_at > now)
    }
}

impl Aggregate for ApiKey {
    const TYPE: &'static str = "ApiKey";
    type Command = ApiKeyCommand;
    type Event = ApiKeyEvent;
    type Error = ApiKeyError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            ApiKeyCommand::Issue {
                name,
                role,
                scope,
                secret_sha256,
                expires_at,
                now,
            } => {
                if self.issued.is_some() {
                    return Err(ApiKeyError::AlreadyIssued);
                }
                // A hotel's integration seeing every hotel is the cross-tenant leak this
                // aggregate exists to prevent; only an operator's key spans hotels.
                if scope == Scope::AllHotels && role != Role::Admin {
                    return Err(ApiKeyError::HotelRequired(role));
                }
                if expires_at.is_some_and(|at| at <= now) {
                    return Err(ApiKeyError::ExpiresInThePast);
                }
                ApiKeyEvent::ApiKeyIssued {
                    name,
                    role,
                    scope,
                    secret_sha256,
                    expires_at,
                }
            }
            ApiKeyCommand::Revoke { reason } => {
                if self.issued.is_none() {
                    return Err(ApiKeyError::NotIssued);
                }
                if self.revoked {
                    return Err(ApiKeyError::AlreadyRevoked);
                }
                ApiKeyEvent::ApiKeyRevoked { reason }
            }
            ApiKeyCommand::ExpireAt { at, now } => {
                let Some(issued) = &self.issued else {
                    return Err(ApiKeyError::NotIssued);
                };
                if self.revoked {
                    return Err(ApiKeyError::AlreadyRevoked);
                }
                if at <= now {
                    return Err(ApiKeyError::ExpiresInThePast);
                }
                // A rotation shortens a key's life; making a key last longer is issuing a new
                // one, which an admin does on purpose.
                if issued.expires_at.is_some_and(|current| current <= at) {
                    return Ok(());
                }
                ApiKeyEvent::ApiKeyExpiryBroughtForward { expires_at: at }
            }
            ApiKeyCommand::SignIn {
                token_sha256,
                expires_at,
                now,
            } => {
                let Some(issued) = self.valid_at(now) else {
                    return Err(if self.issued.is_none() {
                        ApiKeyError::NotIssued
                    } else {
                        ApiKeyError::NotValid
                    });
                };
                // An integration's key is a system's, not a person's: nobody signs in with it.
                if issued.role == Role::Integration {
                    return Err(ApiKeyError::NoConsole(issued.role));
                }
                if expires_at <= now {
                    return Err(ApiKeyError::ExpiresInThePast);
                }
                // A session never outlives its key.
                let expires_at = issued.expires_at.map_or(expires_at, |k| k.min(expires_at));
                ApiKeyEvent::ConsoleSignedIn {
                    token_sha256,
                    signed_in_at: now,
                    expires_at,
                }
            }
            ApiKeyCommand::SignOut { token_sha256 } => {
                if !self.console_sessions.contains_key(&token_sha256) {
                    return Ok(());
                }
                ApiKeyEvent::ConsoleSignedOut { token_sha256 }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            ApiKeyEvent::ApiKeyIssued {
                name,
                role,
                scope,
                secret_sha256,
                expires_at,
            } => {
                self.issued = Some(Issued {
                    name,
                    role,
                    scope,
                    secret_sha256,
                    expires_at,
                });
            }
            ApiKeyEvent::ApiKeyRevoked { .. } => self.revoked = true,
            ApiKeyEvent::ApiKeyExpiryBroughtForward { expires_at } => {
                if let Some(issued) = &mut self.issued {
                    issued.expires_at = Some(expires_at);
                }
            }
            ApiKeyEvent::ConsoleSignedIn {
                token_sha256,
                signed_in_at,
                expires_at,
            } => {
                self.console_sessions.retain(|_, ends| *ends > signed_in_at);
                while self.console_sessions.len() >= MAX_CONSOLE_SESSIONS {
                    let first = self
                        .console_sessions
                        .iter()
                        .min_by_key(|(_, ends)| **ends)
                        .map(|(token, _)| token.clone());
                    match first {
                        Some(token) => self.console_sessions.remove(&token),
                        None => break,
                    };
                }
                self.console_sessions.insert(token_sha256, expires_at);
            }
            ApiKeyEvent::ConsoleSignedOut { token_sha256 } => {
                self.console_sessions.remove(&token_sha256);
            }
        }
    }
}
