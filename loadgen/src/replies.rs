//! The message path end to end, measured from the outside: how many of the acknowledged
//! messages were answered (a reply composed and recorded on the guest's `Session`) and
//! delivered (the channel sender recorded `ReplyDelivered`: sent, or kept in the outbox where no
//! channel provider is configured), and how long after its 202 each one was.
//!
//! Read from the store's `events` table — what the service committed, not what it says about
//! itself — after the load, waiting (boundedly, with a progress bar) for the tail to drain. A
//! message is matched to its replies by its provider message id (`ReplyComposed.turn_key`), a
//! reply to its delivery by `reply_id`. Latencies compare the store's `recorded_at` with the
//! wall-clock instant loadgen received the 202: on one machine that is one clock; against a
//! remote store, clock skew adds in. A reply recorded before the 202 reached loadgen (the worker
//! can be that quick) counts 0.
//!
//! Only the `ReplyComposed` fields named above and the `ReplyDelivered` payload are read: the
//! guests' words are sealed in the store, and loadgen needs none of them.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use conserje_domain::session::DeliveryOutcome;
use conserje_domain::values::TenantId;
use conserje_infra::Database;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use tokio::time::Instant;
use uuid::Uuid;

use crate::workload::CHANNEL;
use crate::Figure;

/// How often the store is read while the tail drains.
const POLL: Duration = Duration::from_millis(500);

/// The drain stops early when nothing new was answered or delivered for this long: what is
/// left is not coming (a dead-lettered message, a stopped worker).
const STALL: Duration = Duration::from_secs(15);

/// The store's last position before the run: only events after it can be the run's.
#[derive(Debug, Clone, Copy)]
pub struct StoreMark(i64);

impl StoreMark {
    pub async fn take(db: &Database) -> anyhow::Result<Self> {
        let position: i64 = match db {
            Database::Postgres(pool) => {
                sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM events")
                    .fetch_one(pool)
                    .await?
            }
            Database::Sqlite(pool) => {
                sqlx::query_scalar("SELECT coalesce(max(rowid), 0) FROM events")
                    .fetch_one(pool)
                    .await?
            }
        };
        Ok(Self(position))
    }
}

/// A bot reply of the run: the message it answers, and when it was recorded.
#[derive(Debug, Clone)]
struct Composed {
    turn_key: String,
    reply_id: Uuid,
    at: DateTime<Utc>,
}

/// The `ReplyDelivered` payload.
#[derive(Debug, Clone, Deserialize)]
struct Delivered {
    reply_id: Uuid,
    #[serde(flatten)]
    outcome: DeliveryOutcome,
}

/// The run's replies and deliveries as the store holds them now.
#[derive(Debug, Default)]
struct Rows {
    composed: Vec<Composed>,
    delivered: Vec<(Delivered, DateTime<Utc>)>,
}

const COMPOSED: &str = "SELECT payload->'ReplyComposed'->>'turn_key', \
     payload->'ReplyComposed'->>'reply_id', recorded_at FROM events \
     WHERE {position} > $1 AND aggregate_type = 'Session' AND aggregate_id LIKE $2 \
     AND event_type = 'ReplyComposed' AND payload->'ReplyComposed'->>'author' = 'bot'";

const DELIVERED: &str = "SELECT CAST(payload->'ReplyDelivered' AS TEXT), recorded_at FROM events \
     WHERE {position} > $1 AND aggregate_type = 'Session' AND aggregate_id LIKE $2 \
     AND event_type = 'ReplyDelivered'";

/// `(turn_key, reply_id, recorded_at)` of a `ReplyComposed`.
type ComposedRow = (String, String, DateTime<Utc>);
/// `(payload, recorded_at)` of a `ReplyDelivered`.
type DeliveredRow = (String, DateTime<Utc>);

/// Reads the run's replies: the same SQL on both stores but for the position column (SQLite's
/// is the rowid) and `recorded_at`'s type (SQLite keeps RFC 3339 text).
async fn read_rows(db: &Database, tenant: &TenantId, mark: StoreMark) -> anyhow::Result<Rows> {
    let streams = format!("{tenant}/{CHANNEL}/%");
    let (composed, delivered): (Vec<ComposedRow>, Vec<DeliveredRow>) = match db {
        Database::Postgres(pool) => {
            let sql = |q: &str| q.replace("{position}", "position");
            let composed = sqlx::query_as(&sql(COMPOSED))
                .bind(mark.0)
                .bind(&streams)
                .fetch_all(pool)
                .await?;
            let delivered = sqlx::query_as(&sql(DELIVERED))
                .bind(mark.0)
                .bind(&streams)
                .fetch_all(pool)
                .await?;
            (composed, delivered)
        }
        Database::Sqlite(pool) => {
            let sql = |q: &str| q.replace("{position}", "rowid");
            let composed: Vec<(String, String, String)> = sqlx::query_as(&sql(COMPOSED))
                .bind(mark.0)
                .bind(&streams)
                .fetch_all(pool)
                .await?;
            let delivered: Vec<(String, String)> = sqlx::query_as(&sql(DELIVERED))
                .bind(mark.0)
                .bind(&streams)
                .fetch_all(pool)
                .await?;
            let at = |text: &str| {
                text.parse::<DateTime<Utc>>()
                    .with_context(|| format!("unreadable recorded_at {text:?}"))
            };
            (
                composed
                    .into_iter()
                    .map(|(turn, reply, when)| Ok((turn, reply, at(&when)?)))
                    .collect::<anyhow::Result<_>>()?,
                delivered
                    .into_iter()
                    .map(|(payload, when)| Ok((payload, at(&when)?)))
                    .collect::<anyhow::Result<_>>()?,
            )
        }
    };
    Ok(Rows {
        composed: composed
            .into_iter()
            .map(|(turn_key, reply_id, at)| {
                let reply_id = reply_id
                    .parse()
                    .with_context(|| format!("reply id {reply_id:?}"))?;
                Ok(Composed {
                    turn_key,
                    reply_id,
                    at,
                })
            })
            .collect::<anyhow::Result<_>>()?,
        delivered: delivered
            .into_iter()
            .map(|(payload, at)| {
                let delivered: Delivered = serde_json::from_str(&payload)
                    .with_context(|| format!("a ReplyDelivered payload {payload:?}"))?;
                Ok((delivered, at))
            })
            .collect::<anyhow::Result<_>>()?,
    })
}

/// What became of the acknowledged messages.
#[derive(Debug, Default, Clone)]
pub struct Replies {
    /// Acknowledged messages with at least one bot reply recorded.
    pub answered: u64,
    /// Answered messages every reply of which was delivered (sent or kept in the outbox).
    pub delivered: u64,
    /// Answered messages with a reply whose delivery failed (dead-lettered).
    pub failed: u64,
    /// Per second, from the first send's slot to the last answer / delivery.
    pub answered_per_s: f64,
    pub delivered_per_s: f64,
    /// 202 → first reply recorded, microseconds, ascending.
    pub answer_latencies_us: Vec<u64>,
    /// 202 → last reply delivered, microseconds, ascending.
    pub delivery_latencies_us: Vec<u64>,
    /// How long loadgen waited after the load for the tail.
    pub waited: Duration,
}

impl Replies {
    fn settled(&self, acked: u64) -> bool {
        self.answered == acked && self.delivered + self.failed == self.answered
    }
}

fn micros_between(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    u64::try_from((to - from).num_microseconds().unwrap_or(0)).unwrap_or(0)
}

fn per_second(count: u64, from: DateTime<Utc>, last: Option<DateTime<Utc>>) -> f64 {
    let seconds = last.map_or(0.0, |last| micros_between(from, last) as f64 / 1e6);
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

/// One answered message, as its replies stand.
struct Turn {
    /// When its first reply was recorded.
    answered: DateTime<Utc>,
    /// When its last delivered reply was recorded delivered.
    delivered: Option<DateTime<Utc>>,
    /// Whether every reply of it has a delivery recorded.
    all_delivered: bool,
    /// Whether a reply of it failed to be delivered.
    failed: bool,
}

/// Matches the store's rows to the acknowledged messages.
fn tally(
    acked_at: &HashMap<String, DateTime<Utc>>,
    started_at: DateTime<Utc>,
    rows: &Rows,
) -> Replies {
    let deliveries: HashMap<Uuid, (&DeliveryOutcome, DateTime<Utc>)> = rows
        .delivered
        .iter()
        .map(|(d, at)| (d.reply_id, (&d.outcome, *at)))
        .collect();
    let mut turns: HashMap<&str, Turn> = HashMap::new();
    for reply in &rows.composed {
        if !acked_at.contains_key(&reply.turn_key) {
            continue;
        }
        let turn = turns.entry(reply.turn_key.as_str()).or_insert(Turn {
            answered: reply.at,
            delivered: None,
            all_delivered: true,
            failed: false,
        });
        turn.answered = turn.answered.min(reply.at);
        match deliveries.get(&reply.reply_id) {
            Some((DeliveryOutcome::Failed { .. }, _)) => turn.failed = true,
            Some((_, at)) => turn.delivered = Some(turn.delivered.map_or(*at, |t| t.max(*at))),
            None => turn.all_delivered = false,
        }
    }
    let mut out = Replies::default();
    let (mut last_answer, mut last_delivery) = (None::<DateTime<Utc>>, None::<DateTime<Utc>>);
    for (turn_key, turn) in turns {
        let acked = acked_at[turn_key];
        out.answered += 1;
        out.answer_latencies_us
            .push(micros_between(acked, turn.answered));
        last_answer = last_answer.max(Some(turn.answered));
        if turn.failed {
            out.failed += 1;
        } else if let (true, Some(delivered)) = (turn.all_delivered, turn.delivered) {
            out.delivered += 1;
            out.delivery_latencies_us
                .push(micros_between(acked, delivered));
            last_delivery = last_delivery.max(Some(delivered));
        }
    }
    out.answer_latencies_us.sort_unstable();
    out.delivery_latencies_us.sort_unstable();
    out.answered_per_s = per_second(out.answered, started_at, last_answer);
    out.delivered_per_s = per_second(out.delivered, started_at, last_delivery);
    out
}

/// Waits at most `drain` for every acknowledged message to be answered and delivered, reading
/// the store every [`POLL`] with a progress bar, and returns what arrived.
pub async fn wait_for_replies(
    db: &Database,
    tenant: &TenantId,
    mark: StoreMark,
    acked_at: &HashMap<String, DateTime<Utc>>,
    started_at: DateTime<Utc>,
    drain: Duration,
) -> Figure<Replies> {
    let acked = acked_at.len() as u64;
    let bar = ProgressBar::new(acked.saturating_mul(2));
    let style = ProgressStyle::with_template(
        "{spinner} waiting for replies [{elapsed_precise}] {bar:30} {msg}",
    )
    .map_err(|e| e.to_string())?;
    bar.set_style(style);
    let waiting = Instant::now();
    let (mut progress, mut progressed) = ((0, 0), Instant::now());
    let replies = loop {
        let rows = read_rows(db, tenant, mark)
            .await
            .map_err(|err| format!("cannot read the replies from the store: {err:#}"))?;
        let mut replies = tally(acked_at, started_at, &rows);
        replies.waited = waiting.elapsed();
        bar.set_position(replies.answered + replies.delivered + replies.failed);
        bar.set_message(format!(
            "answered {}/{acked} · delivered {} · failed {}",
            replies.answered, replies.delivered, replies.failed
        ));
        let now = (replies.answered, replies.delivered + replies.failed);
        if now != progress {
            (progress, progressed) = (now, Instant::now());
        }
        if replies.settled(acked) || waiting.elapsed() >= drain || progressed.elapsed() >= STALL {
            break replies;
        }
        tokio::time::sleep(POLL).await;
    };
    bar.finish_and_clear();
    Ok(replies)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_800_000_000_000 + ms).unwrap()
    }

    fn reply(turn: &str, id: u128, ms: i64) -> Composed {
        Composed {
            turn_key: turn.into(),
            reply_id: Uuid::from_u128(id),
            at: at(ms),
        }
    }

    fn delivered(id: u128, outcome: DeliveryOutcome, ms: i64) -> (Delivered, DateTime<Utc>) {
        let reply_id = Uuid::from_u128(id);
        (Delivered { reply_id, outcome }, at(ms))
    }

    #[test]
    fn messages_are_matched_to_their_replies_and_deliveries() {
        let acked_at: HashMap<String, DateTime<Utc>> = [
            ("m1".to_owned(), at(10)),
            ("m2".to_owned(), at(20)),
            ("m3".to_owned(), at(30)),
            ("m4".to_owned(), at(40)),
        ]
        .into();
        let rows = Rows {
            composed: vec![
                // m1: two replies, both delivered; the later delivery counts.
                reply("m1", 1, 15),
                reply("m1", 2, 15),
                // m2: answered before its 202 arrived (counts 0), kept in the outbox.
                reply("m2", 3, 18),
                // m3: refused by the channel.
                reply("m3", 4, 50),
                // Another run's message.
                reply("other", 5, 60),
            ],
            delivered: vec![
                delivered(1, DeliveryOutcome::sent(None), 70),
                delivered(2, DeliveryOutcome::sent(None), 90),
                delivered(3, DeliveryOutcome::KeptInOutbox, 25),
                delivered(
                    4,
                    DeliveryOutcome::Failed {
                        reason: "403".into(),
                        cause: conserje_domain::session::FailureCause::Refused,
                    },
                    80,
                ),
            ],
        };
        let replies = tally(&acked_at, at(0), &rows);
        assert_eq!(
            (replies.answered, replies.delivered, replies.failed),
            (3, 2, 1)
        );
        assert_eq!(replies.answer_latencies_us, [0, 5_000, 20_000]);
        assert_eq!(replies.delivery_latencies_us, [5_000, 80_000]);
        // 3 answered by 50 ms, 2 delivered by 90 ms after the first slot.
        assert!((replies.answered_per_s - 60.0).abs() < 1e-9, "{replies:?}");
        assert!(
            (replies.delivered_per_s - 2.0 / 0.09).abs() < 1e-9,
            "{replies:?}"
        );
        assert!(!replies.settled(4), "m4 has no answer yet");
    }

    #[test]
    fn a_reply_not_yet_delivered_keeps_its_message_undelivered() {
        let acked_at: HashMap<String, DateTime<Utc>> = [("m1".to_owned(), at(0))].into();
        let rows = Rows {
            composed: vec![reply("m1", 1, 5), reply("m1", 2, 5)],
            delivered: vec![delivered(1, DeliveryOutcome::KeptInOutbox, 9)],
        };
        let replies = tally(&acked_at, at(0), &rows);
        assert_eq!((replies.answered, replies.delivered), (1, 0));
        assert!(!replies.settled(1));
    }
}
