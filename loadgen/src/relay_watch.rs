//! The event relay during the run, watched through its checkpoint in the event store: how many
//! events it passed, and how far behind the store it was (the backlog every projection of the
//! events topic waits behind).

use std::time::Duration;

use conserje_domain::journal::{Checkpoint, CheckpointStore};
use conserje_infra::feed::{SqlCheckpoints, SqlEventFeed};
use conserje_infra::Database;
use conserje_projections::relay::RELAY;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

use crate::baselines::Rate;
use crate::Figure;

/// How often the relay backlog is sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// Watches the event relay during the run through its checkpoint in the event store: how many
/// events it passed, and a sample every [`SAMPLE_EVERY`] of how many stored events it has not
/// passed yet (its backlog, which is the projections' lag behind the store).
pub struct RelayWatch {
    feed: SqlEventFeed,
    checkpoints: SqlCheckpoints,
    start: Checkpoint,
    started: Instant,
    stop: watch::Sender<bool>,
    sampler: tokio::task::JoinHandle<Figure<Vec<u64>>>,
}

/// What the relay passed during the run.
#[derive(Debug, Clone, Copy)]
pub struct Relayed {
    pub events: Rate,
    /// Stored events not yet relayed when the run ended.
    pub backlog_at_end: u64,
}

impl RelayWatch {
    pub async fn start(db: &Database) -> Figure<Self> {
        let feed = SqlEventFeed::new(db.clone());
        let checkpoints = SqlCheckpoints::new(db.clone());
        let start = checkpoints
            .load(RELAY)
            .await
            .map_err(|err| format!("cannot read the {RELAY} checkpoint: {err}"))?;
        let (stop, stopped) = watch::channel(false);
        let sampler = tokio::spawn(sample_backlog(feed.clone(), checkpoints.clone(), stopped));
        Ok(Self {
            feed,
            checkpoints,
            start,
            started: Instant::now(),
            stop,
            sampler,
        })
    }

    /// Stops sampling and reads how far the relay got: events relayed, and the backlog samples
    /// sorted.
    pub async fn finish(self) -> (Figure<Relayed>, Figure<Vec<u64>>) {
        self.stop.send_replace(true);
        let relayed = self.relayed().await;
        let backlog = match self.sampler.await {
            Ok(Ok(mut samples)) if !samples.is_empty() => {
                samples.sort_unstable();
                Ok(samples)
            }
            Ok(Ok(_)) => Err("no sample was taken".to_owned()),
            Ok(Err(reason)) => Err(reason),
            Err(err) => Err(format!("the sampler failed: {err}")),
        };
        (relayed, backlog)
    }

    /// Events between the start and end checkpoints. Counted as "events after the start" minus
    /// "events after the end", in that order: an event stored between the two counts can only
    /// lower the figure, never inflate it.
    async fn relayed(&self) -> Figure<Relayed> {
        let end = self
            .checkpoints
            .load(RELAY)
            .await
            .map_err(|err| format!("cannot read the {RELAY} checkpoint: {err}"))?;
        let elapsed = self.started.elapsed();
        let count = |after| async move {
            self.feed
                .count_after(after)
                .await
                .map_err(|err| format!("cannot count the stored events: {err}"))
        };
        let after_start = count(self.start).await?;
        let after_end = count(end).await?;
        Ok(Relayed {
            events: Rate {
                count: u64::try_from(after_start - after_end).unwrap_or(0),
                elapsed,
            },
            backlog_at_end: u64::try_from(after_end).unwrap_or(0),
        })
    }
}

/// Samples the relay's backlog every [`SAMPLE_EVERY`] until told to stop.
async fn sample_backlog(
    feed: SqlEventFeed,
    checkpoints: SqlCheckpoints,
    mut stopped: watch::Receiver<bool>,
) -> Figure<Vec<u64>> {
    let mut tick = tokio::time::interval(SAMPLE_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut samples = Vec::new();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.changed() => return Ok(samples),
        }
        let checkpoint = checkpoints
            .load(RELAY)
            .await
            .map_err(|err| format!("cannot read the {RELAY} checkpoint: {err}"))?;
        let behind = feed
            .count_after(checkpoint)
            .await
            .map_err(|err| format!("cannot count the stored events: {err}"))?;
        samples.push(u64::try_from(behind).unwrap_or(0));
    }
}
