//! `/api/v1/keys`: issue, list and revoke API keys (admin keys only). Each change is an event
//! on the key's stream, with the admin key that made it as its actor.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use conserje_domain::api_key::{KeyId, KeyName, Role, Scope};
use conserje_domain::values::TenantId;
use conserje_projections::api_keys::ApiKeyRow;
use serde::{Deserialize, Serialize};

use crate::auth::{Caller, KeyRing};
use crate::error::ApiError;
use crate::extract::{optional_json, ApiJson};
use crate::Runtime;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyBody {
    /// Becomes the actor of what the key does (`staff:<name>`).
    pub name: String,
    /// `integration`, `staff`, `analyst` or `admin`.
    pub role: String,
    /// The key's hotel; the caller's own when absent (every hotel, for an admin key made by an
    /// admin of every hotel).
    pub tenant_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
pub struct CreatedKey {
    pub key_id: String,
    /// The whole key: shown this once, stored nowhere.
    pub key: String,
    pub name: String,
    pub role: Role,
    /// The hotel, or `*` for every hotel.
    pub scope: String,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    pub reason: Option<String>,
}

/// The tenant a key's events belong to: its hotel, or the operators' own for every hotel.
pub fn tenant_of(scope: &Scope) -> TenantId {
    scope.hotel().cloned().unwrap_or_else(TenantId::operations)
}

fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(code, message)
}

/// `POST /api/v1/keys`
pub async fn create(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateKeyBody>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    caller.require(&[Role::Admin])?;
    let name = KeyName::parse(&body.name).map_err(|e| bad(e.code(), e.to_string()))?;
    let role = Role::parse(&body.role).map_err(|e| bad(e.code(), e.to_string()))?;
    let scope = match body.tenant_id.as_deref() {
        Some(raw) => Scope::Hotel(caller.hotel_named(Some(raw))?),
        None => caller.scope().clone(),
    };
    let meta = caller.metadata(tenant_of(&scope));
    let issued = rt
        .keys
        .issue(
            KeyRing::new_key_id()?,
            name.clone(),
            role,
            scope.clone(),
            body.expires_at,
            meta,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            key_id: issued.key_id.to_string(),
            key: issued.key,
            name: name.to_string(),
            role,
            scope: scope.to_string(),
            expires_at: body.expires_at,
        }),
    ))
}

/// `GET /api/v1/keys`: the keys of the caller's hotel (every key, for an admin of every hotel).
pub async fn list(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
) -> Result<Json<Vec<ApiKeyRow>>, ApiError> {
    caller.require(&[Role::Admin])?;
    rt.api_keys_projection.catch_up().await?;
    let rows = rt.keys.list().await?;
    Ok(Json(
        rows.into_iter()
            .filter(|row| match caller.scope() {
                Scope::AllHotels => true,
                Scope::Hotel(own) => row.scope == own.as_str(),
            })
            .collect(),
    ))
}

/// `POST /api/v1/keys/{id}/revoke`
pub async fn revoke(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    caller.require(&[Role::Admin])?;
    let not_found = || ApiError::NotFound(format!("key {id} not found"));
    let key_id = KeyId::parse(&id).map_err(|_| not_found())?;
    let key = rt.keys.load(&key_id).await?;
    let scope = key.issued.map(|k| k.scope).ok_or_else(not_found)?;
    // A hotel's admin sees its hotel's keys only; a key of every hotel is not its to see.
    let covered = match (caller.scope(), &scope) {
        (Scope::AllHotels, _) => true,
        (Scope::Hotel(own), Scope::Hotel(of_key)) => own == of_key,
        (Scope::Hotel(_), Scope::AllHotels) => false,
    };
    if !covered {
        return Err(not_found());
    }
    let RevokeBody { reason } = optional_json(&body)?;
    rt.keys
        .revoke(&key_id, reason, caller.metadata(tenant_of(&scope)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
