//! The message log: topics of keyed records that commands arrive on and events leave on.
//!
//! This is a port; `conserje-infra` implements it on Kafka (any Kafka-protocol broker) and on
//! SQLite for the embedded default, with the same semantics: records of one key go to one
//! partition, in append order; a consumer group owns each partition through one member; a
//! committed offset is where a restarted member resumes, so a record is handled at least once
//! and consumers make their effects idempotent.

use std::time::Duration;

use async_trait::async_trait;

/// The topics of conserje and what travels on each.
pub mod topics {
    /// Guest messages from the webhooks, keyed `tenant/channel/guest`.
    pub const INBOUND: &str = "conserje.inbound.v1";
    /// Every stored event, keyed by aggregate id, with CloudEvents headers.
    pub const EVENTS: &str = "conserje.events.v1";
    /// Replies to send to guests, keyed `tenant/channel/guest`.
    pub const OUTBOUND: &str = "conserje.outbound.v1";
    /// Side effects that failed, to be redriven.
    pub const DLQ: &str = "conserje.dlq.v1";
}

/// The topic names of one deployment. A prefix lets several deployments (staging beside
/// production, or parallel test runs) share a broker without reading each other's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    pub inbound: String,
    pub events: String,
    pub outbound: String,
    pub dlq: String,
}

impl Topics {
    pub fn prefixed(prefix: &str) -> Self {
        Self {
            inbound: format!("{prefix}{}", topics::INBOUND),
            events: format!("{prefix}{}", topics::EVENTS),
            outbound: format!("{prefix}{}", topics::OUTBOUND),
            dlq: format!("{prefix}{}", topics::DLQ),
        }
    }

    pub fn all(&self) -> [&str; 4] {
        [&self.inbound, &self.events, &self.outbound, &self.dlq]
    }
}

impl Default for Topics {
    fn default() -> Self {
        Self::prefixed("")
    }
}

/// A record to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingRecord {
    pub topic: String,
    /// Chooses the partition: records with one key stay in order.
    pub key: String,
    pub headers: Vec<(String, String)>,
    pub payload: Vec<u8>,
}

/// A record as read back, with its place in its partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: String,
    pub headers: Vec<(String, String)>,
    pub payload: Vec<u8>,
}

impl LogRecord {
    /// The first header called `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Where an appended record landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordPosition {
    pub partition: i32,
    pub offset: i64,
}

/// How far a consumer group is behind on one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionLag {
    pub partition: i32,
    /// The next offset the group will read (0 when it never committed).
    pub committed: i64,
    /// The offset the next appended record will get.
    pub end: i64,
}

impl PartitionLag {
    pub fn lag(&self) -> i64 {
        (self.end - self.committed).max(0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("message log unavailable: {0}")]
    Unavailable(String),
    #[error("message log refused the request: {0}")]
    Refused(String),
}

#[async_trait]
pub trait MessageLog: Send + Sync {
    /// Creates the topics that do not exist yet (with the configured partition count).
    async fn ensure_topics(&self, topics: &[&str]) -> Result<(), LogError>;

    /// Appends one record and returns once it is durable (every in-sync replica has it).
    async fn append(&self, record: OutgoingRecord) -> Result<RecordPosition, LogError>;

    /// Appends many records, returning once all are durable; order is kept per key.
    async fn append_all(&self, records: Vec<OutgoingRecord>) -> Result<(), LogError>;

    /// Joins consumer group `group` on `topic`. Reading starts at the group's committed offsets,
    /// or at the beginning of partitions it never committed.
    async fn consumer(&self, group: &str, topic: &str) -> Result<Box<dyn LogConsumer>, LogError>;

    /// The group's committed offset and the end of each partition of `topic`.
    async fn lag(&self, group: &str, topic: &str) -> Result<Vec<PartitionLag>, LogError>;
}

/// One member of a consumer group.
#[async_trait]
pub trait LogConsumer: Send {
    /// Up to `max` records, waiting at most `wait` for the first one. Records of one partition
    /// come in offset order.
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<LogRecord>, LogError>;

    /// Records that `records` (and everything before them in their partitions) were handled: a
    /// restarted member resumes after them. Call only once their effect is durable.
    async fn commit(&mut self, records: &[LogRecord]) -> Result<(), LogError>;
}
