//! The Bot API's envelopes and the descriptions Telegram puts in them.
//!
//! Every answer is `{"ok":true,"result":…}` or `{"ok":false,"error_code":N,"description":…}` with
//! `N` as the HTTP status too; a 429 also carries `parameters.retry_after`. Clients match on the
//! description text, so the wording is Telegram's, not ours.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

pub(super) const CANT_INITIATE: &str = "Forbidden: bot can't initiate conversation with a user";
pub(super) const BLOCKED: &str = "Forbidden: bot was blocked by the user";
pub(super) const CHAT_NOT_FOUND: &str = "Bad Request: chat not found";
pub(super) const CHAT_ID_EMPTY: &str = "Bad Request: chat_id is empty";
pub(super) const TEXT_EMPTY: &str = "Bad Request: message text is empty";
pub(super) const TEXT_TOO_LONG: &str = "Bad Request: message is too long";
pub(super) const QUERY_INVALID: &str =
    "Bad Request: query is too old and response timeout expired or query ID is invalid";
pub(super) const EDIT_NOT_FOUND: &str = "Bad Request: message to edit not found";
pub(super) const CANT_BE_EDITED: &str = "Bad Request: message can't be edited";
pub(super) const NOT_MODIFIED: &str = "Bad Request: message is not modified: specified new message \
     content and reply markup are exactly the same as a current content and reply markup of the message";
pub(super) const NO_MESSAGE_ID: &str = "Bad Request: message identifier is not specified";
pub(super) const INLINE_MESSAGE_UNKNOWN: &str = "Bad Request: MESSAGE_ID_INVALID";

/// Telegram's limit on a message text, in characters.
pub(super) const MAX_TEXT_CHARS: usize = 4096;

/// A Bot API error answer with `code` as the HTTP status.
pub(super) fn api_error(code: u16, description: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    let body = json!({ "ok": false, "error_code": code, "description": description });
    (status, Json(body)).into_response()
}

/// Flood control: wait `retry_after` whole seconds (at least 1) before sending again.
pub(super) fn too_many_requests(retry_after: u64) -> Response {
    let retry_after = retry_after.max(1);
    let body = json!({
        "ok": false,
        "error_code": 429,
        "description": format!("Too Many Requests: retry after {retry_after}"),
        "parameters": { "retry_after": retry_after },
    });
    (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response()
}

/// What Telegram answers with the status a test asked for (`fail_next`).
pub(super) fn injected(status: StatusCode) -> Response {
    let code = status.as_u16();
    match code {
        429 => too_many_requests(5),
        403 => api_error(code, BLOCKED),
        401 => api_error(code, "Unauthorized"),
        500.. => api_error(code, "Internal Server Error"),
        _ => api_error(code, CHAT_NOT_FOUND),
    }
}

pub(super) fn ok(result: Value) -> Response {
    Json(json!({ "ok": true, "result": result })).into_response()
}

/// Unix seconds, the unit of every Telegram `date`.
pub(super) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .unwrap_or(0)
}

/// The `chat_id` of a request: a numeric chat id (sent as a number or as digits) or an
/// `@username`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ChatTarget {
    Id(i64),
    Username(String),
}

impl ChatTarget {
    /// `None` when the request names no chat (absent, empty, or a number that is no chat id).
    pub(super) fn parse(raw: &Value) -> Option<Self> {
        match raw {
            Value::Number(n) => n.as_i64().map(Self::Id),
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(
                s.parse()
                    .map_or_else(|_| Self::Username(s.clone()), Self::Id),
            ),
            _ => None,
        }
    }

    /// The key the simulator files this chat's messages under: the id as text, or the username.
    pub(super) fn key(&self) -> String {
        match self {
            Self::Id(id) => id.to_string(),
            Self::Username(name) => name.clone(),
        }
    }
}

/// A `Chat` object. Private chats' ids are the user's and positive; groups' are negative
/// (supergroups' start at -100…).
pub(super) fn chat_json(key: &str, first_name: Option<&str>) -> Value {
    let Ok(id) = key.parse::<i64>() else {
        return json!({ "id": key, "type": "channel", "username": key.trim_start_matches('@') });
    };
    let kind = match id {
        1.. => "private",
        ..=-1_000_000_000_000 => "supergroup",
        _ => "group",
    };
    let mut chat = json!({ "id": id, "type": kind });
    if let (Some(name), "private") = (first_name, kind) {
        chat["first_name"] = json!(name);
    }
    chat
}

/// The guest as a `User`: in a private chat the user's id is the chat's.
pub(super) fn guest_json(chat_id: i64, first_name: &str) -> Value {
    json!({ "id": chat_id, "is_bot": false, "first_name": first_name, "language_code": "es" })
}
