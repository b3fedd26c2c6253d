//! The HTTP router.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tower::{Service, ServiceBuilder};
use tower_http::timeout::RequestBodyTimeoutLayer;

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::middleware::from_fn;
use axum::routing::{get, post};
use axum::Router;
use conserje_domain::values::Channel;

use crate::error::ApiError;
use crate::openapi;
use crate::role::Role;
use crate::routes::{
    audit, conversation, guests, health, keys, messages, metrics, reservations, sessions, webhooks,
};
use crate::Runtime;

/// Every route (the `all` and `api` roles).
pub fn router(runtime: Arc<Runtime>) -> Router {
    router_for(runtime, Role::All)
}

/// The routes a process of `role` answers: the worker and the projector answer only the probes
/// and `/metrics` (their work comes from the log, not from HTTP), so a load balancer that sends
/// them a webhook gets a 404 rather than an acknowledgement nobody would act on.
pub fn router_for(runtime: Arc<Runtime>, role: Role) -> Router {
    let probes = Router::new()
        .route("/metrics", get(metrics::get))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready));
    if !role.serves_api() {
        return probes
            .fallback(|| async { ApiError::NotFound("no such endpoint on this role".into()) })
            .layer(axum::middleware::from_fn(
                crate::routes::request_metrics::record,
            ))
            .with_state(runtime);
    }
    // The providers' webhooks, with their own body limit (the rejection is `413` in the API's
    // error shape, see `webhooks::RawBody`).
    let webhook_routes = Router::new()
        .route(
            "/webhooks/whatsapp",
            get(webhooks::whatsapp::verify).post(webhooks::whatsapp::receive.layer(from_fn(
                |request, next| webhooks::traced(Channel::WhatsApp.as_str(), request, next),
            ))),
        )
        .route(
            "/webhooks/telegram/{tenant}",
            post(webhooks::telegram::receive.layer(from_fn(|request, next| {
                webhooks::traced(Channel::Telegram.as_str(), request, next)
            }))),
        )
        .layer(DefaultBodyLimit::max(webhooks::BODY_LIMIT));
    probes
        .merge(webhook_routes)
        .merge(crate::console::routes())
        .route("/openapi.json", get(openapi::document))
        .route("/api/v1/audit", get(audit::list))
        .route("/api/v1/guests/forget", post(guests::forget))
        .route("/api/v1/keys", get(keys::list).post(keys::create))
        .route("/api/v1/keys/{id}/revoke", post(keys::revoke))
        .route(
            "/api/v1/messages",
            post(messages::post.layer(from_fn(|request, next| {
                webhooks::traced(crate::auth::API_CHANNEL.as_str(), request, next)
            }))),
        )
        .route("/api/v1/sessions", get(sessions::find))
        .route(
            "/api/v1/sessions/{id}/transcript",
            get(conversation::transcript),
        )
        .route(
            "/api/v1/sessions/{id}/handoff",
            post(conversation::take_over),
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
        // Last, so it times every route and fallback above (see `request_metrics`).
        .layer(axum::middleware::from_fn(
            crate::routes::request_metrics::record,
        ))
        .with_state(runtime)
}

/// How long connections still busy at shutdown get to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves the router on `listener` until `shutdown` resolves, then lets open connections finish
/// (at most [`SHUTDOWN_GRACE`]).
///
/// Served through hyper-util rather than `axum::serve` for the timeouts `axum::serve` lacks: a
/// client that opens a connection and sends its headers byte by byte (or never) is cut off after
/// `header_read_timeout`, one that trickles its body after `body_read_timeout`; without them a
/// few hundred half-open connections hold the server.
pub async fn serve(
    listener: tokio::net::TcpListener,
    runtime: Arc<Runtime>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_role(listener, runtime, Role::All, shutdown).await
}

/// [`serve`] with the routes of `role` only.
pub async fn serve_role(
    listener: tokio::net::TcpListener,
    runtime: Arc<Runtime>,
    role: Role,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let header_timeout = Duration::from_secs(runtime.http.header_read_timeout_seconds);
    let body_timeout = Duration::from_secs(runtime.http.body_read_timeout_seconds);
    let mut make_service =
        router_for(runtime, role).into_make_service_with_connect_info::<SocketAddr>();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // A refused accept (too many open files, a reset in the backlog) must not stop
                // the server; the next one may well succeed.
                Err(err) => {
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let per_connection = match make_service.call(remote).await {
            Ok(service) => service,
            Err(never) => match never {},
        };
        let service = TowerToHyperService::new(
            ServiceBuilder::new()
                .layer(RequestBodyTimeoutLayer::new(body_timeout))
                .service(per_connection),
        );
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, %remote, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period were dropped");
    }
    Ok(())
}
