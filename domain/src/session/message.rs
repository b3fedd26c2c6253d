//! One message as the guest sent it, after channel normalisation, and the bounds every way in
//! applies to it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::values::{Channel, GuestRef, TenantId};

/// What kind of file a guest sent. Only a voice note is read (transcribed); the others are
/// recorded and acknowledged with words that fit them, so a guest who sends a PDF is told the
/// bot cannot open it instead of being thanked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// A voice note or an audio file: transcribed and answered like text.
    Audio,
    Image,
    Video,
    /// A PDF, a spreadsheet, any file.
    Document,
    Sticker,
}

impl MediaKind {
    /// The word the read models and the transcript show.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Audio => "audio",
            Self::Image => "image",
            Self::Video => "video",
            Self::Document => "document",
            Self::Sticker => "sticker",
        }
    }
}

impl std::fmt::Display for MediaKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A piece of media the guest sent, referenced by the provider's media id (fetched later).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRef {
    pub kind: MediaKind,
    pub provider_media_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Telegram says how long a voice note is; WhatsApp does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<u32>,
}

/// A place the guest shared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedLocation {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// A reaction the guest put on one of our messages (WhatsApp's `type: reaction`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    /// The platform's id of the message reacted to (the wamid of our reply).
    pub to: String,
    pub emoji: String,
}

/// What a reaction says, when it says yes or no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReactionMeaning {
    Yes,
    No,
}

impl Reaction {
    /// 👍 ❤️ 👌 ✅ 🙏 (in any skin tone) say yes; 👎 ❌ say no; anything else says neither.
    pub fn meaning(&self) -> Option<ReactionMeaning> {
        // Skin-tone modifiers and the emoji variation selector change how it looks, not what it
        // says: "👍🏽" and "❤" are a yes like "👍" and "❤️".
        let bare: String = self
            .emoji
            .chars()
            .filter(|c| !matches!(c, '\u{1F3FB}'..='\u{1F3FF}' | '\u{FE0F}' | '\u{FE0E}'))
            .collect();
        match bare.as_str() {
            "👍" | "❤" | "👌" | "✅" | "🙏" | "😍" | "🥰" => {
                Some(ReactionMeaning::Yes)
            }
            "👎" | "❌" | "🚫" => Some(ReactionMeaning::No),
            _ => None,
        }
    }
}

/// A contact card the guest shared (WhatsApp's `type: contacts`, Telegram's `contact`): personal
/// data of someone else, sealed like the guest's own words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedContact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
}

/// The message a guest's edit changed (Telegram's `edited_message`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    /// The platform's id of the edited message in its chat (Telegram's `message_id`).
    pub message_ref: String,
    /// When the edited message was first sent.
    pub sent_at: DateTime<Utc>,
}

/// One message as the guest sent it, after channel normalisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuestMessage {
    pub tenant_id: TenantId,
    pub channel: Channel,
    pub guest_ref: GuestRef,
    pub provider_message_id: String,
    /// The guest's words; for a button or list reply, the title of the option chosen.
    pub text: Option<String>,
    pub media: Option<MediaRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<SharedLocation>,
    /// The name the channel's profile gives (WhatsApp contact name, Telegram first/last name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_name: Option<String>,
    pub received_at: DateTime<Utc>,
    /// The button it pressed, when the platform named one we can read (`text` is its title).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<crate::choice::Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction: Option<Reaction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<SharedContact>>,
    /// Set when this is a new version of a message the guest had sent: recorded, not answered
    /// again (the bot answered the original).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit: Option<Edit>,
}

/// The longest text a guest message keeps, on every way in: WhatsApp's and Telegram's own limit
/// for a text message. The API refuses longer texts; a webhook's is cut here (the provider has
/// already accepted it from the guest, and refusing would only make it retry).
pub const MAX_TEXT_CHARS: usize = 4096;

/// How far back a message's own timestamp may claim to have been sent.
pub const RECEIVED_AT_PAST: chrono::Duration = chrono::Duration::days(7);
/// How far ahead of our clock a sender's clock may be.
pub const RECEIVED_AT_FUTURE: chrono::Duration = chrono::Duration::minutes(5);

impl GuestMessage {
    /// Whether it carries anything to record: words, a file, a place, a reaction or a contact.
    pub fn has_content(&self) -> bool {
        self.text.as_deref().is_some_and(|t| !t.trim().is_empty())
            || self.media.is_some()
            || self.location.is_some()
            || self.reaction.is_some()
            || self.contacts.as_ref().is_some_and(|c| !c.is_empty())
    }

    /// The sender's timestamp, clamped to [now − 7 days, now + 5 minutes]. A `received_at` in
    /// year 9999 would otherwise keep the session "active" for ever, and one in 1970 would make
    /// the message older than the conversation it answers.
    pub fn bounded_received_at(claimed: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
        claimed.clamp(now - RECEIVED_AT_PAST, now + RECEIVED_AT_FUTURE)
    }

    /// Bounds the text to [`MAX_TEXT_CHARS`] characters (cut on a character boundary) and the
    /// timestamp with [`GuestMessage::bounded_received_at`].
    pub fn bounded(mut self, now: DateTime<Utc>) -> Self {
        if let Some(text) = &mut self.text {
            if let Some((cut, _)) = text.char_indices().nth(MAX_TEXT_CHARS) {
                text.truncate(cut);
            }
        }
        self.received_at = Self::bounded_received_at(self.received_at, now);
        self
    }
}
