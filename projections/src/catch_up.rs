//! Feeding one consumer from the global order with a stored checkpoint.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use conserje_domain::journal::{
    Checkpoint, CheckpointStore, EventFeed, Lease, Leases, StoredEvent,
};
use tokio::sync::{watch, Mutex, Notify};
use tokio::time::Instant;

use crate::ProjectionError;

/// How often a running subscription checks that its lease is still held (a ping of the lease's
/// own connection): often enough that a cut connection stops the old runner well before a
/// standby's next try could start a second one, rarely enough to cost nothing per batch.
const LEASE_CHECK: Duration = Duration::from_secs(1);

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
    /// With several processes on one store, only the holder of this lease runs the background
    /// loop (see [`Leases`]); `None` runs it unconditionally.
    leases: Option<Arc<dyn Leases>>,
}

/// Takes and keeps one named lease for a background loop: the loop asks [`LeaseHolder::holds`]
/// before each round and does its work only when it answers true.
pub struct LeaseHolder {
    name: String,
    leases: Arc<dyn Leases>,
    held: Option<(Box<dyn Lease>, Instant)>,
}

impl LeaseHolder {
    pub fn new(name: &str, leases: Arc<dyn Leases>) -> Self {
        Self {
            name: name.to_owned(),
            leases,
            held: None,
        }
    }

    /// Whether this process may run a round now: it holds the lease (checked at most every
    /// [`LEASE_CHECK`]) or has just taken it. A standby tries again on every call.
    pub async fn holds(&mut self) -> bool {
        if let Some((lease, checked)) = &mut self.held {
            if checked.elapsed() < LEASE_CHECK {
                return true;
            }
            if lease.still_held().await {
                *checked = Instant::now();
                return true;
            }
            tracing::warn!(consumer = %self.name, "lost the lease; standing by");
            self.held = None;
        }
        let taken = match self.leases.try_acquire(&self.name).await {
            Ok(taken) => taken,
            Err(err) => {
                tracing::warn!(consumer = %self.name, error = %err, "cannot try the lease");
                None
            }
        };
        metrics::gauge!("conserje_consumer_lease_held", "consumer" => self.name.clone())
            .set(if taken.is_some() { 1.0 } else { 0.0 });
        let Some(lease) = taken else {
            return false;
        };
        tracing::info!(consumer = %self.name, "took the lease; running");
        self.held = Some((lease, Instant::now()));
        true
    }
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
            leases: None,
        }
    }

    /// Runs the background loop only while this process holds the subscription's lease: a
    /// consumer whose effects are not idempotent across processes (the relay publishes, the
    /// booking process books) must have one runner among all the processes on the store.
    pub fn with_lease(mut self, leases: Arc<dyn Leases>) -> Self {
        self.leases = Some(leases);
        self
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
        let mut lease = self
            .leases
            .clone()
            .map(|leases| LeaseHolder::new(&self.name, leases));
        loop {
            let runs = match &mut lease {
                Some(lease) => lease.holds().await,
                None => true,
            };
            if runs {
                if let Err(err) = self.catch_up().await {
                    tracing::error!(subscription = %self.name, error = %err, "catch-up failed; will retry");
                }
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
