//! How big the batches of a consumer group are and how long handling one takes:
//! `conserje_consumer_batch_records{group}` and `conserje_consumer_batch_seconds{group}`
//! (histograms of the process's recorder; the gateway's `telemetry` holds their buckets).
//!
//! [`consumer_group::run`](crate::consumer_group::run) hands every step a [`BatchTimer`] in
//! place of the group's consumer, so each group is timed the same way whatever its handler
//! does. The clock starts when a poll returns records, not when the step starts: a step first
//! waits up to the group's poll wait for records, and timing from there would report an idle
//! worker as a slow one. It stops at the commit, so a batch that failed (never committed, to be
//! delivered again) is not a sample; its redelivery will be.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use conserje_domain::log::{LogConsumer, LogError, LogRecord};

/// `conserje_consumer_batch_records{group}`: records per committed batch.
pub const BATCH_RECORDS: &str = "conserje_consumer_batch_records";
/// `conserje_consumer_batch_seconds{group}`: from the poll that returned a batch to its commit.
pub const BATCH_SECONDS: &str = "conserje_consumer_batch_seconds";

/// The consumer a step sees: the group's own, timing each batch from its poll to its commit.
pub struct BatchTimer<'a> {
    inner: &'a mut dyn LogConsumer,
    group: &'a str,
    /// When the first poll since the last commit returned records.
    polled: Option<Instant>,
}

impl<'a> BatchTimer<'a> {
    pub fn new(inner: &'a mut dyn LogConsumer, group: &'a str) -> Self {
        Self {
            inner,
            group,
            polled: None,
        }
    }
}

#[async_trait]
impl LogConsumer for BatchTimer<'_> {
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<LogRecord>, LogError> {
        let records = self.inner.poll(max, wait).await?;
        if !records.is_empty() && self.polled.is_none() {
            self.polled = Some(Instant::now());
        }
        Ok(records)
    }

    async fn commit(&mut self, records: &[LogRecord]) -> Result<(), LogError> {
        self.inner.commit(records).await?;
        // An empty commit (a step that polled nothing) is no batch: a sample of 0 records per
        // idle poll would drown the real batches in the histogram.
        if let Some(polled) = self.polled.take().filter(|_| !records.is_empty()) {
            record(self.group, records.len(), polled.elapsed());
        }
        Ok(())
    }
}

fn record(group: &str, records: usize, took: Duration) {
    let group = group.to_owned();
    metrics::histogram!(BATCH_RECORDS, "group" => group.clone()).record(records as f64);
    metrics::histogram!(BATCH_SECONDS, "group" => group).record(took.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_exporter_prometheus::PrometheusBuilder;

    /// A consumer that hands out one prepared batch, then nothing.
    struct OneBatch(Vec<LogRecord>);

    #[async_trait]
    impl LogConsumer for OneBatch {
        async fn poll(&mut self, _max: usize, _wait: Duration) -> Result<Vec<LogRecord>, LogError> {
            Ok(std::mem::take(&mut self.0))
        }

        async fn commit(&mut self, _records: &[LogRecord]) -> Result<(), LogError> {
            Ok(())
        }
    }

    fn record_at(offset: i64) -> LogRecord {
        LogRecord {
            topic: "t".into(),
            partition: 0,
            offset,
            key: "k".into(),
            headers: vec![],
            payload: vec![],
        }
    }

    #[test]
    fn a_committed_batch_is_one_sample_and_an_idle_poll_none() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let mut consumer = OneBatch(vec![record_at(0), record_at(1), record_at(2)]);
        metrics::with_local_recorder(&recorder, || {
            futures::executor::block_on(async {
                let mut timer = BatchTimer::new(&mut consumer, "conversation-worker");
                let batch = timer.poll(10, Duration::ZERO).await.unwrap();
                timer.commit(&batch).await.unwrap();
                let idle = timer.poll(10, Duration::ZERO).await.unwrap();
                timer.commit(&idle).await.unwrap();
            })
        });
        let text = handle.render();
        let group = "{group=\"conversation-worker\"}";
        assert!(
            text.contains(&format!("{BATCH_RECORDS}_count{group} 1\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!("{BATCH_RECORDS}_sum{group} 3\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!("{BATCH_SECONDS}_count{group} 1\n")),
            "{text}"
        );
    }
}
