//! Delivery receipts on `conserje.inbound.v1`: the gateway appends a conversation's receipts as
//! one record keyed by its session id, beside the guest's messages, and the conversation worker
//! records them on the `Session` (`RecordReceipts`).
//!
//! Why the inbound topic and not a topic of their own: a receipt and the guest's next message
//! are about the same conversation, and on one partition they are decided by its one writer, in
//! the order the platform sent them — no second writer can race the worker for the stream.

use conserje_domain::log::{LogRecord, OutgoingRecord, Topics};
use conserje_domain::metadata::Actor;
use conserje_domain::session::{session_stream_id, Receipt, SessionCommand};
use conserje_domain::values::{GuestRef, TenantId};
use conserje_domain::EventMetadata;
use serde::{Deserialize, Serialize};

use crate::CommandError;

/// The `event_type` header of a receipts record (a guest message's is `GuestMessage`).
pub const EVENT_TYPE: &str = "DeliveryReceipts";

/// The receipts of one conversation, as one inbound record carries them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationReceipts {
    pub tenant_id: TenantId,
    pub channel: String,
    pub guest_ref: GuestRef,
    pub receipts: Vec<Receipt>,
}

impl ConversationReceipts {
    /// The session the receipts are about.
    pub fn stream(&self) -> String {
        session_stream_id(&self.tenant_id, &self.channel, &self.guest_ref)
    }

    /// The command that records them.
    pub fn command(self) -> SessionCommand {
        SessionCommand::RecordReceipts {
            receipts: self.receipts,
        }
    }

    /// The audit context: the platform told us (its signed webhook), not the guest.
    pub fn metadata(&self, record: &LogRecord) -> EventMetadata {
        let meta = EventMetadata::new(
            self.tenant_id.clone(),
            Actor::system(&self.channel),
            &self.channel,
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
