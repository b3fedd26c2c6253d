//! Recording guest messages on their conversation's `Session` stream.

use std::sync::Arc;

use conserje_domain::journal::AggregateStore;
use conserje_domain::session::{
    session_stream_id, GuestMessage, Session, SessionCommand, SessionError,
};
use conserje_domain::EventMetadata;
use cqrs_es::AggregateError;

use crate::retry::{execute_with_retry, MAX_ATTEMPTS};
use crate::CommandError;

/// The conversations' streams, and the retries their commands need.
pub struct Conversations {
    sessions: Arc<dyn AggregateStore<Session>>,
}

impl Conversations {
    pub fn new(sessions: Arc<dyn AggregateStore<Session>>) -> Self {
        Self { sessions }
    }

    /// Records the message once (a repeated provider message id is a no-op). Concurrent messages
    /// of one conversation each land as their own event: a lost race is retried on fresh state.
    pub async fn record(
        &self,
        message: GuestMessage,
        meta: EventMetadata,
    ) -> Result<String, CommandError> {
        let stream = session_stream_id(&message.tenant_id, &message.channel, &message.guest_ref);
        let command = SessionCommand::RecordGuestMessage(message);
        execute_with_retry(self.sessions.as_ref(), &stream, command, &meta)
            .await
            .map_err(|err| match err {
                AggregateError::AggregateConflict => CommandError::Conflict {
                    attempts: MAX_ATTEMPTS,
                },
                other => CommandError::from_aggregate(other, |_| "invalid_message"),
            })?;
        Ok(stream)
    }

    /// Runs any other command on the conversation `stream` (a turn, a transcript, a delivery, a
    /// staff reply), retrying lost races on fresh state.
    pub async fn execute(
        &self,
        stream: &str,
        command: SessionCommand,
        meta: &EventMetadata,
    ) -> Result<(), CommandError> {
        execute_with_retry(self.sessions.as_ref(), stream, command, meta)
            .await
            .map_err(|err| match err {
                AggregateError::AggregateConflict => CommandError::Conflict {
                    attempts: MAX_ATTEMPTS,
                },
                AggregateError::UserError(SessionError::NoSession) => {
                    CommandError::NotFound(format!("session {stream}"))
                }
                other => CommandError::from_aggregate(other, SessionError::code),
            })
    }

    /// The conversation's current state.
    pub async fn session(&self, stream: &str) -> Result<Session, CommandError> {
        self.sessions
            .load(stream)
            .await
            .map_err(|e| CommandError::Store(e.to_string()))
    }
}
