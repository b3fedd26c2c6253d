//! The Telegram Bot API's `sendMessage`, `getFile` and file download, as Telegram answers them.
//!
//! Requests go to `/bot<token>/<method>` with a JSON body; every answer is `{"ok":true,"result":…}`
//! or `{"ok":false,"error_code":N,"description":…}` with `N` as the HTTP status too. Files are
//! served at `/file/bot<token>/<file_path>`. A token other than the bot's is `401 Unauthorized`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{lock, Controls, SentMessage, Server};

/// A local Telegram Bot API for one bot.
pub struct TelegramSimulator {
    server: Server,
    state: Arc<SimState>,
}

#[derive(Debug)]
struct SimState {
    bot_token: String,
    controls: Controls,
    sent: Mutex<Vec<SentMessage>>,
    /// file_id → (file_path, bytes)
    files: Mutex<HashMap<String, (String, Vec<u8>)>>,
    next_message_id: AtomicU64,
}

/// A Bot API error answer.
fn api_error(code: u16, description: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    let mut body = json!({ "ok": false, "error_code": code, "description": description });
    if code == 429 {
        body["parameters"] = json!({ "retry_after": 5 });
    }
    (status, Json(body)).into_response()
}

/// What Telegram answers with the status a test asked for.
fn injected(status: StatusCode) -> Response {
    let code = status.as_u16();
    match code {
        429 => api_error(code, "Too Many Requests: retry after 5"),
        403 => api_error(code, "Forbidden: bot was blocked by the user"),
        401 => api_error(code, "Unauthorized"),
        500.. => api_error(code, "Internal Server Error"),
        _ => api_error(code, "Bad Request: chat not found"),
    }
}

fn ok(result: Value) -> Response {
    Json(json!({ "ok": true, "result": result })).into_response()
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

    fn send_message(&self, params: &Value) -> Response {
        let chat_id = match &params["chat_id"] {
            Value::Number(n) => n.to_string(),
            Value::String(s) if !s.is_empty() => s.clone(),
            _ => return api_error(400, "Bad Request: chat_id is empty"),
        };
        let Some(text) = params["text"].as_str().filter(|t| !t.trim().is_empty()) else {
            return api_error(400, "Bad Request: message text is empty");
        };
        if text.chars().count() > 4096 {
            return api_error(400, "Bad Request: message is too long");
        }
        let message_id = self.next_message_id.fetch_add(1, Ordering::SeqCst);
        lock(&self.sent).push(SentMessage {
            to: chat_id,
            text: text.to_owned(),
            phone_number_id: None,
            body: params.clone(),
        });
        let bot_id: i64 = self
            .bot_token
            .split(':')
            .next()
            .and_then(|id| id.parse().ok())
            .unwrap_or(0);
        let date = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        ok(json!({
            "message_id": message_id,
            "from": { "id": bot_id, "is_bot": true, "first_name": "Conserje", "username": "conserje_sim_bot" },
            "chat": { "id": params["chat_id"], "type": "private" },
            "date": date,
            "text": text,
        }))
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
    match method.as_str() {
        "sendMessage" => state.send_message(&params),
        "getFile" => state.get_file(&params),
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
        let state = Arc::new(SimState {
            bot_token: bot_token.to_owned(),
            controls: Controls::default(),
            sent: Mutex::new(Vec::new()),
            files: Mutex::new(HashMap::new()),
            next_message_id: AtomicU64::new(1),
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
        lock(&self.state.sent)
            .iter()
            .filter(|m| m.to == chat_id)
            .map(|m| m.text.clone())
            .collect()
    }

    /// Makes `file_id` known to `getFile` as `file_path` (`voice/file_0.oga`), served as `bytes`.
    pub fn add_file(&self, file_id: &str, bytes: Vec<u8>, file_path: &str) {
        lock(&self.state.files).insert(file_id.to_owned(), (file_path.to_owned(), bytes));
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
