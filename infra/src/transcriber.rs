//! An OpenAI-compatible speech-to-text service as conserje's [`Transcriber`]: OpenAI itself, or a
//! self-hosted Whisper server that speaks the same `POST /v1/audio/transcriptions`.
//!
//! The service picks the decoder by the file name's extension, so the upload is named after the
//! clip's MIME type (`voice.ogg`, `audio.mp3`, …). The caller's timeout bounds the whole call,
//! upload and answer included: a stuck transcription must not hold a guest's conversation.

use std::time::Duration;

use async_trait::async_trait;
use conserje_domain::channel::{AudioClip, MediaError, Transcriber};
use conserje_domain::understanding::Language;
use reqwest::multipart::{Form, Part};
use serde::Deserialize;

use crate::http::{describe, excerpt, http_client, trim_base};

/// A client of an OpenAI-compatible transcription endpoint.
pub struct OpenAiTranscriber {
    base: String,
    api_key: Option<String>,
    model: String,
    client: reqwest::Client,
}

/// The `response_format=json` answer.
#[derive(Debug, Deserialize)]
struct Transcription {
    text: String,
}

/// An OpenAI error body: `{"error":{"message","type","param","code"}}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    message: String,
}

/// The upload's file name for a MIME type (parameters such as `; codecs=opus` ignored). Unknown
/// types are sent as Ogg: both channels' voice notes are Opus in Ogg.
pub fn file_name_for(mime_type: &str) -> &'static str {
    let essence = mime_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "audio/mpeg" | "audio/mp3" | "audio/mpga" => "audio.mp3",
        "audio/mp4" | "audio/m4a" | "audio/x-m4a" | "audio/aac" => "audio.m4a",
        "audio/wav" | "audio/x-wav" | "audio/wave" => "audio.wav",
        "audio/webm" => "audio.webm",
        "audio/flac" | "audio/x-flac" => "audio.flac",
        _ => "voice.ogg",
    }
}

impl OpenAiTranscriber {
    /// A client of the service at `base_url` (`https://api.openai.com`; the `/v1/…` path is added),
    /// authenticated with `api_key` when there is one (local Whisper servers often have none),
    /// asking for `model` (`whisper-1`).
    pub fn new(
        base_url: impl Into<String>,
        api_key: Option<String>,
        model: impl Into<String>,
    ) -> Self {
        Self {
            base: trim_base(base_url),
            api_key: api_key.filter(|k| !k.trim().is_empty()),
            model: model.into(),
            client: http_client(),
        }
    }

    async fn call(
        &self,
        clip: &AudioClip,
        language: Option<Language>,
    ) -> Result<String, MediaError> {
        let file = Part::bytes(clip.bytes.clone()).file_name(file_name_for(&clip.mime_type));
        let file = match file.mime_str(&clip.mime_type) {
            Ok(part) => part,
            // A malformed type from the channel: upload anyway, the extension decides.
            Err(_) => Part::bytes(clip.bytes.clone())
                .file_name(file_name_for(&clip.mime_type))
                .mime_str("application/octet-stream")
                .map_err(|e| MediaError::Failed(describe(e)))?,
        };
        let mut form = Form::new()
            .part("file", file)
            .text("model", self.model.clone())
            .text("response_format", "json");
        if let Some(language) = language {
            form = form.text("language", language.code());
        }
        let mut request = self
            .client
            .post(format!("{}/v1/audio/transcriptions", self.base))
            .multipart(form);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let response = request
            .send()
            .await
            .map_err(|e| MediaError::Failed(format!("transcriber unreachable: {}", describe(e))))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| MediaError::Failed(format!("transcriber answer: {}", describe(e))))?;
        if !status.is_success() {
            let detail = serde_json::from_str::<ErrorBody>(&body)
                .map(|b| b.error.message)
                .unwrap_or(body);
            return Err(MediaError::Failed(format!(
                "transcriber HTTP {}: {}",
                status.as_u16(),
                excerpt(&detail, 300)
            )));
        }
        serde_json::from_str::<Transcription>(&body)
            .map(|t| t.text.trim().to_owned())
            .map_err(|_| {
                MediaError::Failed(format!(
                    "transcriber answer without text: {}",
                    excerpt(&body, 300)
                ))
            })
    }
}

#[async_trait]
impl Transcriber for OpenAiTranscriber {
    async fn transcribe(
        &self,
        clip: &AudioClip,
        language: Option<Language>,
        timeout: Duration,
    ) -> Result<String, MediaError> {
        tokio::time::timeout(timeout, self.call(clip, language))
            .await
            .map_err(|_| MediaError::TimedOut(timeout))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_named_so_the_service_picks_the_right_decoder() {
        assert_eq!(file_name_for("audio/ogg; codecs=opus"), "voice.ogg");
        assert_eq!(file_name_for("audio/mpeg"), "audio.mp3");
        assert_eq!(file_name_for("AUDIO/MP4"), "audio.m4a");
        assert_eq!(file_name_for("application/x-unknown"), "voice.ogg");
    }

    #[tokio::test]
    async fn an_unreachable_service_fails() {
        let clip = AudioClip {
            bytes: vec![1, 2, 3],
            mime_type: "audio/ogg".into(),
            duration_seconds: Some(1),
        };
        // Port 9 (discard) on localhost refuses connections on any ordinary machine.
        let transcriber = OpenAiTranscriber::new("http://127.0.0.1:9", None, "whisper-1");
        let outcome = transcriber
            .transcribe(&clip, None, Duration::from_secs(5))
            .await;
        assert!(matches!(outcome, Err(MediaError::Failed(_))), "{outcome:?}");
    }
}
