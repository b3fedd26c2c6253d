//! The consumers a process runs, by role, and the loops around them: each subscription polls
//! its feed, the leased rounds (PMS retries, proactive timers) run in one process at a time, and
//! the embedded key-value store is purged of expired rows. Everything stops on the runtime's
//! shutdown signal.

use std::sync::Arc;
use std::time::Duration;

use conserje_commands::dead_letter_index::INDEX_GROUP;
use conserje_commands::inbound::WORKER_GROUP;
use conserje_commands::outbound::SENDER_GROUP;
use conserje_commands::voice_notes::RETRY_GROUP;
use conserje_infra::sqlite_kv::SqliteKeyValue;
use conserje_projections::{LeaseHolder, Subscription};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{Runtime, PMS_RETRIES, PROACTIVE_TIMERS};
use crate::role::Role;

/// How often a process without a rounds lease asks for it.
const LEASE_RETRY: Duration = Duration::from_secs(1);

/// How often subscriptions look for events written by other processes.
const POLL: Duration = Duration::from_millis(500);

/// How often the relay looks for new events: every command of the conversation worker is one,
/// and the session view waits for it.
const RELAY_POLL: Duration = Duration::from_millis(50);

/// How often expired rows leave the embedded key-value store.
const PURGE_EVERY: Duration = Duration::from_secs(60);

impl Runtime {
    /// Starts every consumer in the background (the `all` role); they stop on
    /// [`Runtime::shutdown`].
    pub fn start_background(&self) -> Vec<JoinHandle<()>> {
        self.start_role(Role::All)
    }

    /// Starts the consumers `role` runs in the background; they stop on [`Runtime::shutdown`].
    /// The store-fed ones run only while this process holds their lease.
    pub fn start_role(&self, role: Role) -> Vec<JoinHandle<()>> {
        let mut tasks = Vec::new();
        if role.runs_worker() {
            tasks.extend(self.start_worker());
        }
        if role.runs_projections() {
            tasks.extend(self.start_projections());
        }
        tasks
    }

    /// The conversation worker, the channel sender, voice-note retries and the PMS sync.
    fn start_worker(&self) -> Vec<JoinHandle<()>> {
        for group in [WORKER_GROUP, SENDER_GROUP, RETRY_GROUP] {
            self.readiness.expect(group);
        }
        vec![
            self.run_subscription(&self.booking_subscription, POLL),
            tokio::spawn(self.worker.clone().run(self.shutdown.subscribe())),
            tokio::spawn(self.dispatcher.clone().run(self.shutdown.subscribe())),
            tokio::spawn(
                self.transcription_retry
                    .clone()
                    .run(self.shutdown.subscribe()),
            ),
            tokio::spawn(self.pms.clone().keep_caches_warm(self.shutdown.subscribe())),
            self.run_subscription(&self.proactive_subscription, POLL),
            tokio::spawn(rounds(
                LeaseHolder::new(PMS_RETRIES, self.leases.clone()),
                self.pms_retry_poll,
                self.shutdown.subscribe(),
                {
                    let process = self.process.clone();
                    move || {
                        let process = process.clone();
                        async move { process.retry_due().await }
                    }
                },
            )),
            tokio::spawn(rounds(
                LeaseHolder::new(PROACTIVE_TIMERS, self.leases.clone()),
                self.proactive_poll,
                self.shutdown.subscribe(),
                {
                    let proactive = self.proactive.clone();
                    move || {
                        let proactive = proactive.clone();
                        async move { proactive.send_due().await }
                    }
                },
            )),
        ]
    }

    /// The SQL read models, the audit trail, the relay and the projections of the events topic.
    fn start_projections(&self) -> Vec<JoinHandle<()>> {
        for projection in &self.log_projections {
            self.readiness.expect(projection.group());
        }
        self.readiness.expect(INDEX_GROUP);
        let mut tasks: Vec<JoinHandle<()>> = [
            (&self.reservations_projection, POLL),
            (&self.inbox_projection, POLL),
            (&self.api_keys_projection, POLL),
            (&self.audit_projection, POLL),
            (&self.relay, RELAY_POLL),
        ]
        .into_iter()
        .map(|(subscription, poll)| self.run_subscription(subscription, poll))
        .collect();
        for projection in &self.log_projections {
            tasks.push(tokio::spawn(
                projection.clone().run(self.shutdown.subscribe()),
            ));
        }
        tasks.push(tokio::spawn(
            self.dead_letter_indexer
                .clone()
                .run(self.shutdown.subscribe()),
        ));
        if let Some(kv) = self.embedded_kv.clone() {
            tasks.push(tokio::spawn(purge_expired(kv, self.shutdown.subscribe())));
        }
        tasks
    }

    fn run_subscription(&self, subscription: &Arc<Subscription>, poll: Duration) -> JoinHandle<()> {
        tokio::spawn(
            subscription
                .clone()
                .run(self.wake.clone(), poll, self.shutdown.subscribe()),
        )
    }
}

/// Runs `round` every `every` in the one process that holds `lease`, until `shutdown`: the PMS
/// sync's retries and the proactive messages' timers, each due work done once among processes.
/// The lease is asked for at least every [`LEASE_RETRY`], so a standby takes over within that
/// of the holder's end even when its rounds are far apart.
async fn rounds<F, Fut>(
    mut lease: LeaseHolder,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
    round: F,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut last_round: Option<tokio::time::Instant> = None;
    loop {
        let due = last_round.is_none_or(|at| at.elapsed() >= every);
        if due && lease.holds().await {
            round().await;
            last_round = Some(tokio::time::Instant::now());
        } else if !due {
            // Keep the lease fresh between rounds (and take it over when free).
            lease.holds().await;
        }
        tokio::select! {
            _ = tokio::time::sleep(every.min(LEASE_RETRY)) => {}
            _ = shutdown.changed() => {
                if *shutdown.borrow() {
                    return;
                }
            }
        }
    }
}

/// Deletes expired rows of the embedded key-value store, so it stays bounded like Redis does.
async fn purge_expired(kv: SqliteKeyValue, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(PURGE_EVERY) => {
                if let Err(err) = kv.purge_expired().await {
                    tracing::warn!(error = %err, "purging expired read-model keys failed");
                }
            }
            _ = shutdown.changed() => {
                if *shutdown.borrow() {
                    return;
                }
            }
        }
    }
}
