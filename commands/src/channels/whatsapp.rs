//! The WhatsApp Cloud API webhook payload (`object: whatsapp_business_account`) and its
//! normalisation.
//!
//! One delivery may carry several business numbers (`entry[].changes[].value.metadata`), each
//! with messages and delivery statuses; messages are returned grouped by the number they were
//! sent to, because the number decides the hotel.

use chrono::{DateTime, Utc};
use conserje_domain::choice::Choice;
use conserje_domain::session::{MediaKind, MediaRef, Reaction, SharedContact, SharedLocation};
use conserje_domain::values::GuestRef;
use serde::Deserialize;

use super::{full_name, malformed, non_blank, ChannelMessage};
use crate::CommandError;

mod status;

use status::normalise_status;
pub use status::{GuestReceipt, Status, StatusError};

/// A webhook delivery, as Meta posts it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Webhook {
    /// `whatsapp_business_account` for WhatsApp deliveries.
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

/// One WhatsApp Business Account's changes.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Entry {
    /// The WhatsApp Business Account id.
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// One change notification; only `field: messages` carries messages and statuses.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Change {
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub value: Option<Value>,
}

/// What happened on one business number.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Value {
    /// Always `whatsapp`.
    #[serde(default)]
    pub messaging_product: Option<String>,
    #[serde(default)]
    pub metadata: Option<Metadata>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub statuses: Vec<Status>,
}

/// The business number the messages were sent to.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub display_phone_number: Option<String>,
    /// How a webhook finds its hotel.
    pub phone_number_id: String,
}

/// A guest who wrote, with the name of their WhatsApp profile.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Contact {
    #[serde(default)]
    pub profile: Option<Profile>,
    #[serde(default)]
    pub wa_id: Option<String>,
}

/// A WhatsApp profile.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Profile {
    #[serde(default)]
    pub name: Option<String>,
}

/// A provider timestamp: Meta writes unix seconds as a string; a number is accepted too.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Timestamp {
    /// `"1749416383"`, as Meta sends it.
    Text(String),
    /// `1749416383`, as some relays re-encode it.
    Number(i64),
}

impl Timestamp {
    /// The instant, when it is one.
    pub fn instant(&self) -> Option<DateTime<Utc>> {
        let seconds = match self {
            Self::Text(text) => text.trim().parse::<i64>().ok()?,
            Self::Number(n) => *n,
        };
        DateTime::from_timestamp(seconds, 0)
    }
}

/// One message a guest sent. Every field is optional so that a type conserje does not know
/// decodes (and is counted as ignored) instead of failing the delivery.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Message {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub timestamp: Option<Timestamp>,
    /// `text`, `audio`, `image`, `interactive`, `button`, `location`, `sticker`, `reaction`…
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub text: Option<Text>,
    #[serde(default)]
    pub audio: Option<Media>,
    #[serde(default)]
    pub image: Option<Media>,
    #[serde(default)]
    pub interactive: Option<Interactive>,
    #[serde(default)]
    pub button: Option<Button>,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub video: Option<Media>,
    #[serde(default)]
    pub document: Option<Media>,
    #[serde(default)]
    pub sticker: Option<Media>,
    #[serde(default)]
    pub reaction: Option<MessageReaction>,
    /// The contact cards of a `contacts` message (not the sender: that is `Value::contacts`).
    #[serde(default)]
    pub contacts: Vec<ContactCard>,
}

/// A reaction to a message: removing one sends an empty emoji.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MessageReaction {
    /// The wamid of the message reacted to.
    #[serde(default)]
    pub message_id: Option<String>,
    #[serde(default)]
    pub emoji: Option<String>,
}

/// A contact card the guest shared.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContactCard {
    #[serde(default)]
    pub name: Option<ContactName>,
    #[serde(default)]
    pub phones: Vec<ContactPhone>,
}

/// A contact card's name.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContactName {
    #[serde(default)]
    pub formatted_name: Option<String>,
}

/// One phone of a contact card.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContactPhone {
    #[serde(default)]
    pub phone: Option<String>,
}

/// A text message's body.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Text {
    #[serde(default)]
    pub body: Option<String>,
}

/// An attachment (audio, image, video, document, sticker), fetched later through the media
/// endpoint by its id.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Media {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
    /// True for a voice note recorded in WhatsApp (audio only).
    #[serde(default)]
    pub voice: Option<bool>,
    /// The text sent with an image, a video or a document.
    #[serde(default)]
    pub caption: Option<String>,
}

/// The guest's answer to an interactive message.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Interactive {
    /// `button_reply` or `list_reply` (others, like flow replies, are ignored).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub button_reply: Option<Reply>,
    #[serde(default)]
    pub list_reply: Option<Reply>,
}

/// The option of a reply button or list row the guest chose.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Reply {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A quick-reply button of a template message.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Button {
    #[serde(default)]
    pub payload: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
}

/// A shared location.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

/// The messages and receipts one business number received in a delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberBatch {
    /// `metadata.phone_number_id`: which hotel's number.
    pub phone_number_id: String,
    pub messages: Vec<ChannelMessage>,
    /// Its statuses, in the order WhatsApp sent them.
    pub receipts: Vec<GuestReceipt>,
}

/// What a delivery amounts to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delivery {
    /// Every business number the delivery names, including those with only statuses, so the
    /// gateway can count numbers nobody configured.
    pub batches: Vec<NumberBatch>,
    /// Delivery statuses of outgoing messages, recorded as receipts (see [`NumberBatch`]).
    pub statuses: u64,
    /// Statuses conserje cannot record: no message id, no recipient, or a status word it does
    /// not know (WhatsApp adds some from time to time).
    pub statuses_ignored: u64,
    /// Messages with nothing conserje records (a removed reaction, `unsupported`, a poll…).
    pub ignored: u64,
}

impl Delivery {
    /// How many messages to record.
    pub fn message_count(&self) -> usize {
        self.batches.iter().map(|b| b.messages.len()).sum()
    }
}

/// Decodes a delivery; `Refused { code: "malformed_request" }` when it is not one.
pub fn parse(body: &[u8]) -> Result<Webhook, CommandError> {
    serde_json::from_slice(body).map_err(|e| malformed(&e))
}

/// The `phone_number_id`s a body names, read leniently from any JSON; `None` when the body is not
/// JSON at all.
///
/// This is for choosing which hotel's app secret checks the signature, *before* the body is
/// trusted: nothing else may use it.
pub fn phone_number_ids(body: &[u8]) -> Option<Vec<String>> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut ids: Vec<String> = Vec::new();
    let entries = json.get("entry").and_then(|e| e.as_array());
    for entry in entries.into_iter().flatten() {
        let changes = entry.get("changes").and_then(|c| c.as_array());
        for change in changes.into_iter().flatten() {
            let id = change
                .pointer("/value/metadata/phone_number_id")
                .and_then(|id| id.as_str());
            if let Some(id) = id {
                if !ids.iter().any(|known| known == id) {
                    ids.push(id.to_owned());
                }
            }
        }
    }
    Some(ids)
}

/// The messages of `webhook`, grouped by business number, and what was left out. `now` stands
/// in for a message without a usable timestamp.
pub fn normalise(webhook: &Webhook, now: DateTime<Utc>) -> Delivery {
    let mut delivery = Delivery::default();
    if webhook.object != "whatsapp_business_account" {
        return delivery;
    }
    let values = webhook
        .entry
        .iter()
        .flat_map(|e| &e.changes)
        .filter(|c| c.field == "messages")
        .filter_map(|c| c.value.as_ref());
    for value in values {
        delivery.statuses += value.statuses.len() as u64;
        let Some(metadata) = &value.metadata else {
            // Without the business number there is no hotel to record them for.
            delivery.ignored += value.messages.len() as u64;
            continue;
        };
        let mut messages = Vec::new();
        for message in &value.messages {
            match normalise_message(message, &value.contacts, now) {
                Some(m) => messages.push(m),
                None => delivery.ignored += 1,
            }
        }
        let mut receipts = Vec::new();
        for status in &value.statuses {
            match normalise_status(status, now) {
                Some(r) => receipts.push(r),
                None => delivery.statuses_ignored += 1,
            }
        }
        delivery.batches.push(NumberBatch {
            phone_number_id: metadata.phone_number_id.clone(),
            messages,
            receipts,
        });
    }
    delivery
}

/// One message, or `None` when it has nothing conserje records.
fn normalise_message(
    message: &Message,
    contacts: &[Contact],
    now: DateTime<Utc>,
) -> Option<ChannelMessage> {
    let id = non_blank(message.id.as_deref())?;
    let contact = sender(message, contacts);
    let wa_id = contact
        .and_then(|c| c.wa_id.as_deref())
        .or(message.from.as_deref())?;
    let guest = GuestRef::parse(wa_id).ok()?;
    let guest_name = contact
        .and_then(|c| c.profile.as_ref())
        .and_then(|p| full_name([p.name.as_deref()]));
    let received_at = message
        .timestamp
        .as_ref()
        .and_then(Timestamp::instant)
        .unwrap_or(now);
    let mut normalised = ChannelMessage::new(guest, id, received_at);
    normalised.guest_name = guest_name;
    match message.kind.as_deref()? {
        "text" => {
            normalised.text = non_blank(message.text.as_ref()?.body.as_deref());
            normalised.text.as_ref()?;
        }
        "audio" => normalised.media = Some(media(MediaKind::Audio, message.audio.as_ref()?)?),
        "sticker" => {
            normalised.media = Some(media(MediaKind::Sticker, message.sticker.as_ref()?)?);
        }
        kind @ ("image" | "video" | "document") => {
            let (kind, file) = match kind {
                "image" => (MediaKind::Image, &message.image),
                "video" => (MediaKind::Video, &message.video),
                _ => (MediaKind::Document, &message.document),
            };
            let file = file.as_ref()?;
            normalised.media = Some(media(kind, file)?);
            normalised.text = non_blank(file.caption.as_deref());
        }
        "reaction" => {
            // An empty emoji takes a reaction back: nothing to answer.
            let reaction = message.reaction.as_ref()?;
            normalised.reaction = Some(Reaction {
                to: non_blank(reaction.message_id.as_deref())?,
                emoji: non_blank(reaction.emoji.as_deref())?,
            });
        }
        "contacts" => {
            let cards: Vec<SharedContact> = message
                .contacts
                .iter()
                .map(|card| SharedContact {
                    name: card
                        .name
                        .as_ref()
                        .and_then(|n| non_blank(n.formatted_name.as_deref())),
                    phones: card
                        .phones
                        .iter()
                        .filter_map(|p| non_blank(p.phone.as_deref()))
                        .collect(),
                })
                .filter(|c| c.name.is_some() || !c.phones.is_empty())
                .collect();
            if cards.is_empty() {
                return None;
            }
            normalised.contacts = Some(cards);
        }
        "interactive" => {
            let interactive = message.interactive.as_ref()?;
            let reply = match interactive.kind.as_deref() {
                Some("button_reply") => interactive.button_reply.as_ref(),
                Some("list_reply") => interactive.list_reply.as_ref(),
                _ => None,
            }?;
            normalised.text = Some(non_blank(reply.title.as_deref())?);
            normalised.choice = reply.id.as_deref().and_then(Choice::parse);
        }
        "button" => {
            let button = message.button.as_ref()?;
            normalised.text =
                Some(non_blank(button.text.as_deref()).or(non_blank(button.payload.as_deref()))?);
            normalised.choice = button.payload.as_deref().and_then(Choice::parse);
        }
        "location" => {
            let location = message.location.as_ref()?;
            if !location.latitude.is_finite() || !location.longitude.is_finite() {
                return None;
            }
            normalised.location = Some(SharedLocation {
                latitude: location.latitude,
                longitude: location.longitude,
                name: non_blank(location.name.as_deref()),
                address: non_blank(location.address.as_deref()),
            });
        }
        _ => return None,
    }
    Some(normalised)
}

/// The contact who sent `message`: the one with its `from`, or else the only one (Meta sends
/// one contact per message it delivers on its own).
fn sender<'a>(message: &Message, contacts: &'a [Contact]) -> Option<&'a Contact> {
    contacts
        .iter()
        .find(|c| c.wa_id.is_some() && c.wa_id == message.from)
        .or(match contacts {
            [only] => Some(only),
            _ => None,
        })
}

fn media(kind: MediaKind, media: &Media) -> Option<MediaRef> {
    Some(MediaRef {
        kind,
        provider_media_id: non_blank(media.id.as_deref())?,
        mime_type: non_blank(media.mime_type.as_deref()),
        duration_seconds: None,
    })
}

#[cfg(test)]
mod tests;
