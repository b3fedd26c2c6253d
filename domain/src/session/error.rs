//! Why a conversation refuses a command.

use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("a message must carry text, media or a location")]
    EmptyMessage,
    #[error("message belongs to conversation {expected}, not this one")]
    WrongConversation { expected: String },
    #[error("the conversation has no message {0}")]
    UnknownMessage(String),
    #[error("the conversation has no session yet")]
    NoSession,
    #[error("the conversation is with staff; the bot does not answer until they resolve it")]
    HandedOff,
    #[error("the conversation is not handed off to staff")]
    NotHandedOff,
    #[error("the conversation is already with staff")]
    AlreadyHandedOff,
    #[error("a reply must have text (at most 4096 characters)")]
    InvalidReply,
    #[error("the conversation has no reply {0}")]
    UnknownReply(Uuid),
    /// WhatsApp takes free-form messages only within 24 hours of the guest's last message;
    /// after that it refuses them (131047) and the guest would never see the reply.
    #[error(
        "WhatsApp's 24-hour window closed at {closed_at} (24 hours after the guest's last \
         message): only an approved template can reach the guest now"
    )]
    WindowClosed { closed_at: DateTime<Utc> },
}

impl SessionError {
    /// The stable code of this refusal, for the API's error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmptyMessage => "empty_message",
            Self::WrongConversation { .. } => "wrong_conversation",
            Self::UnknownMessage(_) => "unknown_message",
            Self::NoSession => "no_session",
            Self::HandedOff => "handed_off",
            Self::NotHandedOff => "not_handed_off",
            Self::AlreadyHandedOff => "already_handed_off",
            Self::InvalidReply => "invalid_reply",
            Self::UnknownReply(_) => "unknown_reply",
            Self::WindowClosed { .. } => "window_closed",
        }
    }
}
