//! The adaptive circuit breaker of one PMS (design.md §4), as a state machine over injected
//! instants, so every transition is tested without waiting.
//!
//! The old system's worst incident was a breaker that counted slow calls as failures and
//! flapped open and shut on every latency spike. This one opens only on what says the PMS is
//! *failing*: an error rate above 20 % over a 60 s window (once the window holds a minimum number
//! of calls), a p95 latency above 5 s over the same window (most calls very slow, not a spike),
//! or 10 failures in a row. A slow call that succeeds is a success. Open, it refuses calls for
//! 60 s; then it lets 3 probes through and closes only if all 3 succeed, otherwise it opens for
//! another 60 s. Calls started before a transition do not vote after it: only probes decide a
//! half-open breaker, so a late failure from before cannot re-open a breaker that just closed.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The breaker's thresholds; the defaults are design.md §4's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerSettings {
    /// The sliding window the error rate and the p95 latency are measured over.
    pub window: Duration,
    /// Fewer calls than this in the window decide nothing by rate or latency.
    pub min_calls: usize,
    /// Opens when failures / calls in the window exceed this.
    pub error_rate: f64,
    /// Opens when the window's 95th-percentile latency exceeds this.
    pub p95_latency: Duration,
    /// Opens after this many failures in a row, whatever the window says.
    pub consecutive_failures: u32,
    /// How long it stays open before probing.
    pub open_for: Duration,
    /// Probes let through when half-open; all must succeed to close.
    pub probes: u32,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(60),
            min_calls: 10,
            error_rate: 0.20,
            p95_latency: Duration::from_secs(5),
            consecutive_failures: 10,
            open_for: Duration::from_secs(60),
            probes: 3,
        }
    }
}

/// Where the breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

/// Why the breaker moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionReason {
    ErrorRate,
    SlowCalls,
    ConsecutiveFailures,
    /// The open period ended; probing.
    OpenPeriodOver,
    ProbeFailed,
    ProbesSucceeded,
}

impl TransitionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ErrorRate => "error_rate",
            Self::SlowCalls => "p95_latency",
            Self::ConsecutiveFailures => "consecutive_failures",
            Self::OpenPeriodOver => "open_period_over",
            Self::ProbeFailed => "probe_failed",
            Self::ProbesSucceeded => "probes_succeeded",
        }
    }
}

/// One move of the breaker, for the log and the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: BreakerState,
    pub to: BreakerState,
    pub reason: TransitionReason,
}

/// What the breaker says to a call about to be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead; the outcome counts in the window.
    Call,
    /// Go ahead as one of the half-open probes; the outcome decides whether it closes.
    Probe,
    /// Do not call; retry after this long.
    Refuse { retry_in: Duration },
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed,
    Open { until: Instant },
    HalfOpen { admitted: u32, succeeded: u32 },
}

#[derive(Debug, Clone, Copy)]
struct Outcome {
    at: Instant,
    ok: bool,
    latency: Duration,
}

/// The breaker of one PMS.
#[derive(Debug)]
pub struct Breaker {
    settings: BreakerSettings,
    state: State,
    window: VecDeque<Outcome>,
    consecutive_failures: u32,
}

impl Breaker {
    pub fn new(settings: BreakerSettings) -> Self {
        Self {
            settings,
            state: State::Closed,
            window: VecDeque::new(),
            consecutive_failures: 0,
        }
    }

    pub fn state(&self) -> BreakerState {
        match self.state {
            State::Closed => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Whether a call may go out now, and the transition that asking caused (open → half-open
    /// once the open period is over).
    pub fn admit(&mut self, now: Instant) -> (Admission, Option<Transition>) {
        let mut transition = None;
        if let State::Open { until } = self.state {
            if now < until {
                return (
                    Admission::Refuse {
                        retry_in: until - now,
                    },
                    None,
                );
            }
            self.state = State::HalfOpen {
                admitted: 0,
                succeeded: 0,
            };
            transition = Some(Transition {
                from: BreakerState::Open,
                to: BreakerState::HalfOpen,
                reason: TransitionReason::OpenPeriodOver,
            });
        }
        let admission = match &mut self.state {
            State::Closed => Admission::Call,
            State::HalfOpen { admitted, .. } if *admitted < self.settings.probes => {
                *admitted += 1;
                Admission::Probe
            }
            // Every probe is out: the others wait for the verdict.
            State::HalfOpen { .. } => Admission::Refuse {
                retry_in: Duration::from_secs(1),
            },
            State::Open { .. } => unreachable!("an open breaker returned above"),
        };
        (admission, transition)
    }

    /// Records how an admitted call ended. `ok` is false only for failures of the PMS (a 5xx,
    /// a timeout, no connection), never for refusals, which are the PMS working.
    pub fn record(
        &mut self,
        now: Instant,
        admission: Admission,
        ok: bool,
        latency: Duration,
    ) -> Option<Transition> {
        match (admission, &mut self.state) {
            (Admission::Probe, State::HalfOpen { succeeded, .. }) => {
                if !ok {
                    return Some(self.open(
                        now,
                        BreakerState::HalfOpen,
                        TransitionReason::ProbeFailed,
                    ));
                }
                *succeeded += 1;
                if *succeeded < self.settings.probes {
                    return None;
                }
                self.state = State::Closed;
                self.window.clear();
                self.consecutive_failures = 0;
                Some(Transition {
                    from: BreakerState::HalfOpen,
                    to: BreakerState::Closed,
                    reason: TransitionReason::ProbesSucceeded,
                })
            }
            (Admission::Call, State::Closed) => {
                self.window.push_back(Outcome {
                    at: now,
                    ok,
                    latency,
                });
                self.consecutive_failures = if ok { 0 } else { self.consecutive_failures + 1 };
                self.trip(now)
                    .map(|reason| self.open(now, BreakerState::Closed, reason))
            }
            // A call admitted before the last transition: it does not vote.
            _ => None,
        }
    }

    fn open(&mut self, now: Instant, from: BreakerState, reason: TransitionReason) -> Transition {
        self.state = State::Open {
            until: now + self.settings.open_for,
        };
        Transition {
            from,
            to: BreakerState::Open,
            reason,
        }
    }

    /// Why a closed breaker should open now, if it should.
    fn trip(&mut self, now: Instant) -> Option<TransitionReason> {
        while let Some(oldest) = self.window.front() {
            if now.duration_since(oldest.at) <= self.settings.window {
                break;
            }
            self.window.pop_front();
        }
        if self.consecutive_failures >= self.settings.consecutive_failures {
            return Some(TransitionReason::ConsecutiveFailures);
        }
        let calls = self.window.len();
        if calls < self.settings.min_calls {
            return None;
        }
        let failures = self.window.iter().filter(|o| !o.ok).count();
        if failures as f64 / calls as f64 > self.settings.error_rate {
            return Some(TransitionReason::ErrorRate);
        }
        let mut latencies: Vec<Duration> = self.window.iter().map(|o| o.latency).collect();
        latencies.sort_unstable();
        // The nearest-rank 95th percentile.
        let rank = (calls * 95).div_ceil(100).max(1) - 1;
        (latencies[rank] > self.settings.p95_latency).then_some(TransitionReason::SlowCalls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn call(b: &mut Breaker, now: Instant, ok: bool, latency: Duration) -> Option<Transition> {
        let (admission, _) = b.admit(now);
        assert_ne!(
            std::mem::discriminant(&admission),
            std::mem::discriminant(&Admission::Refuse { retry_in: MS })
        );
        b.record(now, admission, ok, latency)
    }

    #[test]
    fn slow_successful_calls_do_not_open_it_but_most_calls_very_slow_do() {
        let mut b = Breaker::new(BreakerSettings::default());
        let t0 = Instant::now();
        // Spikes of 3 s on 30 % of the calls: p95 is 3 s, under 5 s.
        for i in 0..200u32 {
            let latency = if i % 10 < 3 { 3000 * MS } else { 50 * MS };
            assert_eq!(call(&mut b, t0 + i * 100 * MS, true, latency), None);
        }
        assert_eq!(b.state(), BreakerState::Closed);
        // Then nearly every call takes 6 s: p95 over 5 s.
        let t1 = t0 + Duration::from_secs(120);
        let opened = (0..20u32)
            .find_map(|i| call(&mut b, t1 + i * 100 * MS, true, 6000 * MS))
            .expect("opens on latency");
        assert_eq!(opened.reason, TransitionReason::SlowCalls);
    }

    #[test]
    fn an_error_rate_above_a_fifth_opens_it_only_once_the_window_has_enough_calls() {
        let mut b = Breaker::new(BreakerSettings::default());
        let t0 = Instant::now();
        // 3 failures out of 5: a high rate but too few calls to judge.
        for (i, ok) in [false, true, false, true, false].into_iter().enumerate() {
            assert_eq!(call(&mut b, t0 + i as u32 * MS, ok, MS), None);
        }
        // Up to 10 calls, 3 failures of 10 = 30 % > 20 %.
        let mut transition = None;
        for i in 5..10u32 {
            transition = transition.or(call(&mut b, t0 + i * MS, true, MS));
        }
        assert_eq!(transition.unwrap().reason, TransitionReason::ErrorRate);
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[test]
    fn failures_older_than_the_window_are_forgotten() {
        let mut b = Breaker::new(BreakerSettings::default());
        let t0 = Instant::now();
        for i in 0..2u32 {
            call(&mut b, t0 + i * MS, false, MS);
        }
        // 61 s later, ten successes and one failure: 1 of 11 in the window.
        let t1 = t0 + Duration::from_secs(61);
        for i in 0..10u32 {
            assert_eq!(call(&mut b, t1 + i * MS, true, MS), None);
        }
        assert_eq!(call(&mut b, t1 + 20 * MS, false, MS), None);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn open_then_three_probes_close_it_and_one_failed_probe_reopens_it() {
        let settings = BreakerSettings::default();
        let mut b = Breaker::new(settings);
        let t0 = Instant::now();
        let opened = (0..10u32)
            .find_map(|i| call(&mut b, t0 + i * MS, false, MS))
            .unwrap();
        assert_eq!(opened.reason, TransitionReason::ConsecutiveFailures);
        // Refused while open, with the time left.
        let (refused, _) = b.admit(t0 + Duration::from_secs(30));
        assert!(
            matches!(refused, Admission::Refuse { retry_in } if retry_in > Duration::from_secs(29))
        );
        // After 60 s: three probes and no more.
        let t1 = t0 + Duration::from_secs(61);
        let (first, half_open) = b.admit(t1);
        assert_eq!(first, Admission::Probe);
        assert_eq!(half_open.unwrap().to, BreakerState::HalfOpen);
        let (second, _) = b.admit(t1);
        let (third, _) = b.admit(t1);
        assert!(matches!(b.admit(t1).0, Admission::Refuse { .. }));
        assert_eq!(b.record(t1, first, true, MS), None);
        assert_eq!(b.record(t1, second, true, MS), None);
        // A call from before the opening ends now: it does not vote.
        assert_eq!(b.record(t1, Admission::Call, false, MS), None);
        let closed = b.record(t1, third, true, MS).unwrap();
        assert_eq!(
            (closed.to, closed.reason),
            (BreakerState::Closed, TransitionReason::ProbesSucceeded)
        );
        // Open again, and a failed probe re-opens for another full period.
        let t2 = t1 + Duration::from_secs(1);
        (0..10u32)
            .find_map(|i| call(&mut b, t2 + i * MS, false, MS))
            .unwrap();
        let t3 = t2 + Duration::from_secs(61);
        let (probe, _) = b.admit(t3);
        let reopened = b.record(t3, probe, false, MS).unwrap();
        assert_eq!(
            (reopened.from, reopened.reason),
            (BreakerState::HalfOpen, TransitionReason::ProbeFailed)
        );
        assert!(matches!(
            b.admit(t3 + Duration::from_secs(59)).0,
            Admission::Refuse { .. }
        ));
    }
}
