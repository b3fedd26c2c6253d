//! Traces: conserje's `tracing` spans as OpenTelemetry spans, exported over OTLP gRPC.
//!
//! Configured the standard way, by environment: `OTEL_EXPORTER_OTLP_ENDPOINT` (a collector's
//! gRPC address, `http://collector:4317`) turns tracing on, `OTEL_SERVICE_NAME` names the
//! service (`conserje` when unset), `OTEL_BSP_*` tune the batch span processor. With no
//! endpoint there is no exporter, no batch thread and no OpenTelemetry layer: spans stay plain
//! `tracing` spans and traceparents pass through unchanged (see `conserje_trace`).
//!
//! Only conserje's own spans are exported, never `tracing` events: a log line may name a
//! session id (a phone number) or quote a message, and tracing-opentelemetry would attach it
//! to its span. The spans carry only what `conserje_trace` allows (tenant, the conversation's
//! pseudonym, a reservation id, counts, an HTTP status).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{ExporterBuildError, SpanExporter};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing::{Level, Subscriber};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// The variable whose presence turns tracing on.
pub const ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// The service name when `OTEL_SERVICE_NAME` is unset.
pub const DEFAULT_SERVICE_NAME: &str = "conserje";

/// The tracer provider of a process that traces; flushed by [`Tracing::shutdown`].
pub struct Tracing {
    provider: Option<SdkTracerProvider>,
}

impl Tracing {
    /// No tracing: nothing to flush.
    pub fn off() -> Self {
        Self { provider: None }
    }

    pub fn is_on(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports the spans still buffered and stops the exporter. The batch processor keeps
    /// finished spans for up to `OTEL_BSP_SCHEDULE_DELAY` (5 s): a process that exits without
    /// this loses the last seconds of every trace, often the reply's send.
    pub async fn shutdown(self) {
        let Some(provider) = self.provider else {
            return;
        };
        // The flush blocks until the export thread has sent the batch through tonic, whose
        // connection is driven by this runtime: block a blocking-pool thread, not a worker.
        match tokio::task::spawn_blocking(move || provider.shutdown()).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(error = %err, "the last spans were not exported"),
            Err(err) => tracing::warn!(error = %err, "the tracer provider did not shut down"),
        }
    }

    /// The layer that turns conserje's spans into this provider's spans; `None` when off.
    pub fn layer<S>(&self) -> Option<impl Layer<S>>
    where
        S: Subscriber + for<'span> LookupSpan<'span>,
    {
        let tracer = self.provider.as_ref()?.tracer("conserje");
        Some(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(filter_fn(|meta| {
                    meta.is_span()
                        && meta.target().starts_with("conserje")
                        && *meta.level() <= Level::INFO
                })),
        )
    }
}

/// Tracing as the environment asks: on with an OTLP gRPC exporter when
/// [`ENDPOINT_VAR`] is set and not empty, off otherwise. Must run inside the tokio runtime (the
/// exporter's channel belongs to it).
pub fn from_env() -> Result<Tracing, ExporterBuildError> {
    let on = std::env::var(ENDPOINT_VAR).is_ok_and(|v| !v.trim().is_empty());
    if !on {
        return Ok(Tracing::off());
    }
    // The endpoint, timeout, headers and compression are read by the exporter from the standard
    // variables; the batch processor reads `OTEL_BSP_*`.
    let exporter = SpanExporter::builder().with_tonic().build()?;
    let mut resource = Resource::builder();
    if std::env::var("OTEL_SERVICE_NAME").is_err() {
        resource = resource.with_service_name(DEFAULT_SERVICE_NAME);
    }
    let provider = SdkTracerProvider::builder()
        .with_resource(resource.build())
        .with_batch_exporter(exporter)
        .build();
    Ok(Tracing {
        provider: Some(provider),
    })
}
