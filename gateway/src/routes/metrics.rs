//! `GET /metrics`: the service's counters in Prometheus' text format, for an admin key (a
//! Prometheus scrape job sends it with `authorization.credentials`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use conserje_domain::api_key::Role;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::Runtime;

/// The content type of Prometheus' text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`
pub async fn get(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    Ok((
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        rt.webhooks.counters.render_prometheus(),
    ))
}
