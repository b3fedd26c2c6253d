use conserje_domain::journal::JournalError;

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
