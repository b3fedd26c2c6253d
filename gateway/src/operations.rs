//! Operator tools: where each projection stands, and rebuilding one by replay.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use conserje_commands::dead_letter_index::INDEX_GROUP;
use conserje_commands::inbound::WORKER_GROUP;
use conserje_commands::outbound::SENDER_GROUP;
use conserje_commands::voice_notes::RETRY_GROUP;
use conserje_domain::journal::{Checkpoint, CheckpointStore, JournalError};
use conserje_infra::analytics::{SqlMessageFacts, SqlTurnFacts};
use conserje_infra::inbox_rows::SqlInboxRows;
use conserje_infra::reservation_rows::SqlReservationRows;
use conserje_infra::shadow::ShadowTable;
use conserje_projections::conversation_stats::{self, ConversationStats};
use conserje_projections::inbox::{self, InboxProjection};
use conserje_projections::message_stats::{self, MessageStats};
use conserje_projections::relay::RELAY;
use conserje_projections::replay::feed_all;
use conserje_projections::reservations::{self, ReservationsProjection};
use conserje_projections::{guest_reservations, sessions, EventHandler};
use indicatif::{ProgressBar, ProgressStyle};

use crate::runtime::BOOKING_PROCESS;
use crate::Runtime;

/// The projections `conserje replay` can rebuild.
pub const REPLAYABLE: [&str; 7] = [
    reservations::PROJECTION,
    inbox::PROJECTION,
    reservations::MIRROR,
    message_stats::PROJECTION,
    conversation_stats::PROJECTION,
    sessions::PROJECTION,
    guest_reservations::PROJECTION,
];

/// Where one consumer of the events stands.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProjectionStatus {
    pub name: String,
    /// `store` (reads the event store's global order) or `log` (a consumer group of one of the
    /// topics: events, inbound, outbound or dead letters).
    pub source: &'static str,
    /// The stored checkpoint (store) or the committed offsets (log), readably.
    pub checkpoint: String,
    /// Events (store) or records (log) not yet handled.
    pub lag: i64,
}

/// The consumers of the event store `conserje projections` reports.
pub const STORE_CONSUMERS: [&str; 4] = [
    reservations::PROJECTION,
    inbox::PROJECTION,
    BOOKING_PROCESS,
    RELAY,
];

/// Every consumer group of the log, with the topic it reads: the projections of the events
/// topic, the conversation worker, the channel sender, the voice-note retry and the dead-letter
/// index. `conserje projections` and `/metrics` both read their lag from this list, so a group
/// added to the runtime but not here is missing from both (and a test of either notices).
pub fn log_groups(rt: &Runtime) -> Vec<(&str, &str)> {
    rt.log_projections
        .iter()
        .map(|p| (p.group(), rt.topics.events.as_str()))
        .chain([
            (WORKER_GROUP, rt.topics.inbound.as_str()),
            (SENDER_GROUP, rt.topics.outbound.as_str()),
            (RETRY_GROUP, rt.topics.dlq.as_str()),
            (INDEX_GROUP, rt.topics.dlq.as_str()),
        ])
        .collect()
}

/// Where the store-fed consumer `name` stands: its checkpoint, and how many stored events sort
/// after it (its lag).
pub async fn store_lag(rt: &Runtime, name: &str) -> Result<(Checkpoint, i64), JournalError> {
    let checkpoint = rt.checkpoints.load(name).await?;
    Ok((checkpoint, rt.store_feed.count_after(checkpoint).await?))
}

/// Every consumer of the event store and of the events topic, with checkpoint and lag.
pub async fn projections(rt: &Runtime) -> anyhow::Result<Vec<ProjectionStatus>> {
    let mut out = Vec::new();
    for name in STORE_CONSUMERS {
        let (checkpoint, lag) = store_lag(rt, name).await?;
        out.push(ProjectionStatus {
            name: name.to_owned(),
            source: "store",
            checkpoint: format!(
                "position {} (transaction {})",
                checkpoint.position, checkpoint.transaction_id
            ),
            lag,
        });
    }
    for (group, topic) in log_groups(rt) {
        let partitions = rt
            .log
            .lag(group, topic)
            .await
            .with_context(|| format!("cannot read the offsets of {group}"))?;
        out.push(ProjectionStatus {
            name: group.to_owned(),
            source: "log",
            checkpoint: partitions
                .iter()
                .map(|p| format!("p{}@{}", p.partition, p.committed))
                .collect::<Vec<_>>()
                .join(" "),
            lag: partitions.iter().map(|p| p.lag()).sum(),
        });
    }
    Ok(out)
}

/// What a replay did.
#[derive(Debug, Clone)]
pub struct ReplayReport {
    pub projection: String,
    pub events: u64,
    /// Events applied after the swap, written meanwhile (by a running server, say).
    pub final_pass: u64,
    pub elapsed: Duration,
}

impl ReplayReport {
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn progress_bar(visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} replay [{bar:40}] {pos}/{len} events {per_sec} eta {eta}",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    bar
}

/// Rebuilds `projection` from position 0 into a shadow (table or key generation), swaps it in
/// atomically, then applies what was written meanwhile. A progress bar is drawn when `progress`.
pub async fn replay(
    rt: &Runtime,
    projection: &str,
    progress: bool,
) -> anyhow::Result<ReplayReport> {
    replay_with(rt, projection, &progress_bar(progress)).await
}

/// [`replay`], reporting its progress on `bar` (hidden or drawn; its length is set to the
/// events to replay, its position to those replayed).
pub async fn replay_with(
    rt: &Runtime,
    projection: &str,
    bar: &ProgressBar,
) -> anyhow::Result<ReplayReport> {
    let total = rt.store_feed.count_after(Checkpoint::default()).await?;
    bar.set_length(u64::try_from(total).unwrap_or(0));
    let mut tick = |n: u64| bar.set_position(n);
    let started = Instant::now();
    let feed = rt.feed.as_ref();
    let from = Checkpoint::default();

    let (events, reached, live): (u64, Checkpoint, Arc<dyn EventHandler>) = match projection {
        reservations::PROJECTION => {
            let shadow = ShadowTable::create(&rt.db, SqlReservationRows::TABLE).await?;
            let writer = ReservationsProjection::new(Arc::new(SqlReservationRows::into_table(
                rt.db.clone(),
                shadow.name(),
            )));
            let (events, reached) = feed_all(feed, from, &writer, &mut tick).await?;
            shadow.swap_in().await?;
            let live = ReservationsProjection::new(rt.reservation_rows.clone());
            (events, reached, Arc::new(live))
        }
        inbox::PROJECTION => {
            let shadow = ShadowTable::create(&rt.db, SqlInboxRows::TABLE).await?;
            let writer = InboxProjection::new(Arc::new(SqlInboxRows::into_table(
                rt.db.clone(),
                shadow.name(),
            )));
            let (events, reached) = feed_all(feed, from, &writer, &mut tick).await?;
            shadow.swap_in().await?;
            (
                events,
                reached,
                Arc::new(InboxProjection::new(rt.inbox.clone())),
            )
        }
        message_stats::PROJECTION => {
            let shadow = ShadowTable::create(&rt.db, SqlMessageFacts::TABLE).await?;
            let writer = MessageStats::new(Arc::new(SqlMessageFacts::into_table(
                rt.db.clone(),
                shadow.name(),
            )));
            let (events, reached) = feed_all(feed, from, &writer, &mut tick).await?;
            shadow.swap_in().await?;
            let live = MessageStats::new(Arc::new(SqlMessageFacts::new(rt.db.clone())));
            (events, reached, Arc::new(live))
        }
        conversation_stats::PROJECTION => {
            let shadow = ShadowTable::create(&rt.db, SqlTurnFacts::TABLE).await?;
            let writer = ConversationStats::new(Arc::new(SqlTurnFacts::into_table(
                rt.db.clone(),
                shadow.name(),
            )));
            let (events, reached) = feed_all(feed, from, &writer, &mut tick).await?;
            shadow.swap_in().await?;
            let live = ConversationStats::new(Arc::new(SqlTurnFacts::new(rt.db.clone())));
            (events, reached, Arc::new(live))
        }
        sessions::PROJECTION => {
            let space = rt.session_views.keys().next_generation();
            let writer = rt.session_views.in_space(space.clone());
            let (events, reached) = feed_all(feed, from, &writer, &mut tick).await?;
            space.activate().await?;
            (events, reached, rt.session_views.clone())
        }
        reservations::MIRROR => {
            let space = rt.reservation_views.keys().next_generation();
            let writer = rt.reservation_views.in_space(space.clone());
            let (events, reached) = feed_all(feed, from, &writer, &mut tick).await?;
            space.activate().await?;
            (events, reached, rt.reservation_views.clone())
        }
        guest_reservations::PROJECTION => {
            let space = rt.guest_reservations.keys().next_generation();
            let writer = rt.guest_reservations.in_space(space.clone());
            let (events, reached) = feed_all(feed, from, &writer, &mut tick).await?;
            space.activate().await?;
            (events, reached, rt.guest_reservations.clone())
        }
        other => bail!(
            "no projection called {other:?}; replayable projections: {}",
            REPLAYABLE.join(", ")
        ),
    };
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    let (final_pass, _) = feed_all(feed, reached, live.as_ref(), &mut |_| {}).await?;
    Ok(ReplayReport {
        projection: projection.to_owned(),
        events,
        final_pass,
        elapsed,
    })
}

/// A replay started from the console, running in this process.
#[derive(Debug, Clone)]
pub struct ReplayJob {
    pub projection: String,
    pub started_by: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Its progress: position of length.
    pub bar: ProgressBar,
    /// `None` while it runs; then what it did, or why it failed.
    pub outcome: Option<Result<String, String>>,
}

/// The console's replays in this process (the newest last; the oldest finished ones are
/// forgotten beyond [`ReplayJobs::KEPT`]).
#[derive(Debug, Default)]
pub struct ReplayJobs {
    jobs: std::sync::Mutex<Vec<ReplayJob>>,
}

impl ReplayJobs {
    /// How many replays the console lists.
    pub const KEPT: usize = 20;

    /// Starts replaying `projection` in the background, unless one of it already runs here.
    pub fn start(
        &self,
        rt: Arc<Runtime>,
        projection: &str,
        started_by: String,
    ) -> anyhow::Result<()> {
        if !REPLAYABLE.contains(&projection) {
            bail!(
                "no projection called {projection:?}; replayable projections: {}",
                REPLAYABLE.join(", ")
            );
        }
        let bar = ProgressBar::hidden();
        {
            let mut jobs = self.jobs.lock().expect("replay jobs");
            if jobs
                .iter()
                .any(|j| j.projection == projection && j.outcome.is_none())
            {
                bail!("{projection} is already being replayed");
            }
            jobs.push(ReplayJob {
                projection: projection.to_owned(),
                started_by,
                started_at: rt.clock.now(),
                bar: bar.clone(),
                outcome: None,
            });
            let excess = jobs.len().saturating_sub(Self::KEPT);
            jobs.drain(..excess);
        }
        let projection = projection.to_owned();
        tokio::spawn(async move {
            let outcome = match replay_with(&rt, &projection, &bar).await {
                Ok(report) => Ok(format!(
                    "{} events in {:.1} s ({:.0} events/s), {} more after the swap",
                    report.events,
                    report.elapsed.as_secs_f64(),
                    report.events_per_second(),
                    report.final_pass
                )),
                Err(err) => Err(format!("{err:#}")),
            };
            let mut jobs = rt.replays.jobs.lock().expect("replay jobs");
            if let Some(job) = jobs
                .iter_mut()
                .rev()
                .find(|j| j.projection == projection && j.outcome.is_none())
            {
                job.outcome = Some(outcome);
            }
        });
        Ok(())
    }

    /// The replays, newest first.
    pub fn list(&self) -> Vec<ReplayJob> {
        let mut jobs = self.jobs.lock().expect("replay jobs").clone();
        jobs.reverse();
        jobs
    }
}
