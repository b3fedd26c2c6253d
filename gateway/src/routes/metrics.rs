//! `GET /metrics`: the service's counters in Prometheus' text format, for an admin key (a
//! Prometheus scrape job sends it with `authorization.credentials`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use conserje_domain::api_key::Role;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::openapi::ErrorBody;
use crate::Runtime;

/// The content type of Prometheus' text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "metrics",
    summary = "The service's counters in Prometheus' text format",
    description = "Roles: **admin** (of any scope). A Prometheus scrape job sends the key with \
        `authorization.credentials`. Webhook counters, and per hotel with a PMS of its own: \
        `conserje_pms_calls_total{operation,result}`, `conserje_pms_call_seconds`, \
        `conserje_pms_breaker_transitions_total{from,to,reason}`, `conserje_pms_breaker_state` \
        (0 closed, 1 half-open, 2 open) and `conserje_pms_cached_answers_total{freshness}`.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The counters", body = String,
            content_type = "text/plain; version=0.0.4; charset=utf-8"),
        (status = 401, description = "`unauthenticated` (no `Authorization: Bearer <key>`) or \
            `invalid_key` (unknown, revoked or expired)", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key's role is not admin", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the key passed its requests per minute",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`: the key could not be checked (event store)",
            body = ErrorBody),
    )
)]
pub async fn get(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let mut body = rt.webhooks.counters.render_prometheus();
    body.push_str(&crate::telemetry::prometheus().render());
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], body))
}
