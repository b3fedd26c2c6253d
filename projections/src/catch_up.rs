//! Feeding one consumer from the global order with a stored checkpoint.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use conserje_domain::journal::{Checkpoint, CheckpointStore, EventFeed, StoredEvent};
use tokio::sync::{watch, Mutex, Notify};

use crate::ProjectionError;

/// Something that reacts to stored events: a read model or a process manager. It must be
/// idempotent, because after a crash the events since the last checkpoint are delivered again.
#[async_trait]
pub trait EventHandler: Send + Sync {
    async fn handle(&self, event: &StoredEvent) -> Result<(), ProjectionError>;

    /// Makes the effects of the events handled so far durable; the checkpoint is stored only
    /// after this succeeds. Handlers that write as they go need nothing here; the relay sends
    /// its batch to the broker and waits for the acknowledgement.
    async fn flush(&self) -> Result<(), ProjectionError> {
        Ok(())
    }
}

/// One named consumer of the event feed: its handler, its checkpoint and how it is woken.
pub struct Subscription {
    name: String,
    feed: Arc<dyn EventFeed>,
    checkpoints: Arc<dyn CheckpointStore>,
    handler: Arc<dyn EventHandler>,
    batch_size: usize,
    /// One catch-up at a time: the background loop and a request waiting for its own write may
    /// both ask, and running them together would only apply the same events twice.
    running: Mutex<()>,
}

impl Subscription {
    pub fn new(
        name: &str,
        feed: Arc<dyn EventFeed>,
        checkpoints: Arc<dyn CheckpointStore>,
        handler: Arc<dyn EventHandler>,
    ) -> Self {
        Self {
            name: name.to_owned(),
            feed,
            checkpoints,
            handler,
            batch_size: 500,
            running: Mutex::new(()),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Processes every event available now; returns how many were handled.
    pub async fn catch_up(&self) -> Result<u64, ProjectionError> {
        let _one_at_a_time = self.running.lock().await;
        let mut checkpoint = self.checkpoints.load(&self.name).await?;
        let mut handled = 0;
        loop {
            let batch = self.feed.read_after(checkpoint, self.batch_size).await?;
            let Some(last) = batch.last() else {
                return Ok(handled);
            };
            for event in &batch {
                self.handler.handle(event).await?;
            }
            self.handler.flush().await?;
            checkpoint = Checkpoint::after(last);
            self.checkpoints.save(&self.name, checkpoint).await?;
            handled += batch.len() as u64;
        }
    }

    /// Runs until `shutdown` turns true: catches up whenever `wake` is notified (a command
    /// committed) or `poll` elapses (events written by another process). A failing batch is
    /// logged and retried on the next round, from the last stored checkpoint.
    pub async fn run(
        self: Arc<Self>,
        wake: Arc<Notify>,
        poll: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            if let Err(err) = self.catch_up().await {
                tracing::error!(subscription = %self.name, error = %err, "catch-up failed; will retry");
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => {
                    if *shutdown.borrow() {
                        return;
                    }
                }
            }
        }
    }
}
