//! One message as the guest sent it, after channel normalisation, and the bounds every way in
//! applies to it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::values::{GuestRef, TenantId};

/// A piece of media the guest sent, referenced by the provider's media id (fetched later).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRef {
    /// `audio`, `image`, `document`…
    pub kind: String,
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

/// One message as the guest sent it, after channel normalisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuestMessage {
    pub tenant_id: TenantId,
    pub channel: String,
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
