use cqrs_es::AggregateError;

/// Why a command handler could not do what was asked. `Refused` carries the domain's stable code.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    #[error("not found: {0}")]
    NotFound(String),
    /// Cancelling now costs this under the hotel's policy; ask and cancel again accepting it.
    #[error(
        "cancelling now costs {fee_minor} (minor units of {currency}); accept the fee to cancel"
    )]
    CancellationFee { fee_minor: i64, currency: String },
    #[error("the stream kept changing under {attempts} attempts")]
    Conflict { attempts: u32 },
    #[error("event store: {0}")]
    Store(String),
    /// The language-understanding corpus or model could not be loaded: the service must not
    /// start without it.
    #[error("language model: {0}")]
    Model(String),
}

impl CommandError {
    /// Maps an aggregate's outcome, turning its own refusal into `Refused` with its code.
    pub fn from_aggregate<E: std::error::Error>(
        err: AggregateError<E>,
        code: impl Fn(&E) -> &'static str,
    ) -> Self {
        match err {
            AggregateError::UserError(e) => Self::Refused {
                code: code(&e),
                message: e.to_string(),
            },
            AggregateError::AggregateConflict => Self::Conflict { attempts: 1 },
            other => Self::Store(other.to_string()),
        }
    }
}
