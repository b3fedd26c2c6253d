//! Outbound replies: every `ReplyComposed` becomes a record on `conserje.outbound.v1`, where the
//! channel senders pick it up.
//!
//! This runs as a consumer group on the events topic, so a reply composed and committed is never
//! lost to a crash before sending: the relay carries it from the store, and this projection
//! turns it into a send job at least once. The sender drops duplicates by reply id.

use std::sync::Arc;

use async_trait::async_trait;
use conserje_domain::channel::OutboundReply;
use conserje_domain::journal::StoredEvent;
use conserje_domain::log::MessageLog;
use conserje_domain::metadata::keys;
use conserje_domain::session::{conversation_of, Session, SessionEvent};
use cqrs_es::Aggregate;

use crate::relay::PendingAppends;
use crate::{EventHandler, ProjectionError};

/// The consumer group that turns composed replies into send jobs.
pub const PROJECTION: &str = "outbound-replies";

/// Collects the replies of a batch and appends them on flush.
pub struct OutboundReplies {
    topic: String,
    pending: PendingAppends,
}

impl OutboundReplies {
    /// Appends onto `topic` (the deployment's outbound topic).
    pub fn new(log: Arc<dyn MessageLog>, topic: &str) -> Self {
        Self {
            topic: topic.to_owned(),
            pending: PendingAppends::new(log, "outbound replies"),
        }
    }
}

#[async_trait]
impl EventHandler for OutboundReplies {
    async fn handle(&self, stored: &StoredEvent) -> Result<(), ProjectionError> {
        if stored.aggregate_type != Session::TYPE {
            return Ok(());
        }
        let SessionEvent::ReplyComposed { reply, .. } = ProjectionError::decode::<Session>(stored)?
        else {
            return Ok(());
        };
        let Some((tenant_id, channel, guest_ref)) = conversation_of(&stored.aggregate_id) else {
            return Err(ProjectionError::Handler(format!(
                "session id {:?} is not tenant/channel/guest",
                stored.aggregate_id
            )));
        };
        let outbound = OutboundReply {
            reply_id: reply.reply_id,
            tenant_id,
            channel,
            guest_ref,
            text: reply.text,
            language: reply.language,
            message_template: reply.message_template,
            choices: reply.choices,
            proactive: reply.proactive,
        };
        let mut record = outbound
            .record(&self.topic, &stored.aggregate_id)
            .map_err(|e| ProjectionError::Handler(e.to_string()))?;
        for (header, key) in [
            ("traceparent", keys::TRACEPARENT),
            ("correlation_id", keys::CORRELATION_ID),
        ] {
            if let Some(value) = stored.meta(key) {
                record.headers.push((header.to_owned(), value.to_owned()));
            }
        }
        self.pending.push(record).await;
        Ok(())
    }

    async fn flush(&self) -> Result<(), ProjectionError> {
        self.pending.flush().await
    }
}
