//! The Telegram Bot API as Telegram answers it: `sendMessage` (with inline keyboards),
//! `editMessageText`, `editMessageReplyMarkup`, `answerCallbackQuery`, `getFile` and file
//! download, plus builders of the updates Telegram would post to the bot's webhook.
//!
//! Requests go to `/bot<token>/<method>` with a JSON body; every answer is `{"ok":true,"result":…}`
//! or `{"ok":false,"error_code":N,"description":…}` with `N` as the HTTP status too. Files are
//! served at `/file/bot<token>/<file_path>`. A token other than the bot's is `401 Unauthorized`.
//!
//! Telegram's rules that bite in production are enforced, each on request so that older tests
//! keep passing: a bot cannot write first (`require_start`), a guest can block it (`block`), and
//! flood control answers 429 (`set_rate_limits`). Keyboards are checked as Telegram checks them
//! whenever they are sent.

mod chats;
mod keyboard;
mod messages;
mod pacing;
mod updates;
mod wire;

use std::collections::HashMap;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use super::{lock, texts_to, Controls, SentMessage, Server};
use chats::Chats;
use messages::Edit;
pub use messages::TelegramMessage;
use pacing::Pacing;
use updates::Callbacks;
use wire::{api_error, injected, ok, ChatTarget};

/// A local Telegram Bot API for one bot.
pub struct TelegramSimulator {
    server: Server,
    state: Arc<SimState>,
}

/// Each lock guards one concern and none is held while taking another, so there is no lock order
/// to keep.
#[derive(Debug)]
struct SimState {
    bot_token: String,
    /// The numeric part of the token, which is the bot's user id.
    bot_id: i64,
    controls: Controls,
    /// Accepted `sendMessage` requests.
    sent: Mutex<Vec<SentMessage>>,
    /// Accepted edit requests.
    edits: Mutex<Vec<SentMessage>>,
    /// file_id → (file_path, bytes)
    files: Mutex<HashMap<String, (String, Vec<u8>)>>,
    /// (chat key, message_id) → the message as it stands.
    messages: Mutex<HashMap<(String, i64), TelegramMessage>>,
    chats: Mutex<Chats>,
    pacing: Mutex<Pacing>,
    callbacks: Mutex<Callbacks>,
    next_message_id: AtomicI64,
    next_update_id: AtomicI64,
}

impl SimState {
    /// Latency, injected failure, then the token of the `bot<token>` path segment. `Some` is the
    /// answer that refuses the request.
    async fn refusal(&self, bot_segment: &str) -> Option<Response> {
        if let Some(status) = self.controls.on_request().await {
            return Some(injected(status));
        }
        (bot_segment.strip_prefix("bot") != Some(self.bot_token.as_str()))
            .then(|| api_error(401, "Unauthorized"))
    }

    fn get_file(&self, params: &Value) -> Response {
        let Some(file_id) = params["file_id"].as_str().filter(|f| !f.is_empty()) else {
            return api_error(400, "Bad Request: file_id is empty");
        };
        match lock(&self.files).get(file_id) {
            Some((file_path, bytes)) => ok(json!({
                "file_id": file_id,
                "file_unique_id": format!("U{}", file_id.len()),
                "file_size": bytes.len(),
                "file_path": file_path,
            })),
            None => api_error(400, "Bad Request: invalid file_id"),
        }
    }
}

/// Bot API method names are case-insensitive.
async fn method(
    State(state): State<Arc<SimState>>,
    Path((bot, method)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    if let Some(refusal) = state.refusal(&bot).await {
        return refusal;
    }
    let params = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(params @ Value::Object(_)) => params,
            _ => return api_error(400, "Bad Request: can't parse JSON object"),
        }
    };
    match method.to_ascii_lowercase().as_str() {
        "sendmessage" => state.send_message(&params),
        "editmessagetext" => state.edit_message(&params, Edit::Text),
        "editmessagereplymarkup" => state.edit_message(&params, Edit::ReplyMarkup),
        "answercallbackquery" => state.answer_callback_query(&params),
        "getfile" => state.get_file(&params),
        _ => api_error(404, "Not Found"),
    }
}

async fn download(
    State(state): State<Arc<SimState>>,
    Path((bot, file_path)): Path<(String, String)>,
) -> Response {
    if let Some(refusal) = state.refusal(&bot).await {
        return refusal;
    }
    let files = lock(&state.files);
    match files.values().find(|(path, _)| *path == file_path) {
        Some((_, bytes)) => bytes.clone().into_response(),
        None => api_error(404, "Not Found"),
    }
}

impl TelegramSimulator {
    /// Starts a simulator of the bot whose token is `bot_token` (`123456:ABC-…`).
    pub async fn start(bot_token: &str) -> Self {
        let mut server = Server::bind().await;
        let bot_id = bot_token
            .split(':')
            .next()
            .and_then(|id| id.parse().ok())
            .unwrap_or(0);
        let state = Arc::new(SimState {
            bot_token: bot_token.to_owned(),
            bot_id,
            controls: Controls::default(),
            sent: Mutex::new(Vec::new()),
            edits: Mutex::new(Vec::new()),
            files: Mutex::new(HashMap::new()),
            messages: Mutex::new(HashMap::new()),
            chats: Mutex::new(Chats::default()),
            pacing: Mutex::new(Pacing::default()),
            callbacks: Mutex::new(Callbacks::default()),
            next_message_id: AtomicI64::new(1),
            next_update_id: AtomicI64::new(100_000_001),
        });
        server.serve(
            Router::new()
                .route("/{bot}/{method}", post(method).get(method))
                .route("/file/{bot}/{*file_path}", get(download))
                .with_state(Arc::clone(&state)),
        );
        Self { server, state }
    }

    /// The API base to configure (`CONSERJE_TELEGRAM_API_BASE`).
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// Every message accepted, in order (`to` is the `chat_id`).
    pub fn sent(&self) -> Vec<SentMessage> {
        lock(&self.state.sent).clone()
    }

    /// The texts accepted for `chat_id`, in order.
    pub fn sent_to(&self, chat_id: &str) -> Vec<String> {
        texts_to(&self.state.sent, chat_id)
    }

    /// Every accepted `editMessageText` / `editMessageReplyMarkup`, in order (`text` is the
    /// message's text after the edit).
    pub fn edits(&self) -> Vec<SentMessage> {
        lock(&self.state.edits).clone()
    }

    /// Message `message_id` of chat `chat_id` as the guest sees it now, if the simulator knows it.
    pub fn message(&self, chat_id: i64, message_id: i64) -> Option<TelegramMessage> {
        lock(&self.state.messages)
            .get(&(chat_id.to_string(), message_id))
            .cloned()
    }

    /// Makes `file_id` known to `getFile` as `file_path` (`voice/file_0.oga`), served as `bytes`.
    pub fn add_file(&self, file_id: &str, bytes: Vec<u8>, file_path: &str) {
        lock(&self.state.files).insert(file_id.to_owned(), (file_path.to_owned(), bytes));
    }

    /// With `true`, `sendMessage` reaches only chats whose guest started the bot (see
    /// `guest_started`); others are refused as Telegram refuses them. Off by default.
    pub fn require_start(&self, required: bool) {
        lock(&self.state.chats).require_start(required);
    }

    /// The guest of private chat `chat_id` pressed Start (or wrote); this also lifts a block.
    pub fn guest_started(&self, chat_id: i64) {
        lock(&self.state.chats).start(chat_id, None);
    }

    /// The guest of `chat_id` blocked the bot: sends and edits there answer 403 until they start
    /// it again.
    pub fn block(&self, chat_id: i64) {
        lock(&self.state.chats).block(chat_id);
    }

    /// Turns flood control on: one message per `per_chat_interval` to each chat (times the burst,
    /// see `set_per_chat_burst`) and `global_per_second` across chats. `Duration::ZERO` and `0`
    /// turn the respective limit off; both are off by default.
    pub fn set_rate_limits(&self, per_chat_interval: Duration, global_per_second: u32) {
        lock(&self.state.pacing).set_limits(per_chat_interval, global_per_second);
    }

    /// Lets `burst` messages (at least 1, the default) reach one chat back to back, as long as
    /// they average one per `per_chat_interval`.
    pub fn set_per_chat_burst(&self, burst: u32) {
        lock(&self.state.pacing).set_burst(burst);
    }

    /// When each message accepted for `chat_id` was accepted, oldest first.
    pub fn sent_times(&self, chat_id: i64) -> Vec<Instant> {
        lock(&self.state.pacing).times(&ChatTarget::Id(chat_id).key())
    }

    /// How many sends flood control refused with 429 (not counting `fail_next`).
    pub fn refused_429(&self) -> usize {
        lock(&self.state.pacing).refused()
    }

    /// Answers the next `count` requests (of any route) with `status` and a Bot API error.
    pub fn fail_next(&self, count: u32, status: u16) {
        self.state.controls.fail_next(count, status);
    }

    /// Waits `delay` before answering each request.
    pub fn set_delay(&self, delay: Duration) {
        self.state.controls.set_delay(delay);
    }

    /// Requests received, accepted or not.
    pub fn calls(&self) -> usize {
        self.state.controls.calls()
    }
}
