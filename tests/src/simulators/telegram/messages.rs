//! `sendMessage`, `editMessageText` and `editMessageReplyMarkup`, and the chat history they work
//! on.
//!
//! The simulator remembers every message of a chat, the bot's and the guest's (from the update
//! builders), so an edit can find its message, a button press can quote it and a test can read
//! what a guest sees now. `message_id`s come from one counter shared by all chats: Telegram's are
//! only unique within a chat, and unique across them is still unique within each.

use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::response::Response;
use serde_json::{json, Value};

use super::keyboard;
use super::wire::{
    api_error, chat_json, guest_json, ok, too_many_requests, unix_now, ChatTarget, CANT_BE_EDITED,
    CHAT_ID_EMPTY, EDIT_NOT_FOUND, INLINE_MESSAGE_UNKNOWN, MAX_TEXT_CHARS, NOT_MODIFIED,
    NO_MESSAGE_ID, TEXT_EMPTY, TEXT_TOO_LONG,
};
use super::SimState;
use crate::simulators::{lock, SentMessage};

/// One message of a chat as it stands now, after any edits.
#[derive(Debug, Clone, PartialEq)]
pub struct TelegramMessage {
    /// The chat's id as text (or the `@username` it was sent to).
    pub chat_id: String,
    pub message_id: i64,
    /// Whether the bot sent it; the bot can edit only its own messages.
    pub from_bot: bool,
    pub text: String,
    /// The inline keyboard under it (`{"inline_keyboard": …}`), if it shows one.
    pub reply_markup: Option<Value>,
    /// Unix seconds.
    pub date: i64,
    pub edit_date: Option<i64>,
}

/// Which edit method a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Edit {
    Text,
    ReplyMarkup,
}

/// A refusal: the HTTP status (also `error_code`) and Telegram's description.
type Refusal = (u16, &'static str);

fn bad_request(description: &'static str) -> Refusal {
    (400, description)
}

/// The `text` of a send or an edit: 1–4096 characters, not only blanks.
fn message_text(raw: &Value) -> Result<String, &'static str> {
    let text = raw
        .as_str()
        .filter(|t| !t.trim().is_empty())
        .ok_or(TEXT_EMPTY)?;
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(TEXT_TOO_LONG);
    }
    Ok(text.to_owned())
}

/// A `message_id`, sent as a number or as digits.
fn message_id(raw: &Value) -> Option<i64> {
    match raw {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// `SentMessage::to`: the `chat_id` as the request wrote it.
fn recipient(raw: &Value) -> String {
    match raw {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl SimState {
    pub(super) fn next_message_id(&self) -> i64 {
        self.next_message_id.fetch_add(1, Ordering::SeqCst)
    }

    /// The bot as a `User`.
    pub(super) fn bot_user(&self) -> Value {
        json!({
            "id": self.bot_id, "is_bot": true,
            "first_name": "Conserje", "username": "conserje_sim_bot",
        })
    }

    pub(super) fn remember(&self, message: TelegramMessage) {
        let key = (message.chat_id.clone(), message.message_id);
        lock(&self.messages).insert(key, message);
    }

    /// `message` as a Bot API `Message`. Takes the chats lock, so the caller must hold none.
    pub(super) fn message_json(&self, message: &TelegramMessage) -> Value {
        let chat_id = message.chat_id.parse::<i64>().ok();
        let first_name = chat_id.and_then(|id| lock(&self.chats).first_name(id).map(str::to_owned));
        let from = if message.from_bot {
            self.bot_user()
        } else {
            guest_json(
                chat_id.unwrap_or_default(),
                first_name.as_deref().unwrap_or("Guest"),
            )
        };
        let mut json = json!({
            "message_id": message.message_id,
            "from": from,
            "chat": chat_json(&message.chat_id, first_name.as_deref()),
            "date": message.date,
            "text": message.text,
        });
        if let Some(edit_date) = message.edit_date {
            json["edit_date"] = json!(edit_date);
        }
        if let Some(markup) = &message.reply_markup {
            json["reply_markup"] = markup.clone();
        }
        json
    }

    /// Checks in Telegram's order as far as it shows: the request's own fields, then whether the
    /// chat may be written to, then flood control. Only a send that passes all three is recorded.
    pub(super) fn send_message(&self, params: &Value) -> Response {
        match self.try_send(params) {
            Ok(message) => ok(self.message_json(&message)),
            Err(Ok((code, description))) => api_error(code, description),
            Err(Err(retry_after)) => too_many_requests(retry_after),
        }
    }

    /// `Err(Ok(refusal))` for a Bot API error, `Err(Err(seconds))` for flood control.
    fn try_send(&self, params: &Value) -> Result<TelegramMessage, Result<Refusal, u64>> {
        let refuse = |description| Err(Ok(bad_request(description)));
        let Some(chat) = ChatTarget::parse(&params["chat_id"]) else {
            return refuse(CHAT_ID_EMPTY);
        };
        let text = match message_text(&params["text"]) {
            Ok(text) => text,
            Err(description) => return refuse(description),
        };
        let markup = match keyboard::reply_markup(&params["reply_markup"]) {
            Ok(markup) => markup,
            Err(description) => return refuse(description),
        };
        let refusal = lock(&self.chats).send_refusal(&chat);
        if let Some(refusal) = refusal {
            return Err(Ok(refusal));
        }
        let key = chat.key();
        lock(&self.pacing)
            .admit(&key, Instant::now())
            .map_err(Err)?;
        // Admitted: from here on nothing refuses, so the pacing record matches `sent`.
        let message = TelegramMessage {
            chat_id: key,
            message_id: self.next_message_id(),
            from_bot: true,
            text,
            reply_markup: keyboard::shown_keyboard(markup.as_ref()),
            date: unix_now(),
            edit_date: None,
        };
        lock(&self.sent).push(SentMessage {
            to: recipient(&params["chat_id"]),
            text: message.text.clone(),
            phone_number_id: None,
            body: params.clone(),
        });
        self.remember(message.clone());
        Ok(message)
    }

    /// `editMessageText` replaces the text and the keyboard (none given removes it, as on
    /// Telegram); `editMessageReplyMarkup` replaces only the keyboard.
    pub(super) fn edit_message(&self, params: &Value, edit: Edit) -> Response {
        match self.try_edit(params, edit) {
            Ok(message) => ok(self.message_json(&message)),
            Err((code, description)) => api_error(code, description),
        }
    }

    fn try_edit(&self, params: &Value, edit: Edit) -> Result<TelegramMessage, Refusal> {
        let Some(chat) = ChatTarget::parse(&params["chat_id"]) else {
            // Inline-mode messages are not simulated, so every inline_message_id is unknown.
            let inline = params.get("inline_message_id").is_some();
            return Err(bad_request(if inline {
                INLINE_MESSAGE_UNKNOWN
            } else {
                CHAT_ID_EMPTY
            }));
        };
        let message_id = message_id(&params["message_id"]).ok_or(bad_request(NO_MESSAGE_ID))?;
        let text = match edit {
            Edit::Text => Some(message_text(&params["text"]).map_err(bad_request)?),
            Edit::ReplyMarkup => None,
        };
        let markup = keyboard::edit_markup(&params["reply_markup"]).map_err(bad_request)?;
        let refusal = lock(&self.chats).block_refusal(&chat);
        if let Some(refusal) = refusal {
            return Err(refusal);
        }
        let edited = self.apply_edit(&chat.key(), message_id, text, markup.as_ref())?;
        lock(&self.edits).push(SentMessage {
            to: recipient(&params["chat_id"]),
            text: edited.text.clone(),
            phone_number_id: None,
            body: params.clone(),
        });
        Ok(edited)
    }

    /// Changes the stored message; an edit that changes nothing is refused, as Telegram does.
    fn apply_edit(
        &self,
        chat: &str,
        message_id: i64,
        text: Option<String>,
        markup: Option<&Value>,
    ) -> Result<TelegramMessage, Refusal> {
        let mut messages = lock(&self.messages);
        let message = messages
            .get_mut(&(chat.to_owned(), message_id))
            .ok_or(bad_request(EDIT_NOT_FOUND))?;
        if !message.from_bot {
            return Err(bad_request(CANT_BE_EDITED));
        }
        let text = text.unwrap_or_else(|| message.text.clone());
        let keyboard = keyboard::shown_keyboard(markup);
        if text == message.text && keyboard == message.reply_markup {
            return Err(bad_request(NOT_MODIFIED));
        }
        message.text = text;
        message.reply_markup = keyboard;
        message.edit_date = Some(unix_now());
        Ok(message.clone())
    }
}
