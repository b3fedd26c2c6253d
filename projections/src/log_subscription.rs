//! Feeding one consumer group of the events topic to an [`EventHandler`].
//!
//! The group's committed offsets are its checkpoint: a batch is committed only after the handler
//! applied and flushed it, so a member that dies mid-batch is replaced by one that applies the
//! batch again, and the handler's idempotence on (aggregate, sequence) absorbs the repeat.

use std::sync::Arc;
use std::time::Duration;

use conserje_domain::journal::{Opener, StoredEvent};
use conserje_domain::log::{LogConsumer, LogRecord, MessageLog};
use conserje_domain::metadata::keys;
use tokio::sync::watch;

use crate::{EventHandler, ProjectionError};

/// A consumer group on `conserje.events.v1` and the handler it feeds.
pub struct LogSubscription {
    group: String,
    topic: String,
    log: Arc<dyn MessageLog>,
    handler: Arc<dyn EventHandler>,
    /// The relay publishes events as stored, guests' personal fields sealed; they are opened
    /// here, for the handler, with the keys that still exist.
    opener: Arc<dyn Opener>,
}

/// Decodes the stored event a relay record carries.
pub fn decode_event(record: &LogRecord) -> Result<StoredEvent, ProjectionError> {
    serde_json::from_slice(&record.payload).map_err(|e| {
        ProjectionError::Handler(format!(
            "record {}/{}@{} is not a stored event: {e}",
            record.topic, record.partition, record.offset
        ))
    })
}

/// Hands the handler the record's trace context as the event's: the relay wrote its
/// `relay.publish` span there, and a handler that forwards the event (`outbound-replies`, whose
/// send jobs the sender traces) continues the trace from that span rather than from the worker's.
/// Only the in-memory copy changes; with tracing off the header is the event's own traceparent.
fn continue_trace(record: &LogRecord, event: &mut StoredEvent) {
    let Some(traceparent) = record.header(conserje_trace::TRACEPARENT) else {
        return;
    };
    if let Some(metadata) = event.metadata.as_object_mut() {
        metadata.insert(keys::TRACEPARENT.to_owned(), traceparent.into());
    }
}

impl LogSubscription {
    /// Group `group` on `topic` (the deployment's events topic).
    pub fn new(
        group: &str,
        topic: &str,
        log: Arc<dyn MessageLog>,
        handler: Arc<dyn EventHandler>,
        opener: Arc<dyn Opener>,
    ) -> Self {
        Self {
            group: group.to_owned(),
            topic: topic.to_owned(),
            log,
            handler,
            opener,
        }
    }

    pub fn group(&self) -> &str {
        &self.group
    }

    /// Joins the group on the events topic.
    pub async fn join(&self) -> Result<Box<dyn LogConsumer>, ProjectionError> {
        self.log
            .consumer(&self.group, &self.topic)
            .await
            .map_err(|e| ProjectionError::Handler(e.to_string()))
    }

    /// Polls one batch, applies it and commits it; returns how many records it handled.
    pub async fn step(
        &self,
        consumer: &mut dyn LogConsumer,
        wait: Duration,
    ) -> Result<usize, ProjectionError> {
        let batch = consumer
            .poll(500, wait)
            .await
            .map_err(|e| ProjectionError::Handler(e.to_string()))?;
        let mut events = batch
            .iter()
            .map(decode_event)
            .collect::<Result<Vec<_>, _>>()?;
        for (record, event) in batch.iter().zip(&mut events) {
            continue_trace(record, event);
        }
        self.opener.open(&mut events).await?;
        for event in &events {
            self.handler.handle(event).await?;
        }
        self.handler.flush().await?;
        consumer
            .commit(&batch)
            .await
            .map_err(|e| ProjectionError::Handler(e.to_string()))?;
        Ok(batch.len())
    }

    /// Runs until `shutdown` turns true. A failing batch is not committed: the member rejoins and
    /// the batch is delivered again after a pause.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            let mut consumer = match self.join().await {
                Ok(consumer) => consumer,
                Err(err) => {
                    tracing::error!(group = %self.group, error = %err, "cannot join; retrying");
                    if pause_or_stop(&mut shutdown).await {
                        return;
                    }
                    continue;
                }
            };
            loop {
                tokio::select! {
                    outcome = self.step(consumer.as_mut(), Duration::from_millis(200)) => {
                        if let Err(err) = outcome {
                            tracing::error!(group = %self.group, error = %err, "batch failed; will be redelivered");
                            break;
                        }
                    }
                    _ = shutdown.changed() => {
                        if *shutdown.borrow() {
                            return;
                        }
                    }
                }
            }
            if pause_or_stop(&mut shutdown).await {
                return;
            }
        }
    }
}

/// Waits a second unless shutdown comes first; true when it is time to stop.
async fn pause_or_stop(shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_secs(1)) => *shutdown.borrow(),
        _ = shutdown.changed() => true,
    }
}
