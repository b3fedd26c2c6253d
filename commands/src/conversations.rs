//! Recording guest messages on their conversation's `Session` stream: one command at a time
//! ([`Conversations`], one store commit each) or a polled batch at a time ([`ConversationBatch`],
//! one store commit for the whole batch).

use std::sync::{Arc, Mutex};

use conserje_domain::journal::{AggregateStore, UnitOfWork};
use conserje_domain::session::{
    session_stream_id, GuestMessage, Session, SessionCommand, SessionError,
};
use conserje_domain::EventMetadata;
use cqrs_es::AggregateError;

use crate::retry::{execute_with_retry, MAX_ATTEMPTS};
use crate::CommandError;

/// How many times a batch is decided and committed whole before its commands go one by one.
pub const BATCH_ATTEMPTS: u32 = 3;

/// The conversations' streams, and the retries their commands need.
pub struct Conversations {
    sessions: Arc<dyn AggregateStore<Session>>,
}

/// A session command's failure as callers see it: a refusal by its code, a stream that does not
/// exist, a race lost `attempts` times.
fn command_error(stream: &str, err: AggregateError<SessionError>, attempts: u32) -> CommandError {
    match err {
        AggregateError::AggregateConflict => CommandError::Conflict { attempts },
        AggregateError::UserError(SessionError::NoSession) => {
            CommandError::NotFound(format!("session {stream}"))
        }
        other => CommandError::from_aggregate(other, SessionError::code),
    }
}

/// A refused message is an invalid one, whatever the session's reason.
fn record_error(err: AggregateError<SessionError>, attempts: u32) -> CommandError {
    match err {
        AggregateError::AggregateConflict => CommandError::Conflict { attempts },
        other => CommandError::from_aggregate(other, |_| "invalid_message"),
    }
}

fn record_command(message: GuestMessage) -> (String, SessionCommand) {
    let stream = session_stream_id(&message.tenant_id, message.channel, &message.guest_ref);
    (stream, SessionCommand::RecordGuestMessage(message))
}

impl Conversations {
    pub fn new(sessions: Arc<dyn AggregateStore<Session>>) -> Self {
        Self { sessions }
    }

    /// A batch of commands on many conversations, decided on the batch's own state and committed
    /// together by [`ConversationBatch::commit`].
    pub fn batch(&self) -> ConversationBatch<'_> {
        ConversationBatch {
            conversations: self,
            work: self.sessions.unit_of_work(),
            decided: Mutex::new(Vec::new()),
        }
    }

    /// Records the message once (a repeated provider message id is a no-op). Concurrent messages
    /// of one conversation each land as their own event: a lost race is retried on fresh state.
    pub async fn record(
        &self,
        message: GuestMessage,
        meta: EventMetadata,
    ) -> Result<String, CommandError> {
        let (stream, command) = record_command(message);
        execute_with_retry(self.sessions.as_ref(), &stream, command, &meta)
            .await
            .map_err(|err| record_error(err, MAX_ATTEMPTS))?;
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
            .map_err(|err| command_error(stream, err, MAX_ATTEMPTS))
    }

    /// The conversation's current state.
    pub async fn session(&self, stream: &str) -> Result<Session, CommandError> {
        self.sessions
            .load(stream)
            .await
            .map_err(|e| CommandError::Store(e.to_string()))
    }
}

/// Commands of one polled batch: decided at once on the batch's copy of each conversation,
/// committed in one store transaction.
///
/// Nothing is visible to anyone (the relay, the replies, the API) before [`Self::commit`]; a batch
/// dropped uncommitted leaves no trace, and its records are delivered again.
pub struct ConversationBatch<'a> {
    conversations: &'a Conversations,
    work: Box<dyn UnitOfWork<Session>>,
    /// Every command decided, in order, for the fallback of [`Self::commit`].
    decided: Mutex<Vec<(String, SessionCommand, EventMetadata)>>,
}

impl ConversationBatch<'_> {
    fn remember(&self, stream: &str, command: SessionCommand, meta: &EventMetadata) {
        self.decided
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((stream.to_owned(), command, meta.clone()));
    }

    /// Commits every command of the batch in one transaction; returns how many events were
    /// written.
    ///
    /// When another writer (the sender recording a delivery, staff replying, a late booking
    /// notice) moved one of the batch's conversations meanwhile, the transaction fails whole. The
    /// unit then names the conversations that moved; only their commands are decided again, in
    /// order, on fresh state, and the batch is committed again, up to [`BATCH_ATTEMPTS`] times.
    /// Deciding the whole batch again, or running it command by command, on every lost race was
    /// measured to cost most of the worker's rate at 300 msg/s: the sender records deliveries on
    /// the very conversations the worker is answering. Only when the batch keeps losing, or
    /// fresh state refuses one of its commands, are they run one by one with their own retries —
    /// what happens without a batch, so a lost race costs time, never a message. A command fresh
    /// state refuses fails the batch, whose records are then delivered again and decided anew.
    pub async fn commit(self) -> Result<usize, CommandError> {
        let decided = self
            .decided
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut attempt = 1;
        let refused = loop {
            match self.work.commit().await {
                Err(AggregateError::AggregateConflict) if attempt < BATCH_ATTEMPTS => {}
                Err(AggregateError::AggregateConflict) => break false,
                other => return other.map_err(|err| CommandError::Store(err.to_string())),
            }
            attempt += 1;
            let moved = self
                .work
                .take_moved()
                .await
                .map_err(|err| CommandError::Store(err.to_string()))?;
            tracing::debug!(
                moved = moved.len(),
                attempt,
                "conversations of the batch moved meanwhile; deciding their commands again"
            );
            let mut refused = moved.is_empty();
            let moved: std::collections::HashSet<String> = moved.into_iter().collect();
            for (stream, command, meta) in decided.iter().filter(|(s, ..)| moved.contains(s)) {
                if self
                    .work
                    .execute(stream, command.clone(), meta.clone())
                    .await
                    .is_err()
                {
                    refused = true;
                    break;
                }
            }
            if refused {
                break true;
            }
        };
        tracing::info!(
            commands = decided.len(),
            refused,
            "the batch could not be committed whole; committing its commands one by one"
        );
        let commands = decided.len();
        for (stream, command, meta) in decided {
            self.conversations.execute(&stream, command, &meta).await?;
        }
        Ok(commands)
    }

    /// Records the message once on the batch's state (see [`Conversations::record`]).
    pub async fn record(
        &self,
        message: GuestMessage,
        meta: EventMetadata,
    ) -> Result<String, CommandError> {
        let (stream, command) = record_command(message);
        self.work
            .execute(&stream, command.clone(), meta.clone())
            .await
            .map_err(|err| record_error(err, 1))?;
        self.remember(&stream, command, &meta);
        Ok(stream)
    }

    /// Decides any other command on the batch's state of `stream`.
    pub async fn execute(
        &self,
        stream: &str,
        command: SessionCommand,
        meta: &EventMetadata,
    ) -> Result<(), CommandError> {
        self.work
            .execute(stream, command.clone(), meta.clone())
            .await
            .map_err(|err| command_error(stream, err, 1))?;
        self.remember(stream, command, meta);
        Ok(())
    }

    /// The conversation as the store and the batch's commands so far leave it.
    pub async fn session(&self, stream: &str) -> Result<Session, CommandError> {
        self.work
            .load(stream)
            .await
            .map_err(|e| CommandError::Store(e.to_string()))
    }
}
