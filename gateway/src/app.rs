//! The HTTP router.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::error::ApiError;
use crate::openapi;
use crate::routes::{
    audit, conversation, guests, health, keys, messages, metrics, reservations, sessions, webhooks,
};
use crate::Runtime;

pub fn router(runtime: Arc<Runtime>) -> Router {
    // The providers' webhooks, with their own body limit (the rejection is `413` in the API's
    // error shape, see `webhooks::RawBody`).
    let webhook_routes = Router::new()
        .route(
            "/webhooks/whatsapp",
            get(webhooks::whatsapp::verify).post(webhooks::whatsapp::receive),
        )
        .route(
            "/webhooks/telegram/{tenant}",
            post(webhooks::telegram::receive),
        )
        .layer(DefaultBodyLimit::max(webhooks::BODY_LIMIT));
    Router::new()
        .merge(webhook_routes)
        .route("/metrics", get(metrics::get))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/openapi.json", get(openapi::document))
        .route("/api/v1/audit", get(audit::list))
        .route("/api/v1/guests/forget", post(guests::forget))
        .route("/api/v1/keys", get(keys::list).post(keys::create))
        .route("/api/v1/keys/{id}/revoke", post(keys::revoke))
        .route("/api/v1/messages", post(messages::post))
        .route("/api/v1/sessions", get(sessions::find))
        .route(
            "/api/v1/sessions/{id}/transcript",
            get(conversation::transcript),
        )
        .route(
            "/api/v1/sessions/{id}/handoff/resolve",
            post(conversation::resolve_handoff),
        )
        .route(
            "/api/v1/sessions/{id}/replies",
            post(conversation::staff_reply),
        )
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
        .layer(DefaultBodyLimit::max(crate::extract::API_BODY_LIMIT))
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
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
