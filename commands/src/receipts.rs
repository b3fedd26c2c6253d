//! Delivery receipts on `conserje.inbound.v1`: the gateway appends a conversation's receipts as
//! one record keyed by its session id, beside the guest's messages, and the conversation worker
//! records them on the `Session` (`RecordReceipts`).
//!
//! Why the inbound topic and not a topic of their own: a receipt and the guest's next message
//! are about the same conversation, and on one partition they are decided by its one writer, in
//! the order the platform sent them — no second writer can race the worker for the stream.

use std::sync::Arc;

use conserje_domain::channel::OutboundReply;
use conserje_domain::hotel::HotelProfiles;
use conserje_domain::journal::EventFeed;
use conserje_domain::log::{LogRecord, OutgoingRecord, Topics};
use conserje_domain::metadata::Actor;
use conserje_domain::session::{session_stream_id, Receipt, Session, SessionCommand, SessionEvent};
use conserje_domain::template::{TemplateName, TemplatePurpose};
use conserje_domain::values::{Channel, GuestRef, TenantId};
use conserje_domain::EventMetadata;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::CommandError;

/// The `event_type` header of a receipts record (a guest message's is `GuestMessage`).
pub const EVENT_TYPE: &str = "DeliveryReceipts";

/// The receipts of one conversation, as one inbound record carries them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationReceipts {
    pub tenant_id: TenantId,
    pub channel: Channel,
    pub guest_ref: GuestRef,
    pub receipts: Vec<Receipt>,
}

impl ConversationReceipts {
    /// The session the receipts are about.
    pub fn stream(&self) -> String {
        session_stream_id(&self.tenant_id, self.channel, &self.guest_ref)
    }

    /// The command that records them; `template_fallback` when the hotel has a template to
    /// resend a reply refused for the closed window.
    pub fn command(self, template_fallback: bool) -> SessionCommand {
        SessionCommand::RecordReceipts {
            receipts: self.receipts,
            template_fallback,
        }
    }

    /// The audit context: the platform told us (its signed webhook), not the guest.
    pub fn metadata(&self, record: &LogRecord) -> EventMetadata {
        let meta = EventMetadata::new(
            self.tenant_id.clone(),
            Actor::system(self.channel.as_str()),
            self.channel.as_str(),
        );
        crate::inbound::with_record_context(meta, record)
    }
}

/// Whether `record` carries receipts rather than a guest message.
pub fn is_receipts(record: &LogRecord) -> bool {
    record.header("event_type") == Some(EVENT_TYPE)
}

/// The inbound record for one conversation's receipts.
pub fn receipts_record(
    receipts: &ConversationReceipts,
    meta: &EventMetadata,
    topics: &Topics,
) -> Result<OutgoingRecord, CommandError> {
    let payload = serde_json::to_vec(receipts).map_err(|e| CommandError::Store(e.to_string()))?;
    let headers = crate::inbound::record_headers(&receipts.tenant_id, EVENT_TYPE, meta);
    Ok(OutgoingRecord {
        topic: topics.inbound.clone(),
        key: receipts.stream(),
        headers,
        payload,
    })
}

/// The template fallback of a reply WhatsApp refused *after* taking it: Meta often answers a
/// free-form send outside the window with `200` and a wamid, then posts a `failed` status with
/// 131047. The reply is sent again as the hotel's `reply` template, like one refused at once, so
/// the guest gets it and staff are not handed a conversation for nothing.
///
/// The reply's words are read back from its `ReplyComposed` event (the session keeps no texts),
/// and the resend goes onto the outbound topic once the batch that recorded the receipt — which
/// marks the reply undelivered again — is committed, so the sender sees it as still to send.
pub struct WindowFallback {
    feed: Arc<dyn EventFeed>,
    hotels: Arc<dyn HotelProfiles>,
}

impl WindowFallback {
    pub fn new(feed: Arc<dyn EventFeed>, hotels: Arc<dyn HotelProfiles>) -> Self {
        Self { feed, hotels }
    }

    /// The hotel's `reply` template, when it registers one.
    pub fn template(&self, tenant: &TenantId) -> Option<TemplateName> {
        self.hotels
            .profile(tenant)
            .templates
            .for_purpose(TemplatePurpose::Reply)
            .map(|t| t.name.clone())
    }

    /// The outbound records that send `refused` again as `template`.
    pub async fn resends(
        &self,
        receipts: &ConversationReceipts,
        refused: &[Uuid],
        template: &TemplateName,
        topics: &Topics,
    ) -> Result<Vec<OutgoingRecord>, CommandError> {
        if refused.is_empty() {
            return Ok(vec![]);
        }
        let stream = receipts.stream();
        let events = self
            .feed
            .stream(Session::TYPE, &stream)
            .await
            .map_err(|e| CommandError::Store(e.to_string()))?;
        let mut records = vec![];
        for stored in events.iter().filter(|e| e.event_type == "ReplyComposed") {
            let Ok(SessionEvent::ReplyComposed { reply, .. }) = stored.decode::<Session>() else {
                continue;
            };
            if !refused.contains(&reply.reply_id) {
                continue;
            }
            let outbound = OutboundReply {
                reply_id: reply.reply_id,
                tenant_id: receipts.tenant_id.clone(),
                channel: receipts.channel,
                guest_ref: receipts.guest_ref.clone(),
                text: reply.text,
                language: reply.language,
                message_template: Some(template.clone()),
                // A template carries no buttons; its words still ask.
                choices: None,
                proactive: reply.proactive,
            };
            tracing::info!(reply = %outbound.reply_id, template = %template, "reply refused for the closed window; sending it again as the template");
            records.push(
                outbound
                    .record(&topics.outbound, &stream)
                    .map_err(|e| CommandError::Store(e.to_string()))?,
            );
        }
        Ok(records)
    }
}
