//! The `message-stats` projection: one analytics row per guest message, from which the
//! `message_counts` view gives messages per hotel, channel and day.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use conserje_domain::journal::StoredEvent;
use conserje_domain::metadata::keys;
use conserje_domain::session::{Session, SessionEvent};
use cqrs_es::Aggregate;

use crate::{EventHandler, ProjectionError};

/// The consumer group of this projection.
pub const PROJECTION: &str = "message-stats";

/// One guest message, as analysts count it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageFact {
    pub session_id: String,
    /// The event's sequence in its session: with the session id, what makes a row unique.
    pub sequence: i64,
    pub tenant_id: String,
    pub channel: String,
    pub received_at: DateTime<Utc>,
}

/// Where message facts are kept (`analytics_messages`, implemented in infra).
#[async_trait]
pub trait MessageFacts: Send + Sync {
    /// Stores each fact unless a fact with the same (session, sequence) exists, all or none.
    async fn record_all(&self, facts: &[MessageFact]) -> Result<(), ProjectionError>;
}

pub struct MessageStats {
    facts: Arc<dyn MessageFacts>,
    /// Facts of the batch being applied, written in one transaction at its flush.
    batch: crate::write_behind::Facts<MessageFact>,
}

impl MessageStats {
    pub fn new(facts: Arc<dyn MessageFacts>) -> Self {
        Self {
            facts,
            batch: Default::default(),
        }
    }
}

#[async_trait]
impl EventHandler for MessageStats {
    async fn handle(&self, stored: &StoredEvent) -> Result<(), ProjectionError> {
        if stored.aggregate_type != Session::TYPE || stored.event_type != "GuestMessageReceived" {
            return Ok(());
        }
        let Ok(SessionEvent::GuestMessageReceived { received_at, .. }) = stored.decode::<Session>()
        else {
            return Err(ProjectionError::Decode {
                aggregate_type: stored.aggregate_type.clone(),
                aggregate_id: stored.aggregate_id.clone(),
                sequence: stored.sequence,
                reason: "not a GuestMessageReceived payload".into(),
            });
        };
        let fact = MessageFact {
            session_id: stored.aggregate_id.clone(),
            sequence: stored.sequence,
            tenant_id: stored.meta(keys::TENANT_ID).unwrap_or_default().to_owned(),
            channel: stored.meta(keys::CHANNEL).unwrap_or_default().to_owned(),
            received_at,
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
