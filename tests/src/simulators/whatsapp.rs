//! The WhatsApp Cloud API's sending and media endpoints, as Meta's Graph API answers them.
//!
//! - `POST /{version}/{phone_number_id}/messages` with a text message → `{"messaging_product",
//!   "contacts":[{"input","wa_id"}],"messages":[{"id":"wamid.…"}]}`;
//! - `GET /{version}/{media_id}` → `{"messaging_product","url","mime_type","sha256","file_size",
//!   "id"}`, the `url` pointing at this server's `/whatsapp_business/attachments/?mid=…`, which
//!   serves the bytes (to the Bearer token only, like Meta's lookaside host).
//!
//! Errors are Graph error bodies; a wrong token is Meta's `401` with code 190.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{lock, Controls, SentMessage, Server};

/// A local WhatsApp Cloud API for one access token.
pub struct WhatsAppSimulator {
    server: Server,
    state: Arc<SimState>,
}

#[derive(Debug)]
struct SimState {
    access_token: String,
    base_url: String,
    controls: Controls,
    sent: Mutex<Vec<SentMessage>>,
    media: Mutex<HashMap<String, Media>>,
    next_id: AtomicU64,
}

#[derive(Debug, Clone)]
struct Media {
    bytes: Vec<u8>,
    mime_type: String,
}

/// A Graph API error response.
fn graph_error(status: StatusCode, code: u32, message: &str) -> Response {
    let mut error = json!({
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AsimulatorTrace",
    });
    if code == 100 && message.starts_with("Unsupported") {
        // Graph's "object does not exist" (an unknown media id or phone number id).
        error["type"] = json!("GraphMethodException");
        error["error_subcode"] = json!(33);
    }
    if status.is_server_error() {
        error["is_transient"] = json!(true);
    }
    (status, Json(json!({ "error": error }))).into_response()
}

/// What Graph answers with the status a test asked for.
fn injected(status: StatusCode) -> Response {
    match status.as_u16() {
        429 => graph_error(status, 130429, "(#130429) Rate limit hit"),
        401 => graph_error(
            status,
            190,
            "Invalid OAuth access token - Cannot parse access token",
        ),
        403 => graph_error(
            status,
            10,
            "(#10) Application does not have permission for this action",
        ),
        404 => graph_error(status, 100, "Unsupported request - method type: get"),
        500.. => graph_error(status, 1, "An unknown error has occurred."),
        _ => graph_error(status, 100, "(#100) Invalid parameter"),
    }
}

impl SimState {
    /// The common start of every route: latency, injected failure, then Meta's check of
    /// `Authorization: Bearer …`. `Some` is the answer that refuses the request.
    async fn refusal(&self, headers: &HeaderMap) -> Option<Response> {
        if let Some(status) = self.controls.on_request().await {
            return Some(injected(status));
        }
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        (presented != Some(self.access_token.as_str())).then(|| {
            graph_error(
                StatusCode::UNAUTHORIZED,
                190,
                "Invalid OAuth access token - Cannot parse access token",
            )
        })
    }
}

async fn send_message(
    State(state): State<Arc<SimState>>,
    Path((_version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Some(refusal) = state.refusal(&headers).await {
        return refusal;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return graph_error(StatusCode::BAD_REQUEST, 100, "(#100) Invalid JSON body");
    };
    let required = |what: &str| {
        graph_error(
            StatusCode::BAD_REQUEST,
            100,
            &format!("(#100) The parameter {what} is required."),
        )
    };
    if body["messaging_product"] != "whatsapp" {
        return required("messaging_product");
    }
    let Some(to) = body["to"].as_str().filter(|t| !t.is_empty()) else {
        return required("to");
    };
    if body["type"] != "text" {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            "(#100) Param type must be one of {TEXT} in this simulator",
        );
    }
    let Some(text) = body["text"]["body"].as_str().filter(|t| !t.is_empty()) else {
        return required("text['body']");
    };
    if text.chars().count() > 4096 {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            "(#100) Param text['body'] must be at most 4096 characters long.",
        );
    }
    let id = state.next_id.fetch_add(1, Ordering::SeqCst);
    lock(&state.sent).push(SentMessage {
        to: to.to_owned(),
        text: text.to_owned(),
        phone_number_id: Some(phone_number_id),
        body: body.clone(),
    });
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": to, "wa_id": to }],
        "messages": [{ "id": format!("wamid.SIM{id:012}") }],
    }))
    .into_response()
}

async fn media_info(
    State(state): State<Arc<SimState>>,
    Path((_version, media_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = state.refusal(&headers).await {
        return refusal;
    }
    let Some(media) = lock(&state.media).get(&media_id).cloned() else {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            &format!(
                "Unsupported get request. Object with ID '{media_id}' does not exist, cannot be \
                 loaded due to missing permissions, or does not support this operation."
            ),
        );
    };
    Json(json!({
        "messaging_product": "whatsapp",
        "url": format!("{}/whatsapp_business/attachments/?mid={media_id}", state.base_url),
        "mime_type": media.mime_type,
        "sha256": format!("{:016x}", fingerprint(&media.bytes)),
        "file_size": media.bytes.len(),
        "id": media_id,
    }))
    .into_response()
}

async fn media_download(
    State(state): State<Arc<SimState>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = state.refusal(&headers).await {
        return refusal;
    }
    let media = query
        .get("mid")
        .and_then(|id| lock(&state.media).get(id).cloned());
    match media {
        Some(media) => ([(header::CONTENT_TYPE, media.mime_type)], media.bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A stand-in for the sha256 Meta reports (the adapter does not check it).
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x100_0000_01b3)
    })
}

impl WhatsAppSimulator {
    /// Starts a simulator that accepts only `access_token` as the Bearer token.
    pub async fn start(access_token: &str) -> Self {
        let mut server = Server::bind().await;
        let state = Arc::new(SimState {
            access_token: access_token.to_owned(),
            base_url: server.base_url(),
            controls: Controls::default(),
            sent: Mutex::new(Vec::new()),
            media: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        });
        server.serve(
            Router::new()
                .route("/{version}/{phone_number_id}/messages", post(send_message))
                .route("/{version}/{media_id}", get(media_info))
                .route("/whatsapp_business/attachments/", get(media_download))
                .with_state(Arc::clone(&state)),
        );
        Self { server, state }
    }

    /// The API base to configure (`CONSERJE_WHATSAPP_API_BASE`).
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// Every message accepted, in order.
    pub fn sent(&self) -> Vec<SentMessage> {
        lock(&self.state.sent).clone()
    }

    /// The texts accepted for the guest `wa_id`, in order.
    pub fn sent_to(&self, wa_id: &str) -> Vec<String> {
        lock(&self.state.sent)
            .iter()
            .filter(|m| m.to == wa_id)
            .map(|m| m.text.clone())
            .collect()
    }

    /// Serves `bytes` as the media `media_id` (what a guest's voice note becomes).
    pub fn add_media(&self, media_id: &str, bytes: Vec<u8>, mime_type: &str) {
        lock(&self.state.media).insert(
            media_id.to_owned(),
            Media {
                bytes,
                mime_type: mime_type.to_owned(),
            },
        );
    }

    /// Answers the next `count` requests (of any route) with `status` and a Graph error body.
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
