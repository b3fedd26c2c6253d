//! One [`ChannelSender`] and [`MediaSource`] for every channel: the conversation worker holds a
//! single port and this router picks the WhatsApp or Telegram adapter by the reply's channel.
//!
//! A channel whose API base is not configured keeps its replies in the outbox, so the embedded
//! default (`conserje serve` with no provider account) answers guests in the transcript instead of
//! failing every send. The helpers shared by the HTTP adapters (error classification, capped body
//! reads, token-free error messages) live here too.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use conserje_domain::channel::{
    AudioClip, ChannelSender, Delivery, MediaError, MediaSource, OutboundReply, SendError,
};
use conserje_domain::values::TenantId;
use reqwest::StatusCode;

use crate::channel_accounts::ChannelAccounts;
use crate::telegram::TelegramBotApi;
use crate::whatsapp::WhatsAppCloud;

/// The channel name of WhatsApp replies and media.
pub const WHATSAPP: &str = "whatsapp";
/// The channel name of Telegram replies and media.
pub const TELEGRAM: &str = "telegram";

/// The largest voice note conserje downloads: the transcription API's 25 MB upload limit, so a
/// clip that could never be transcribed is refused before it fills memory.
pub const MAX_AUDIO_BYTES: usize = 25 * 1024 * 1024;

/// Dispatches sends and media downloads to the adapter of the reply's channel.
pub struct ChannelRouter {
    whatsapp: Option<WhatsAppCloud>,
    telegram: Option<TelegramBotApi>,
}

impl ChannelRouter {
    /// A router over the given adapters; `None` keeps that channel's replies in the outbox.
    pub fn new(whatsapp: Option<WhatsAppCloud>, telegram: Option<TelegramBotApi>) -> Self {
        Self { whatsapp, telegram }
    }

    /// The router the runtime builds from its settings: an adapter for each API base that is set
    /// (blank counts as unset). Plain values, because `conserje-infra` does not know the gateway's
    /// option types.
    pub fn from_options(
        whatsapp_base: Option<String>,
        whatsapp_version: String,
        telegram_base: Option<String>,
        accounts: Arc<ChannelAccounts>,
    ) -> Self {
        let set = |base: Option<String>| base.filter(|b| !b.trim().is_empty());
        Self {
            whatsapp: set(whatsapp_base)
                .map(|base| WhatsAppCloud::new(base, whatsapp_version, Arc::clone(&accounts))),
            telegram: set(telegram_base).map(|base| TelegramBotApi::new(base, accounts)),
        }
    }

    /// Whether replies on `channel` leave conserje (false: they stay in the outbox).
    pub fn delivers(&self, channel: &str) -> bool {
        match channel {
            WHATSAPP => self.whatsapp.is_some(),
            TELEGRAM => self.telegram.is_some(),
            _ => false,
        }
    }
}

#[async_trait]
impl ChannelSender for ChannelRouter {
    async fn send(&self, reply: &OutboundReply) -> Result<Delivery, SendError> {
        match (reply.channel.as_str(), &self.whatsapp, &self.telegram) {
            (WHATSAPP, Some(whatsapp), _) => whatsapp.send(reply).await,
            (TELEGRAM, _, Some(telegram)) => telegram.send(reply).await,
            _ => Ok(Delivery::KeptInOutbox),
        }
    }
}

#[async_trait]
impl MediaSource for ChannelRouter {
    async fn fetch_audio(
        &self,
        tenant: &TenantId,
        channel: &str,
        provider_media_id: &str,
    ) -> Result<AudioClip, MediaError> {
        match (channel, &self.whatsapp, &self.telegram) {
            (WHATSAPP, Some(whatsapp), _) => {
                whatsapp
                    .fetch_audio(tenant, channel, provider_media_id)
                    .await
            }
            (TELEGRAM, _, Some(telegram)) => {
                telegram
                    .fetch_audio(tenant, channel, provider_media_id)
                    .await
            }
            _ => Err(MediaError::Failed(format!("no {channel} API configured"))),
        }
    }
}

/// Rate limiting, request timeouts and server trouble: the provider may accept the same request
/// later, so the outbox retries it.
pub(crate) fn is_transient_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
}

/// A reqwest error as text without its URL (Telegram's URLs carry the bot token) but with its
/// causes ("connection refused"), which reqwest's own message leaves out.
pub(crate) fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A send that failed before the provider answered. A request that could not even be built (a
/// malformed API base) will never succeed; anything else (timeouts, refused connections) may.
pub(crate) fn send_transport_error(channel: &str, error: reqwest::Error) -> SendError {
    if error.is_builder() {
        SendError::Permanent(format!("{channel} request: {}", describe(error)))
    } else {
        SendError::Transient(format!("{channel} unreachable: {}", describe(error)))
    }
}

/// A media request that failed before the provider answered.
pub(crate) fn media_transport_error(
    channel: &str,
    timeout: Duration,
    error: reqwest::Error,
) -> MediaError {
    if error.is_timeout() {
        MediaError::TimedOut(timeout)
    } else {
        MediaError::Failed(format!("{channel} unreachable: {}", describe(error)))
    }
}

/// The body of a media download, refused once it passes [`MAX_AUDIO_BYTES`].
pub(crate) async fn read_audio(
    channel: &str,
    timeout: Duration,
    mut response: reqwest::Response,
) -> Result<Vec<u8>, MediaError> {
    let too_large = || {
        MediaError::Failed(format!(
            "{channel} media is larger than {MAX_AUDIO_BYTES} bytes"
        ))
    };
    if response
        .content_length()
        .is_some_and(|length| length > MAX_AUDIO_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| media_transport_error(channel, timeout, e))?
    {
        if bytes.len() + chunk.len() > MAX_AUDIO_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// At most `max` characters of a provider's answer, for error messages that stay one line long.
pub(crate) fn excerpt(body: &str, max: usize) -> String {
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

/// The URL base without its trailing slashes, so `{base}/{path}` never doubles one.
pub(crate) fn trim_base(base: impl Into<String>) -> String {
    base.into().trim().trim_end_matches('/').to_owned()
}

/// One HTTP client per adapter: connection pooling across requests, a bounded connect time.
///
/// # Panics
/// When the TLS backend cannot initialise, like `reqwest::Client::new`: the process cannot talk to
/// any provider then.
pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .expect("the HTTP client's TLS backend initialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use conserje_domain::understanding::Language;
    use conserje_domain::values::GuestRef;

    fn reply(channel: &str) -> OutboundReply {
        OutboundReply {
            reply_id: uuid::Uuid::now_v7(),
            tenant_id: TenantId::parse("default").unwrap(),
            channel: channel.to_owned(),
            guest_ref: GuestRef::parse("34600111222").unwrap(),
            text: "Hola".to_owned(),
            language: Language::Es,
        }
    }

    #[tokio::test]
    async fn an_unconfigured_channel_keeps_its_replies_and_has_no_media() {
        let router = ChannelRouter::from_options(
            None,
            "v21.0".to_owned(),
            Some("  ".to_owned()),
            Arc::new(ChannelAccounts::default()),
        );
        for channel in [WHATSAPP, TELEGRAM, "web"] {
            assert!(!router.delivers(channel));
            assert_eq!(
                router.send(&reply(channel)).await,
                Ok(Delivery::KeptInOutbox)
            );
        }
        let tenant = TenantId::parse("default").unwrap();
        assert_eq!(
            router.fetch_audio(&tenant, TELEGRAM, "f1").await,
            Err(MediaError::Failed("no telegram API configured".to_owned()))
        );
    }

    #[test]
    fn statuses_worth_retrying_are_rate_limits_timeouts_and_server_errors() {
        for code in [429, 408, 500, 502, 503] {
            assert!(
                is_transient_status(StatusCode::from_u16(code).unwrap()),
                "{code}"
            );
        }
        for code in [400, 401, 403, 404] {
            assert!(
                !is_transient_status(StatusCode::from_u16(code).unwrap()),
                "{code}"
            );
        }
    }

    #[test]
    fn excerpts_are_one_line_and_bounded() {
        assert_eq!(excerpt("a\n  b", 10), "a b");
        assert_eq!(excerpt("ñandú ñandú", 5), "ñandú…");
        assert_eq!(trim_base(" http://x/ "), "http://x");
    }
}
