//! Who the bot may write to. On Telegram a bot cannot write first: a user must have started the
//! chat (pressed Start or written), and may block the bot afterwards.
//!
//! Tests written before this existed send to chats that never started, so every chat counts as
//! started until a test calls `require_start(true)`. A block always counts.

use std::collections::{HashMap, HashSet};

use super::wire::{ChatTarget, BLOCKED, CANT_INITIATE, CHAT_NOT_FOUND};

#[derive(Debug, Default)]
pub(super) struct Chats {
    require_start: bool,
    started: HashSet<i64>,
    blocked: HashSet<i64>,
    /// The guest's first name per private chat, as the update builders gave it.
    first_names: HashMap<i64, String>,
}

impl Chats {
    pub(super) fn require_start(&mut self, required: bool) {
        self.require_start = required;
    }

    /// The guest wrote or pressed Start. Writing again after a block means they unblocked the bot,
    /// which Telegram requires before a blocked bot's chat accepts input.
    pub(super) fn start(&mut self, chat_id: i64, first_name: Option<&str>) {
        self.started.insert(chat_id);
        self.blocked.remove(&chat_id);
        if let Some(name) = first_name {
            self.first_names.insert(chat_id, name.to_owned());
        }
    }

    pub(super) fn block(&mut self, chat_id: i64) {
        self.blocked.insert(chat_id);
    }

    pub(super) fn first_name(&self, chat_id: i64) -> Option<&str> {
        self.first_names.get(&chat_id).map(String::as_str)
    }

    /// The status and description Telegram refuses a new message to `chat` with, if it does.
    pub(super) fn send_refusal(&self, chat: &ChatTarget) -> Option<(u16, &'static str)> {
        if let Some(refusal) = self.block_refusal(chat) {
            return Some(refusal);
        }
        match chat {
            _ if !self.require_start => None,
            ChatTarget::Id(id) if self.started.contains(id) => None,
            // A positive id is a user's private chat: it exists, the user just never wrote.
            ChatTarget::Id(id) if *id > 0 => Some((403, CANT_INITIATE)),
            // A group the bot is not in, or a username nobody has: Telegram knows no such chat.
            _ => Some((400, CHAT_NOT_FOUND)),
        }
    }

    /// The refusal of anything in a chat whose user blocked the bot.
    pub(super) fn block_refusal(&self, chat: &ChatTarget) -> Option<(u16, &'static str)> {
        match chat {
            ChatTarget::Id(id) if self.blocked.contains(id) => Some((403, BLOCKED)),
            _ => None,
        }
    }
}
