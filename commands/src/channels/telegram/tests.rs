use super::*;
use chrono::TimeZone;
use serde_json::json;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
}

fn from() -> serde_json::Value {
    json!({
        "id": 1111111, "is_bot": false, "first_name": "Test", "last_name": "Lastname",
        "username": "Test", "language_code": "en"
    })
}

fn private_chat() -> serde_json::Value {
    json!({
        "id": 1111111, "first_name": "Test", "last_name": "Lastname",
        "username": "Test", "type": "private"
    })
}

/// An update with a message whose extra fields are `content`, as in the Bot API's examples.
fn update(update_id: i64, content: serde_json::Value) -> Vec<u8> {
    let mut message = json!({
        "message_id": 1365, "from": from(), "chat": private_chat(), "date": 1441645532
    });
    for (k, v) in content.as_object().unwrap() {
        message[k] = v.clone();
    }
    json!({ "update_id": update_id, "message": message })
        .to_string()
        .into_bytes()
}

fn normalised(body: &[u8]) -> Option<ChannelMessage> {
    normalise(&parse(body).unwrap(), now())
}

#[test]
fn a_text_message_is_the_chats_with_the_senders_name() {
    let message = normalised(&update(10000, json!({ "text": "/start" }))).unwrap();
    assert_eq!(message.guest.as_str(), "1111111");
    assert_eq!(message.guest_name.as_deref(), Some("Test Lastname"));
    assert_eq!(message.provider_message_id, "tg-10000");
    assert_eq!(message.text.as_deref(), Some("/start"));
    assert_eq!(
        message.received_at,
        Utc.timestamp_opt(1441645532, 0).unwrap()
    );
}

#[test]
fn a_voice_note_carries_its_file_and_duration() {
    let body = update(
        10001,
        json!({ "voice": {
            "file_id": "AwADBAADbXXXXXXXXXXXGBdhD2l6_XX", "file_unique_id": "AgADbX",
            "duration": 95, "mime_type": "audio/ogg", "file_size": 23000
        }}),
    );
    let message = normalised(&body).unwrap();
    assert_eq!(message.text, None);
    assert_eq!(
        message.media,
        Some(MediaRef {
            kind: MediaKind::Audio,
            provider_media_id: "AwADBAADbXXXXXXXXXXXGBdhD2l6_XX".into(),
            mime_type: Some("audio/ogg".into()),
            duration_seconds: Some(95),
        })
    );
}

#[test]
fn an_audio_file_is_audio_too() {
    let body = update(
        10002,
        json!({ "audio": {
            "file_id": "CQACAgIAAxk", "file_unique_id": "AgAD", "duration": 30,
            "performer": "Guest", "title": "memo", "mime_type": "audio/mpeg"
        }, "caption": "listen" }),
    );
    let message = normalised(&body).unwrap();
    let media = message.media.unwrap();
    assert_eq!(
        (media.kind.as_str(), media.mime_type.as_deref()),
        ("audio", Some("audio/mpeg"))
    );
    assert_eq!(message.text.as_deref(), Some("listen"));
}

#[test]
fn a_photo_is_its_largest_size_with_the_caption_as_text() {
    let body = update(
        10003,
        json!({
            "photo": [
                { "file_id": "small", "file_unique_id": "s", "width": 90, "height": 67, "file_size": 1200 },
                { "file_id": "large", "file_unique_id": "l", "width": 1280, "height": 960, "file_size": 98000 },
                { "file_id": "medium", "file_unique_id": "m", "width": 320, "height": 240, "file_size": 15000 }
            ],
            "caption": "¿Esta habitación?"
        }),
    );
    let message = normalised(&body).unwrap();
    assert_eq!(message.media.unwrap().provider_media_id, "large");
    assert_eq!(message.text.as_deref(), Some("¿Esta habitación?"));
}

#[test]
fn a_location_is_kept() {
    let body = update(
        10004,
        json!({ "location": { "latitude": -34.6037, "longitude": -58.3816 } }),
    );
    let location = normalised(&body).unwrap().location.unwrap();
    assert_eq!(
        (location.latitude, location.longitude),
        (-34.6037, -58.3816)
    );
}

#[test]
fn a_group_chat_is_a_negative_id_guest() {
    let body = json!({
        "update_id": 10005,
        "message": {
            "message_id": 7, "from": from(), "date": 1441645532, "text": "hola",
            "chat": { "id": -1001234567890_i64, "title": "Family trip", "type": "supergroup" }
        }
    })
    .to_string();
    let message = normalised(body.as_bytes()).unwrap();
    assert_eq!(message.guest.as_str(), "-1001234567890");
}

#[test]
fn a_button_press_is_its_data_in_the_chat_of_the_message() {
    let body = json!({
        "update_id": 10006,
        "callback_query": {
            "id": "4382bfdwdsb323b2d9",
            "from": from(),
            "message": {
                "message_id": 1366,
                "from": { "id": 7000000, "is_bot": true, "first_name": "Conserje" },
                "chat": { "id": 2222222, "type": "private", "first_name": "Test" },
                "date": 1441645000,
                "text": "¿Confirmo la reserva?"
            },
            "chat_instance": "-5834293892",
            "data": "confirm"
        }
    })
    .to_string();
    let message = normalised(body.as_bytes()).unwrap();
    assert_eq!(message.guest.as_str(), "2222222");
    assert_eq!(message.text.as_deref(), Some("confirm"));
    assert_eq!(message.provider_message_id, "tg-10006");
    assert_eq!(message.guest_name.as_deref(), Some("Test Lastname"));
    assert_eq!(message.received_at, now());

    let inline = json!({
        "update_id": 10007,
        "callback_query": {
            "id": "1", "from": from(), "inline_message_id": "AAA",
            "chat_instance": "1", "data": "later"
        }
    })
    .to_string();
    assert_eq!(
        normalised(inline.as_bytes()).unwrap().guest.as_str(),
        "1111111"
    );
}

#[test]
fn updates_with_nothing_to_record_are_none() {
    let member = json!({
        "update_id": 10009,
        "my_chat_member": {
            "chat": private_chat(), "from": from(), "date": 1441645532,
            "old_chat_member": { "user": from(), "status": "member" },
            "new_chat_member": { "user": from(), "status": "kicked", "until_date": 0 }
        }
    })
    .to_string();
    let no_data = json!({
        "update_id": 10011,
        "callback_query": { "id": "1", "from": from(), "chat_instance": "1", "game_short_name": "g" }
    })
    .to_string();
    let reaction_removed = json!({
        "update_id": 10012,
        "message_reaction": {
            "chat": private_chat(), "message_id": 1366, "user": from(), "date": 1441645600,
            "old_reaction": [{ "type": "emoji", "emoji": "👍" }], "new_reaction": []
        }
    })
    .to_string();
    for body in [
        member.as_bytes(),
        no_data.as_bytes(),
        reaction_removed.as_bytes(),
    ] {
        assert_eq!(normalised(body), None, "{}", String::from_utf8_lossy(body));
    }
}

#[test]
fn an_edited_message_is_an_edit_of_the_message_in_its_chat() {
    let edited = json!({
        "update_id": 10008,
        "edited_message": {
            "message_id": 1365, "from": from(), "chat": private_chat(),
            "date": 1441645532, "edit_date": 1441646600, "text": "Edited text"
        }
    })
    .to_string();
    let message = normalised(edited.as_bytes()).unwrap();
    assert_eq!(message.text.as_deref(), Some("Edited text"));
    assert_eq!(message.provider_message_id, "tg-10008");
    assert_eq!(
        message.edit,
        Some(Edit {
            message_ref: "1365".into(),
            sent_at: Utc.timestamp_opt(1441645532, 0).unwrap(),
        })
    );
    assert_eq!(
        message.received_at,
        Utc.timestamp_opt(1441646600, 0).unwrap(),
        "the edit is recorded when it was made"
    );
}

#[test]
fn a_reaction_names_the_bots_message_it_is_on() {
    let body = json!({
        "update_id": 10013,
        "message_reaction": {
            "chat": private_chat(), "message_id": 1366, "user": from(), "date": 1441645600,
            "old_reaction": [],
            "new_reaction": [{ "type": "custom_emoji", "custom_emoji_id": "5368324170671202286" },
                             { "type": "emoji", "emoji": "❤" }]
        }
    })
    .to_string();
    let message = normalised(body.as_bytes()).unwrap();
    assert_eq!(
        message.reaction,
        Some(Reaction {
            to: "1366".into(),
            emoji: "❤".into()
        })
    );
    assert_eq!(message.guest.as_str(), "1111111");
}

#[test]
fn documents_videos_stickers_and_contacts_are_recorded() {
    let sticker = update(
        10010,
        json!({ "sticker": { "file_id": "x", "file_unique_id": "y", "type": "regular",
                             "width": 512, "height": 512, "is_animated": false,
                             "is_video_stream": false } }),
    );
    let document = update(
        10014,
        json!({ "document": { "file_id": "doc", "file_unique_id": "d", "file_name": "a.pdf",
                              "mime_type": "application/pdf" }, "caption": "my booking" }),
    );
    let video_note = update(
        10015,
        json!({ "video_note": { "file_id": "round", "file_unique_id": "r", "length": 240,
                                "duration": 5 } }),
    );
    let kinds: Vec<(MediaKind, String)> = [&sticker, &document, &video_note]
        .into_iter()
        .map(|body| {
            let media = normalised(body).unwrap().media.unwrap();
            (media.kind, media.provider_media_id)
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (MediaKind::Sticker, "x".to_owned()),
            (MediaKind::Document, "doc".to_owned()),
            (MediaKind::Video, "round".to_owned())
        ]
    );
    assert_eq!(
        normalised(&document).unwrap().text.as_deref(),
        Some("my booking")
    );
    let contact = update(
        10016,
        json!({ "contact": { "phone_number": "+34600222333", "first_name": "Marta",
                             "last_name": "Ruiz", "user_id": 42 } }),
    );
    assert_eq!(
        normalised(&contact).unwrap().contacts,
        Some(vec![SharedContact {
            name: Some("Marta Ruiz".into()),
            phones: vec!["+34600222333".into()],
        }])
    );
}

#[test]
fn malformed_updates_are_refused() {
    for body in [
        &b"nope"[..],
        br#"{"message": {}}"#,
        br#"{"update_id": "x"}"#,
    ] {
        assert!(
            matches!(
                parse(body),
                Err(CommandError::Refused {
                    code: "malformed_request",
                    ..
                })
            ),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}
