//! The event relay: every stored event, in the store's global order, onto the events topic
//! (`conserje.events.v1`).
//!
//! It runs as a store [`Subscription`](crate::Subscription) whose checkpoint is stored only after
//! the broker acknowledged the batch, so a relay restarted at any point republishes at most the
//! unacknowledged tail. Consumers drop those duplicates by (aggregate_type, aggregate_id,
//! sequence), which every record carries.
//!
//! API key events stay in the store: they carry the hash of a credential, and no consumer of
//! the topic (analytics, outbound, mirrors) has any use for them. The `api_keys` read model
//! reads them from the store.

use std::sync::Arc;

use async_trait::async_trait;
use conserje_domain::api_key::ApiKey;
use conserje_domain::journal::StoredEvent;
use conserje_domain::log::{MessageLog, OutgoingRecord};
use conserje_domain::metadata::keys;
use cqrs_es::Aggregate;
use tokio::sync::Mutex;

use crate::{EventHandler, ProjectionError};

/// The consumer name of the relay's store checkpoint.
pub const RELAY: &str = "event-relay";

/// The record that carries `event` on the events topic: keyed by aggregate id (one partition per
/// aggregate keeps its events in order), CloudEvents attributes as headers, the stored event as
/// JSON value.
pub fn event_record(event: &StoredEvent, topic: &str) -> Result<OutgoingRecord, ProjectionError> {
    let id = event
        .meta(keys::EVENT_ID)
        .map(str::to_owned)
        .unwrap_or_else(|| {
            format!(
                "{}/{}/{}",
                event.aggregate_type, event.aggregate_id, event.sequence
            )
        });
    let mut headers = vec![
        ("ce_specversion".to_owned(), "1.0".to_owned()),
        ("ce_id".to_owned(), id),
        ("ce_type".to_owned(), event.event_type.clone()),
        (
            "ce_source".to_owned(),
            format!("/conserje/{}", event.aggregate_type),
        ),
        ("ce_subject".to_owned(), event.aggregate_id.clone()),
        ("ce_time".to_owned(), event.recorded_at.to_rfc3339()),
        ("content-type".to_owned(), "application/json".to_owned()),
        ("event_type".to_owned(), event.event_type.clone()),
        ("schema_version".to_owned(), event.event_version.clone()),
        ("aggregate_type".to_owned(), event.aggregate_type.clone()),
        ("sequence".to_owned(), event.sequence.to_string()),
    ];
    for (header, key) in [
        ("tenant", keys::TENANT_ID),
        ("traceparent", keys::TRACEPARENT),
    ] {
        if let Some(value) = event.meta(key) {
            headers.push((header.to_owned(), value.to_owned()));
        }
    }
    let payload = serde_json::to_vec(event).map_err(|e| ProjectionError::Handler(e.to_string()))?;
    Ok(OutgoingRecord {
        topic: topic.to_owned(),
        key: event.aggregate_id.clone(),
        headers,
        payload,
    })
}

/// Records gathered while a batch is handled and appended together when it is flushed: one
/// acknowledged append per batch, and the batch's checkpoint moves only after it.
pub struct PendingAppends {
    log: Arc<dyn MessageLog>,
    /// Names the appender in errors.
    label: &'static str,
    batch: Mutex<Vec<OutgoingRecord>>,
}

impl PendingAppends {
    pub fn new(log: Arc<dyn MessageLog>, label: &'static str) -> Self {
        Self {
            log,
            label,
            batch: Mutex::new(Vec::new()),
        }
    }

    pub async fn push(&self, record: OutgoingRecord) {
        self.batch.lock().await.push(record);
    }

    /// Appends what was gathered; nothing to append is not an error.
    pub async fn flush(&self) -> Result<(), ProjectionError> {
        let batch = std::mem::take(&mut *self.batch.lock().await);
        if batch.is_empty() {
            return Ok(());
        }
        self.log
            .append_all(batch)
            .await
            .map_err(|e| ProjectionError::Handler(format!("{}: {e}", self.label)))
    }
}

/// Collects a batch of events and publishes it on flush.
pub struct EventRelay {
    topic: String,
    pending: PendingAppends,
    /// The batch's `relay.publish` spans, ended once the broker acknowledged it.
    publishing: Mutex<Vec<tracing::Span>>,
}

/// The `relay.publish` span of one event: a child of the span that decided it (the event's
/// traceparent). Its context replaces that traceparent on the record, so the consumers of the
/// events topic continue the trace from here.
fn publish_span(event: &StoredEvent) -> tracing::Span {
    let subject = conserje_trace::subject(&event.aggregate_type, &event.aggregate_id);
    let span = tracing::info_span!(
        "relay.publish",
        otel.kind = "producer",
        tenant = event.meta(keys::TENANT_ID),
        aggregate = event.aggregate_type.as_str(),
        event_type = event.event_type.as_str(),
        conversation = subject.conversation.as_deref(),
        reservation = subject.reservation.as_deref(),
    );
    conserje_trace::follow(&span, event.meta(keys::TRACEPARENT));
    span
}

impl EventRelay {
    /// Publishes onto `topic` (the deployment's events topic).
    pub fn new(log: Arc<dyn MessageLog>, topic: &str) -> Self {
        Self {
            topic: topic.to_owned(),
            pending: PendingAppends::new(log, "relay"),
            publishing: Mutex::new(Vec::new()),
        }
    }
}

#[async_trait]
impl EventHandler for EventRelay {
    async fn handle(&self, event: &StoredEvent) -> Result<(), ProjectionError> {
        if event.aggregate_type == ApiKey::TYPE {
            return Ok(());
        }
        let span = publish_span(event);
        let mut record = event_record(event, &self.topic)?;
        conserje_trace::stamp(&mut record.headers, &span);
        self.pending.push(record).await;
        self.publishing.lock().await.push(span);
        Ok(())
    }

    async fn flush(&self) -> Result<(), ProjectionError> {
        let flushed = self.pending.flush().await;
        // Dropping the spans ends them: each covers its event from the relay's read to the
        // broker's acknowledgement of its batch.
        self.publishing.lock().await.clear();
        flushed
    }
}
