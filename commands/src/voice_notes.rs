//! Voice notes: fetched from the channel, transcribed, and retried through the dead-letter queue
//! when the transcriber fails, until the transcript flows on like a typed message.
//!
//! The old system gave every transcription the same timeout, so notes over two minutes always
//! failed; here the timeout grows with the audio (see [`transcription_timeout`]).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use conserje_domain::channel::{transcription_timeout, MediaError, MediaSource, Transcriber};
use conserje_domain::log::{LogConsumer, MessageLog, Topics};
use conserje_domain::session::{GuestMessage, MediaKind};
use conserje_domain::understanding::Language;
use tokio::sync::watch;

use crate::consumer_group::{self, BatchHandler, GroupSpec};
use crate::dead_letters::{self, headers};
use crate::CommandError;

/// Why a voice note is in the dead-letter queue.
pub const TRANSCRIPTION_FAILED: &str = "transcription_failed";

/// The inbound header counting transcription attempts of a redriven voice note.
pub const ATTEMPT_HEADER: &str = "transcription_attempt";

/// The consumer group that retries failed transcriptions.
pub const RETRY_GROUP: &str = "transcription-retry";

/// Fetches and transcribes voice notes.
pub struct VoiceNotes {
    media: Arc<dyn MediaSource>,
    transcriber: Option<Arc<dyn Transcriber>>,
}

impl VoiceNotes {
    /// Without a transcriber every voice note waits in the dead-letter queue, to be redriven once
    /// one is configured.
    pub fn new(media: Arc<dyn MediaSource>, transcriber: Option<Arc<dyn Transcriber>>) -> Self {
        Self { media, transcriber }
    }

    /// The words of the voice note `message` carries.
    pub async fn transcribe(
        &self,
        message: &GuestMessage,
        language: Option<Language>,
    ) -> Result<String, MediaError> {
        let Some(media) = message
            .media
            .as_ref()
            .filter(|m| m.kind == MediaKind::Audio)
        else {
            return Err(MediaError::NotFound("the message has no audio".into()));
        };
        let Some(transcriber) = &self.transcriber else {
            return Err(MediaError::Failed("no transcriber is configured".into()));
        };
        let mut clip = self
            .media
            .fetch_audio(
                &message.tenant_id,
                message.channel,
                &media.provider_media_id,
            )
            .await?;
        if clip.duration_seconds.is_none() {
            clip.duration_seconds = media.duration_seconds;
        }
        let timeout = transcription_timeout(clip.duration());
        // The adapter enforces the timeout; this bound only guards against one that does not.
        match tokio::time::timeout(
            timeout + Duration::from_secs(5),
            transcriber.transcribe(&clip, language, timeout),
        )
        .await
        {
            Ok(outcome) => outcome.map(|text| text.trim().to_owned()),
            Err(_) => Err(MediaError::TimedOut(timeout)),
        }
    }
}

/// Sends failed voice notes back to the inbound topic after a growing pause, a bounded number of
/// times; what is left stays in the dead-letter queue for `conserje dlq redrive`.
pub struct TranscriptionRetry {
    log: Arc<dyn MessageLog>,
    topics: Topics,
    /// The pause before attempt n+1 is `base × 2^(n-1)`, at most a minute.
    pub base_delay: Duration,
    pub max_attempts: u32,
}

fn log_error(err: conserje_domain::log::LogError) -> CommandError {
    CommandError::Store(err.to_string())
}

impl TranscriptionRetry {
    pub fn new(log: Arc<dyn MessageLog>, topics: Topics, base_delay: Duration) -> Self {
        Self {
            log,
            topics,
            base_delay,
            max_attempts: 5,
        }
    }

    fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
        (self.base_delay * factor).min(Duration::from_secs(60))
    }

    /// Handles one polled batch of the dead-letter topic.
    async fn handle_batch(
        &self,
        consumer: &mut dyn LogConsumer,
        wait: Duration,
    ) -> Result<usize, CommandError> {
        let batch = consumer.poll(100, wait).await.map_err(log_error)?;
        for dead in &batch {
            if dead.header(headers::REASON) != Some(TRANSCRIPTION_FAILED) {
                continue;
            }
            let attempt: u32 = dead
                .header(ATTEMPT_HEADER)
                .and_then(|a| a.parse().ok())
                .unwrap_or(1);
            if attempt >= self.max_attempts {
                tracing::warn!(key = %dead.key, attempt, "voice note left in the dead-letter queue");
                continue;
            }
            tokio::time::sleep(self.delay(attempt)).await;
            if let Some(again) =
                dead_letters::redrive(dead, &[(ATTEMPT_HEADER, (attempt + 1).to_string())])
            {
                self.log.append(again).await.map_err(log_error)?;
            }
        }
        consumer.commit(&batch).await.map_err(log_error)?;
        Ok(batch.len())
    }

    /// Runs until `shutdown` turns true; a failed batch is delivered again after a pause.
    pub async fn run(self: Arc<Self>, shutdown: watch::Receiver<bool>) {
        let log = self.log.clone();
        let topic = self.topics.dlq.clone();
        let spec = GroupSpec {
            group: RETRY_GROUP,
            topic: &topic,
            wait: Duration::from_millis(500),
        };
        consumer_group::run(log, spec, self, shutdown).await;
    }
}

#[async_trait]
impl BatchHandler for TranscriptionRetry {
    async fn step(
        &self,
        consumer: &mut dyn LogConsumer,
        wait: Duration,
    ) -> Result<usize, CommandError> {
        self.handle_batch(consumer, wait).await
    }
}
