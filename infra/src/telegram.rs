//! The Telegram Bot API as conserje's [`ChannelSender`] and [`MediaSource`].
//!
//! Replies go out with `POST {base}/bot{token}/sendMessage`; voice notes arrive as a `file_id`
//! that `getFile` turns into a path under `{base}/file/bot{token}/`. Every answer is
//! `{"ok":…,"result"|"error_code","description"}`; rate limits (429, with `retry_after`) and server
//! errors are retried, anything else (blocked bot, unknown chat) is dead-lettered. The token is part
//! of every URL, so error messages never include the URL.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use conserje_domain::channel::{
    AudioClip, ChannelSender, Delivery, MediaError, MediaSource, OutboundReply, SendError,
};
use conserje_domain::choice::{fits_telegram, Choices};
use conserje_domain::values::TenantId;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::Instrument;

use crate::channel_accounts::ChannelAccounts;
use crate::http::{
    answered, excerpt, http_client, is_transient_status, media_transport_error, provider_span,
    read_audio, send_transport_error, trim_base,
};
use crate::send_results::{self, ProviderCode};

/// The channel name of Telegram replies and media.
pub const TELEGRAM: &str = conserje_domain::values::Channel::Telegram.as_str();

/// How long one Bot API request may take before the send counts as transient.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A Telegram Bot API client for every hotel: the bot token is looked up per reply.
pub struct TelegramBotApi {
    base: String,
    accounts: Arc<ChannelAccounts>,
    client: reqwest::Client,
    timeout: Duration,
}

/// Every Bot API answer.
#[derive(Debug, Deserialize)]
struct ApiResponse<T> {
    ok: bool,
    result: Option<T>,
    error_code: Option<u16>,
    description: Option<String>,
    parameters: Option<ResponseParameters>,
}

#[derive(Debug, Deserialize)]
struct ResponseParameters {
    retry_after: Option<u64>,
}

/// The `result` of `sendMessage` (a `Message`; only its id matters here).
#[derive(Debug, Deserialize)]
struct SentMessage {
    message_id: i64,
}

/// The `result` of `getFile`.
#[derive(Debug, Deserialize)]
struct File {
    file_path: Option<String>,
}

/// A failed Bot API call: its error code (the body's, else the HTTP status) and description.
struct ApiFailure {
    code: u16,
    text: String,
    /// Seconds to wait, on a 429 (`parameters.retry_after`).
    retry_after: Option<u64>,
}

impl ApiFailure {
    fn transient(&self) -> bool {
        reqwest::StatusCode::from_u16(self.code).is_ok_and(is_transient_status)
    }

    /// Whether the guest cannot be reached at all: 403 is Telegram's answer to a bot writing to
    /// a user who never started the chat ("bot can't initiate conversation with a user") or who
    /// blocked it, and "chat not found" (400) to a chat the bot was never in.
    fn unreachable(&self) -> bool {
        self.code == 403 || (self.code == 400 && self.text.contains("chat not found"))
    }
}

/// Reads a Bot API answer: `Ok(result)` when `ok` is true, else the failure.
async fn read<T: DeserializeOwned>(response: reqwest::Response) -> Result<Option<T>, ApiFailure> {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    match serde_json::from_str::<ApiResponse<T>>(&body) {
        Ok(answer) if answer.ok && status.is_success() => Ok(answer.result),
        Ok(answer) => {
            let code = answer.error_code.unwrap_or(status.as_u16());
            let mut text = format!(
                "Telegram {code}: {}",
                answer.description.as_deref().unwrap_or("no description")
            );
            let retry_after = answer.parameters.and_then(|p| p.retry_after);
            if let Some(seconds) = retry_after {
                text.push_str(&format!(" (retry after {seconds} s)"));
            }
            Err(ApiFailure {
                code,
                text,
                retry_after,
            })
        }
        Err(_) if status.is_success() => Ok(None),
        Err(_) => Err(ApiFailure {
            retry_after: None,
            code: status.as_u16(),
            text: format!("Telegram HTTP {}: {}", status.as_u16(), excerpt(&body, 300)),
        }),
    }
}

/// The `chat_id` of a guest: Telegram's numeric chat id, or a `@username` as a string.
fn chat_id(guest_ref: &str) -> Value {
    match guest_ref.parse::<i64>() {
        Ok(id) => json!(id),
        Err(_) => json!(guest_ref),
    }
}

/// The MIME type of a downloaded file, from its path: Telegram's `getFile` does not say, and voice
/// notes are `voice/file_N.oga` (Opus in Ogg).
fn mime_of(file_path: &str) -> &'static str {
    let extension = file_path
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "mp3" => "audio/mpeg",
        "m4a" | "mp4" => "audio/mp4",
        "wav" => "audio/wav",
        "webm" => "audio/webm",
        "flac" => "audio/flac",
        _ => "audio/ogg",
    }
}

impl TelegramBotApi {
    /// A client of the Bot API at `base_url` (`https://api.telegram.org`), with the hotels' bots
    /// from `accounts`.
    pub fn new(base_url: impl Into<String>, accounts: Arc<ChannelAccounts>) -> Self {
        Self {
            base: trim_base(base_url),
            accounts,
            client: http_client(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Gives up on each request after `timeout` (30 s by default), so a hung API turns into a
    /// retry instead of a stuck worker.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn token(&self, tenant: &TenantId) -> Option<&str> {
        self.accounts
            .telegram(tenant)
            .and_then(|b| b.bot_token.as_deref())
            .filter(|t| !t.trim().is_empty())
    }
}

/// The choices of a reply as an inline keyboard, one button a row (titles stay whole on a
/// phone); `None` when one would not fit (`callback_data` is 1–64 bytes) — the words still ask.
fn inline_keyboard(choices: &Choices) -> Option<serde_json::Value> {
    if !fits_telegram(&choices.buttons) {
        return None;
    }
    let rows: Vec<_> = choices
        .buttons
        .iter()
        .map(|b| json!([{ "text": b.title, "callback_data": b.choice.id() }]))
        .collect();
    Some(json!({ "inline_keyboard": rows }))
}

#[async_trait]
impl ChannelSender for TelegramBotApi {
    async fn send(&self, reply: &OutboundReply) -> Result<Delivery, SendError> {
        let Some(token) = self.token(&reply.tenant_id) else {
            let missing = SendError::Permanent(format!(
                "telegram not configured for tenant {}",
                reply.tenant_id
            ));
            return Err(send_results::failed(
                TELEGRAM,
                ProviderCode::NotConfigured,
                missing,
            ));
        };
        let mut body = json!({ "chat_id": chat_id(reply.guest_ref.as_str()), "text": reply.text });
        if let Some(keyboard) = reply.choices.as_ref().and_then(inline_keyboard) {
            body["reply_markup"] = keyboard;
        }
        let call = provider_span(TELEGRAM, "send_message");
        let response = self
            .client
            .post(format!("{}/bot{token}/sendMessage", self.base))
            .timeout(self.timeout)
            .json(&body)
            .send()
            .instrument(call.clone())
            .await
            .map_err(|e| {
                let error = send_transport_error(TELEGRAM, e);
                send_results::failed(TELEGRAM, ProviderCode::Unreachable, error)
            })?;
        answered(&call, response.status());
        match read::<SentMessage>(response).await {
            Ok(sent) => {
                send_results::sent(TELEGRAM);
                Ok(Delivery::Sent {
                    provider_message_id: sent.map(|m| m.message_id.to_string()),
                })
            }
            Err(failure) => {
                // `error_code` (the body's, else the HTTP status): Telegram's codes are statuses.
                let code = ProviderCode::Provider(i64::from(failure.code));
                let error = if failure.code == 429 {
                    SendError::RateLimited {
                        retry_after: failure.retry_after.map(std::time::Duration::from_secs),
                        reason: failure.text,
                    }
                } else if failure.transient() {
                    SendError::Transient(failure.text)
                } else if failure.unreachable() {
                    SendError::Unreachable(failure.text)
                } else {
                    SendError::Permanent(failure.text)
                };
                Err(send_results::failed(TELEGRAM, code, error))
            }
        }
    }
}

#[async_trait]
impl MediaSource for TelegramBotApi {
    async fn fetch_audio(
        &self,
        tenant: &TenantId,
        _channel: conserje_domain::values::Channel,
        provider_media_id: &str,
    ) -> Result<AudioClip, MediaError> {
        let Some(token) = self.token(tenant) else {
            return Err(MediaError::Failed(format!(
                "telegram not configured for tenant {tenant}"
            )));
        };
        let response = self
            .client
            .post(format!("{}/bot{token}/getFile", self.base))
            .timeout(self.timeout)
            .json(&json!({ "file_id": provider_media_id }))
            .send()
            .await
            .map_err(|e| media_transport_error(TELEGRAM, self.timeout, e))?;
        let file = match read::<File>(response).await {
            Ok(file) => file,
            // An unknown or expired file_id is "400 Bad Request: invalid file_id".
            Err(failure) if failure.code == 400 || failure.code == 404 => {
                return Err(MediaError::NotFound(failure.text))
            }
            Err(failure) => return Err(MediaError::Failed(failure.text)),
        };
        let Some(file_path) = file.and_then(|f| f.file_path) else {
            // Telegram leaves out file_path for files over the Bot API's 20 MB download limit.
            return Err(MediaError::Failed(format!(
                "telegram gave no download path for file {provider_media_id}"
            )));
        };
        let download = self
            .client
            .get(format!(
                "{}/file/bot{token}/{}",
                self.base,
                file_path.trim_start_matches('/')
            ))
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| media_transport_error(TELEGRAM, self.timeout, e))?;
        let status = download.status();
        if !status.is_success() {
            let text = format!(
                "Telegram file download HTTP {}: {}",
                status.as_u16(),
                excerpt(&download.text().await.unwrap_or_default(), 300)
            );
            return Err(if status == reqwest::StatusCode::NOT_FOUND {
                MediaError::NotFound(text)
            } else {
                MediaError::Failed(text)
            });
        }
        let bytes = read_audio(TELEGRAM, self.timeout, download).await?;
        Ok(AudioClip {
            bytes,
            mime_type: mime_of(&file_path).to_owned(),
            duration_seconds: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_guests_are_chat_ids_and_others_usernames() {
        assert_eq!(chat_id("123456789"), json!(123456789));
        assert_eq!(chat_id("-1001234"), json!(-1001234));
        assert_eq!(chat_id("@hotel_guest"), json!("@hotel_guest"));
    }

    #[test]
    fn voice_notes_are_ogg_and_other_files_go_by_extension() {
        assert_eq!(mime_of("voice/file_3.oga"), "audio/ogg");
        assert_eq!(mime_of("music/file_4.MP3"), "audio/mpeg");
        assert_eq!(mime_of("audio/file_5.m4a"), "audio/mp4");
    }
}
