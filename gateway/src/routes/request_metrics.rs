//! The latency of every request, per route: `conserje_http_request_duration_seconds{method,
//! route,status}`, a histogram in the process's recorder (buckets in `telemetry`).
//!
//! `route` is the template the router matched (`/api/v1/reservations/{id}`), never the path
//! itself: ids, session ids and tenants in a label would make a new series per guest.
//! Requests no route matched are `unmatched`, and methods outside the standard set `other`, so
//! a scanner probing random paths or verbs cannot grow the label sets either.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use crate::telemetry::HTTP_REQUEST_DURATION;

/// The `route` of a request no route matched (the fallbacks).
pub const UNMATCHED: &str = "unmatched";

/// Times the request and records it under its route template; layered with
/// `axum::middleware::from_fn` on a router whose routes are all added, so that `MatchedPath` is
/// already set when it runs.
pub async fn record(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    ::metrics::histogram!(
        HTTP_REQUEST_DURATION,
        "method" => method,
        "route" => route,
        "status" => response.status().as_str().to_owned(),
    )
    .record(started.elapsed().as_secs_f64());
    response
}

/// The method as a label: one of the standard methods, or `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_standard_methods_are_labels_of_their_own() {
        assert_eq!(method_label(&Method::POST), "POST");
        assert_eq!(
            method_label(&Method::from_bytes(b"PROPFIND").unwrap()),
            "other"
        );
        assert_eq!(method_label(&Method::TRACE), "other");
    }
}
