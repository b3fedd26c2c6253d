//! The consumer group `dead-letter-index`: indexes every record of the dead-letter topic, so the
//! depth of the queue (`conserje_dead_letters{reason}`) is a count, not a read of the topic.
//! See [`conserje_domain::dead_letter`] for why the topic cannot answer it itself.
//!
//! Indexing is idempotent (an entry already there is left as it is), so a batch delivered again
//! after a failure changes nothing, and several processes may share the group.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use conserje_domain::dead_letter::{
    Awaiting, DeadLetterEntry, DeadLetterId, DeadLetterIndex, DeadLetterReason,
};
use conserje_domain::log::{LogConsumer, LogRecord, MessageLog};
use tokio::sync::watch;

use crate::consumer_group::{self, BatchHandler, GroupSpec};
use crate::dead_letters::{headers, source_topic};
use crate::voice_notes::{ATTEMPT_HEADER, TRANSCRIPTION_FAILED};
use crate::CommandError;

/// The consumer group of the index.
pub const INDEX_GROUP: &str = "dead-letter-index";

/// The index's entry for `dead`. A voice note with attempts left (below `max_attempts`) is the
/// automatic retry's to send back; anything else waits for `dlq redrive`.
pub fn entry_of(dead: &LogRecord, max_attempts: u32) -> DeadLetterEntry {
    let reason = DeadLetterReason::from_header(dead.header(headers::REASON));
    let attempt: u32 = dead
        .header(ATTEMPT_HEADER)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let awaiting = if reason.as_str() == TRANSCRIPTION_FAILED && attempt < max_attempts {
        Awaiting::AutomaticRetry
    } else {
        Awaiting::Operator
    };
    DeadLetterEntry {
        id: DeadLetterId {
            topic: dead.topic.clone(),
            partition: dead.partition,
            offset: dead.offset,
        },
        reason,
        consumer: dead
            .header(headers::CONSUMER)
            .unwrap_or_default()
            .to_owned(),
        source_topic: source_topic(dead).unwrap_or_default().to_owned(),
        tenant: dead.header("tenant").map(str::to_owned),
        awaiting,
    }
}

/// Indexes the dead-letter topic.
pub struct DeadLetterIndexer {
    log: Arc<dyn MessageLog>,
    dlq_topic: String,
    index: Arc<dyn DeadLetterIndex>,
    /// The automatic voice-note retry's attempts (`TranscriptionRetry::max_attempts`).
    max_attempts: u32,
}

impl DeadLetterIndexer {
    pub fn new(
        log: Arc<dyn MessageLog>,
        dlq_topic: &str,
        index: Arc<dyn DeadLetterIndex>,
        max_attempts: u32,
    ) -> Self {
        Self {
            log,
            dlq_topic: dlq_topic.to_owned(),
            index,
            max_attempts,
        }
    }

    /// Runs until `shutdown` turns true; a failed batch is delivered again after a pause.
    pub async fn run(self: Arc<Self>, shutdown: watch::Receiver<bool>) {
        let log = self.log.clone();
        let topic = self.dlq_topic.clone();
        let spec = GroupSpec {
            group: INDEX_GROUP,
            topic: &topic,
            wait: Duration::from_millis(500),
        };
        consumer_group::run(log, spec, self, shutdown).await;
    }
}

#[async_trait]
impl BatchHandler for DeadLetterIndexer {
    async fn step(
        &self,
        consumer: &mut dyn LogConsumer,
        wait: Duration,
    ) -> Result<usize, CommandError> {
        let batch = consumer
            .poll(500, wait)
            .await
            .map_err(|e| CommandError::Store(e.to_string()))?;
        if batch.is_empty() {
            return Ok(0);
        }
        let entries: Vec<DeadLetterEntry> = batch
            .iter()
            .map(|dead| entry_of(dead, self.max_attempts))
            .collect();
        self.index
            .add(&entries)
            .await
            .map_err(|e| CommandError::Store(e.to_string()))?;
        consumer
            .commit(&batch)
            .await
            .map_err(|e| CommandError::Store(e.to_string()))?;
        Ok(batch.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dead_letters::dead_letter;

    fn dead(reason: &str, attempt: Option<u32>) -> LogRecord {
        let original = LogRecord {
            topic: "conserje.inbound.v1".into(),
            partition: 1,
            offset: 9,
            key: "hotel-sol/whatsapp/34600111222".into(),
            headers: vec![("tenant".into(), "hotel-sol".into())],
            payload: b"{}".to_vec(),
        };
        let mut out = dead_letter(
            &original,
            "conserje.dlq.v1",
            reason,
            "x",
            "conversation-worker",
        );
        out.headers
            .extend(attempt.map(|a| (ATTEMPT_HEADER.to_owned(), a.to_string())));
        LogRecord {
            topic: out.topic,
            partition: 2,
            offset: 40,
            key: out.key,
            headers: out.headers,
            payload: out.payload,
        }
    }

    #[test]
    fn an_entry_says_where_the_letter_is_why_and_who_it_waits_for() {
        let entry = entry_of(&dead("send_failed", None), 5);
        assert_eq!(
            entry.id,
            DeadLetterId {
                topic: "conserje.dlq.v1".into(),
                partition: 2,
                offset: 40
            }
        );
        assert_eq!(entry.reason.as_str(), "send_failed");
        assert_eq!(entry.source_topic, "conserje.inbound.v1");
        assert_eq!(entry.consumer, "conversation-worker");
        assert_eq!(entry.tenant.as_deref(), Some("hotel-sol"));
        assert_eq!(entry.awaiting, Awaiting::Operator);
    }

    #[test]
    fn a_voice_note_with_attempts_left_waits_for_the_automatic_retry_only() {
        let retried = |attempt| entry_of(&dead(TRANSCRIPTION_FAILED, attempt), 5).awaiting;
        assert_eq!(retried(None), Awaiting::AutomaticRetry);
        assert_eq!(retried(Some(4)), Awaiting::AutomaticRetry);
        assert_eq!(retried(Some(5)), Awaiting::Operator);
    }
}
