//! What Telegram would post to the bot's webhook — `message`, `edited_message` and
//! `callback_query` updates — and `answerCallbackQuery`, which closes a button press.
//!
//! A test builds an update here and posts it to conserje's webhook itself, so it controls when
//! the guest "acts". Every builder marks the chat as started (the guest wrote, so the bot may
//! answer) and takes the next `update_id`, which only grows, as Telegram's does.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use axum::response::Response;
use serde_json::{json, Value};

use super::messages::TelegramMessage;
use super::wire::{api_error, chat_json, guest_json, ok, unix_now, QUERY_INVALID};
use super::{SimState, TelegramSimulator};
use crate::simulators::lock;

/// The button presses handed out and which of them the bot answered.
#[derive(Debug, Default)]
pub(super) struct Callbacks {
    /// Issued and not answered yet; each id can be answered once.
    pending: HashSet<String>,
    /// In the order answered.
    answered: Vec<String>,
    issued: u64,
}

impl Callbacks {
    /// A fresh callback query id. Telegram's are long decimal strings; these are too, and unique.
    fn issue(&mut self, bot_id: i64) -> String {
        self.issued += 1;
        let id = format!("{}{:08}", bot_id.unsigned_abs(), self.issued);
        self.pending.insert(id.clone());
        id
    }
}

/// `Chat.chat_instance`: a number as a string, the same for every press in one chat.
fn chat_instance(chat_id: i64) -> String {
    chat_id.wrapping_mul(-7_919_813_573).to_string()
}

impl SimState {
    fn next_update_id(&self) -> i64 {
        self.next_update_id.fetch_add(1, Ordering::SeqCst)
    }

    /// `{"ok":true,"result":true}` the first time an issued id is answered; an id never issued
    /// or answered already is refused, which is what Telegram says of both.
    pub(super) fn answer_callback_query(&self, params: &Value) -> Response {
        let id = match &params["callback_query_id"] {
            Value::String(id) => id.clone(),
            Value::Number(id) => id.to_string(),
            _ => return api_error(400, QUERY_INVALID),
        };
        let mut callbacks = lock(&self.callbacks);
        if !callbacks.pending.remove(&id) {
            return api_error(400, QUERY_INVALID);
        }
        callbacks.answered.push(id);
        ok(json!(true))
    }
}

impl TelegramSimulator {
    /// The guest in private chat `chat_id` writes `text`: an update with a `message`, whose
    /// `message_id` a later `edited_message_update` can name.
    pub fn message_update(&self, chat_id: i64, text: &str, first_name: &str) -> Value {
        let state = &self.state;
        lock(&state.chats).start(chat_id, Some(first_name));
        let message = TelegramMessage {
            chat_id: chat_id.to_string(),
            message_id: state.next_message_id(),
            from_bot: false,
            text: text.to_owned(),
            reply_markup: None,
            date: unix_now(),
            edit_date: None,
        };
        state.remember(message.clone());
        json!({ "update_id": state.next_update_id(), "message": state.message_json(&message) })
    }

    /// The guest edits their message `message_id` to `new_text`: an `edited_message` update
    /// keeping the original `date`, with `edit_date` now. A message the simulator never saw is
    /// taken as written now.
    pub fn edited_message_update(&self, chat_id: i64, message_id: i64, new_text: &str) -> Value {
        let state = &self.state;
        lock(&state.chats).start(chat_id, None);
        let now = unix_now();
        let edited = {
            let mut messages = lock(&state.messages);
            let message = messages
                .entry((chat_id.to_string(), message_id))
                .or_insert_with(|| TelegramMessage {
                    chat_id: chat_id.to_string(),
                    message_id,
                    from_bot: false,
                    text: String::new(),
                    reply_markup: None,
                    date: now,
                    edit_date: None,
                });
            message.text = new_text.to_owned();
            message.edit_date = Some(now);
            message.clone()
        };
        json!({ "update_id": state.next_update_id(), "edited_message": state.message_json(&edited) })
    }

    /// The guest presses a button with `data` under the bot's message `from_message_id`: a
    /// `callback_query` update and its id, which `answerCallbackQuery` accepts once. The quoted
    /// message is the bot's as it stands (text and keyboard); one the simulator never sent is
    /// quoted without text.
    pub fn callback_update(
        &self,
        chat_id: i64,
        from_message_id: i64,
        data: &str,
        first_name: &str,
    ) -> (Value, String) {
        let state = &self.state;
        lock(&state.chats).start(chat_id, Some(first_name));
        let id = lock(&state.callbacks).issue(state.bot_id);
        let known = lock(&state.messages)
            .get(&(chat_id.to_string(), from_message_id))
            .cloned();
        let message = match known {
            Some(message) => state.message_json(&message),
            None => json!({
                "message_id": from_message_id,
                "from": state.bot_user(),
                "chat": chat_json(&chat_id.to_string(), Some(first_name)),
                "date": unix_now(),
            }),
        };
        let update = json!({
            "update_id": state.next_update_id(),
            "callback_query": {
                "id": id,
                "from": guest_json(chat_id, first_name),
                "message": message,
                "chat_instance": chat_instance(chat_id),
                "data": data,
            },
        });
        (update, id)
    }

    /// The callback query ids `answerCallbackQuery` accepted, in order.
    pub fn answered_callbacks(&self) -> Vec<String> {
        lock(&self.state.callbacks).answered.clone()
    }
}
