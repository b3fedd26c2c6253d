//! The Telegram Bot API webhook body (an `Update`) and its normalisation.
//!
//! One webhook carries one update. The guest of a conversation is the *chat* (a private chat's
//! id is the user's id; a group's is negative), because that is where replies go. The provider
//! message id is `tg-<update_id>`: Telegram redelivers an unanswered update with the same
//! `update_id`, and `message_id`s are only unique within a chat.

use chrono::{DateTime, Utc};
use conserje_domain::choice::Choice;
use conserje_domain::session::{MediaRef, SharedLocation};
use conserje_domain::values::GuestRef;
use serde::Deserialize;

use super::{full_name, malformed, non_blank, ChannelMessage};
use crate::CommandError;

/// One incoming update. Kinds conserje does not record (`edited_message`, `my_chat_member`,
/// `channel_post`…) decode to neither a message nor a callback query.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Update {
    /// Increasing per bot; a redelivered update keeps it.
    pub update_id: i64,
    #[serde(default)]
    pub message: Option<Message>,
    #[serde(default)]
    pub callback_query: Option<CallbackQuery>,
}

/// A message in a chat.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Message {
    pub message_id: i64,
    #[serde(default)]
    pub from: Option<User>,
    pub chat: Chat,
    /// Unix seconds.
    pub date: i64,
    #[serde(default)]
    pub text: Option<String>,
    /// The text sent with a photo, voice note or audio.
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub voice: Option<Voice>,
    #[serde(default)]
    pub audio: Option<Audio>,
    /// The same photo in several sizes.
    #[serde(default)]
    pub photo: Option<Vec<PhotoSize>>,
    #[serde(default)]
    pub location: Option<Location>,
    /// The inline keyboard under a bot's message (what a callback query's button belonged to).
    #[serde(default)]
    pub reply_markup: Option<InlineKeyboard>,
}

/// `reply_markup` of a message: rows of inline buttons.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InlineKeyboard {
    #[serde(default)]
    pub inline_keyboard: Vec<Vec<InlineButton>>,
}

/// One inline button: its label and the data a press sends back.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InlineButton {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub callback_data: Option<String>,
}

/// A Telegram user or bot.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}

/// A chat: private (the id is the user's), group, supergroup or channel.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Chat {
    pub id: i64,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
}

/// A voice note recorded in Telegram.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Voice {
    pub file_id: String,
    #[serde(default)]
    pub file_unique_id: Option<String>,
    /// Seconds, as the sender's client recorded it.
    #[serde(default)]
    pub duration: Option<u32>,
    #[serde(default)]
    pub mime_type: Option<String>,
}

/// An audio file sent as music.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Audio {
    pub file_id: String,
    #[serde(default)]
    pub file_unique_id: Option<String>,
    #[serde(default)]
    pub duration: Option<u32>,
    #[serde(default)]
    pub mime_type: Option<String>,
}

/// One size of a photo.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PhotoSize {
    pub file_id: String,
    #[serde(default)]
    pub file_unique_id: Option<String>,
    #[serde(default)]
    pub width: u32,
    #[serde(default)]
    pub height: u32,
    #[serde(default)]
    pub file_size: Option<u64>,
}

/// A shared location.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
}

/// A press on an inline keyboard button of a message the bot sent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CallbackQuery {
    pub id: String,
    pub from: User,
    /// The bot's message the button belonged to (absent for inline-mode messages).
    #[serde(default)]
    pub message: Option<Message>,
    /// The button's `callback_data`.
    #[serde(default)]
    pub data: Option<String>,
}

/// Decodes an update; `Refused { code: "malformed_request" }` when it is not one.
pub fn parse(body: &[u8]) -> Result<Update, CommandError> {
    serde_json::from_slice(body).map_err(|e| malformed(&e))
}

/// The provider message id of an update's message.
pub fn provider_message_id(update_id: i64) -> String {
    format!("tg-{update_id}")
}

/// The guest message of `update`, or `None` when it has nothing conserje records. `now` is when
/// a button was pressed (Telegram does not say).
pub fn normalise(update: &Update, now: DateTime<Utc>) -> Option<ChannelMessage> {
    if let Some(message) = &update.message {
        return normalise_message(update.update_id, message);
    }
    let query = update.callback_query.as_ref()?;
    let chat = query
        .message
        .as_ref()
        .map_or(query.from.id, |message| message.chat.id);
    let data = non_blank(query.data.as_deref())?;
    // The button's label, from the keyboard of the message it was under: what the guest saw
    // and pressed, for the transcript (the data is ours, `book` or `room:double`).
    let title = query
        .message
        .as_ref()
        .and_then(|m| m.reply_markup.as_ref())
        .and_then(|markup| {
            markup
                .inline_keyboard
                .iter()
                .flatten()
                .find(|b| b.callback_data.as_deref() == Some(data.as_str()))
        })
        .and_then(|b| non_blank(Some(&b.text)));
    Some(ChannelMessage {
        guest: guest(chat)?,
        guest_name: name_of(&query.from),
        provider_message_id: provider_message_id(update.update_id),
        choice: Choice::parse(&data),
        text: Some(title.unwrap_or(data)),
        media: None,
        location: None,
        received_at: now,
    })
}

/// The answer to a webhook delivering a button press: Telegram lets a webhook answer with a
/// method call, so the guest's spinner stops with no request of ours and no wait in the
/// dispatcher (`answerCallbackQuery` must come within seconds of the press).
pub fn callback_answer(update: &Update) -> Option<serde_json::Value> {
    let query = update.callback_query.as_ref()?;
    Some(serde_json::json!({
        "method": "answerCallbackQuery",
        "callback_query_id": query.id,
    }))
}

fn normalise_message(update_id: i64, message: &Message) -> Option<ChannelMessage> {
    if message.from.as_ref().is_some_and(|from| from.is_bot) {
        return None;
    }
    let media = if let Some(voice) = &message.voice {
        Some(audio(&voice.file_id, &voice.mime_type, voice.duration)?)
    } else if let Some(file) = &message.audio {
        Some(audio(&file.file_id, &file.mime_type, file.duration)?)
    } else if let Some(sizes) = &message.photo {
        let largest = sizes
            .iter()
            .max_by_key(|p| (u64::from(p.width) * u64::from(p.height), p.file_size))?;
        Some(MediaRef {
            kind: "image".to_owned(),
            provider_media_id: non_blank(Some(&largest.file_id))?,
            mime_type: None,
            duration_seconds: None,
        })
    } else {
        None
    };
    let location = message
        .location
        .as_ref()
        .filter(|l| l.latitude.is_finite() && l.longitude.is_finite())
        .map(|l| SharedLocation {
            latitude: l.latitude,
            longitude: l.longitude,
            name: None,
            address: None,
        });
    let text = non_blank(message.text.as_deref()).or(non_blank(message.caption.as_deref()));
    if text.is_none() && media.is_none() && location.is_none() {
        return None;
    }
    let guest_name = match &message.from {
        Some(from) => name_of(from),
        None => full_name([
            message.chat.first_name.as_deref(),
            message.chat.last_name.as_deref(),
        ]),
    };
    Some(ChannelMessage {
        guest: guest(message.chat.id)?,
        guest_name,
        provider_message_id: provider_message_id(update_id),
        text,
        media,
        location,
        received_at: DateTime::from_timestamp(message.date, 0)?,
        choice: None,
    })
}

/// The guest of a chat: its id, digits with a leading `-` for groups.
fn guest(chat_id: i64) -> Option<GuestRef> {
    GuestRef::parse(&chat_id.to_string()).ok()
}

fn name_of(user: &User) -> Option<String> {
    full_name([user.first_name.as_deref(), user.last_name.as_deref()])
}

fn audio(file_id: &str, mime_type: &Option<String>, duration: Option<u32>) -> Option<MediaRef> {
    Some(MediaRef {
        kind: "audio".to_owned(),
        provider_media_id: non_blank(Some(file_id))?,
        mime_type: non_blank(mime_type.as_deref()),
        duration_seconds: duration,
    })
}

#[cfg(test)]
mod tests {
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
                kind: "audio".into(),
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
        let edited = json!({
            "update_id": 10008,
            "edited_message": {
                "message_id": 1365, "from": from(), "chat": private_chat(),
                "date": 1441645532, "edit_date": 1441646600, "text": "Edited text"
            }
        })
        .to_string();
        let member = json!({
            "update_id": 10009,
            "my_chat_member": {
                "chat": private_chat(), "from": from(), "date": 1441645532,
                "old_chat_member": { "user": from(), "status": "member" },
                "new_chat_member": { "user": from(), "status": "kicked", "until_date": 0 }
            }
        })
        .to_string();
        let sticker = update(
            10010,
            json!({ "sticker": { "file_id": "x", "file_unique_id": "y", "type": "regular",
                                 "width": 512, "height": 512, "is_animated": false,
                                 "is_video_stream": false } }),
        );
        let no_data = json!({
            "update_id": 10011,
            "callback_query": { "id": "1", "from": from(), "chat_instance": "1", "game_short_name": "g" }
        })
        .to_string();
        for body in [
            edited.as_bytes(),
            member.as_bytes(),
            &sticker,
            no_data.as_bytes(),
        ] {
            assert_eq!(normalised(body), None, "{}", String::from_utf8_lossy(body));
        }
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
}
