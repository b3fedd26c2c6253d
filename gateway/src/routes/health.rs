//! Liveness and readiness probes.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::openapi::{Liveness, Readiness};
use crate::Runtime;

/// The process is up.
#[utoipa::path(
    get,
    path = "/health/live",
    operation_id = "health_live",
    tag = "health",
    summary = "Liveness: the process is up",
    description = "Open: no key needed.",
    security(()),
    responses((status = 200, description = "The process is up", body = Liveness))
)]
pub async fn live() -> Json<Value> {
    Json(json!({ "status": "live" }))
}

/// Ready when the event store answers (without it no command can be recorded) and every
/// consumer group this process runs has joined its topic (before that, a guest's message would
/// wait in the log for seconds).
#[utoipa::path(
    get,
    path = "/health/ready",
    operation_id = "health_ready",
    tag = "health",
    summary = "Readiness: the event store answers and every consumer group has joined",
    description = "Open: no key needed.",
    security(()),
    responses(
        (status = 200, description = "Ready (`status` is `ready`)", body = Readiness),
        (status = 503, description = "Not ready: `status` is `starting` (with `waiting_for`) or \
            `unavailable` (with the store's `error`)", body = Readiness),
    )
)]
pub async fn ready(State(rt): State<Arc<Runtime>>) -> (StatusCode, Json<Value>) {
    let waiting_for = rt.readiness.waiting_for();
    match rt.db.ping().await {
        Ok(()) if !waiting_for.is_empty() => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({ "status": "starting", "store": rt.db.kind(), "waiting_for": waiting_for }),
            ),
        ),
        Ok(()) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "store": rt.db.kind() })),
        ),
        Err(err) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({ "status": "unavailable", "store": rt.db.kind(), "error": err.to_string() }),
            ),
        ),
    }
}
