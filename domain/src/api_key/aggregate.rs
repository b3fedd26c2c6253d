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
}

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
        }
    }
}
