//! The plain-text report: the load, the replies end to end, the baselines of the same run with
//! the ratios to them, and the goals. Printed to stdout, so it can be pasted or diffed; a figure
//! that could not be measured says why (`n/a (…)`) instead of printing a zero.

use std::fmt;

use crate::baselines::Rate;
use crate::load::{Load, LATE_AFTER};
use crate::memory::Memory;
use crate::options::LoadgenArgs;
use crate::relay_watch::{Relayed, SAMPLE_EVERY};
use crate::replies::Replies;
use crate::{endpoint, Figure};

/// The goals of the message path, from the issues that asked for this benchmark.
const GOAL_INGEST_PER_S: f64 = 5_000.0;
const GOAL_P99_ACK_MS: f64 = 10.0;
const GOAL_SHARE_OF_PRODUCE: f64 = 50.0;
const GOAL_ANSWERED_EMBEDDED_PER_S: f64 = 2_000.0;
const GOAL_ANSWERED_DISTRIBUTED_PER_S: f64 = 1_000.0;
const GOAL_RSS_MB: f64 = 200.0;
/// The RSS goal holds with this many conversations active.
const GOAL_RSS_CONVERSATIONS: u32 = 10_000;

/// Everything one run measured.
pub struct Report<'a> {
    pub args: &'a LoadgenArgs,
    pub load: Load,
    pub replies: Figure<Replies>,
    /// The target's RSS before, at peak and after.
    pub memory: Figure<Memory>,
    pub produce: Figure<Rate>,
    pub inserts: Figure<Rate>,
    pub relayed: Figure<Relayed>,
    /// Relay backlog samples, ascending.
    pub backlog: Figure<Vec<u64>>,
}

/// The nearest-rank `p`-th percentile (0 < p ≤ 100) of ascending `sorted` values.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// `part` as a percentage of `whole`; none when the baseline measured nothing.
fn share(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| part / whole * 100.0)
}

/// Milliseconds from microseconds, for latencies.
fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// A figure as printed: its value, or `n/a (reason)`.
fn shown<T>(figure: &Figure<T>, show: impl FnOnce(&T) -> String) -> String {
    match figure {
        Ok(value) => show(value),
        Err(reason) => format!("n/a ({reason})"),
    }
}

/// `[x]`, `[ ]` or `[?]` for a goal met, missed, or not measured.
fn mark<T>(figure: &Figure<T>, met: impl FnOnce(&T) -> bool) -> &'static str {
    match figure {
        Ok(value) if met(value) => "[x]",
        Ok(_) => "[ ]",
        Err(_) => "[?]",
    }
}

/// `p50 / p99 / max` of ascending microseconds, in milliseconds.
fn spread(sorted_us: &[u64]) -> String {
    let at = |p| percentile(sorted_us, p).map_or("-".to_owned(), |us| format!("{:.1}", ms(us)));
    format!("{} / {} / {} ms", at(50.0), at(99.0), at(100.0))
}

fn row(f: &mut fmt::Formatter<'_>, label: &str, value: String) -> fmt::Result {
    writeln!(f, "  {label:<34} {value}")
}

impl Report<'_> {
    /// `rate` per second as a percentage of a baseline's rate.
    fn ratio(&self, rate: Figure<f64>, baseline: &Figure<Rate>) -> Figure<f64> {
        let rate = rate?;
        let baseline = baseline.as_ref().map_err(Clone::clone)?;
        share(rate, baseline.per_second()).ok_or_else(|| "the baseline measured nothing".to_owned())
    }

    fn answered_per_s(&self) -> Figure<f64> {
        self.replies
            .as_ref()
            .map(|r| r.answered_per_s)
            .map_err(Clone::clone)
    }

    fn delivered_per_s(&self) -> Figure<f64> {
        self.replies
            .as_ref()
            .map(|r| r.delivered_per_s)
            .map_err(Clone::clone)
    }

    fn p99_ms(&self) -> Figure<f64> {
        percentile(&self.load.latencies_us, 99.0)
            .map(ms)
            .ok_or_else(|| "nothing was acknowledged".to_owned())
    }

    fn message_path(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let load = &self.load;
        writeln!(f, "\nMessage path")?;
        row(f, "planned", load.planned.to_string())?;
        row(f, "attempted", load.attempted.to_string())?;
        row(f, "acknowledged (202)", load.acked.to_string())?;
        row(f, "errors", load.errors.values().sum::<u64>().to_string())?;
        for (label, count) in &load.errors {
            row(f, &format!("  {label}"), count.to_string())?;
        }
        let late = LATE_AFTER.as_millis();
        let behind = format!("{} (started > {late} ms after their slot)", load.behind);
        row(f, "behind schedule", behind)?;
        let not_sent = load.planned - load.attempted;
        row(
            f,
            "not sent",
            format!("{not_sent} (slots left when the duration ran out)"),
        )?;
        row(f, "acked", format!("{:.1} msg/s", load.acked_per_s))?;
        row(f, "ack latency p50 / p99 / max", spread(&load.latencies_us))
    }

    fn end_to_end(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Ok(replies) = &self.replies else {
            writeln!(f, "\nEnd to end")?;
            return row(
                f,
                "answered, delivered",
                shown(&self.replies, |_| String::new()),
            );
        };
        let waited = replies.waited.as_secs_f64();
        writeln!(
            f,
            "\nEnd to end (the store's events; waited {waited:.1} s after the load)"
        )?;
        let acked = self.load.acked;
        row(
            f,
            "answered (reply recorded)",
            format!("{} of {acked} acknowledged", replies.answered),
        )?;
        row(
            f,
            "delivered (sent or outbox)",
            replies.delivered.to_string(),
        )?;
        row(f, "delivery failed", replies.failed.to_string())?;
        row(
            f,
            "answered",
            format!("{:.1} msg/s", replies.answered_per_s),
        )?;
        row(
            f,
            "delivered",
            format!("{:.1} msg/s", replies.delivered_per_s),
        )?;
        row(
            f,
            "202 → reply p50 / p99 / max",
            spread(&replies.answer_latencies_us),
        )?;
        row(
            f,
            "202 → delivered p50 / p99 / max",
            spread(&replies.delivery_latencies_us),
        )
    }

    fn baselines(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\nBaselines (same run, same servers)")?;
        let per_s =
            |unit: &'static str| move |rate: &Rate| format!("{:.1} {unit}", rate.per_second());
        let percent = |value: &f64| format!("{value:.1} %");
        let rates = [
            ("acked/s", Ok(self.load.acked_per_s)),
            ("answered/s", self.answered_per_s()),
            ("delivered/s", self.delivered_per_s()),
        ];
        row(f, "raw produce", shown(&self.produce, per_s("msg/s")))?;
        for (name, rate) in &rates {
            let ratio = self.ratio(rate.clone(), &self.produce);
            row(
                f,
                &format!("{name} ÷ raw produce/s"),
                shown(&ratio, percent),
            )?;
        }
        row(
            f,
            "raw INSERT commits",
            shown(&self.inserts, per_s("commits/s")),
        )?;
        for (name, rate) in &rates {
            let ratio = self.ratio(rate.clone(), &self.inserts);
            row(
                f,
                &format!("{name} ÷ raw INSERT commits/s"),
                shown(&ratio, percent),
            )?;
        }
        let relayed = |r: &Relayed| {
            let (events, secs) = (r.events.count, r.events.elapsed.as_secs_f64());
            format!(
                "{:.1} events/s ({events} events in {secs:.1} s)",
                r.events.per_second()
            )
        };
        row(f, "events relayed", shown(&self.relayed, relayed))?;
        let backlog = |samples: &Vec<u64>| {
            let p99 = percentile(samples, 99.0).unwrap_or_default();
            let every = SAMPLE_EVERY.as_millis();
            format!("{p99} events ({} samples every {every} ms)", samples.len())
        };
        row(f, "relay backlog p99", shown(&self.backlog, backlog))?;
        let at_end = |r: &Relayed| format!("{} events", r.backlog_at_end);
        row(f, "relay backlog at end", shown(&self.relayed, at_end))
    }

    fn memory(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\nMemory (the target's RSS)")?;
        let mb = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
        let shown_mb = |m: &Memory| {
            format!(
                "{:.1} / {:.1} / {:.1} MB",
                mb(m.before),
                mb(m.peak),
                mb(m.after)
            )
        };
        row(f, "before / peak / after", shown(&self.memory, shown_mb))?;
        let conversations = self.args.conversations;
        let per = |m: &Memory| {
            let grown = m.after.saturating_sub(m.before) as f64;
            format!(
                "{:.1} KB per conversation ({conversations} conversations)",
                grown / 1024.0 / f64::from(conversations)
            )
        };
        row(f, "growth", shown(&self.memory, per))
    }

    fn goals(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (args, load) = (self.args, &self.load);
        writeln!(f, "\nGoals")?;
        let ingest: Figure<f64> = Ok(load.acked_per_s);
        let offered = if f64::from(args.rate) < GOAL_INGEST_PER_S {
            format!(" (offered only {} msg/s)", args.rate)
        } else {
            String::new()
        };
        let goal = |f: &mut fmt::Formatter<'_>, met: &str, what: &str, value: String| {
            writeln!(f, "  {met} {what:<34} {value}")
        };
        let per_s = |v: &f64| format!("{v:.1} msg/s");
        let met = mark(&ingest, |&v| v >= GOAL_INGEST_PER_S);
        goal(
            f,
            met,
            "ingest ≥ 5,000 msg/s",
            format!("{:.1} msg/s{offered}", load.acked_per_s),
        )?;
        let p99 = self.p99_ms();
        let met = mark(&p99, |&v| v <= GOAL_P99_ACK_MS);
        goal(
            f,
            met,
            "p99 ack ≤ 10 ms",
            shown(&p99, |v| format!("{v:.3} ms")),
        )?;
        let produce_share = self.ratio(Ok(load.acked_per_s), &self.produce);
        let met = mark(&produce_share, |&v| v >= GOAL_SHARE_OF_PRODUCE);
        goal(
            f,
            met,
            "≥ 50 % of raw produce rate",
            shown(&produce_share, |v| format!("{v:.1} %")),
        )?;
        // The goals: one worker on the embedded default, two on the distributed profile.
        let (answered_goal, what) = match args.kafka_brokers {
            Some(_) => (
                GOAL_ANSWERED_DISTRIBUTED_PER_S,
                "answered ≥ 1,000 msg/s (distributed)",
            ),
            None => (
                GOAL_ANSWERED_EMBEDDED_PER_S,
                "answered ≥ 2,000 msg/s (embedded)",
            ),
        };
        let answered = self.answered_per_s();
        let met = mark(&answered, |&v| v >= answered_goal);
        goal(
            f,
            met,
            what,
            format!("{}{offered}", shown(&answered, per_s)),
        )?;
        let peak: Figure<f64> = self
            .memory
            .as_ref()
            .map(|m| m.peak as f64 / (1024.0 * 1024.0))
            .map_err(Clone::clone);
        let few = if args.conversations < GOAL_RSS_CONVERSATIONS {
            format!(" (only {} conversations)", args.conversations)
        } else {
            String::new()
        };
        let met = mark(&peak, |&v| v <= GOAL_RSS_MB);
        goal(
            f,
            met,
            "RSS ≤ 200 MB, 10,000 conversations",
            format!("{}{few}", shown(&peak, |v| format!("{v:.1} MB peak"))),
        )
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args = self.args;
        let url = endpoint(&args.target, "api/v1/messages").map_err(|_| fmt::Error)?;
        writeln!(f, "conserje loadgen: POST {url}")?;
        writeln!(
            f,
            "offered {} msg/s for {} s, at most {} in flight, {} conversations, tenant {}",
            args.rate, args.duration, args.concurrency, args.conversations, args.tenant
        )?;
        self.message_path(f)?;
        self.end_to_end(f)?;
        self.baselines(f)?;
        self.memory(f)?;
        self.goals(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50.0), Some(50));
        assert_eq!(percentile(&values, 99.0), Some(99));
        assert_eq!(percentile(&values, 100.0), Some(100));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[1, 2, 3], 1.0), Some(1));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn ratios_need_a_baseline() {
        assert_eq!(share(2_500.0, 10_000.0), Some(25.0));
        assert_eq!(share(2_500.0, 0.0), None);
    }

    #[test]
    fn a_spread_is_p50_p99_and_max_in_milliseconds() {
        let values: Vec<u64> = (1..=100).map(|ms| ms * 1000).collect();
        assert_eq!(spread(&values), "50.0 / 99.0 / 100.0 ms");
        assert_eq!(spread(&[]), "- / - / - ms");
    }
}
