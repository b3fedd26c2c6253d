//! The HTTP/1.1 side: an accept loop of its own instead of `axum::serve`, because a fault must
//! be able to drop one connection — a request that gets no answer at all, even on a kept-alive
//! connection.
//!
//! Each connection keeps a second descriptor of its socket. To reset, the handler signals the
//! connection, which sets `SO_LINGER` to zero through that descriptor and drops both: the kernel
//! then sends an RST and not a single response byte.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::api::{self, format_of};
use super::faults::Verdict;
use super::wire::ApiError;
use super::Shared;

/// Request bodies larger than this are cut off with a connection error; no PMS call is that big.
const MAX_BODY: usize = 8 << 20;

/// Accepts connections until the task is aborted; aborting it drops every connection too.
pub(super) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        let accepted = listener.accept().await;
        while connections.try_join_next().is_some() {}
        match accepted {
            Ok((stream, _)) => {
                connections.spawn(connection(stream, Arc::clone(&shared)));
            }
            // A failed accept (a reset in the backlog, no descriptors left) must not stop the
            // server.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}

/// Serves one connection until the client closes it or a handler asks for a reset.
async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let Ok(std_stream) = stream.into_std() else {
        return;
    };
    let shadow = std_stream.try_clone().ok();
    let Ok(stream) = TcpStream::from_std(std_stream) else {
        return;
    };
    let reset = Arc::new(Notify::new());
    let service = {
        let reset = Arc::clone(&reset);
        service_fn(move |request: Request<Incoming>| {
            let shared = Arc::clone(&shared);
            let reset = Arc::clone(&reset);
            async move { Ok::<_, Infallible>(respond(&shared, &reset, request).await) }
        })
    };
    let served = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = served => {}
        () = reset.notified() => {
            if let Some(shadow) = shadow {
                // The option belongs to the socket, so it holds for the descriptor hyper owns
                // too; both are closed when this function returns.
                let _ = TcpSocket::from_std_stream(shadow).set_zero_linger();
            }
        }
    }
}

/// Never answers: asks the connection to reset and waits to be dropped with it.
async fn drop_connection(reset: &Notify) -> Response<Body> {
    reset.notify_one();
    std::future::pending().await
}

async fn respond(shared: &Shared, reset: &Notify, request: Request<Incoming>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    shared.record(parts.method.as_str(), parts.uri.path());
    let Ok(body) = axum::body::to_bytes(Body::new(body), MAX_BODY).await else {
        return drop_connection(reset).await;
    };
    let format = format_of(&parts.headers, parts.uri.query());
    match shared.faults.before().await {
        Verdict::Proceed => {}
        Verdict::Reset => return drop_connection(reset).await,
        Verdict::Hang(wait) => {
            tokio::time::sleep(wait).await;
            return drop_connection(reset).await;
        }
        Verdict::Fail(status) => {
            let error = ApiError::new(status, 46, injected_message(status));
            return build(
                status,
                &[("Content-Type", format.content_type().to_owned())],
                Some(error.body(format)),
            );
        }
    }
    let answer = api::handle(
        shared,
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query(),
        &parts.headers,
        &body,
    );
    if answer.committed {
        if let Some(wait) = shared.faults.take_commit_hang() {
            tokio::time::sleep(wait).await;
        }
    }
    build(answer.status, &answer.headers, answer.body)
}

/// What an injected failure says: the status, and that it was injected.
fn injected_message(status: u16) -> String {
    let reason = hyper::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    format!("{reason} (injected by the QloApps simulator; nothing was done)")
}

fn build(status: u16, headers: &[(&'static str, String)], body: Option<String>) -> Response<Body> {
    let mut response = Response::builder().status(
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR),
    );
    for (name, value) in headers {
        response = response.header(*name, value.as_str());
    }
    response
        .body(body.map_or_else(Body::empty, Body::from))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}
