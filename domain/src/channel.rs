//! The guest's channels as conserje's ports: sending a reply, fetching a voice note, transcribing it.
//!
//! WhatsApp, Telegram and the transcriber are services conserje cannot run itself; their HTTP
//! adapters live in `conserje-infra` and are tested against local simulators of their wire formats.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::template::{TemplateMessage, TemplateName};
use crate::understanding::Language;
use crate::values::{GuestRef, TenantId};

/// One reply to deliver to a guest on the channel they wrote from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundReply {
    /// Our id of the reply (from `ReplyComposed`): a redelivered reply is recognised by it.
    pub reply_id: Uuid,
    pub tenant_id: TenantId,
    /// Where the guest wrote from (an `api` reply stays in the outbox).
    pub channel: crate::values::Channel,
    /// The WhatsApp `wa_id` or the Telegram chat id.
    pub guest_ref: GuestRef,
    pub text: String,
    pub language: Language,
    /// The WhatsApp message template staff chose to send it as (`Reply::message_template`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_template: Option<TemplateName>,
    /// The buttons it offers (`Reply::choices`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<crate::choice::Choices>,
    /// The proactive message it is (`Reply::proactive`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proactive: Option<crate::proactive::ProactiveKind>,
}

impl OutboundReply {
    /// The record of the outbound topic `topic` that sends it, keyed by its conversation's
    /// session id so one conversation's replies go out in order. The relay writes one for each
    /// composed reply; the template fallback one for a reply sent again.
    pub fn record(
        &self,
        topic: &str,
        session_id: &str,
    ) -> Result<crate::log::OutgoingRecord, serde_json::Error> {
        Ok(crate::log::OutgoingRecord {
            topic: topic.to_owned(),
            key: session_id.to_owned(),
            headers: vec![
                ("reply_id".to_owned(), self.reply_id.to_string()),
                ("tenant".to_owned(), self.tenant_id.to_string()),
                ("event_type".to_owned(), "OutboundReply".to_owned()),
                ("schema_version".to_owned(), "1".to_owned()),
            ],
            payload: serde_json::to_vec(self)?,
        })
    }
}

/// How a reply left conserje.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Delivery {
    /// The provider accepted it; its id of the message when it gave one.
    Sent { provider_message_id: Option<String> },
    /// No sender is configured for the channel: the reply stays in the outbox (shown by the
    /// transcript), so the embedded default works with no provider account.
    KeptInOutbox,
}

/// Why a send failed. Transient failures are retried; permanent ones go to the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("the channel failed for now: {0}")]
    Transient(String),
    #[error("the channel refused the message: {0}")]
    Permanent(String),
    /// WhatsApp's 131047: more than 24 hours since the guest last wrote, so only a template goes.
    #[error("the guest's 24-hour window is closed: {0}")]
    WindowClosed(String),
    /// The guest cannot be reached on the channel: a Telegram user who never started the chat
    /// with the bot (a bot cannot write first) or blocked it. Retrying is pointless.
    #[error("the guest cannot be reached on this channel: {0}")]
    Unreachable(String),
    /// The platform's rate limit (Telegram's 429, WhatsApp's 130429): the message is fine and
    /// goes after `retry_after` (the platform's word, when it gave one). Waited out, never
    /// counted as a failed attempt.
    #[error("the channel's rate limit was hit: {reason}")]
    RateLimited {
        reason: String,
        retry_after: Option<Duration>,
    },
}

/// Sends replies through the guest's channel provider.
#[async_trait]
pub trait ChannelSender: Send + Sync {
    async fn send(&self, reply: &OutboundReply) -> Result<Delivery, SendError>;

    /// Sends `reply` as the approved WhatsApp message template `template` (filled for it): the
    /// only message WhatsApp delivers outside the guest's 24-hour window. A channel without
    /// templates refuses.
    async fn send_template(
        &self,
        reply: &OutboundReply,
        template: &TemplateMessage,
    ) -> Result<Delivery, SendError> {
        let _ = template;
        Err(SendError::Permanent(format!(
            "{} has no message templates",
            reply.channel
        )))
    }
}

/// A voice note's bytes, as the channel served them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioClip {
    pub bytes: Vec<u8>,
    /// `audio/ogg`, `audio/mpeg`…
    pub mime_type: String,
    /// When the channel says how long it is (Telegram does); otherwise estimated from its size.
    pub duration_seconds: Option<u32>,
}

impl AudioClip {
    /// The clip's length: the channel's figure, or an estimate from its size at the bitrate of
    /// WhatsApp's voice notes (Opus, about 16 kbit/s), erring long so the timeout errs generous.
    pub fn duration(&self) -> Duration {
        match self.duration_seconds {
            Some(seconds) => Duration::from_secs(u64::from(seconds)),
            None => Duration::from_secs((self.bytes.len() as u64).div_ceil(2_000)),
        }
    }
}

/// How long a transcription may take: 30 s plus 45 s per minute of audio, at most 300 s. The old
/// system's fixed timeout failed every voice note over two minutes.
pub fn transcription_timeout(audio: Duration) -> Duration {
    let per_minute = audio.as_secs_f64() / 60.0 * 45.0;
    Duration::from_secs_f64((30.0 + per_minute).min(300.0))
}

/// Why media or its transcript could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("the provider has no such media: {0}")]
    NotFound(String),
    #[error("the request timed out after {0:?}")]
    TimedOut(Duration),
    #[error("the service failed: {0}")]
    Failed(String),
}

/// Downloads the media a guest sent (WhatsApp's media endpoint, Telegram's `getFile`).
#[async_trait]
pub trait MediaSource: Send + Sync {
    async fn fetch_audio(
        &self,
        tenant: &TenantId,
        channel: crate::values::Channel,
        provider_media_id: &str,
    ) -> Result<AudioClip, MediaError>;
}

/// Turns speech into text (an OpenAI-compatible `/v1/audio/transcriptions`).
#[async_trait]
pub trait Transcriber: Send + Sync {
    /// Must give up after `timeout`.
    async fn transcribe(
        &self,
        clip: &AudioClip,
        language: Option<Language>,
        timeout: Duration,
    ) -> Result<String, MediaError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeout_grows_with_the_audio_and_stops_at_five_minutes() {
        assert_eq!(
            transcription_timeout(Duration::ZERO),
            Duration::from_secs(30)
        );
        assert_eq!(
            transcription_timeout(Duration::from_secs(120)),
            Duration::from_secs(120)
        );
        assert_eq!(
            transcription_timeout(Duration::from_secs(3600)),
            Duration::from_secs(300)
        );
    }

    #[test]
    fn a_clip_without_a_duration_is_estimated_from_its_size() {
        let clip = AudioClip {
            bytes: vec![0; 240_000],
            mime_type: "audio/ogg".into(),
            duration_seconds: None,
        };
        assert_eq!(clip.duration(), Duration::from_secs(120));
    }
}
