//! The process's telemetry: the log subscriber and the metrics recorder, each installed once.
//!
//! Metrics recorded anywhere through the `metrics` facade (`metrics::counter!` in the PMS guard,
//! say) land in one Prometheus recorder whose rendering `GET /metrics` serves. The recorder is
//! process-wide — a test process that opens several runtimes shares it — so metrics carry the
//! hotel as a label rather than assuming one service per process.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The log subscriber of the binary: `RUST_LOG`, or `info,sqlx=warn`.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
}

/// The process's Prometheus recorder, installed on first use.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (a host embedding the gateway): then our
        // metrics go there and this handle renders nothing, which is still correct output.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics shows only the webhook counters");
        }
        handle
    })
}
