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

/// Ready only when the event store answers: without it no command can be recorded.
pub async fn ready(State(rt): State<Arc<Runtime>>) -> (StatusCode, Json<Value>) {
    match rt.db.ping().await {
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
