//! The process's telemetry: the log subscriber, the trace exporter ([`traces`]) and the metrics
//! recorder, each installed once.
//!
//! Metrics recorded anywhere through the `metrics` facade (`metrics::counter!` in the PMS guard,
//! the request timer of the router, the intent confidence in the conversation worker) land in
//! one Prometheus recorder whose rendering `GET /metrics` serves. The recorder is process-wide —
//! a test process that opens several runtimes shares it — so metrics carry the hotel as a label
//! rather than assuming one service per process. What must stay per runtime (the webhook
//! counters) or is read from the store at scrape time (the [`business`] figures) is rendered by
//! recorders of its own, beside this one.
//!
//! This module is the catalogue of the global families: their HELP text and, for histograms,
//! their buckets — a histogram without buckets would render as a summary, whose quantiles cannot
//! be aggregated across instances or hotels.

pub mod backlog;
pub mod business;
pub mod traces;

use std::sync::OnceLock;
use std::time::Duration;

use conserje_commands::batch_metrics::{BATCH_RECORDS, BATCH_SECONDS};
use conserje_infra::send_results::OUTBOUND_SENDS;
use metrics::{KeyName, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// `conserje_http_request_duration_seconds{method,route,status}`, recorded by
/// [`crate::routes::request_metrics`].
pub const HTTP_REQUEST_DURATION: &str = "conserje_http_request_duration_seconds";
/// `conserje_pms_call_seconds{hotel,operation}`, recorded by `conserje_infra::pms::guarded`.
pub const PMS_CALL_SECONDS: &str = "conserje_pms_call_seconds";
/// `conserje_intent_confidence{hotel,intent}`, recorded by `conserje_commands::inbound`.
pub const INTENT_CONFIDENCE: &str = "conserje_intent_confidence";

/// Request latency: a webhook answers in milliseconds, a booking waits on the PMS for seconds.
const HTTP_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// PMS calls: up to the adapter's timeout (10 s by default) and a little past it.
const PMS_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0,
];
/// Confidence is in [0, 1]; tenths show where the low-confidence threshold cuts.
const CONFIDENCE_BUCKETS: &[f64] = &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
/// Records per batch: one at a time when idle, up to the largest poll (500, the dead-letter
/// index's) under load.
const BATCH_RECORDS_BUCKETS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0];
/// Handling one batch: a commit takes milliseconds, a batch that waits on the PMS seconds.
const BATCH_SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often histogram samples are folded into their buckets when nobody scrapes: without it
/// they would pile up in memory until the next scrape.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// HELP text of every family recorded through the facade (the exporter writes a family's HELP
/// only when described; `promtool check metrics` flags one without).
const DESCRIBED: &[(Kind, &str, Option<Unit>, &str)] = &[
    (
        Kind::Histogram,
        HTTP_REQUEST_DURATION,
        Some(Unit::Seconds),
        "Time from a request's arrival to its response head, by method, route template \
         (`unmatched` when no route matched) and status code.",
    ),
    (
        Kind::Counter,
        "conserje_pms_calls_total",
        None,
        "PMS calls of a hotel with a PMS of its own, by operation and result (ok, refused, the \
         failure's kind, or circuit_open/busy when the call was not made).",
    ),
    (
        Kind::Histogram,
        PMS_CALL_SECONDS,
        Some(Unit::Seconds),
        "Time a PMS call took, by hotel and operation.",
    ),
    (
        Kind::Counter,
        "conserje_pms_breaker_transitions_total",
        None,
        "Moves of a hotel's PMS circuit breaker, by from, to and reason.",
    ),
    (
        Kind::Gauge,
        "conserje_pms_breaker_state",
        None,
        "A hotel's PMS circuit breaker: 0 closed, 1 half-open, 2 open.",
    ),
    (
        Kind::Counter,
        "conserje_pms_cached_answers_total",
        None,
        "Availability answered from the cache instead of the PMS, by freshness (fresh, stale).",
    ),
    (
        Kind::Gauge,
        "conserje_consumer_lease_held",
        None,
        "1 while this process holds the lease of a consumer (a projection or worker that runs \
         in one process at a time), 0 while it stands by.",
    ),
    (
        Kind::Histogram,
        INTENT_CONFIDENCE,
        None,
        "How sure the language model was of each guest message it read (0 to 1), by hotel and \
         the intent it chose.",
    ),
    (
        Kind::Histogram,
        BATCH_RECORDS,
        None,
        "Records per batch a consumer group of this process handled and committed, by group.",
    ),
    (
        Kind::Histogram,
        BATCH_SECONDS,
        Some(Unit::Seconds),
        "Time from the poll that returned a batch to its commit, by consumer group (a batch \
         that failed is not counted; its redelivery is).",
    ),
    (
        Kind::Counter,
        OUTBOUND_SENDS,
        None,
        "Answers of the channel providers to this process's reply sends, by channel, result \
         (sent, retry, refused; outbox when the channel has no provider) and code (the \
         provider's error code, such as WhatsApp's 131047 or Telegram's 403; http_<status> \
         without one; unreachable; not_configured; ok).",
    ),
    (
        Kind::Counter,
        backlog::READ_ERRORS,
        None,
        "Reads of a /metrics scrape that failed or timed out, by source (consumer_lag, \
         relay_lag, dead_letters, business_figures); their series are left out of that scrape.",
    ),
];

#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// The log subscriber of the binary (`RUST_LOG`, or `info,sqlx=warn`) and, when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is set, the trace exporter beside it (see [`traces`]). The
/// log filter is the log layer's own: `RUST_LOG=warn` must not switch traces off. Returns the
/// tracing to flush when the process ends.
pub fn init_tracing() -> traces::Tracing {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;

    let log_filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let (tracing, refused) = match traces::from_env() {
        Ok(tracing) => (tracing, None),
        Err(err) => (traces::Tracing::off(), Some(err)),
    };
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_filter(log_filter))
        .with(tracing.layer())
        .init();
    if let Some(err) = refused {
        tracing::warn!(error = %err, "traces are off: the OTLP exporter could not be built");
    }
    tracing
}

/// The process's Prometheus recorder, installed on first use (`Runtime::open`).
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = builder().build_recorder();
        for &(kind, name, unit, help) in DESCRIBED {
            let (name, help) = (KeyName::from_const_str(name), SharedString::const_str(help));
            match kind {
                Kind::Counter => recorder.describe_counter(name, unit, help),
                Kind::Gauge => recorder.describe_gauge(name, unit, help),
                Kind::Histogram => recorder.describe_histogram(name, unit, help),
            }
        }
        let handle = recorder.handle();
        // Another recorder may already be installed (a host embedding the gateway): then our
        // metrics go there and this handle renders nothing, which is still correct output.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!(
                "a metrics recorder was already installed; /metrics shows only this runtime's \
                 webhook counters and business figures"
            );
        }
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            });
        if let Err(err) = spawned {
            tracing::warn!(error = %err, "no metrics upkeep thread; histograms fold at each scrape");
        }
        handle
    })
}

/// The global recorder's configuration: true histograms for every histogram family.
fn builder() -> PrometheusBuilder {
    [
        (HTTP_REQUEST_DURATION, HTTP_BUCKETS),
        (PMS_CALL_SECONDS, PMS_BUCKETS),
        (INTENT_CONFIDENCE, CONFIDENCE_BUCKETS),
        (BATCH_RECORDS, BATCH_RECORDS_BUCKETS),
        (BATCH_SECONDS, BATCH_SECONDS_BUCKETS),
    ]
    .into_iter()
    .fold(PrometheusBuilder::new(), |builder, (name, buckets)| {
        builder
            .set_buckets_for_metric(Matcher::Full(name.to_owned()), buckets)
            .expect("the bucket lists are not empty")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics::{Key, Level, Metadata};

    #[test]
    fn histograms_render_as_histograms_with_their_help() {
        let recorder = builder().build_recorder();
        recorder.describe_histogram(
            KeyName::from_const_str(PMS_CALL_SECONDS),
            Some(Unit::Seconds),
            SharedString::const_str("PMS time."),
        );
        let metadata = Metadata::new("test", Level::INFO, None);
        let key = Key::from_parts(PMS_CALL_SECONDS, &[("hotel", "default")]);
        recorder.register_histogram(&key, &metadata).record(0.3);
        let text = recorder.handle().render();
        assert!(
            text.contains("# TYPE conserje_pms_call_seconds histogram\n"),
            "{text}"
        );
        assert!(
            text.contains("# HELP conserje_pms_call_seconds PMS time.\n"),
            "{text}"
        );
        assert!(
            text.contains("conserje_pms_call_seconds_bucket{hotel=\"default\",le=\"0.25\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("conserje_pms_call_seconds_bucket{hotel=\"default\",le=\"0.5\"} 1\n"),
            "{text}"
        );
        assert!(!text.contains("quantile"), "not a summary: {text}");
    }
}
