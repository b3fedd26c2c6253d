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

use crate::auth::Caller;
use crate::error::ApiError;
use crate::Runtime;

/// The most rows one answer carries; narrow the query (or page with `from`) for more.
pub const MAX_LIMIT: usize = 1000;
const DEFAULT_LIMIT: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// The hotel; the key's own when absent (every hotel, for an admin of every hotel).
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
    pub limit: Option<usize>,
}

/// `GET /api/v1/audit?tenant=&aggregate=&actor=&from=&to=&limit=`
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
