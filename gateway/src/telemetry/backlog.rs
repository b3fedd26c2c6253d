//! What is waiting, read at each scrape: every consumer group's lag per partition, the event
//! relay's lag behind the store, and the dead letters that wait for an operator.
//!
//! Read from the log and the store, not counted in this process: any instance answers the same,
//! whichever role it runs and whichever partitions it owns. Rendered by a recorder made for the
//! scrape, as the [`business`](super::business) figures are, so a partition or group that is
//! gone is gone from the exposition too instead of repeating its last value.
//!
//! One read that fails — the coordinator rebalancing, the store busy — costs its own series,
//! never the scrape: they are omitted (a gap, not a false 0) and
//! `conserje_metrics_read_errors_total{source}` counts the failure on the process's recorder.
//! Each read is bounded by [`READ_TIMEOUT`] and they run together, so a broker that answers late
//! cannot push the scrape past Prometheus' scrape timeout (10 s by default).

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use conserje_domain::dead_letter::DeadLetterReason;
use conserje_domain::log::PartitionLag;
use conserje_projections::relay::RELAY;
use metrics::{Key, KeyName, Label, Level, Metadata, Recorder, SharedString};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};

use crate::operations;
use crate::Runtime;

const METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

pub const CONSUMER_LAG: &str = "conserje_consumer_lag";
pub const RELAY_LAG: &str = "conserje_relay_lag_events";
pub const RELAY_OLDEST: &str = "conserje_relay_oldest_unrelayed_seconds";
pub const DEAD_LETTERS: &str = "conserje_dead_letters";
/// A counter of the process's recorder (described in the telemetry catalogue).
pub const READ_ERRORS: &str = "conserje_metrics_read_errors_total";

/// How long one read may take before its series are left out of the scrape.
pub const READ_TIMEOUT: Duration = Duration::from_secs(3);

/// What a scrape reads besides the process's own recorder: the `source` of a read error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    ConsumerLag,
    RelayLag,
    DeadLetters,
    BusinessFigures,
}

impl Source {
    const ALL: [Source; 4] = [
        Self::ConsumerLag,
        Self::RelayLag,
        Self::DeadLetters,
        Self::BusinessFigures,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::ConsumerLag => "consumer_lag",
            Self::RelayLag => "relay_lag",
            Self::DeadLetters => "dead_letters",
            Self::BusinessFigures => "business_figures",
        }
    }
}

/// Counts a failed read of `source` (and logs it).
pub fn read_failed(source: Source, error: &str) {
    tracing::warn!(
        source = source.label(),
        error,
        "a /metrics read failed; its series are left out"
    );
    metrics::counter!(READ_ERRORS, "source" => source.label()).increment(1);
}

/// Registers every source's counter at its current value (0 at first), so the family is there
/// from the first scrape and `rate()` over it starts from a sample rather than from nothing.
fn register_sources() {
    for source in Source::ALL {
        metrics::counter!(READ_ERRORS, "source" => source.label()).increment(0);
    }
}

/// One consumer group's lag, or why it could not be read.
#[derive(Debug)]
pub struct GroupLag {
    pub group: String,
    pub topic: String,
    pub partitions: Result<Vec<PartitionLag>, String>,
}

/// The relay's lag behind the store.
#[derive(Debug, Clone, Copy)]
pub struct RelayLag {
    /// Stored events the relay has not published to the events topic.
    pub events: i64,
    /// When the oldest of them was stored (none when nothing waits).
    pub oldest_recorded_at: Option<DateTime<Utc>>,
}

/// Everything one scrape read.
#[derive(Debug)]
pub struct Backlog {
    pub lags: Vec<GroupLag>,
    pub relay: Result<RelayLag, String>,
    pub dead_letters: Result<Vec<(DeadLetterReason, u64)>, String>,
    /// The machine's clock at the read: the oldest event's age is measured against the store's
    /// `recorded_at`, a wall clock too, not against the service's (a test's clock is fixed).
    pub read_at: DateTime<Utc>,
}

/// `read`, or its error, or a timeout.
async fn bounded<T, E: std::fmt::Display>(
    read: impl Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(READ_TIMEOUT, read).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err(format!("no answer within {READ_TIMEOUT:?}")),
    }
}

/// Reads the backlog, every read at once, and counts the failed ones.
pub async fn read(rt: &Runtime) -> Backlog {
    let mut reads = tokio::task::JoinSet::new();
    for (group, topic) in operations::log_groups(rt) {
        let (log, group, topic) = (rt.log.clone(), group.to_owned(), topic.to_owned());
        reads.spawn(async move {
            let partitions = bounded(log.lag(&group, &topic)).await;
            GroupLag {
                group,
                topic,
                partitions,
            }
        });
    }
    let lags = async {
        let mut lags = Vec::new();
        while let Some(read) = reads.join_next().await {
            // A read task cannot panic short of a bug in the log adapter; its series are then
            // missing like any failed read's, and the failure shows in the log.
            match read {
                Ok(lag) => lags.push(lag),
                Err(err) => read_failed(Source::ConsumerLag, &err.to_string()),
            }
        }
        lags.sort_by(|a, b| (&a.group, &a.topic).cmp(&(&b.group, &b.topic)));
        lags
    };
    let relay = bounded(async {
        let (checkpoint, events) = operations::store_lag(rt, RELAY).await?;
        let oldest_recorded_at = match events {
            0 => None,
            _ => rt.store_feed.first_recorded_after(checkpoint).await?,
        };
        Ok::<_, conserje_domain::journal::JournalError>(RelayLag {
            events,
            oldest_recorded_at,
        })
    });
    let dead_letters = bounded(rt.dead_letter_index.waiting_by_reason());
    let (lags, relay, dead_letters) = tokio::join!(lags, relay, dead_letters);
    let backlog = Backlog {
        lags,
        relay,
        dead_letters,
        read_at: Utc::now(),
    };
    for lag in &backlog.lags {
        if let Err(err) = &lag.partitions {
            read_failed(Source::ConsumerLag, &format!("{}: {err}", lag.group));
        }
    }
    if let Err(err) = &backlog.relay {
        read_failed(Source::RelayLag, err);
    }
    if let Err(err) = &backlog.dead_letters {
        read_failed(Source::DeadLetters, err);
    }
    register_sources();
    backlog
}

fn help(name: &str) -> &'static str {
    match name {
        CONSUMER_LAG => {
            "Records of the topic partition the consumer group has not committed yet \
            (the partition's end offset minus the group's committed offset), read from the log \
            at each scrape. Absent for a group whose offsets could not be read this scrape."
        }
        RELAY_LAG => {
            "Events stored but not yet published to the events topic by the event \
            relay (events after the relay's checkpoint), read from the store at each scrape."
        }
        RELAY_OLDEST => {
            "Seconds since the oldest event the relay has not published was stored; \
            0 when the relay is caught up."
        }
        DEAD_LETTERS => {
            "Dead letters waiting for an operator (`conserje dlq redrive`), by \
            reason: neither redriven nor due for an automatic retry."
        }
        _ => "",
    }
}

struct Gauges(PrometheusRecorder);

impl Gauges {
    fn new() -> Self {
        let recorder = PrometheusBuilder::new().build_recorder();
        for name in [CONSUMER_LAG, RELAY_LAG, RELAY_OLDEST, DEAD_LETTERS] {
            recorder.describe_gauge(
                KeyName::from_const_str(name),
                None,
                SharedString::const_str(help(name)),
            );
        }
        Self(recorder)
    }

    fn set(&self, name: &'static str, labels: Vec<Label>, value: f64) {
        self.0
            .register_gauge(&Key::from_parts(name, labels), &METADATA)
            .set(value);
    }
}

/// The exposition of `backlog`: the series of every read that succeeded.
pub fn render(backlog: &Backlog) -> String {
    let out = Gauges::new();
    for lag in &backlog.lags {
        for partition in lag.partitions.iter().flatten() {
            let labels = vec![
                Label::new("group", lag.group.clone()),
                Label::new("topic", lag.topic.clone()),
                Label::new("partition", partition.partition.to_string()),
            ];
            out.set(CONSUMER_LAG, labels, partition.lag() as f64);
        }
    }
    if let Ok(relay) = &backlog.relay {
        out.set(RELAY_LAG, vec![], relay.events as f64);
        let waited = relay.oldest_recorded_at.map_or(0.0, |at| {
            (backlog.read_at - at).num_milliseconds().max(0) as f64 / 1000.0
        });
        out.set(RELAY_OLDEST, vec![], waited);
    }
    for (reason, waiting) in backlog.dead_letters.iter().flatten() {
        let labels = vec![Label::new("reason", reason.as_str().to_owned())];
        out.set(DEAD_LETTERS, labels, *waiting as f64);
    }
    out.0.handle().render()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lag(partition: i32, committed: i64, end: i64) -> PartitionLag {
        PartitionLag {
            partition,
            committed,
            end,
        }
    }

    #[test]
    fn a_failed_read_leaves_out_its_series_and_nothing_else() {
        let read_at = Utc::now();
        let backlog = Backlog {
            lags: vec![
                GroupLag {
                    group: "conversation-worker".into(),
                    topic: "conserje.inbound.v1".into(),
                    partitions: Ok(vec![lag(0, 5, 5), lag(1, 2, 9)]),
                },
                GroupLag {
                    group: "channel-sender".into(),
                    topic: "conserje.outbound.v1".into(),
                    partitions: Err("the coordinator is rebalancing".into()),
                },
            ],
            relay: Ok(RelayLag {
                events: 3,
                oldest_recorded_at: Some(read_at - chrono::Duration::milliseconds(1500)),
            }),
            dead_letters: Err("the store is busy".into()),
            read_at,
        };
        let text = render(&backlog);
        for line in [
            "# TYPE conserje_consumer_lag gauge\n",
            "conserje_consumer_lag{group=\"conversation-worker\",topic=\"conserje.inbound.v1\",partition=\"0\"} 0\n",
            "conserje_consumer_lag{group=\"conversation-worker\",topic=\"conserje.inbound.v1\",partition=\"1\"} 7\n",
            "conserje_relay_lag_events 3\n",
            "conserje_relay_oldest_unrelayed_seconds 1.5\n",
        ] {
            assert!(text.contains(line), "{line} in:\n{text}");
        }
        assert!(!text.contains("channel-sender"), "{text}");
        assert!(!text.contains("conserje_dead_letters{"), "{text}");
    }

    #[test]
    fn dead_letters_by_reason_and_a_caught_up_relay() {
        let backlog = Backlog {
            lags: vec![],
            relay: Ok(RelayLag {
                events: 0,
                oldest_recorded_at: None,
            }),
            dead_letters: Ok(vec![(
                DeadLetterReason::from_header(Some("send_failed")),
                2,
            )]),
            read_at: Utc::now(),
        };
        let text = render(&backlog);
        assert!(
            text.contains("conserje_dead_letters{reason=\"send_failed\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("conserje_relay_oldest_unrelayed_seconds 0\n"),
            "{text}"
        );
        assert!(
            text.contains("# HELP conserje_dead_letters Dead letters waiting"),
            "{text}"
        );
    }
}
