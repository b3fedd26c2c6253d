//! `GET /metrics`: the service's metrics in Prometheus' text format, for an admin key (a
//! Prometheus scrape job sends it with `authorization.credentials`): this runtime's webhook
//! counters, the business figures read from the store now, and the process's recorder.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use conserje_domain::api_key::Role;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::openapi::ErrorBody;
use crate::telemetry::backlog::{self, Source};
use crate::telemetry::business;
use crate::Runtime;

/// The content type of Prometheus' text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "metrics",
    summary = "The service's metrics in Prometheus' text format",
    description = "Roles: **admin** (of any scope). A Prometheus scrape job sends the key with \
        `authorization.credentials`. Written by the `metrics-exporter-prometheus` exporter, each \
        family with its HELP and TYPE.\n\n\
        **This instance** (counted since it started):\n\
        - `conserje_webhook_messages_accepted_total{channel}`, `conserje_webhook_ignored_total\
        {channel}`, `conserje_webhook_signature_failures_total{channel}`, \
        `conserje_webhook_rate_limited_total{channel}`, `conserje_webhook_statuses_ignored_total\
        {channel}`, `conserje_webhook_unknown_number_total{channel}` (counters);\n\
        - `conserje_http_request_duration_seconds{method,route,status}` (histogram; `route` is \
        the route template, `unmatched` when none matched);\n\
        - per hotel with a PMS of its own: `conserje_pms_calls_total{hotel,operation,result}`, \
        `conserje_pms_call_seconds{hotel,operation}` (histogram), \
        `conserje_pms_breaker_transitions_total{hotel,from,to,reason}`, \
        `conserje_pms_breaker_state{hotel}` (0 closed, 1 half-open, 2 open) and \
        `conserje_pms_cached_answers_total{hotel,freshness}`;\n\
        - `conserje_intent_confidence{hotel,intent}` (histogram of the language model's \
        confidence, recorded where this instance runs the conversation worker);\n\
        - `conserje_consumer_lease_held{consumer}`;\n\
        - `conserje_consumer_batch_records{group}` and `conserje_consumer_batch_seconds{group}` \
        (histograms of the committed batches of the consumer groups this instance runs);\n\
        - `conserje_outbound_sends_total{channel,result,code}` (the providers' answers to reply \
        sends, by the provider's error code);\n\
        - `conserje_metrics_read_errors_total{source}` (reads of a scrape that failed: their \
        series are left out of it).\n\n\
        **The log and the store** (read at each scrape; every instance reports the same): \
        `conserje_consumer_lag{group,topic,partition}`, `conserje_relay_lag_events`, \
        `conserje_relay_oldest_unrelayed_seconds`, `conserje_dead_letters{reason}` (waiting for \
        an operator).\n\n\
        **The store** (read at each scrape from the read models every instance shares, so any \
        instance reports the same; gauges over the store's whole history): \
        `conserje_reservations{hotel,status,channel}`, \
        `conserje_revenue_booked_minor{hotel,currency}` (confirmed reservations' total), \
        `conserje_quote_to_booking_ratio{hotel}`, `conserje_automation_ratio{hotel}`, \
        `conserje_handoffs{hotel,reason}`, `conserje_messages{hotel,language}`, and \
        `conserje_business_figures_up` (0 when the store could not be read: the figures are then \
        absent, the rest is still served). Each family's HELP text gives its exact definition.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The metrics", body = String,
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
    let (figures, backlog) = tokio::join!(
        conserje_infra::business_figures::read(&rt.db),
        backlog::read(&rt)
    );
    let figures = match figures {
        Ok(figures) => Some(figures),
        Err(err) => {
            backlog::read_failed(Source::BusinessFigures, &err.to_string());
            None
        }
    };
    // Four recorders, each rendering families the others never hold (see `telemetry`). The
    // process's comes last: it holds the read errors the reads above just counted.
    let mut body = rt.webhooks.counters.handle().render();
    body.push_str(&business::render(figures.as_ref()));
    body.push_str(&backlog::render(&backlog));
    body.push_str(&crate::telemetry::prometheus().render());
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], body))
}
