//! `GET /api/v1/audit`: the audit trail — who did what, when, through which channel — of the
//! caller's hotel (an admin of every hotel sees them all), newest events included.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use conserje_domain::api_key::{Role, Scope};
use conserje_projections::audit::{AuditFilter, AuditRow};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::openapi::ErrorBody;
use crate::Runtime;

/// The most rows one answer carries; narrow the query (or page with `from`) for more.
pub const MAX_LIMIT: usize = 1000;
const DEFAULT_LIMIT: usize = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// The hotel; the key's own when absent (every hotel, for an admin of every hotel).
    #[param(value_type = String, required = false, pattern = "^[a-z0-9_-]{1,64}$")]
    pub tenant: Option<String>,
    /// One aggregate's events: a reservation id, a session id, a key id.
    pub aggregate: Option<String>,
    /// One actor's events (`staff:lucia`, `guest:34600111222`…).
    pub actor: Option<String>,
    /// Events recorded at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Events recorded before this instant.
    pub to: Option<DateTime<Utc>>,
    /// At most this many rows (default 100, at most 1000), oldest first.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// `GET /api/v1/audit?tenant=&aggregate=&actor=&from=&to=&limit=`
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    operation_id = "list_audit",
    tag = "audit",
    summary = "The audit trail of the caller's hotel",
    description = "Roles: **staff**, **admin**. The events of the key's own hotel (of every hotel, \
        or the one named, for a key of every hotel), oldest first. Naming another hotel than the \
        key's answers 404: another hotel's data is not found.",
    params(AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The matching events, oldest first", body = [crate::openapi::AuditRow]),
        (status = 400, description = "`malformed_request` (an unknown or mistyped parameter), \
            `invalid_limit` or `invalid_tenant`", body = ErrorBody),
        (status = 401, description = "`unauthenticated` (no `Authorization: Bearer <key>`) or \
            `invalid_key` (unknown, revoked or expired)", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key's role may not read the trail", body = ErrorBody),
        (status = 404, description = "`not_found`: the hotel named is not the key's", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the key passed its requests per minute",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`: the event store or the read model did not answer",
            body = ErrorBody),
    )
)]
pub async fn list(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<Vec<AuditRow>>, ApiError> {
    caller.require(&[Role::Staff, Role::Admin])?;
    let Query(query) =
        query.map_err(|e| ApiError::bad_request("malformed_request", e.body_text()))?;
    let tenant = match (query.tenant.as_deref(), caller.scope()) {
        (None, Scope::AllHotels) => None,
        (requested, _) => Some(caller.hotel_named(requested)?),
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            format!("limit must be 1-{MAX_LIMIT}"),
        ));
    }
    rt.audit_projection.catch_up().await?;
    let rows = rt
        .audit_rows
        .query(&AuditFilter {
            tenant,
            aggregate_id: query.aggregate,
            actor: query.actor,
            from: query.from,
            to: query.to,
            limit,
        })
        .await?;
    Ok(Json(rows))
}
