//! The ways a PMS misbehaves, decided per request before it is routed.
//!
//! Every request is counted first, so `calls()` includes faulted ones. Then, in order: a reset
//! (immediate, like a host that is down), a hang (the request is never answered), latency plus a
//! spike, and an injected failure status. `commit_then_hang_next` is the exception: it is taken
//! only by a `POST /api/bookings` that succeeded, after the booking is committed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::super::lock;

/// What to do with a request before it reaches the webservice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    Proceed,
    /// Close the connection without a byte of answer.
    Reset,
    /// Wait, then close the connection without an answer: nothing is done.
    Hang(Duration),
    /// Answer this status with an error envelope; nothing is done.
    Fail(u16),
}

#[derive(Debug, Default)]
struct Settings {
    latency: Duration,
    /// (share of requests, extra wait)
    spikes: (f64, Duration),
    fail_next: (u32, u16),
    failing: Option<u16>,
    hang_next: (u32, Duration),
    commit_then_hang_next: (u32, Duration),
    reset_next: u32,
    resetting: bool,
    webservice_disabled: bool,
}

#[derive(Debug, Default)]
pub(super) struct Faults {
    settings: Mutex<Settings>,
    /// Requests seen, for the deterministic choice of spiked ones.
    seen: AtomicU64,
}

impl Faults {
    /// Counts the request, waits what it must and says what happens to it.
    pub(super) async fn before(&self) -> Verdict {
        let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
        let (verdict, wait) = {
            let mut s = lock(&self.settings);
            if s.resetting || s.reset_next > 0 {
                s.reset_next = s.reset_next.saturating_sub(1);
                return Verdict::Reset;
            }
            if s.hang_next.0 > 0 {
                s.hang_next.0 -= 1;
                return Verdict::Hang(s.hang_next.1);
            }
            let mut wait = s.latency;
            if spiked(n, s.spikes.0) {
                wait += s.spikes.1;
            }
            let verdict = if let Some(status) = s.failing {
                Verdict::Fail(status)
            } else if s.fail_next.0 > 0 {
                s.fail_next.0 -= 1;
                Verdict::Fail(s.fail_next.1)
            } else {
                Verdict::Proceed
            };
            (verdict, wait)
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        verdict
    }

    /// Takes one `commit_then_hang_next`, if any is left: how long to wait before answering.
    pub(super) fn take_commit_hang(&self) -> Option<Duration> {
        let mut s = lock(&self.settings);
        (s.commit_then_hang_next.0 > 0).then(|| {
            s.commit_then_hang_next.0 -= 1;
            s.commit_then_hang_next.1
        })
    }

    pub(super) fn webservice_enabled(&self) -> bool {
        !lock(&self.settings).webservice_disabled
    }

    pub(super) fn set_latency(&self, latency: Duration) {
        lock(&self.settings).latency = latency;
    }

    pub(super) fn set_spikes(&self, share: f64, extra: Duration) {
        lock(&self.settings).spikes = (share.clamp(0.0, 1.0), extra);
    }

    pub(super) fn fail_next(&self, count: u32, status: u16) {
        lock(&self.settings).fail_next = (count, status);
    }

    pub(super) fn set_failing(&self, status: Option<u16>) {
        lock(&self.settings).failing = status;
    }

    pub(super) fn hang_next(&self, count: u32, wait: Duration) {
        lock(&self.settings).hang_next = (count, wait);
    }

    pub(super) fn commit_then_hang_next(&self, count: u32, wait: Duration) {
        lock(&self.settings).commit_then_hang_next = (count, wait);
    }

    pub(super) fn reset_next(&self, count: u32) {
        lock(&self.settings).reset_next = count;
    }

    pub(super) fn set_resetting(&self, on: bool) {
        lock(&self.settings).resetting = on;
    }

    pub(super) fn set_webservice_enabled(&self, on: bool) {
        lock(&self.settings).webservice_disabled = !on;
    }

    pub(super) fn clear(&self) {
        *lock(&self.settings) = Settings::default();
    }
}

/// Whether the `n`-th request (from 1) is one of the `share` that spike: exactly
/// `floor(n × share)` of the first `n` requests do, evenly spread (share 0.25 → every 4th).
fn spiked(n: u64, share: f64) -> bool {
    if share <= 0.0 {
        return false;
    }
    let upto = |k: u64| (k as f64 * share).floor() as u64;
    upto(n) > upto(n - 1)
}

#[cfg(test)]
mod tests {
    use super::spiked;

    #[test]
    fn spikes_are_an_exact_even_share() {
        let hits: Vec<u64> = (1..=12).filter(|n| spiked(*n, 0.25)).collect();
        assert_eq!(hits, vec![4, 8, 12]);
        assert_eq!((1..=1000).filter(|n| spiked(*n, 0.1)).count(), 100);
        assert!(!(1..=10).any(|n| spiked(n, 0.0)));
    }
}
