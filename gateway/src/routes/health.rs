//! Liveness and readiness probes.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::Runtime;

/// The process is up.
pub async fn live() -> Json<Value> {
    Json(json!({ "status": "live" }))
}

/// Ready when the event store answers (without it no command can be recorded) and every
/// consumer group this process runs has joined its topic (before that, a guest's message would
/// wait in the log for seconds).
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
