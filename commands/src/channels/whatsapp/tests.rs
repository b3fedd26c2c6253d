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
            kind: MediaKind::Audio,
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
    assert_eq!(media.kind, MediaKind::Image);
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
fn statuses_removed_reactions_and_unknown_types_are_counted_not_recorded() {
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
                            "from": "16505551234", "id": "wamid.unreact",
                            "timestamp": "1744344496", "type": "reaction",
                            "reaction": { "message_id": "wamid.x" }
                        },
                        {
                            "from": "16505551234", "id": "wamid.unreact2",
                            "timestamp": "1744344496", "type": "reaction",
                            "reaction": { "message_id": "wamid.x", "emoji": "" }
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

#[test]
fn a_reaction_names_the_message_it_is_on() {
    let body = delivery(
        sheena(),
        json!([{
            "from": "16505551234", "id": "wamid.reaction", "timestamp": "1744344496",
            "type": "reaction",
            "reaction": { "message_id": "wamid.quote", "emoji": "\u{1F44D}\u{1F3FD}" }
        }]),
    );
    let message = only_message(&body);
    assert_eq!(
        message.reaction,
        Some(Reaction {
            to: "wamid.quote".into(),
            emoji: "👍🏽".into()
        })
    );
    assert_eq!(message.text, None);
}

#[test]
fn videos_documents_and_stickers_are_media_of_their_kind() {
    let body = delivery(
        sheena(),
        json!([
            { "from": "16505551234", "id": "wamid.v", "timestamp": "1744344496", "type": "video",
              "video": { "id": "v1", "mime_type": "video/mp4", "sha256": "x", "caption": "the view" } },
            { "from": "16505551234", "id": "wamid.d", "timestamp": "1744344496", "type": "document",
              "document": { "id": "d1", "mime_type": "application/pdf", "filename": "booking.pdf" } },
            { "from": "16505551234", "id": "wamid.s", "timestamp": "1744344496", "type": "sticker",
              "sticker": { "id": "s1", "mime_type": "image/webp", "animated": false } }
        ]),
    );
    let normalised = normalise(&parse(&body).unwrap(), now());
    let messages = &normalised.batches[0].messages;
    let kinds: Vec<(MediaKind, &str)> = messages
        .iter()
        .map(|m| {
            let media = m.media.as_ref().unwrap();
            (media.kind, media.provider_media_id.as_str())
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (MediaKind::Video, "v1"),
            (MediaKind::Document, "d1"),
            (MediaKind::Sticker, "s1")
        ]
    );
    assert_eq!(messages[0].text.as_deref(), Some("the view"));
    assert_eq!(normalised.ignored, 0);
}

#[test]
fn a_contact_card_keeps_its_name_and_phones() {
    let body = delivery(
        sheena(),
        json!([{
            "from": "16505551234", "id": "wamid.c", "timestamp": "1744344496", "type": "contacts",
            "contacts": [{
                "name": { "formatted_name": "Marta Ruiz", "first_name": "Marta" },
                "phones": [{ "phone": "+34 600 222 333", "wa_id": "34600222333", "type": "CELL" },
                           { "phone": " " }]
            }, { "name": {} }]
        }]),
    );
    let message = only_message(&body);
    assert_eq!(
        message.contacts,
        Some(vec![SharedContact {
            name: Some("Marta Ruiz".into()),
            phones: vec!["+34 600 222 333".into()],
        }]),
        "blank phones and empty cards are left out"
    );
}
