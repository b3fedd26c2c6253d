//! What a key is: its public id, its name, the role it plays and the hotels it may see.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::values::TenantId;

/// What a key may do. One word per kind of caller, as the hotel says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A system of the hotel's that posts guest messages on its own `api` channel.
    Integration,
    /// Reception: conversations, transcripts, replies in person, handoffs, reservations.
    Staff,
    /// Read models and analytics, without guests' contact data.
    Analyst,
    /// Keys, replay, dead letters, the audit trail; every hotel or one.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Integration, Role::Staff, Role::Analyst, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Integration => "integration",
            Self::Staff => "staff",
            Self::Analyst => "analyst",
            Self::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ApiKeyError> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == raw)
            .ok_or_else(|| ApiKeyError::UnknownRole(raw.to_owned()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The hotels a key sees: one, or (admin keys only) all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Hotel(TenantId),
    AllHotels,
}

impl Scope {
    /// Whether the key may see `tenant`'s data.
    pub fn covers(&self, tenant: &TenantId) -> bool {
        match self {
            Self::Hotel(own) => own == tenant,
            Self::AllHotels => true,
        }
    }

    /// The one hotel of a hotel key; `None` for all hotels.
    pub fn hotel(&self) -> Option<&TenantId> {
        match self {
            Self::Hotel(own) => Some(own),
            Self::AllHotels => None,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hotel(tenant) => f.write_str(tenant.as_str()),
            Self::AllHotels => f.write_str("*"),
        }
    }
}

/// The public part of a key, and its stream id: 16 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyId(String);

impl KeyId {
    pub fn parse(raw: &str) -> Result<Self, ApiKeyError> {
        let ok = raw.len() == 16 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ApiKeyError::InvalidKeyId(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A key's name, which becomes the actor of what it does (`staff:<name>`): 1–64 characters of
/// `[a-z0-9._-]`, so an actor string cannot be made to look like another kind of actor.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyName(String);

impl KeyName {
    pub fn parse(raw: &str) -> Result<Self, ApiKeyError> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            });
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ApiKeyError::InvalidName(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyError {
    #[error("unknown role {0:?}: integration, staff, analyst or admin")]
    UnknownRole(String),
    #[error("{0:?} is not a key id (16 hex digits)")]
    InvalidKeyId(String),
    #[error("key name {0:?} must be 1-64 characters of a-z, 0-9, '.', '_' and '-'")]
    InvalidName(String),
    #[error("only admin keys may cover every hotel; a {0} key belongs to one hotel")]
    HotelRequired(Role),
    #[error("this key was already issued")]
    AlreadyIssued,
    #[error("no such key")]
    NotIssued,
    #[error("this key is already revoked")]
    AlreadyRevoked,
    #[error("the key expires before it is issued")]
    ExpiresInThePast,
    #[error("the key is revoked or expired")]
    NotValid,
    #[error("a key of role {0} cannot sign in to the console")]
    NoConsole(Role),
}

impl ApiKeyError {
    /// The machine-readable code of the API's error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownRole(_) => "invalid_role",
            Self::InvalidKeyId(_) => "invalid_key_id",
            Self::InvalidName(_) => "invalid_key_name",
            Self::HotelRequired(_) => "hotel_required",
            Self::AlreadyIssued => "already_exists",
            Self::NotIssued => "not_found",
            Self::AlreadyRevoked => "already_revoked",
            Self::ExpiresInThePast => "invalid_expiry",
            Self::NotValid => "invalid_key",
            Self::NoConsole(_) => "no_console",
        }
    }
}
