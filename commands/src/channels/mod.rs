//! What the guests' channels deliver to the webhooks, turned into channel-neutral messages.
//!
//! Pure functions over the providers' payloads: no I/O, no secrets, no tenant lookup. The gateway
//! authenticates a delivery, resolves its hotel and appends what these functions return; keeping
//! the payload shapes here lets them be tested against the providers' documented examples alone.
//!
//! Anything a channel may send that conserje has nothing to record for (a removed reaction, a
//! poll, a member update…) is counted, never an error: a provider retries a webhook
//! that is not answered `200`, so refusing a shape we do not
//! use would only make it retry forever.

pub mod telegram;
pub mod whatsapp;

use chrono::{DateTime, Utc};
use conserje_domain::choice::Choice;
use conserje_domain::session::{
    Edit, GuestMessage, MediaRef, Reaction, SharedContact, SharedLocation,
};
use conserje_domain::values::{Channel, GuestRef, TenantId};

use crate::CommandError;

/// The refusal code of a payload that is not JSON of the provider's shape (the gateway answers
/// it with `400`).
pub const MALFORMED: &str = "malformed_request";

/// One guest message as a channel delivered it, before its hotel is known: WhatsApp finds the
/// hotel from the business number of the payload, Telegram from the webhook's URL, so the
/// tenant is added by the gateway with [`ChannelMessage::into_guest_message`].
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelMessage {
    /// The WhatsApp `wa_id` or the Telegram chat id.
    pub guest: GuestRef,
    /// The name the channel's profile gives.
    pub guest_name: Option<String>,
    /// The provider's id of the message: redeliveries carry the same one, so they dedupe.
    pub provider_message_id: String,
    /// The guest's words: text, a caption, or the title of the option a button or list chose.
    pub text: Option<String>,
    pub media: Option<MediaRef>,
    pub location: Option<SharedLocation>,
    /// When the provider says the guest sent it.
    pub received_at: DateTime<Utc>,
    /// The button pressed, when the platform's id for it is one of ours.
    pub choice: Option<Choice>,
    pub reaction: Option<Reaction>,
    pub contacts: Option<Vec<SharedContact>>,
    /// Set when the guest edited a message they had sent.
    pub edit: Option<Edit>,
}

impl ChannelMessage {
    /// A message of `guest` with nothing in it yet, for the normalisers to fill.
    fn new(guest: GuestRef, provider_message_id: String, received_at: DateTime<Utc>) -> Self {
        Self {
            guest,
            guest_name: None,
            provider_message_id,
            text: None,
            media: None,
            location: None,
            received_at,
            choice: None,
            reaction: None,
            contacts: None,
            edit: None,
        }
    }
}

impl ChannelMessage {
    /// The message of `tenant`'s conversation on `channel`.
    pub fn into_guest_message(self, tenant_id: TenantId, channel: Channel) -> GuestMessage {
        GuestMessage {
            tenant_id,
            channel,
            guest_ref: self.guest,
            provider_message_id: self.provider_message_id,
            text: self.text,
            media: self.media,
            location: self.location,
            guest_name: self.guest_name,
            received_at: self.received_at,
            choice: self.choice,
            reaction: self.reaction,
            contacts: self.contacts,
            edit: self.edit,
        }
    }
}

/// A payload that did not decode, as the crate's error.
fn malformed(err: &serde_json::Error) -> CommandError {
    CommandError::Refused {
        code: MALFORMED,
        message: format!("the webhook body is not a valid payload: {err}"),
    }
}

/// `Some(text)` unless it is empty or blank.
fn non_blank(text: Option<&str>) -> Option<String> {
    text.filter(|t| !t.trim().is_empty()).map(str::to_owned)
}

/// A display name from its parts, skipping the missing and blank ones.
fn full_name<'a>(parts: impl IntoIterator<Item = Option<&'a str>>) -> Option<String> {
    let name = parts
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!name.is_empty()).then_some(name)
}
