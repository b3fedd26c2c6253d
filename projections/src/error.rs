use conserje_domain::journal::{JournalError, StoredEvent};
use cqrs_es::Aggregate;

/// Why a projection could not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("read-model storage: {0}")]
    Storage(String),
    #[error("event {aggregate_type}/{aggregate_id}#{sequence} could not be decoded: {reason}")]
    Decode {
        aggregate_type: String,
        aggregate_id: String,
        sequence: i64,
        reason: String,
    },
    #[error("{0}")]
    Handler(String),
}

impl ProjectionError {
    /// Decodes `stored` as an event of `A`, naming the event when it cannot be decoded.
    pub fn decode<A: Aggregate>(stored: &StoredEvent) -> Result<A::Event, Self> {
        stored.decode::<A>().map_err(|e| Self::Decode {
            aggregate_type: stored.aggregate_type.clone(),
            aggregate_id: stored.aggregate_id.clone(),
            sequence: stored.sequence,
            reason: e.to_string(),
        })
    }
}
