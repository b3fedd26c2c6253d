//! Issuing, revoking and checking API keys.
//!
//! A key reads `cjk_<key id>_<secret>`: the id (16 hex digits) names the key's stream, the secret
//! (64 hex digits, 256 bits from the operating system) proves the caller holds it. The store
//! keeps only the SHA-256 of the whole key. Checking a key loads its stream — never the
//! `api_keys` read model, which may be a poll behind — and keeps the result for
//! [`KeySettings::cache`], so a burst of requests costs one load; a key revoked in this process
//! is dropped from the cache at once, one revoked elsewhere within that time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use conserje_domain::api_key::{ApiKey, ApiKeyCommand, ApiKeyError, KeyId, KeyName, Role, Scope};
use conserje_domain::journal::AggregateStore;
use conserje_domain::ports::Clock;
use conserje_domain::EventMetadata;
use conserje_projections::api_keys::{ApiKeyRow, ApiKeyRows};
use cqrs_es::AggregateError;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::rate::KeyRate;
use crate::error::ApiError;

const PREFIX: &str = "cjk_";

/// How keys are checked; every limit a setting.
#[derive(Debug, Clone)]
pub struct KeySettings {
    /// How long a checked key is trusted before its stream is read again.
    pub cache: Duration,
    /// Requests per minute one key may make (bursts up to the same number).
    pub rate_per_minute: u32,
}

/// A key just issued: the only moment its secret exists outside the caller's hands.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub key_id: KeyId,
    /// The whole key, `cjk_<id>_<secret>`: shown once, stored nowhere.
    pub key: String,
}

/// What a valid key grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub key_id: KeyId,
    pub name: KeyName,
    pub role: Role,
    pub scope: Scope,
}

pub struct KeyRing {
    store: Arc<dyn AggregateStore<ApiKey>>,
    rows: Arc<dyn ApiKeyRows>,
    clock: Arc<dyn Clock>,
    settings: KeySettings,
    checked: Mutex<HashMap<KeyId, (Instant, ApiKey)>>,
    rate: KeyRate,
}

fn sha256_hex(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn random_hex(bytes: usize) -> Result<String, ApiError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)
        .map_err(|e| ApiError::Internal(format!("no randomness from the OS: {e}")))?;
    Ok(hex::encode(buf))
}

/// A refusal of the key aggregate as the API answers it.
fn refused(err: AggregateError<ApiKeyError>) -> ApiError {
    match err {
        AggregateError::UserError(ApiKeyError::NotIssued) => {
            ApiError::NotFound("no such key".into())
        }
        AggregateError::UserError(e) => ApiError::Refused {
            code: e.code(),
            message: e.to_string(),
        },
        AggregateError::AggregateConflict => ApiError::Conflict,
        other => ApiError::Unavailable(format!("event store: {other}")),
    }
}

impl KeyRing {
    pub fn new(
        store: Arc<dyn AggregateStore<ApiKey>>,
        rows: Arc<dyn ApiKeyRows>,
        clock: Arc<dyn Clock>,
        settings: KeySettings,
    ) -> Self {
        Self {
            rate: KeyRate::new(settings.rate_per_minute),
            store,
            rows,
            clock,
            settings,
            checked: Mutex::new(HashMap::new()),
        }
    }

    /// A fresh random key id.
    pub fn new_key_id() -> Result<KeyId, ApiError> {
        KeyId::parse(&random_hex(8)?).map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// Issues key `key_id` (see [`KeyRing::new_key_id`]) and returns it whole, once.
    pub async fn issue(
        &self,
        key_id: KeyId,
        name: KeyName,
        role: Role,
        scope: Scope,
        expires_at: Option<DateTime<Utc>>,
        meta: EventMetadata,
    ) -> Result<IssuedKey, ApiError> {
        let key = format!("{PREFIX}{key_id}_{}", random_hex(32)?);
        let command = ApiKeyCommand::Issue {
            name,
            role,
            scope,
            secret_sha256: sha256_hex(&key),
            expires_at,
            now: self.clock.now(),
        };
        self.store
            .execute(key_id.as_str(), command, meta)
            .await
            .map_err(refused)?;
        Ok(IssuedKey { key_id, key })
    }

    /// Revokes `key_id`; it opens nothing from now on (in other processes, within the cache time).
    pub async fn revoke(
        &self,
        key_id: &KeyId,
        reason: Option<String>,
        meta: EventMetadata,
    ) -> Result<(), ApiError> {
        self.store
            .execute(key_id.as_str(), ApiKeyCommand::Revoke { reason }, meta)
            .await
            .map_err(refused)?;
        self.forget(key_id);
        Ok(())
    }

    /// Rotates `key_id`: issues its successor (same name, role, hotel and expiry) and brings the
    /// old key's expiry forward to `window` from now, so both work until its users switched.
    pub async fn rotate(
        &self,
        key_id: &KeyId,
        window: Duration,
        meta: EventMetadata,
    ) -> Result<IssuedKey, ApiError> {
        let old = self.load(key_id).await?;
        let now = self.clock.now();
        let issued = old
            .valid_at(now)
            .cloned()
            .ok_or_else(|| ApiError::NotFound(format!("no valid key {key_id}")))?;
        let window = chrono::Duration::from_std(window)
            .map_err(|_| ApiError::bad_request("invalid_window", "the window is too long"))?;
        let successor = self
            .issue(
                Self::new_key_id()?,
                issued.name,
                issued.role,
                issued.scope,
                issued.expires_at,
                meta.clone(),
            )
            .await?;
        self.store
            .execute(
                key_id.as_str(),
                ApiKeyCommand::ExpireAt {
                    at: now + window,
                    now,
                },
                meta,
            )
            .await
            .map_err(refused)?;
        self.forget(key_id);
        Ok(successor)
    }

    /// The key's current state, from its stream.
    pub async fn load(&self, key_id: &KeyId) -> Result<ApiKey, ApiError> {
        self.store.load(key_id.as_str()).await.map_err(refused)
    }

    /// Every key, from the read model.
    pub async fn list(&self) -> Result<Vec<ApiKeyRow>, ApiError> {
        Ok(self.rows.list().await?)
    }

    /// What `presented` (the bearer token) grants, or why it grants nothing. Also spends one
    /// request of the key's rate.
    pub async fn check(&self, presented: &str) -> Result<Grant, ApiError> {
        let invalid = || ApiError::Unauthorized {
            code: "invalid_key",
            message: "the API key is unknown, revoked or expired".into(),
        };
        let key_id = presented
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('_'))
            .and_then(|(id, _)| KeyId::parse(id).ok())
            .ok_or_else(invalid)?;
        let key = self.cached(&key_id).await?;
        let issued = key.valid_at(self.clock.now()).ok_or_else(invalid)?;
        let matches: bool = sha256_hex(presented)
            .as_bytes()
            .ct_eq(issued.secret_sha256.as_bytes())
            .into();
        if !matches {
            return Err(invalid());
        }
        self.rate.spend(&key_id)?;
        Ok(Grant {
            key_id,
            name: issued.name.clone(),
            role: issued.role,
            scope: issued.scope.clone(),
        })
    }

    /// Signs the holder of `presented` (a whole key) in to the console until `expires_at` (never
    /// past the key's own expiry): records `ConsoleSignedIn` on the key's stream, as `meta`'s
    /// actor, and returns the session's cookie value `<key id>.<token>` with what it grants. Only
    /// the SHA-256 of that value is stored.
    pub async fn sign_in(
        &self,
        presented: &str,
        expires_at: DateTime<Utc>,
        meta: impl FnOnce(&Grant) -> EventMetadata,
    ) -> Result<(String, Grant), ApiError> {
        let grant = self.check(presented).await?;
        let cookie = format!("{}.{}", grant.key_id, random_hex(32)?);
        let command = ApiKeyCommand::SignIn {
            token_sha256: sha256_hex(&cookie),
            expires_at,
            now: self.clock.now(),
        };
        self.store
            .execute(grant.key_id.as_str(), command, meta(&grant))
            .await
            .map_err(refused)?;
        self.forget(&grant.key_id);
        Ok((cookie, grant))
    }

    /// What the console session `cookie` grants, or why it grants nothing (signed out, expired,
    /// its key revoked). Spends one request of the key's rate, as the key itself would.
    pub async fn console_session(&self, cookie: &str) -> Result<Grant, ApiError> {
        let ended = || ApiError::Unauthorized {
            code: "signed_out",
            message: "the console session ended (signed out, expired or its key revoked)".into(),
        };
        let key_id = cookie
            .split_once('.')
            .and_then(|(id, _)| KeyId::parse(id).ok())
            .ok_or_else(ended)?;
        let token = sha256_hex(cookie);
        let now = self.clock.now();
        let mut key = self.cached(&key_id).await?;
        // Signed in through another process since this one cached the key: read it again.
        if !key.console_session_open(&token, now) && key.valid_at(now).is_some() {
            self.forget(&key_id);
            key = self.cached(&key_id).await?;
        }
        if !key.console_session_open(&token, now) {
            return Err(ended());
        }
        let issued = key.valid_at(now).ok_or_else(ended)?;
        self.rate.spend(&key_id)?;
        Ok(Grant {
            key_id,
            name: issued.name.clone(),
            role: issued.role,
            scope: issued.scope.clone(),
        })
    }

    /// Ends the console session `cookie` (sign-out), recorded as `meta`'s actor.
    pub async fn sign_out(&self, cookie: &str, meta: EventMetadata) -> Result<(), ApiError> {
        let Some(key_id) = cookie
            .split_once('.')
            .and_then(|(id, _)| KeyId::parse(id).ok())
        else {
            return Ok(());
        };
        let command = ApiKeyCommand::SignOut {
            token_sha256: sha256_hex(cookie),
        };
        self.store
            .execute(key_id.as_str(), command, meta)
            .await
            .map_err(refused)?;
        self.forget(&key_id);
        Ok(())
    }

    async fn cached(&self, key_id: &KeyId) -> Result<ApiKey, ApiError> {
        if let Some((at, key)) = self.checked.lock().expect("key cache").get(key_id) {
            if at.elapsed() < self.settings.cache {
                return Ok(key.clone());
            }
        }
        let key = self.load(key_id).await?;
        // Unknown ids are not cached: a flood of made-up ids must not grow the map.
        if key.issued.is_some() {
            let mut checked = self.checked.lock().expect("key cache");
            checked.retain(|_, (at, _)| at.elapsed() < self.settings.cache);
            checked.insert(key_id.clone(), (Instant::now(), key.clone()));
        }
        Ok(key)
    }

    fn forget(&self, key_id: &KeyId) {
        self.checked.lock().expect("key cache").remove(key_id);
    }
}
