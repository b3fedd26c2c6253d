//! The WhatsApp Cloud API webhook payload (`object: whatsapp_business_account`) and its
//! normalisation.
//!
//! One delivery may carry several business numbers (`entry[].changes[].value.metadata`), each
//! with messages and delivery statuses; messages are returned grouped by the number they were
//! sent to, because the number decides the hotel.

use chrono::{DateTime, Utc};
use conserje_domain::session::{MediaRef, Receipt, ReceiptFailure, ReceiptStatus, SharedLocation};
use conserje_domain::values::GuestRef;
use serde::Deserialize;

use super::{full_name, malformed, non_blank, ChannelMessage};
use crate::CommandError;

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
}

/// A text message's body.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Text {
    #[serde(default)]
    pub body: Option<String>,
}

/// An audio or image attachment, fetched later through the media endpoint by its id.
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
    /// The text sent with an image.
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

/// A delivery status of a message the hotel sent (sent, delivered, read, failed).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Status {
    /// The `wamid` of the message it is about.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// The guest's `wa_id`.
    #[serde(default)]
    pub recipient_id: Option<String>,
    #[serde(default)]
    pub timestamp: Option<Timestamp>,
    /// A `failed` status's reasons (Graph API errors: `code`, `title`).
    #[serde(default)]
    pub errors: Vec<StatusError>,
}

/// Why WhatsApp gave up on a message.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StatusError {
    #[serde(default)]
    pub code: Option<u32>,
    #[serde(default)]
    pub title: Option<String>,
}

/// One status, as a receipt for the conversation with `guest`.
#[derive(Debug, Clone, PartialEq)]
pub struct GuestReceipt {
    pub guest: GuestRef,
    pub receipt: Receipt,
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
    /// Messages with nothing conserje records (stickers, reactions, unsupported…).
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

/// One status as a receipt, or `None` when it names no message, no guest or no status conserje
/// knows. `now` stands in for a missing timestamp.
fn normalise_status(status: &Status, now: DateTime<Utc>) -> Option<GuestReceipt> {
    let id = non_blank(status.id.as_deref())?;
    let guest = GuestRef::parse(status.recipient_id.as_deref()?).ok()?;
    let word = status.status.as_deref()?;
    let kind = ReceiptStatus::parse(word)?;
    let failure = status
        .errors
        .first()
        .filter(|_| kind == ReceiptStatus::Failed)
        .map(|error| ReceiptFailure {
            code: error.code.unwrap_or_default(),
            title: error.title.clone().unwrap_or_default(),
        });
    Some(GuestReceipt {
        guest,
        receipt: Receipt {
            provider_message_id: id,
            status: kind,
            at: status
                .timestamp
                .as_ref()
                .and_then(Timestamp::instant)
                .unwrap_or(now),
            failure,
        },
    })
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
    let mut normalised = ChannelMessage {
        guest,
        guest_name,
        provider_message_id: id,
        text: None,
        media: None,
        location: None,
        received_at: message
            .timestamp
            .as_ref()
            .and_then(Timestamp::instant)
            .unwrap_or(now),
    };
    match message.kind.as_deref()? {
        "text" => {
            normalised.text = non_blank(message.text.as_ref()?.body.as_deref());
            normalised.text.as_ref()?;
        }
        "audio" => normalised.media = Some(media("audio", message.audio.as_ref()?)?),
        "image" => {
            let image = message.image.as_ref()?;
            normalised.media = Some(media("image", image)?);
            normalised.text = non_blank(image.caption.as_deref());
        }
        "interactive" => {
            let interactive = message.interactive.as_ref()?;
            let reply = match interactive.kind.as_deref() {
                Some("button_reply") => interactive.button_reply.as_ref(),
                Some("list_reply") => interactive.list_reply.as_ref(),
                _ => None,
            }?;
            normalised.text = Some(non_blank(reply.title.as_deref())?);
        }
        "button" => {
            let button = message.button.as_ref()?;
            normalised.text =
                Some(non_blank(button.text.as_deref()).or(non_blank(button.payload.as_deref()))?);
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

fn media(kind: &str, media: &Media) -> Option<MediaRef> {
    Some(MediaRef {
        kind: kind.to_owned(),
        provider_media_id: non_blank(media.id.as_deref())?,
        mime_type: non_blank(media.mime_type.as_deref()),
        duration_seconds: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    const PHONE_NUMBER_ID: &str = "106540352242922";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
    }

    /// The envelope of Meta's webhook examples around `messages` and `contacts`.
    fn delivery(contacts: serde_json::Value, messages: serde_json::Value) -> Vec<u8> {
        json!({
            "object": "whatsapp_business_account",
            "entry": [{
                "id": "102290129340398",
                "changes": [{
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "15550783881",
                            "phone_number_id": PHONE_NUMBER_ID
                        },
                        "contacts": contacts,
                        "messages": messages
                    },
                    "field": "messages"
                }]
            }]
        })
        .to_string()
        .into_bytes()
    }

    fn sheena() -> serde_json::Value {
        json!([{ "profile": { "name": "Sheena Nelson" }, "wa_id": "16505551234" }])
    }

    fn only_message(body: &[u8]) -> ChannelMessage {
        let normalised = normalise(&parse(body).unwrap(), now());
        assert_eq!(normalised.batches.len(), 1);
        assert_eq!(normalised.batches[0].phone_number_id, PHONE_NUMBER_ID);
        assert_eq!(normalised.batches[0].messages.len(), 1, "{normalised:?}");
        normalised.batches[0].messages[0].clone()
    }

    #[test]
    fn a_text_message_names_its_guest_and_keeps_the_provider_time() {
        let body = delivery(
            sheena(),
            json!([{
                "from": "16505551234",
                "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                "timestamp": "1749416383",
                "type": "text",
                "text": { "body": "Does it come in another color?" }
            }]),
        );
        let message = only_message(&body);
        assert_eq!(message.guest.as_str(), "16505551234");
        assert_eq!(message.guest_name.as_deref(), Some("Sheena Nelson"));
        assert_eq!(
            message.provider_message_id,
            "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
        );
        assert_eq!(
            message.text.as_deref(),
            Some("Does it come in another color?")
        );
        assert_eq!(
            message.received_at,
            Utc.timestamp_opt(1749416383, 0).unwrap()
        );
        assert!(message.media.is_none() && message.location.is_none());
    }

    #[test]
    fn a_voice_note_is_audio_media_without_text() {
        let body = delivery(
            sheena(),
            json!([{
                "from": "16505551234",
                "id": "wamid.voice",
                "timestamp": "1744344496",
                "type": "audio",
                "audio": {
                    "mime_type": "audio/ogg; codecs=opus",
                    "sha256": "cLHcxQ7yGkS8Bq5dK2wK4y0ZsHcH8vK7vT3hQkO5x1I=",
                    "id": "1003383421387256",
                    "voice": true
                }
            }]),
        );
        let message = only_message(&body);
        assert_eq!(message.text, None);
        assert_eq!(
            message.media,
            Some(MediaRef {
                kind: "audio".into(),
                provider_media_id: "1003383421387256".into(),
                mime_type: Some("audio/ogg; codecs=opus".into()),
                duration_seconds: None,
            })
        );
    }

    #[test]
    fn an_image_keeps_its_caption_as_text() {
        let body = delivery(
            sheena(),
            json!([{
                "from": "16505551234",
                "id": "wamid.image",
                "timestamp": "1744344496",
                "type": "image",
                "image": {
                    "caption": "This one?",
                    "mime_type": "image/jpeg",
                    "sha256": "SfInY0gHhlqfPnKRyBnCXfsl3wGdF7qf2fOTnAkDw9o=",
                    "id": "1952142402180270"
                }
            }]),
        );
        let message = only_message(&body);
        assert_eq!(message.text.as_deref(), Some("This one?"));
        let media = message.media.unwrap();
        assert_eq!(media.kind, "image");
        assert_eq!(media.provider_media_id, "1952142402180270");
        assert_eq!(media.mime_type.as_deref(), Some("image/jpeg"));
    }

    #[test]
    fn button_and_list_replies_and_template_buttons_become_the_option_title() {
        let body = delivery(
            sheena(),
            json!([
                {
                    "context": { "from": "15550783881", "id": "wamid.question" },
                    "from": "16505551234", "id": "wamid.button", "timestamp": "1744344496",
                    "type": "interactive",
                    "interactive": {
                        "type": "button_reply",
                        "button_reply": { "id": "confirm-yes", "title": "Sí, confirmar" }
                    }
                },
                {
                    "from": "16505551234", "id": "wamid.list", "timestamp": "1744344497",
                    "type": "interactive",
                    "interactive": {
                        "type": "list_reply",
                        "list_reply": {
                            "id": "room-suite", "title": "Suite", "description": "300 EUR/noche"
                        }
                    }
                },
                {
                    "context": { "from": "15550783881", "id": "wamid.template" },
                    "from": "16505551234", "id": "wamid.quick", "timestamp": "1744344498",
                    "type": "button",
                    "button": { "payload": "CHECKIN_HELP", "text": "Need help with check-in" }
                }
            ]),
        );
        let normalised = normalise(&parse(&body).unwrap(), now());
        let texts: Vec<_> = normalised.batches[0]
            .messages
            .iter()
            .map(|m| (m.provider_message_id.as_str(), m.text.as_deref()))
            .collect();
        assert_eq!(
            texts,
            [
                ("wamid.button", Some("Sí, confirmar")),
                ("wamid.list", Some("Suite")),
                ("wamid.quick", Some("Need help with check-in")),
            ]
        );
    }

    #[test]
    fn a_location_is_kept_with_its_name_and_address() {
        let body = delivery(
            sheena(),
            json!([{
                "from": "16505551234", "id": "wamid.location", "timestamp": "1744344496",
                "type": "location",
                "location": {
                    "address": "1 Hacker Way, Menlo Park, CA 94025",
                    "latitude": 37.483872,
                    "longitude": -122.148358,
                    "name": "Main Street Beach"
                }
            }]),
        );
        let location = only_message(&body).location.unwrap();
        assert_eq!(
            (location.latitude, location.longitude),
            (37.483872, -122.148358)
        );
        assert_eq!(location.name.as_deref(), Some("Main Street Beach"));
        assert_eq!(
            location.address.as_deref(),
            Some("1 Hacker Way, Menlo Park, CA 94025")
        );
    }

    #[test]
    fn statuses_and_unknown_types_are_counted_not_recorded() {
        let body = json!({
            "object": "whatsapp_business_account",
            "entry": [{
                "id": "102290129340398",
                "changes": [{
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "15550783881",
                            "phone_number_id": PHONE_NUMBER_ID
                        },
                        "contacts": sheena(),
                        "messages": [
                            {
                                "from": "16505551234", "id": "wamid.sticker",
                                "timestamp": "1744344496", "type": "sticker",
                                "sticker": { "mime_type": "image/webp", "id": "1", "animated": false }
                            },
                            {
                                "from": "16505551234", "id": "wamid.reaction",
                                "timestamp": "1744344496", "type": "reaction",
                                "reaction": { "message_id": "wamid.x", "emoji": "\u{1F44D}" }
                            },
                            {
                                "from": "16505551234", "id": "wamid.unsupported",
                                "timestamp": "1744344496", "type": "unsupported",
                                "errors": [{ "code": 131051, "title": "Message type unknown" }]
                            }
                        ],
                        "statuses": [{
                            "id": "wamid.sent", "status": "delivered", "timestamp": "1750263773",
                            "recipient_id": "16505551234",
                            "pricing": { "billable": true, "pricing_model": "PMP", "category": "utility" }
                        }, {
                            "id": "wamid.sent", "status": "read", "timestamp": "1750263774",
                            "recipient_id": "16505551234"
                        }]
                    },
                    "field": "messages"
                }]
            }]
        })
        .to_string();
        let normalised = normalise(&parse(body.as_bytes()).unwrap(), now());
        assert_eq!(normalised.statuses, 2);
        assert_eq!(normalised.ignored, 3);
        assert_eq!(normalised.message_count(), 0);
        assert_eq!(normalised.batches.len(), 1, "the number is still named");
    }

    #[test]
    fn messages_are_grouped_by_business_number_and_named_by_their_own_contact() {
        let value = |phone: &str, wa_id: &str, name: &str, id: &str| {
            json!({
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": { "display_phone_number": "1555", "phone_number_id": phone },
                    "contacts": [
                        { "profile": { "name": "Someone Else" }, "wa_id": "999" },
                        { "profile": { "name": name }, "wa_id": wa_id }
                    ],
                    "messages": [{
                        "from": wa_id, "id": id, "timestamp": "1744344496",
                        "type": "text", "text": { "body": "hola" }
                    }]
                },
                "field": "messages"
            })
        };
        let body = json!({
            "object": "whatsapp_business_account",
            "entry": [
                { "id": "1", "changes": [value("111", "5491155550001", "Ana", "wamid.a")] },
                { "id": "2", "changes": [value("222", "34600123456", "Luis", "wamid.b")] }
            ]
        })
        .to_string();
        assert_eq!(
            phone_number_ids(body.as_bytes()),
            Some(vec!["111".to_owned(), "222".to_owned()])
        );
        let normalised = normalise(&parse(body.as_bytes()).unwrap(), now());
        let got: Vec<_> = normalised
            .batches
            .iter()
            .map(|b| {
                let m = &b.messages[0];
                (
                    b.phone_number_id.as_str(),
                    m.guest.as_str(),
                    m.guest_name.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("111", "5491155550001", Some("Ana")),
                ("222", "34600123456", Some("Luis")),
            ]
        );
    }

    #[test]
    fn a_message_without_id_or_sender_or_body_is_ignored() {
        let body = delivery(
            json!([]),
            json!([
                { "from": "1", "timestamp": "1", "type": "text", "text": { "body": "no id" } },
                { "id": "wamid.nofrom", "timestamp": "1", "type": "text", "text": { "body": "x" } },
                { "from": "1", "id": "wamid.blank", "timestamp": "1", "type": "text",
                  "text": { "body": "   " } },
                { "from": "1", "id": "wamid.notime", "type": "text", "text": { "body": "ok" } }
            ]),
        );
        let normalised = normalise(&parse(&body).unwrap(), now());
        assert_eq!(normalised.ignored, 3);
        let kept = &normalised.batches[0].messages;
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].provider_message_id, "wamid.notime");
        assert_eq!(kept[0].received_at, now(), "no timestamp: when it arrived");
        assert_eq!(kept[0].guest_name, None);
    }

    #[test]
    fn malformed_bodies_are_refused_with_the_malformed_code() {
        for body in [&b"{not json"[..], br#"{"entry": "nope"}"#, br#"[1, 2]"#] {
            match parse(body) {
                Err(CommandError::Refused { code, .. }) => {
                    assert_eq!(code, super::super::MALFORMED)
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(phone_number_ids(b"{not json"), None);
        assert_eq!(phone_number_ids(br#"{"entry": "nope"}"#), Some(vec![]));
    }

    #[test]
    fn other_objects_are_not_whatsapp_messages() {
        let body = br#"{"object": "page", "entry": []}"#;
        assert_eq!(normalise(&parse(body).unwrap(), now()), Delivery::default());
    }
}
