//! Rebuilding a projection from the beginning of the store's global order.
//!
//! A replay writes a complete copy beside the live one (a shadow table, a new key generation),
//! swaps it in atomically, then runs a final pass from where it stopped into the now-live copy.
//! The final pass covers whatever a live projection applied to the old copy during the replay,
//! and since every projection is idempotent and per-row monotonic on (aggregate, sequence), the
//! live projection can keep running throughout: nothing it applied is lost, nothing is doubled.

use conserje_domain::journal::{Checkpoint, EventFeed};

use crate::{EventHandler, ProjectionError};

/// How many events a replay reads per batch.
const BATCH: usize = 2_000;

/// Feeds every event after `from` to `handler`, reporting the running count to `progress`;
/// returns how many events it fed and where it stopped.
pub async fn feed_all(
    feed: &dyn EventFeed,
    from: Checkpoint,
    handler: &dyn EventHandler,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<(u64, Checkpoint), ProjectionError> {
    let mut checkpoint = from;
    let mut fed = 0;
    loop {
        let batch = feed.read_after(checkpoint, BATCH).await?;
        let Some(last) = batch.last() else {
            return Ok((fed, checkpoint));
        };
        for event in &batch {
            handler.handle(event).await?;
        }
        handler.flush().await?;
        checkpoint = Checkpoint::after(last);
        fed += batch.len() as u64;
        progress(fed);
    }
}
