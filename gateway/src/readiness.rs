//! Whether this process has joined every consumer group it runs.
//!
//! A server that answers webhooks before its conversation worker and its channel sender have
//! joined their groups is up but not ready: on Kafka a group's first join takes seconds, and
//! the guest's message waits in the topic meanwhile. `/health/ready` answers 503 until every
//! group started by [`crate::Runtime::start_background`] has a live member, so a load balancer
//! (or a test) sends traffic to an instance that will answer it.
//!
//! The log is wrapped, not the loops that use it: every consumer a group loop opens passes
//! through [`TrackedLog::consumer`], and dropping it (a failed batch makes the loop leave and
//! join again) counts the group as not joined until the next join returns.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use conserje_domain::log::{
    LogConsumer, LogError, LogRecord, MessageLog, OutgoingRecord, PartitionLag, RecordPosition,
};

/// Live members per consumer group, and the groups this process is expected to run.
#[derive(Debug, Default)]
pub struct Readiness {
    groups: Mutex<BTreeMap<String, Membership>>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Membership {
    expected: bool,
    members: usize,
}

impl Readiness {
    /// This process runs `group`: it is not ready until the group has a member.
    pub fn expect(&self, group: &str) {
        self.with(group, |m| m.expected = true);
    }

    /// The expected groups without a live member, by name; empty when ready.
    pub fn waiting_for(&self) -> Vec<String> {
        let groups = self.groups.lock().expect("readiness lock");
        groups
            .iter()
            .filter(|(_, m)| m.expected && m.members == 0)
            .map(|(group, _)| group.clone())
            .collect()
    }

    fn with(&self, group: &str, change: impl FnOnce(&mut Membership)) {
        let mut groups = self.groups.lock().expect("readiness lock");
        change(groups.entry(group.to_owned()).or_default());
    }
}

/// A [`MessageLog`] that reports its consumers' joins and departures to a [`Readiness`].
pub struct TrackedLog {
    inner: Arc<dyn MessageLog>,
    readiness: Arc<Readiness>,
}

impl TrackedLog {
    pub fn new(inner: Arc<dyn MessageLog>, readiness: Arc<Readiness>) -> Self {
        Self { inner, readiness }
    }
}

#[async_trait]
impl MessageLog for TrackedLog {
    async fn ensure_topics(&self, topics: &[&str]) -> Result<(), LogError> {
        self.inner.ensure_topics(topics).await
    }

    async fn append(&self, record: OutgoingRecord) -> Result<RecordPosition, LogError> {
        self.inner.append(record).await
    }

    async fn append_all(&self, records: Vec<OutgoingRecord>) -> Result<(), LogError> {
        self.inner.append_all(records).await
    }

    async fn consumer(&self, group: &str, topic: &str) -> Result<Box<dyn LogConsumer>, LogError> {
        let inner = self.inner.consumer(group, topic).await?;
        self.readiness.with(group, |m| m.members += 1);
        Ok(Box::new(TrackedConsumer {
            inner,
            group: group.to_owned(),
            readiness: self.readiness.clone(),
        }))
    }

    async fn lag(&self, group: &str, topic: &str) -> Result<Vec<PartitionLag>, LogError> {
        self.inner.lag(group, topic).await
    }
}

struct TrackedConsumer {
    inner: Box<dyn LogConsumer>,
    group: String,
    readiness: Arc<Readiness>,
}

#[async_trait]
impl LogConsumer for TrackedConsumer {
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<LogRecord>, LogError> {
        self.inner.poll(max, wait).await
    }

    async fn commit(&mut self, records: &[LogRecord]) -> Result<(), LogError> {
        self.inner.commit(records).await
    }
}

impl Drop for TrackedConsumer {
    fn drop(&mut self) {
        self.readiness
            .with(&self.group, |m| m.members = m.members.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expected_group_is_waited_for_until_it_has_a_member_and_again_after_it_left() {
        let readiness = Readiness::default();
        readiness.expect("conversation-worker");
        readiness.with("dlq-reader", |m| m.members += 1);
        assert_eq!(readiness.waiting_for(), vec!["conversation-worker"]);
        readiness.with("conversation-worker", |m| m.members += 1);
        assert!(readiness.waiting_for().is_empty());
        readiness.with("conversation-worker", |m| m.members -= 1);
        assert_eq!(readiness.waiting_for(), vec!["conversation-worker"]);
    }
}
