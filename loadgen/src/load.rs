//! The load itself: `POST /api/v1/messages` open loop at the offered rate.
//!
//! Each send has a slot on the clock, whatever the previous answers did, so a slow service shows
//! up as latency, errors and sends behind schedule instead of quietly lowering the load (the
//! "coordinated omission" of closed-loop generators). Every acknowledged message is remembered
//! by its provider message id with the wall-clock instant of its 202, which is what the replies
//! are later timed from.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::{Client, StatusCode};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::{sleep_until, timeout, Instant, MissedTickBehavior};

use crate::baselines::Rate;
use crate::options::LoadgenArgs;
use crate::workload::{message_body, message_id};
use crate::{endpoint, REQUEST_TIMEOUT};

/// How long requests still in flight when the duration ends may take to answer.
const DRAIN: Duration = Duration::from_secs(5);

/// A send that starts later than this after its slot is behind schedule. Tokio's timer ticks
/// every millisecond, so a few milliseconds of lateness is the timer, not the service.
pub const LATE_AFTER: Duration = Duration::from_millis(5);

/// How often the progress bar is redrawn.
const DRAW_EVERY: Duration = Duration::from_millis(100);

/// What the sends report, shared by all of them.
#[derive(Default)]
struct Tally {
    /// Acknowledged so far, read by the progress bar without taking the lock.
    acked: AtomicU64,
    outcomes: Mutex<Outcomes>,
}

#[derive(Default)]
struct Outcomes {
    latencies_us: Vec<u64>,
    /// Provider message id → when its 202 arrived, by the wall clock.
    acked_at: HashMap<String, DateTime<Utc>>,
    errors: BTreeMap<String, u64>,
    last_ack: Option<Instant>,
}

impl Tally {
    fn outcomes(&self) -> std::sync::MutexGuard<'_, Outcomes> {
        self.outcomes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn ack(&self, message_id: String, latency: Duration) {
        let mut outcomes = self.outcomes();
        outcomes
            .latencies_us
            .push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
        outcomes.acked_at.insert(message_id, Utc::now());
        outcomes.last_ack = Some(Instant::now());
        self.acked.fetch_add(1, Ordering::Relaxed);
    }

    fn error(&self, label: String, count: u64) {
        *self.outcomes().errors.entry(label).or_default() += count;
    }
}

/// What the load itself measured.
#[derive(Debug)]
pub struct Load {
    pub planned: u64,
    pub attempted: u64,
    pub behind: u64,
    pub acked: u64,
    pub errors: BTreeMap<String, u64>,
    /// Ack latencies in microseconds, ascending.
    pub latencies_us: Vec<u64>,
    /// Acknowledged messages per second, from the start to the last acknowledgement.
    pub acked_per_s: f64,
    /// When the first send was due, by the wall clock: the start of every rate.
    pub started_at: DateTime<Utc>,
    /// Provider message id → when its 202 arrived.
    pub acked_at: HashMap<String, DateTime<Utc>>,
}

/// How many messages the run offers: `rate` per second for `duration` seconds.
pub fn planned_sends(rate: u32, duration: u64) -> u64 {
    u64::from(rate).saturating_mul(duration)
}

/// When send `index` is due, from the start of the run: evenly spaced at `rate` per second,
/// computed from the index rather than accumulated, so rounding never drifts.
fn due_offset(index: u64, rate: u32) -> Duration {
    let nanos = u128::from(index) * 1_000_000_000 / u128::from(rate.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// Drives the load: schedules every send on its slot, bounded by `--concurrency` in flight, for
/// `--duration`, then waits at most [`DRAIN`] for the requests still in flight.
pub async fn drive(client: &Client, args: &LoadgenArgs) -> anyhow::Result<Load> {
    let url = endpoint(&args.target, "api/v1/messages")?;
    let planned = planned_sends(args.rate, args.duration);
    let total = Duration::from_secs(args.duration);
    let slots = Arc::new(Semaphore::new(args.concurrency as usize));
    let tally = Arc::new(Tally::default());
    let bar = progress_bar(args.duration)?;
    let (stop, stopped) = watch::channel(false);

    let start = Instant::now();
    let started_at = Utc::now();
    let end = start + total;
    let ticker = tokio::spawn(show_progress(
        bar.clone(),
        tally.clone(),
        start,
        total,
        stopped,
    ));
    let mut sends = JoinSet::new();
    let (mut attempted, mut behind) = (0u64, 0u64);
    for index in 0..planned {
        let due = start + due_offset(index, args.rate);
        sleep_until(due).await;
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = sleep_until(end) => break,
        };
        let Ok(slot) = slot else { break };
        let sent_at = Instant::now();
        if sent_at >= end {
            break;
        }
        if sent_at.duration_since(due) > LATE_AFTER {
            behind += 1;
        }
        attempted += 1;
        let id = message_id();
        let body = message_body(&args.tenant, index, args.conversations, &id);
        let request = client.post(url.clone()).json(&body);
        let tally = tally.clone();
        sends.spawn(async move {
            match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    // The answer counts once its body is in, as a client would see it.
                    let body = response.bytes().await;
                    match body {
                        Ok(_) if status == StatusCode::ACCEPTED => tally.ack(id, sent_at.elapsed()),
                        Ok(_) => tally.error(format!("HTTP {status}"), 1),
                        Err(err) => tally.error(transport_error(&err), 1),
                    }
                }
                Err(err) => tally.error(transport_error(&err), 1),
            }
            drop(slot);
        });
        while sends.try_join_next().is_some() {}
    }
    let drain = async { while sends.join_next().await.is_some() {} };
    if timeout(DRAIN, drain).await.is_err() {
        tally.error(
            format!("still in flight after the {DRAIN:?} drain"),
            sends.len() as u64,
        );
        sends.shutdown().await;
    }
    stop.send_replace(true);
    ticker.await.ok();
    bar.finish_and_clear();

    let mut outcomes = std::mem::take(&mut *tally.outcomes());
    outcomes.latencies_us.sort_unstable();
    let acked = outcomes.latencies_us.len() as u64;
    let acked_per_s = match outcomes.last_ack {
        Some(last) => Rate {
            count: acked,
            elapsed: last.duration_since(start),
        }
        .per_second(),
        None => 0.0,
    };
    Ok(Load {
        planned,
        attempted,
        behind,
        acked,
        errors: outcomes.errors,
        latencies_us: outcomes.latencies_us,
        acked_per_s,
        started_at,
        acked_at: outcomes.acked_at,
    })
}

/// The error label of a request that got no HTTP answer.
fn transport_error(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        format!("no answer within {REQUEST_TIMEOUT:?}")
    } else if err.is_connect() {
        "connection failed".to_owned()
    } else {
        format!("transport error: {err}")
    }
}

/// The progress bar on stderr: indicatif draws nothing when stderr is not a terminal, so piped
/// runs get only the report.
fn progress_bar(duration: u64) -> anyhow::Result<ProgressBar> {
    let bar = ProgressBar::new(duration);
    bar.set_style(ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} s  {msg}",
    )?);
    Ok(bar)
}

/// Updates the bar every [`DRAW_EVERY`] with the acknowledged count and the rate over the last
/// second, until told to stop.
async fn show_progress(
    bar: ProgressBar,
    tally: Arc<Tally>,
    start: Instant,
    total: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(DRAW_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let window = (Duration::from_secs(1).as_millis() / DRAW_EVERY.as_millis()) as usize + 1;
    let mut recent: VecDeque<(Instant, u64)> = VecDeque::with_capacity(window + 1);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.changed() => return,
        }
        let now = Instant::now();
        let acked = tally.acked.load(Ordering::Relaxed);
        recent.push_back((now, acked));
        if recent.len() > window {
            recent.pop_front();
        }
        let rate = match (recent.front(), recent.back()) {
            (Some(&(then, before)), Some(&(now, after))) if now > then => {
                (after - before) as f64 / now.duration_since(then).as_secs_f64()
            }
            _ => 0.0,
        };
        let elapsed = now.duration_since(start);
        bar.set_position(elapsed.min(total).as_secs());
        let phase = if elapsed >= total { " · draining" } else { "" };
        bar.set_message(format!("acked {acked} · {rate:.0} msg/s{phase}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_are_evenly_spaced_without_drift() {
        assert_eq!(due_offset(0, 1000), Duration::ZERO);
        assert_eq!(due_offset(1, 1000), Duration::from_millis(1));
        assert_eq!(due_offset(1, 3), Duration::from_nanos(333_333_333));
        // The last slot of a second lands exactly on it, however the spacing rounds.
        assert_eq!(due_offset(3, 3), Duration::from_secs(1));
        assert_eq!(due_offset(7_000 * 60, 7_000), Duration::from_secs(60));
        assert_eq!(planned_sends(1000, 10), 10_000);
    }

    #[test]
    fn an_ack_is_remembered_by_its_message_id() {
        let tally = Tally::default();
        tally.ack("m-1".into(), Duration::from_millis(2));
        tally.error("HTTP 429".into(), 1);
        let outcomes = tally.outcomes();
        assert!(outcomes.acked_at.contains_key("m-1"));
        assert_eq!(outcomes.latencies_us, [2_000]);
        assert_eq!(tally.acked.load(Ordering::Relaxed), 1);
    }
}
