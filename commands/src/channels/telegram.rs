//! The Telegram Bot API webhook body (an `Update`) and its normalisation.
//!
//! One webhook carries one update. The guest of a conversation is the *chat* (a private chat's
//! id is the user's id; a group's is negative), because that is where replies go. The provider
//! message id is `tg-<update_id>`: Telegram redelivers an unanswered update with the same
//! `update_id`, and `message_id`s are only unique within a chat.

use chrono::{DateTime, Utc};
use conserje_domain::choice::Choice;
use conserje_domain::session::{
    Edit, MediaKind, MediaRef, Reaction, SharedContact, SharedLocation,
};
use conserje_domain::values::GuestRef;
use serde::Deserialize;

use super::{full_name, malformed, non_blank, ChannelMessage};
use crate::CommandError;

/// One incoming update. Kinds conserje does not record (`my_chat_member`, `channel_post`…)
/// decode to none of these.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Update {
    /// Increasing per bot; a redelivered update keeps it.
    pub update_id: i64,
    #[serde(default)]
    pub message: Option<Message>,
    /// A new version of a message the guest sent: recorded as an edit.
    #[serde(default)]
    pub edited_message: Option<Message>,
    #[serde(default)]
    pub callback_query: Option<CallbackQuery>,
    /// A guest's reactions to a message changed (delivered when the webhook asks for
    /// `message_reaction` in `allowed_updates`).
    #[serde(default)]
    pub message_reaction: Option<MessageReactionUpdated>,
}

/// `message_reaction`: the reactions a user now has on one message.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MessageReactionUpdated {
    pub chat: Chat,
    /// The message reacted to (ours, for a reaction that answers anything).
    pub message_id: i64,
    #[serde(default)]
    pub user: Option<User>,
    /// Unix seconds.
    pub date: i64,
    #[serde(default)]
    pub new_reaction: Vec<ReactionType>,
}

/// One reaction: an emoji (custom emoji and paid reactions carry none).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReactionType {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub emoji: Option<String>,
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
    #[serde(default)]
    pub document: Option<File>,
    #[serde(default)]
    pub video: Option<File>,
    /// A round video message.
    #[serde(default)]
    pub video_note: Option<File>,
    #[serde(default)]
    pub sticker: Option<File>,
    #[serde(default)]
    pub contact: Option<Contact>,
    /// Unix seconds of the last edit (on an `edited_message`).
    #[serde(default)]
    pub edit_date: Option<i64>,
}

/// A document, video or sticker: what conserje keeps of it is its file id and type.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct File {
    pub file_id: String,
    #[serde(default)]
    pub mime_type: Option<String>,
}

/// A shared contact card.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Contact {
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
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
    if let Some(edited) = &update.edited_message {
        let mut message = normalise_message(update.update_id, edited)?;
        message.edit = Some(Edit {
            message_ref: edited.message_id.to_string(),
            sent_at: message.received_at,
        });
        // The edit happened at `edit_date`; the message was sent at `date`.
        if let Some(at) = edited
            .edit_date
            .and_then(|d| DateTime::from_timestamp(d, 0))
        {
            message.received_at = at;
        }
        return Some(message);
    }
    if let Some(reaction) = &update.message_reaction {
        return normalise_reaction(update.update_id, reaction);
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
    let mut message = ChannelMessage::new(guest(chat)?, provider_message_id(update.update_id), now);
    message.guest_name = name_of(&query.from);
    message.choice = Choice::parse(&data);
    message.text = Some(title.unwrap_or(data));
    Some(message)
}

/// A reaction that was set (not taken back: then `new_reaction` is empty) with an emoji.
fn normalise_reaction(update_id: i64, update: &MessageReactionUpdated) -> Option<ChannelMessage> {
    if update.user.as_ref().is_some_and(|u| u.is_bot) {
        return None;
    }
    let emoji = update
        .new_reaction
        .iter()
        .filter(|r| r.kind == "emoji")
        .find_map(|r| non_blank(r.emoji.as_deref()))?;
    let mut message = ChannelMessage::new(
        guest(update.chat.id)?,
        provider_message_id(update_id),
        DateTime::from_timestamp(update.date, 0)?,
    );
    message.guest_name = update.user.as_ref().and_then(name_of);
    message.reaction = Some(Reaction {
        to: update.message_id.to_string(),
        emoji,
    });
    Some(message)
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
            kind: MediaKind::Image,
            provider_media_id: non_blank(Some(&largest.file_id))?,
            mime_type: None,
            duration_seconds: None,
        })
    } else {
        let files = [
            (MediaKind::Document, &message.document),
            (MediaKind::Video, &message.video),
            (MediaKind::Video, &message.video_note),
            (MediaKind::Sticker, &message.sticker),
        ];
        match files
            .into_iter()
            .find_map(|(kind, f)| Some((kind, f.as_ref()?)))
        {
            Some((kind, file)) => Some(MediaRef {
                kind,
                provider_media_id: non_blank(Some(&file.file_id))?,
                mime_type: non_blank(file.mime_type.as_deref()),
                duration_seconds: None,
            }),
            None => None,
        }
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
    let contacts = message
        .contact
        .as_ref()
        .map(|c| SharedContact {
            name: full_name([c.first_name.as_deref(), c.last_name.as_deref()]),
            phones: non_blank(c.phone_number.as_deref()).into_iter().collect(),
        })
        .filter(|c| c.name.is_some() || !c.phones.is_empty())
        .map(|c| vec![c]);
    let text = non_blank(message.text.as_deref()).or(non_blank(message.caption.as_deref()));
    if text.is_none() && media.is_none() && location.is_none() && contacts.is_none() {
        return None;
    }
    let guest_name = match &message.from {
        Some(from) => name_of(from),
        None => full_name([
            message.chat.first_name.as_deref(),
            message.chat.last_name.as_deref(),
        ]),
    };
    let mut normalised = ChannelMessage::new(
        guest(message.chat.id)?,
        provider_message_id(update_id),
        DateTime::from_timestamp(message.date, 0)?,
    );
    normalised.guest_name = guest_name;
    normalised.text = text;
    normalised.media = media;
    normalised.location = location;
    normalised.contacts = contacts;
    Some(normalised)
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
        kind: MediaKind::Audio,
        provider_media_id: non_blank(Some(file_id))?,
        mime_type: non_blank(mime_type.as_deref()),
        duration_seconds: duration,
    })
}

#[cfg(test)]
mod tests;
