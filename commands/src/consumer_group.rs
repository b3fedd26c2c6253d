//! The loop every consumer group of this crate runs: join, handle batch after batch, and on a
//! failure leave the group and join again, so the uncommitted batch is delivered again.

use std::sync::Arc;
use std::time::Duration;

use std::collections::BTreeMap;
use std::future::Future;

use async_trait::async_trait;
use conserje_domain::log::{LogConsumer, LogRecord, MessageLog};
use tokio::sync::watch;

use crate::batch_metrics::BatchTimer;
use crate::CommandError;

/// One consumer group's handling of a polled batch.
#[async_trait]
pub trait BatchHandler: Send + Sync {
    /// Handles one batch (waiting at most `wait` for records) and commits it; returns how many
    /// records it took.
    async fn step(
        &self,
        consumer: &mut dyn LogConsumer,
        wait: Duration,
    ) -> Result<usize, CommandError>;
}

/// Handles `batch` key by key — keys concurrently, one key's records in log order, since each key
/// is one conversation with one writer — and commits it once every key succeeded; returns how
/// many records it took. A failure leaves the batch uncommitted, to be delivered again.
pub async fn handle_per_key<'a, F, Fut>(
    consumer: &mut dyn LogConsumer,
    batch: &'a [LogRecord],
    handle: F,
) -> Result<usize, CommandError>
where
    F: Fn(Vec<&'a LogRecord>) -> Fut,
    Fut: Future<Output = Result<(), CommandError>>,
{
    decide_per_key(batch, handle).await?;
    consumer
        .commit(batch)
        .await
        .map_err(|e| CommandError::Store(e.to_string()))?;
    Ok(batch.len())
}

/// Handles `batch` key by key as [`handle_per_key`] does, without committing it on the log: for a
/// caller with its own commit to make first.
pub async fn decide_per_key<'a, F, Fut>(
    batch: &'a [LogRecord],
    handle: F,
) -> Result<(), CommandError>
where
    F: Fn(Vec<&'a LogRecord>) -> Fut,
    Fut: Future<Output = Result<(), CommandError>>,
{
    let mut keys: BTreeMap<&str, Vec<&LogRecord>> = BTreeMap::new();
    for record in batch {
        keys.entry(&record.key).or_default().push(record);
    }
    let outcomes = futures::future::join_all(keys.into_values().map(handle)).await;
    outcomes.into_iter().collect::<Result<Vec<()>, _>>()?;
    Ok(())
}

/// Where a group reads and how long it waits for records.
pub struct GroupSpec<'a> {
    pub group: &'a str,
    pub topic: &'a str,
    pub wait: Duration,
}

/// Runs `handler` as `spec.group` on `spec.topic` until `shutdown` turns true. A failed batch is
/// not committed: the group is joined again after a pause and the batch delivered again.
pub async fn run(
    log: Arc<dyn MessageLog>,
    spec: GroupSpec<'_>,
    handler: Arc<dyn BatchHandler>,
    mut shutdown: watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        match log.consumer(spec.group, spec.topic).await {
            Ok(mut consumer) => loop {
                // Times each committed batch (conserje_consumer_batch_*{group}).
                let mut timed = BatchTimer::new(consumer.as_mut(), spec.group);
                tokio::select! {
                    outcome = handler.step(&mut timed, spec.wait) => {
                        if let Err(err) = outcome {
                            tracing::error!(group = spec.group, error = %err, "batch failed; it will be delivered again");
                            break;
                        }
                    }
                    _ = shutdown.changed() => {
                        if *shutdown.borrow() {
                            return;
                        }
                    }
                }
            },
            Err(err) => {
                tracing::error!(group = spec.group, error = %err, "cannot join the topic; retrying")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => {}
        }
    }
}
