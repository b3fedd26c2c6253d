//! The dead-letter queue as operators see it: what failed and why, and sending it back.
//!
//! Dead letters are read from the start of `conserje.dlq.v1` by a consumer group of their own
//! that never commits, so listing changes nothing. Redriving appends each chosen dead letter to
//! the topic it came from; every consumer there is idempotent (a message is recorded once, a
//! reply delivered once, a voice note transcribed once), so redriving one that meanwhile
//! succeeded is harmless. What a redrive sent back is marked in the dead-letter index, so the
//! queue's depth (`conserje_dead_letters{reason}`) counts only what still waits.

use std::time::Duration;

use anyhow::Context;
use conserje_commands::dead_letter_index::entry_of;
use conserje_commands::dead_letters::{self, headers};
use conserje_commands::voice_notes::{ATTEMPT_HEADER, TRANSCRIPTION_FAILED};
use conserje_domain::log::LogRecord;
use serde::Serialize;

use crate::Runtime;

/// One dead letter, readably.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    /// `partition@offset` in the dead-letter topic.
    pub position: String,
    pub reason: String,
    pub detail: String,
    /// Where it came from: `topic/partition@offset`.
    pub source: String,
    /// The consumer group that gave up on it.
    pub consumer: String,
    /// The conversation (or other key) it belongs to.
    pub key: String,
}

impl DeadLetter {
    fn of(record: &LogRecord) -> Self {
        let header = |name| record.header(name).unwrap_or_default().to_owned();
        Self {
            position: format!("{}@{}", record.partition, record.offset),
            reason: header(headers::REASON),
            detail: header(headers::DETAIL),
            source: header(headers::SOURCE),
            consumer: header(headers::CONSUMER),
            key: record.key.clone(),
        }
    }
}

/// Every record of the dead-letter topic, oldest first per partition.
async fn read_all(rt: &Runtime) -> anyhow::Result<Vec<LogRecord>> {
    let group = format!("dlq-reader-{}", uuid::Uuid::now_v7().simple());
    let total: i64 = rt
        .log
        .lag(&group, &rt.topics.dlq)
        .await
        .context("cannot read the dead-letter topic's size")?
        .iter()
        .map(|p| p.end)
        .sum();
    let mut consumer = rt
        .log
        .consumer(&group, &rt.topics.dlq)
        .await
        .context("cannot join the dead-letter topic")?;
    let mut records = Vec::new();
    let mut idle = 0;
    while (records.len() as i64) < total && idle < 10 {
        let batch = consumer
            .poll(1000, Duration::from_millis(500))
            .await
            .context("cannot read the dead-letter topic")?;
        idle = if batch.is_empty() { idle + 1 } else { 0 };
        records.extend(batch);
    }
    Ok(records)
}

fn chosen(record: &LogRecord, reason: Option<&str>) -> bool {
    reason.is_none_or(|r| record.header(headers::REASON) == Some(r))
}

/// The dead letters, those with `reason` only when given.
pub async fn list(rt: &Runtime, reason: Option<&str>) -> anyhow::Result<Vec<DeadLetter>> {
    Ok(read_all(rt)
        .await?
        .iter()
        .filter(|r| chosen(r, reason))
        .map(DeadLetter::of)
        .collect())
}

/// Sends the dead letters (those with `reason` only, when given) back to their source topics
/// and marks them redriven in the index; returns how many. A voice note starts its automatic
/// retries afresh. A failure to mark leaves them counted as waiting: redriving again (harmless)
/// marks them.
pub async fn redrive(rt: &Runtime, reason: Option<&str>) -> anyhow::Result<usize> {
    let mut sent = 0;
    let mut redriven = Vec::new();
    for record in read_all(rt).await?.iter().filter(|r| chosen(r, reason)) {
        let reset: Vec<(&str, String)> =
            if record.header(headers::REASON) == Some(TRANSCRIPTION_FAILED) {
                vec![(ATTEMPT_HEADER, "1".to_owned())]
            } else {
                vec![]
            };
        let Some(again) = dead_letters::redrive(record, &reset) else {
            tracing::warn!(position = %DeadLetter::of(record).position, "dead letter without a source; skipped");
            continue;
        };
        rt.log
            .append(again)
            .await
            .context("cannot append a redriven record")?;
        sent += 1;
        redriven.push(entry_of(record, rt.transcription_retry.max_attempts));
    }
    rt.dead_letter_index
        .mark_redriven(&redriven, rt.clock.now())
        .await
        .with_context(|| format!("redrove {sent} dead letters but cannot mark them redriven"))?;
    Ok(sent)
}
