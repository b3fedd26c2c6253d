//! What may be asked of a conversation.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::event::HandoffReason;
use super::message::GuestMessage;
use super::receipt::Receipt;
use super::{DialogueState, Reply};
use crate::channel::SendError;
use crate::template::TemplateUse;
use crate::understanding::Understood;

/// What the dialogue decided for one guest message (or one notice about it), recorded at once so
/// a crash never leaves an intent without its reply or a reply without its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// The provider message id the turn answers, or `<id>:audio-pending` for the notice that a
    /// voice note is being transcribed: each key is answered once, so redeliveries stay silent.
    pub turn_key: String,
    pub understood: Option<Understood>,
    pub model_version: Option<String>,
    /// The dialogue state after the turn, when it changed.
    pub dialogue: Option<DialogueState>,
    pub replies: Vec<Reply>,
    pub handoff: Option<HandoffReason>,
}

/// How a reply left (or failed to leave) through the channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DeliveryOutcome {
    Sent {
        provider_message_id: Option<String>,
        /// The WhatsApp message template it went as, when it did not go as free text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        template: Option<TemplateUse>,
    },
    KeptInOutbox,
    Failed {
        reason: String,
        /// What the failure means for the conversation (a plain refusal when absent).
        #[serde(default, skip_serializing_if = "FailureCause::is_refused")]
        cause: FailureCause,
    },
}

/// Why a reply could not go, as far as what follows depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCause {
    /// The provider refused it, or kept failing (the reason says how).
    #[default]
    Refused,
    /// WhatsApp's 24-hour window had closed (131047) and no template could go: the
    /// conversation goes to staff with that reason.
    WindowClosed,
    /// The guest cannot be reached on the channel: a Telegram user who never started the chat
    /// (a bot cannot write first) or blocked the bot.
    Unreachable,
}

impl FailureCause {
    fn is_refused(&self) -> bool {
        *self == Self::Refused
    }

    /// The dead-letter reason of a reply that failed so.
    pub fn code(self) -> &'static str {
        match self {
            Self::Refused => "send_failed",
            Self::WindowClosed => "window_closed",
            Self::Unreachable => "guest_unreachable",
        }
    }
}

impl From<&SendError> for FailureCause {
    fn from(error: &SendError) -> Self {
        match error {
            SendError::Transient(_) | SendError::Permanent(_) | SendError::RateLimited { .. } => {
                Self::Refused
            }
            SendError::WindowClosed(_) => Self::WindowClosed,
            SendError::Unreachable(_) => Self::Unreachable,
        }
    }
}

impl DeliveryOutcome {
    /// Sent as free text, with the platform's id of the message when it gave one.
    pub fn sent(provider_message_id: Option<String>) -> Self {
        Self::Sent {
            provider_message_id,
            template: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SessionCommand {
    RecordGuestMessage(GuestMessage),
    RecordTranscript {
        provider_message_id: String,
        text: String,
    },
    RecordTranscriptionFailure {
        provider_message_id: String,
        reason: String,
        attempt: u32,
    },
    RecordTurn(Turn),
    /// A guest message and the turn that answers it, in one commit: the worker's usual path for a
    /// typed message, half the commits of recording and answering apart.
    RecordAnsweredMessage {
        message: Box<GuestMessage>,
        turn: Box<Turn>,
    },
    /// Staff answer the guest themselves (usually during a handoff).
    RecordStaffReply {
        reply: Reply,
        /// When staff sent it: outside WhatsApp's window it is refused
        /// ([`super::SessionError::WindowClosed`]).
        at: chrono::DateTime<chrono::Utc>,
    },
    ResolveHandoff {
        resolved_by: String,
    },
    /// Staff take the conversation from the bot (the console's "take over"): from then on the
    /// bot records the guest's messages and does not answer them, as after any handoff.
    TakeOver {
        taken_by: String,
    },
    /// A message the hotel writes first (see [`crate::proactive`]): it starts the conversation
    /// when the guest never wrote, goes even while staff have it (it is a notice, not the bot
    /// talking over them), and is recorded once under `turn_key` however often it is asked.
    RecordProactiveMessage {
        tenant_id: crate::values::TenantId,
        channel: crate::values::Channel,
        guest_ref: crate::values::GuestRef,
        turn_key: String,
        reply: Reply,
        at: chrono::DateTime<chrono::Utc>,
    },
    /// What the guest's platform says became of sent replies (WhatsApp's statuses), several at
    /// once, in the order the platform sent them.
    RecordReceipts {
        receipts: Vec<Receipt>,
        /// The hotel has a template to send again, as, a reply WhatsApp refused for the closed
        /// window (a `failed` 131047 receipt): the reply is resent that way and the conversation
        /// stays with the bot. Without one, staff are handed the conversation with the reason.
        #[serde(default)]
        template_fallback: bool,
    },
    /// How replies left through the channel, several at once: the sender records a whole batch
    /// of one conversation in one commit.
    RecordDeliveries {
        deliveries: Vec<(Uuid, DeliveryOutcome)>,
    },
}
