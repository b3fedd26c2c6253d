//! Why a conversation refuses a command.

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
    #[error("a reply must have text (at most 4096 characters)")]
    InvalidReply,
    #[error("the conversation has no reply {0}")]
    UnknownReply(Uuid),
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
            Self::InvalidReply => "invalid_reply",
            Self::UnknownReply(_) => "unknown_reply",
        }
    }
}
