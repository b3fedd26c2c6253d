//! Bounded retry of a command that lost an optimistic-concurrency race.
//!
//! Two writers to one stream both load version n; the store lets one commit n+1 and refuses the
//! other. The loser re-runs the command on the fresh state, which re-checks every rule, so a retry
//! can never commit something the winner's event made invalid.

use std::time::Duration;

use conserje_domain::journal::AggregateStore;
use conserje_domain::EventMetadata;
use cqrs_es::{Aggregate, AggregateError};

/// Attempts before a conflict is reported to the caller (the API answers 409).
pub const MAX_ATTEMPTS: u32 = 64;

/// A random pause below a ceiling that doubles with each lost race (2 ms, 4 ms… at most 128 ms):
/// many writers on one stream spread out quickly instead of colliding again in lockstep, while a
/// lone loser retries at once.
fn backoff(attempt: u32) -> Duration {
    let ceiling = 2u64 << attempt.saturating_sub(1).min(6);
    Duration::from_millis(fastrand::u64(1..=ceiling))
}

/// Executes `command`, retrying on conflict with a short randomised back-off so that contenders
/// spread out instead of colliding again in lockstep.
pub async fn execute_with_retry<A>(
    store: &dyn AggregateStore<A>,
    aggregate_id: &str,
    command: A::Command,
    metadata: &EventMetadata,
) -> Result<(), AggregateError<A::Error>>
where
    A: Aggregate + 'static,
    A::Command: Clone + Send + 'static,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match store
            .execute(aggregate_id, command.clone(), metadata.clone())
            .await
        {
            Err(AggregateError::AggregateConflict) if attempt < MAX_ATTEMPTS => {
                tokio::time::sleep(backoff(attempt)).await;
            }
            outcome => return outcome,
        }
    }
}
