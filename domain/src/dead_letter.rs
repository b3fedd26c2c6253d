//! The dead letters that wait for an operator, as a port: an index beside the dead-letter topic.
//!
//! The topic itself cannot say how deep the queue is: a redrive appends a dead letter back to
//! its source topic and leaves it where it was (the topic is append-only), and the automatic
//! voice-note retries do the same. Counting the topic would only ever grow, and reading it
//! whole on every scrape would join a new consumer group each time. So a consumer group of the
//! topic indexes each dead letter — where it sits, why, and whether it waits for a person — and
//! a redrive marks what it sent back; the depth is a count over that index.
//!
//! The index holds no key and no payload: the key of a conversation's record names the guest
//! (`tenant/channel/+34600…`), which must not outlive the guest's erasure in a second place.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Where a dead letter sits in the dead-letter topic: its identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeadLetterId {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// Why a record was dead-lettered: the stable code its consumer gave (`send_failed`,
/// `transcription_failed`, `undecodable_message`, …). Codes are `[a-z0-9_]`, at most 64
/// characters; anything else reads as `other`, so a stray header cannot mint label values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeadLetterReason(String);

impl DeadLetterReason {
    /// The reason a `dlq_reason` header states; `unknown` without one.
    pub fn from_header(value: Option<&str>) -> Self {
        let Some(value) = value else {
            return Self("unknown".to_owned());
        };
        let code = !value.is_empty()
            && value.len() <= 64
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        Self(if code { value } else { "other" }.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who a dead letter waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    /// An operator's `dlq redrive`.
    Operator,
    /// Nobody: an automatic retry sends it back (a voice note with attempts left).
    AutomaticRetry,
}

/// One dead letter as the index keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterEntry {
    pub id: DeadLetterId,
    pub reason: DeadLetterReason,
    /// The consumer group that gave up on it.
    pub consumer: String,
    /// The topic it came from.
    pub source_topic: String,
    /// The hotel, from the record's `tenant` header.
    pub tenant: Option<String>,
    pub awaiting: Awaiting,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dead-letter index unavailable: {0}")]
pub struct DeadLetterIndexError(pub String);

/// The index of the dead-letter topic.
#[async_trait]
pub trait DeadLetterIndex: Send + Sync {
    /// Adds the entries not indexed yet. One already there is left as it is: indexed again
    /// after a redelivery, or marked redriven before the index reached it.
    async fn add(&self, entries: &[DeadLetterEntry]) -> Result<(), DeadLetterIndexError>;

    /// Marks the entries redriven at `at`, adding those the index has not reached yet, so the
    /// index's later pass over them cannot count them as waiting again.
    async fn mark_redriven(
        &self,
        entries: &[DeadLetterEntry],
        at: DateTime<Utc>,
    ) -> Result<(), DeadLetterIndexError>;

    /// Dead letters waiting for an operator (not redriven, no automatic retry left), by reason.
    async fn waiting_by_reason(&self)
        -> Result<Vec<(DeadLetterReason, u64)>, DeadLetterIndexError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_codes_or_other() {
        for code in ["send_failed", "transcription_failed", "undecodable_message"] {
            assert_eq!(DeadLetterReason::from_header(Some(code)).as_str(), code);
        }
        for stray in ["", "Send Failed", "+34600111222", &"x".repeat(65)] {
            assert_eq!(DeadLetterReason::from_header(Some(stray)).as_str(), "other");
        }
        assert_eq!(DeadLetterReason::from_header(None).as_str(), "unknown");
    }
}
