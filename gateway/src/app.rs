//! The HTTP router.

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

use crate::error::ApiError;
use crate::routes::{health, messages, reservations, sessions};
use crate::Runtime;

pub fn router(runtime: Arc<Runtime>) -> Router {
    Router::new()
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/api/v1/messages", post(messages::post))
        .route("/api/v1/sessions", get(sessions::find))
        .route("/api/v1/reservations", post(reservations::create))
        .route("/api/v1/reservations/{id}", get(reservations::get))
        .route(
            "/api/v1/reservations/{id}/cancel",
            post(reservations::cancel),
        )
        .route(
            "/api/v1/reservations/{id}/modify",
            post(reservations::modify),
        )
        .route(
            "/api/v1/reservations/{id}/events",
            get(reservations::events),
        )
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .with_state(runtime)
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    runtime: Arc<Runtime>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(runtime).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
