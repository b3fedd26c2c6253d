//! `/api/v1/keys`: issue, list and revoke API keys (admin keys only). Each change is an event
//! on the key's stream, with the admin key that made it as its actor.

use std::sync::Arc;

use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use conserje_domain::api_key::{KeyId, KeyName, Role, Scope};
use conserje_domain::values::TenantId;
use conserje_projections::api_keys::ApiKeyRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Caller, KeyRing};
use crate::error::ApiError;
use crate::extract::{optional_json, ApiJson};
use crate::openapi::ErrorBody;
use crate::routes::{path_segment, raw_body};
use crate::Runtime;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyBody {
    /// Becomes the actor of what the key does (`staff:<name>`): 1-64 of `[a-z0-9._-]`.
    #[schema(pattern = "^[a-z0-9._-]{1,64}$")]
    pub name: String,
    /// `integration`, `staff`, `analyst` or `admin`.
    #[schema(value_type = crate::openapi::Role)]
    pub role: String,
    /// The key's hotel; the caller's own when absent (every hotel, for an admin key made by an
    /// admin of every hotel; a key of another role must name one).
    #[schema(value_type = String, required = false, pattern = "^[a-z0-9_-]{1,64}$")]
    pub tenant_id: Option<String>,
    /// When the key stops opening anything; never when absent. Must be in the future.
    #[schema(value_type = String, required = false, format = DateTime)]
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    /// 16 hex digits.
    pub key_id: String,
    /// The whole key, `cjk_<key_id>_<secret>`: shown this once, stored nowhere.
    pub key: String,
    pub name: String,
    #[schema(value_type = crate::openapi::Role)]
    pub role: Role,
    /// The hotel, or `*` for every hotel.
    pub scope: String,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    /// Why, for the audit trail.
    #[schema(value_type = String, required = false)]
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
#[utoipa::path(
    post,
    path = "/api/v1/keys",
    operation_id = "create_key",
    tag = "keys",
    summary = "Issue an API key",
    description = "Roles: **admin**. Issues a key of the caller's hotel (or, for an admin of every \
        hotel, of the hotel named or of every hotel) and answers it whole, the only time it is \
        shown. Naming another hotel than the key's answers 404: another hotel is not found.",
    request_body = CreateKeyBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The key, shown this once", body = CreatedKey),
        (status = 400, description = "`malformed_request` (not JSON, or an unknown or mistyped \
            field), `invalid_key_name`, `invalid_role` or `invalid_tenant`", body = ErrorBody),
        (status = 401, description = "`unauthenticated` (no `Authorization: Bearer <key>`) or \
            `invalid_key` (unknown, revoked or expired)", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key's role is not admin", body = ErrorBody),
        (status = 404, description = "`not_found`: the hotel named is not the key's", body = ErrorBody),
        (status = 409, description = "`already_exists` or `conflict`: the new key id was taken \
            meanwhile; try again", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 256 KiB", body = ErrorBody),
        (status = 422, description = "`invalid_expiry` (`expires_at` is not in the future) or \
            `hotel_required` (only an admin key may be of every hotel)", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the key passed its requests per minute",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`: the event store did not answer", body = ErrorBody),
    )
)]
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
#[utoipa::path(
    get,
    path = "/api/v1/keys",
    operation_id = "list_keys",
    tag = "keys",
    summary = "The keys of the caller's hotel",
    description = "Roles: **admin**. The keys of the key's own hotel, oldest first (every key, for \
        an admin of every hotel); never a secret. Another hotel's keys are not listed.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The keys, oldest first", body = [crate::openapi::ApiKeyRow]),
        (status = 401, description = "`unauthenticated` (no `Authorization: Bearer <key>`) or \
            `invalid_key` (unknown, revoked or expired)", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key's role is not admin", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the key passed its requests per minute",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`: the event store or the read model did not answer",
            body = ErrorBody),
    )
)]
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
#[utoipa::path(
    post,
    path = "/api/v1/keys/{id}/revoke",
    operation_id = "revoke_key",
    tag = "keys",
    summary = "Revoke an API key",
    description = "Roles: **admin**. The key opens nothing from now on (in other processes, within \
        their key cache time). Another hotel's key, or a key of every hotel for an admin of one \
        hotel, answers 404 like one that does not exist. The body is optional.",
    params(
        ("id" = String, Path, description = "The key id, 16 hex digits. The pattern leaves out the \
            first admin key (`0000000000000001`, written to `admin.key` at first start) so that \
            generated requests never lock the operator out; the server revokes it like any other \
            (best with `conserje keys revoke`, once another admin key exists).",
            pattern = "^(?!0000000000000001$)[0-9a-f]{16}$"),
    ),
    request_body(content = RevokeBody, description = "Optional: no body is the same as `{}`"),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "`malformed_request`: a body that is not `RevokeBody`", body = ErrorBody),
        (status = 401, description = "`unauthenticated` (no `Authorization: Bearer <key>`) or \
            `invalid_key` (unknown, revoked or expired)", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key's role is not admin", body = ErrorBody),
        (status = 404, description = "`not_found`: no such key, or not the caller's hotel's", body = ErrorBody),
        (status = 409, description = "`already_revoked`, or `conflict` (changed concurrently; try \
            again)", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 256 KiB", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the key passed its requests per minute",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`: the event store did not answer", body = ErrorBody),
    )
)]
pub async fn revoke(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let body = raw_body(body)?;
    caller.require(&[Role::Admin])?;
    let id = path_segment(id).unwrap_or_default();
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
