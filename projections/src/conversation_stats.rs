//! The `conversation-stats` projection: what guests ask (one row per understood message, with
//! intent, language and confidence), when the bot hands them to staff, and what became of the
//! replies on the guest's platform (one row per recorded receipt), for the analysts'
//! `intent_mix`, `handoff_counts` and `reply_read_rate` views.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use conserje_domain::journal::StoredEvent;
use conserje_domain::metadata::keys;
use conserje_domain::session::{Session, SessionEvent};
use cqrs_es::Aggregate;

use crate::{EventHandler, ProjectionError};

/// The consumer group of this projection.
pub const PROJECTION: &str = "conversation-stats";

/// What one conversation event tells analysts.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnKind {
    Intent {
        intent: String,
        language: String,
        /// `es`, `en`, `pt-BR` or `pt-PT`.
        locale: String,
        confidence: f32,
        model_version: Option<String>,
        /// What the bot had asked when the message was read as its answer.
        from_context: Option<String>,
    },
    Handoff {
        reason: String,
    },
    /// A receipt of a sent reply: `sent`, `delivered`, `read` or `failed` (with its code).
    Receipt {
        /// The platform's id of the message.
        message_id: String,
        status: String,
        failure_code: Option<i64>,
    },
}

/// One row of `analytics_turns`.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnFact {
    pub session_id: String,
    /// The event's sequence in its session: with the session id, what makes a row unique.
    pub sequence: i64,
    pub tenant_id: String,
    pub channel: String,
    pub recorded_at: DateTime<Utc>,
    pub kind: TurnKind,
}

/// Where turn facts are kept (`analytics_turns`, implemented in infra).
#[async_trait]
pub trait TurnFacts: Send + Sync {
    /// Stores each fact unless a fact with the same (session, sequence) exists, all or none.
    async fn record_all(&self, facts: &[TurnFact]) -> Result<(), ProjectionError>;
}

pub struct ConversationStats {
    facts: Arc<dyn TurnFacts>,
    /// Facts of the batch being applied, written in one transaction at its flush.
    batch: crate::write_behind::Facts<TurnFact>,
}

impl ConversationStats {
    pub fn new(facts: Arc<dyn TurnFacts>) -> Self {
        Self {
            facts,
            batch: Default::default(),
        }
    }
}

/// The snake_case name serde gives a unit variant (`guest_asked`).
fn name_of(value: impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[async_trait]
impl EventHandler for ConversationStats {
    async fn handle(&self, stored: &StoredEvent) -> Result<(), ProjectionError> {
        if stored.aggregate_type != Session::TYPE
            || !matches!(
                stored.event_type.as_str(),
                "IntentRecognized" | "HandoffRequested" | "ReceiptRecorded"
            )
        {
            return Ok(());
        }
        let kind = match ProjectionError::decode::<Session>(stored)? {
            SessionEvent::IntentRecognized {
                understood,
                model_version,
                ..
            } => TurnKind::Intent {
                intent: understood.intent.name().to_owned(),
                language: understood.language.code().to_owned(),
                locale: understood.locale().code().to_owned(),
                confidence: understood.confidence,
                model_version,
                from_context: understood.from_context.map(name_of),
            },
            SessionEvent::HandoffRequested { reason, .. } => TurnKind::Handoff {
                reason: name_of(reason),
            },
            SessionEvent::ReceiptRecorded {
                provider_message_id,
                status,
                failure,
                ..
            } => TurnKind::Receipt {
                message_id: provider_message_id,
                status: status.as_str().to_owned(),
                failure_code: failure.map(|f| i64::from(f.code)),
            },
            _ => return Ok(()),
        };
        let fact = TurnFact {
            session_id: stored.aggregate_id.clone(),
            sequence: stored.sequence,
            tenant_id: stored.meta(keys::TENANT_ID).unwrap_or_default().to_owned(),
            channel: stored.meta(keys::CHANNEL).unwrap_or_default().to_owned(),
            recorded_at: stored.recorded_at,
            kind,
        };
        self.batch.push(fact);
        Ok(())
    }

    async fn flush(&self) -> Result<(), ProjectionError> {
        let facts = self.batch.take();
        if facts.is_empty() {
            return Ok(());
        }
        self.facts
            .record_all(&facts)
            .await
            .inspect_err(|_| self.batch.restore(facts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conserje_domain::session::HandoffReason;

    #[test]
    fn handoff_reasons_are_named_as_in_events() {
        assert_eq!(name_of(HandoffReason::LowConfidence), "low_confidence");
    }
}
