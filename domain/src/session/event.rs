//! What happened in a conversation: the `Session`'s events.

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::command::DeliveryOutcome;
use super::message::{Edit, MediaRef, Reaction, SharedContact, SharedLocation};
use super::receipt::{ReceiptFailure, ReceiptStatus};
use super::{DialogueState, Reply};
use crate::understanding::Understood;
use crate::values::{Channel, GuestRef, TenantId};

/// Why the bot handed the conversation to staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    /// The guest asked for a person.
    GuestAsked,
    /// Two turns in a row the bot was not confident it understood.
    LowConfidence,
    /// Something failed that the guest would otherwise have seen.
    Error,
    /// The guest said it is urgent outside business hours.
    Urgent,
    /// WhatsApp refused a reply because the guest's 24-hour window had closed (131047): only a
    /// person (or a template) can reach the guest now, and staff must know the reply never went.
    WindowClosed,
    /// A member of staff took the conversation over from the console or the API, unasked.
    StaffTookOver,
}

impl HandoffReason {
    /// The reason's word, as events and analytics spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::GuestAsked => "guest_asked",
            Self::LowConfidence => "low_confidence",
            Self::Error => "error",
            Self::Urgent => "urgent",
            Self::WindowClosed => "window_closed",
            Self::StaffTookOver => "staff_took_over",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SessionEvent {
    SessionStarted {
        tenant_id: TenantId,
        channel: Channel,
        guest_ref: GuestRef,
        started_at: DateTime<Utc>,
    },
    GuestMessageReceived {
        provider_message_id: String,
        text: Option<String>,
        media: Option<MediaRef>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        location: Option<SharedLocation>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        guest_name: Option<String>,
        received_at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reaction: Option<Reaction>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        contacts: Option<Vec<SharedContact>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        edit: Option<Edit>,
    },
    AudioTranscribed {
        provider_message_id: String,
        text: String,
    },
    AudioTranscriptionFailed {
        provider_message_id: String,
        reason: String,
        attempt: u32,
    },
    IntentRecognized {
        /// The turn the intent belongs to (the provider message id).
        turn_key: String,
        #[serde(flatten)]
        understood: Understood,
        model_version: Option<String>,
    },
    SlotsUpdated {
        state: DialogueState,
    },
    ReplyComposed {
        /// The turn it answers; `None` for a staff reply.
        turn_key: Option<String>,
        /// `bot` or `staff:<id>`.
        author: String,
        #[serde(flatten)]
        reply: Reply,
    },
    HandoffRequested {
        reason: HandoffReason,
        /// Who took it over, for [`HandoffReason::StaffTookOver`] (the actor, `staff:<key name>`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        taken_by: Option<String>,
    },
    HandoffResolved {
        resolved_by: String,
    },
    ReplyDelivered {
        reply_id: Uuid,
        #[serde(flatten)]
        outcome: DeliveryOutcome,
    },
    /// The guest's platform said what became of a sent message; recorded only when it tells more
    /// than the message's last receipt (see [`super::receipt`]).
    ReceiptRecorded {
        /// The platform's id of the message.
        provider_message_id: String,
        /// Our reply, when its send was recorded before the receipt came.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_id: Option<Uuid>,
        status: ReceiptStatus,
        at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure: Option<ReceiptFailure>,
    },
}

impl DomainEvent for SessionEvent {
    fn event_type(&self) -> String {
        match self {
            Self::SessionStarted { .. } => "SessionStarted",
            Self::GuestMessageReceived { .. } => "GuestMessageReceived",
            Self::AudioTranscribed { .. } => "AudioTranscribed",
            Self::AudioTranscriptionFailed { .. } => "AudioTranscriptionFailed",
            Self::IntentRecognized { .. } => "IntentRecognized",
            Self::SlotsUpdated { .. } => "SlotsUpdated",
            Self::ReplyComposed { .. } => "ReplyComposed",
            Self::HandoffRequested { .. } => "HandoffRequested",
            Self::HandoffResolved { .. } => "HandoffResolved",
            Self::ReplyDelivered { .. } => "ReplyDelivered",
            Self::ReceiptRecorded { .. } => "ReceiptRecorded",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
