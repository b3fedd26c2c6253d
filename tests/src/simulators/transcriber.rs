//! An OpenAI-compatible `POST /v1/audio/transcriptions`: a multipart form with `file` and `model`
//! (and optionally `language`, `response_format`), answered with `{"text": …}`.
//!
//! It "recognises" only the audio it was given with [`TranscriberSimulator::add_transcript`]; any
//! other upload is OpenAI's `400 invalid_request_error` on `file`, as a corrupted file would be.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{lock, Controls, Server};

/// The file extensions OpenAI accepts.
const FORMATS: [&str; 10] = [
    "flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm",
];

/// A local transcription service.
pub struct TranscriberSimulator {
    server: Server,
    state: Arc<SimState>,
}

/// One well-formed transcription request, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptionRequest {
    pub model: String,
    pub language: Option<String>,
    pub response_format: Option<String>,
    pub file_name: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

#[derive(Debug)]
struct SimState {
    api_key: Option<String>,
    controls: Controls,
    transcripts: Mutex<HashMap<Vec<u8>, String>>,
    requests: Mutex<Vec<TranscriptionRequest>>,
}

/// An OpenAI error answer.
fn openai_error(status: StatusCode, kind: &str, param: Option<&str>, message: &str) -> Response {
    let body = json!({
        "error": { "message": message, "type": kind, "param": param, "code": Value::Null }
    });
    (status, Json(body)).into_response()
}

fn invalid(param: Option<&str>, message: &str) -> Response {
    openai_error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        param,
        message,
    )
}

/// What OpenAI answers with the status a test asked for.
fn injected(status: StatusCode) -> Response {
    match status.as_u16() {
        429 => openai_error(status, "requests", None, "Rate limit reached for requests"),
        401 => openai_error(
            status,
            "invalid_request_error",
            None,
            "Incorrect API key provided",
        ),
        500.. => openai_error(
            status,
            "server_error",
            None,
            "The server had an error while processing your request. Sorry about that!",
        ),
        _ => invalid(None, "Invalid request"),
    }
}

/// Reads the multipart form: `None` for a missing file, the parser's complaint when malformed.
async fn read_form(
    mut form: Multipart,
) -> Result<(HashMap<String, String>, Option<Upload>), String> {
    let malformed = |e: axum::extract::multipart::MultipartError| {
        format!("Could not parse multipart form: {e}")
    };
    let mut fields = HashMap::new();
    let mut upload = None;
    while let Some(field) = form.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = field.file_name().unwrap_or_default().to_owned();
            let content_type = field.content_type().map(str::to_owned);
            let bytes = field.bytes().await.map_err(malformed)?.to_vec();
            upload = Some(Upload {
                file_name,
                content_type,
                bytes,
            });
        } else {
            let value = field.text().await.map_err(malformed)?;
            fields.insert(name, value);
        }
    }
    Ok((fields, upload))
}

struct Upload {
    file_name: String,
    content_type: Option<String>,
    bytes: Vec<u8>,
}

async fn transcribe(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    if let Some(status) = state.controls.on_request().await {
        return injected(status);
    }
    if let Some(key) = &state.api_key {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if presented != Some(key.as_str()) {
            return openai_error(
                StatusCode::UNAUTHORIZED,
                "invalid_request_error",
                None,
                "Incorrect API key provided",
            );
        }
    }
    let form = match form {
        Ok(form) => form,
        Err(rejection) => return invalid(None, &rejection.body_text()),
    };
    let (fields, upload) = match read_form(form).await {
        Ok(parts) => parts,
        Err(complaint) => return invalid(None, &complaint),
    };
    let Some(model) = fields.get("model").filter(|m| !m.is_empty()).cloned() else {
        return invalid(None, "you must provide a model parameter");
    };
    let Some(upload) = upload.filter(|u| !u.bytes.is_empty()) else {
        return invalid(Some("file"), "you must provide a file");
    };
    let extension = upload
        .file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if !FORMATS.contains(&extension.as_str()) {
        return invalid(
            Some("file"),
            &format!("Invalid file format. Supported formats: {FORMATS:?}"),
        );
    }
    let language = fields.get("language").cloned();
    if let Some(code) = &language {
        if code.len() != 2 || !code.chars().all(|c| c.is_ascii_lowercase()) {
            return invalid(
                Some("language"),
                &format!("Language '{code}' is not supported"),
            );
        }
    }
    let response_format = fields.get("response_format").cloned();
    lock(&state.requests).push(TranscriptionRequest {
        model,
        language: language.clone(),
        response_format: response_format.clone(),
        file_name: upload.file_name,
        content_type: upload.content_type,
        bytes: upload.bytes.clone(),
    });
    let Some(text) = lock(&state.transcripts).get(&upload.bytes).cloned() else {
        return invalid(Some("file"), "Audio file might be corrupted or unsupported");
    };
    match response_format.as_deref() {
        None | Some("json") => Json(json!({ "text": text })).into_response(),
        Some("text") => text.into_response(),
        Some("verbose_json") => Json(json!({
            "task": "transcribe",
            "language": language.unwrap_or_else(|| "en".to_owned()),
            "duration": 1.0,
            "text": text,
            "segments": [],
        }))
        .into_response(),
        Some(other) => invalid(
            Some("response_format"),
            &format!("response_format '{other}' is not supported"),
        ),
    }
}

impl TranscriberSimulator {
    /// Starts a transcriber that requires `api_key` as the Bearer token, or no key at all (like a
    /// local Whisper server) when `None`.
    pub async fn start(api_key: Option<&str>) -> Self {
        let mut server = Server::bind().await;
        let state = Arc::new(SimState {
            api_key: api_key.map(str::to_owned),
            controls: Controls::default(),
            transcripts: Mutex::new(HashMap::new()),
            requests: Mutex::new(Vec::new()),
        });
        server.serve(
            Router::new()
                .route("/v1/audio/transcriptions", post(transcribe))
                .layer(DefaultBodyLimit::max(26 * 1024 * 1024))
                .with_state(Arc::clone(&state)),
        );
        Self { server, state }
    }

    /// The base URL to configure (`CONSERJE_TRANSCRIBER_URL`).
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// Uploads whose bytes are exactly `audio` are transcribed as `text`.
    pub fn add_transcript(&self, audio: Vec<u8>, text: &str) {
        lock(&self.state.transcripts).insert(audio, text.to_owned());
    }

    /// The well-formed requests received (known audio or not), in order.
    pub fn requests(&self) -> Vec<TranscriptionRequest> {
        lock(&self.state.requests).clone()
    }

    /// Answers the next `count` requests with `status` and an OpenAI error body.
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
