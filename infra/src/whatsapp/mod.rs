//! The WhatsApp Cloud API (Meta's Graph API) as conserje's [`ChannelSender`] and [`MediaSource`].
//!
//! Replies go out with `POST {base}/{version}/{phone_number_id}/messages`; voice notes come in as a
//! media id that `GET {base}/{version}/{media_id}` turns into a short-lived download URL. Both use
//! the hotel's access token as a Bearer token. Graph errors are classified so the outbox retries
//! what may succeed later (rate limits, outages) and dead-letters what never will (bad token,
//! unknown number).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use conserje_domain::channel::{
    AudioClip, ChannelSender, Delivery, MediaError, MediaSource, OutboundReply, SendError,
};
use conserje_domain::template::TemplateMessage;
use conserje_domain::values::TenantId;
use serde::Deserialize;
use serde_json::json;
use tracing::Instrument;

use crate::channel_accounts::ChannelAccounts;

mod messages;
use crate::http::{
    answered, excerpt, http_client, is_transient_status, media_transport_error, provider_span,
    read_audio, send_transport_error, trim_base,
};
use crate::send_results::{self, ProviderCode};

/// The channel name of WhatsApp replies and media.
pub const WHATSAPP: &str = conserje_domain::values::Channel::WhatsApp.as_str();

/// How long one Graph request may take before the send counts as transient.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Graph error codes that mean "later" even when the HTTP status is a 4xx: unknown/temporary
/// errors (1, 2, 131000, 131016, 133004) and the rate limits (4, 17, 80007, 130429, 131048,
/// 131056). Meta documents these as retryable.
const TRANSIENT_GRAPH_CODES: [i64; 11] = [
    1, 2, 4, 17, 80007, 130429, 131000, 131016, 131048, 131056, 133004,
];

/// The rate limits among them: the message is waited out, not retried as a failure — the app's
/// (4), the number's throughput (80007, 130429) and the pair's (131056).
const RATE_LIMIT_CODES: [i64; 4] = [4, 80007, 130429, 131056];

/// A WhatsApp Cloud API client for every hotel: the account (phone number id, access token) is
/// looked up per reply, so one instance serves all tenants.
pub struct WhatsAppCloud {
    base: String,
    version: String,
    accounts: Arc<ChannelAccounts>,
    client: reqwest::Client,
    timeout: Duration,
}

/// A Graph API error body: `{"error":{"message","type","code","error_subcode","fbtrace_id"}}`.
#[derive(Debug, Deserialize)]
struct GraphErrorBody {
    error: GraphError,
}

#[derive(Debug, Default, Deserialize)]
struct GraphError {
    #[serde(default)]
    message: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    code: Option<i64>,
    error_subcode: Option<i64>,
    fbtrace_id: Option<String>,
    is_transient: Option<bool>,
}

/// The answer to a send: the message ids Meta assigned (`wamid.…`).
#[derive(Debug, Deserialize)]
struct SendResponse {
    #[serde(default)]
    messages: Vec<SentId>,
}

#[derive(Debug, Deserialize)]
struct SentId {
    id: String,
}

/// The answer to `GET /{version}/{media_id}`.
#[derive(Debug, Deserialize)]
struct MediaInfo {
    url: String,
    mime_type: Option<String>,
}

/// What went wrong in a Graph call, in one line: status, message, code, subcode, trace id.
struct GraphFailure {
    status: reqwest::StatusCode,
    error: Option<GraphError>,
    body: String,
}

impl GraphFailure {
    async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        let error = serde_json::from_str::<GraphErrorBody>(&body)
            .ok()
            .map(|b| b.error);
        Self {
            status,
            error,
            body,
        }
    }

    /// One of Meta's throughput limits: the number's (130429, 80007), the app's (4) or the
    /// pair's (131056, too many to one guest): the message goes once the limit lets it.
    fn rate_limited(&self) -> bool {
        self.status == reqwest::StatusCode::TOO_MANY_REQUESTS
            || self
                .error
                .as_ref()
                .and_then(|e| e.code)
                .is_some_and(|c| RATE_LIMIT_CODES.contains(&c))
    }

    fn transient(&self) -> bool {
        let graph_says = self.error.as_ref().is_some_and(|e| {
            e.is_transient == Some(true)
                || e.code.is_some_and(|c| TRANSIENT_GRAPH_CODES.contains(&c))
        });
        is_transient_status(self.status) || graph_says
    }

    /// Graph's `error.code`, or the HTTP status when the body had none.
    fn code(&self) -> ProviderCode {
        match self.error.as_ref().and_then(|e| e.code) {
            Some(code) => ProviderCode::Provider(code),
            None => ProviderCode::Http(self.status.as_u16()),
        }
    }

    fn not_found(&self) -> bool {
        // An unknown media id is Graph's "(#100) … does not exist" (code 100, subcode 33).
        self.status == reqwest::StatusCode::NOT_FOUND
            || self
                .error
                .as_ref()
                .is_some_and(|e| e.code == Some(100) && e.error_subcode == Some(33))
    }

    /// Whether this is 131047: the guest's 24-hour window is closed.
    fn window_closed(&self) -> bool {
        self.error.as_ref().and_then(|e| e.code)
            == Some(i64::from(
                conserje_domain::session::receipt::WINDOW_CLOSED_CODE,
            ))
    }

    fn describe(&self) -> String {
        match &self.error {
            Some(e) => {
                let mut details = Vec::new();
                details.extend(e.kind.clone());
                details.extend(e.code.map(|c| format!("code {c}")));
                details.extend(e.error_subcode.map(|c| format!("subcode {c}")));
                details.extend(e.fbtrace_id.as_ref().map(|t| format!("fbtrace_id {t}")));
                format!(
                    "WhatsApp HTTP {}: {} ({})",
                    self.status.as_u16(),
                    e.message,
                    details.join(" ")
                )
            }
            None => format!(
                "WhatsApp HTTP {}: {}",
                self.status.as_u16(),
                excerpt(&self.body, 300)
            ),
        }
    }
}

impl WhatsAppCloud {
    /// A client of the Graph API at `base_url` (`https://graph.facebook.com`) in `api_version`
    /// (`v21.0`), with the hotels' accounts from `accounts`.
    pub fn new(
        base_url: impl Into<String>,
        api_version: impl Into<String>,
        accounts: Arc<ChannelAccounts>,
    ) -> Self {
        Self {
            base: trim_base(base_url),
            version: api_version.into().trim().trim_matches('/').to_owned(),
            accounts,
            client: http_client(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Gives up on each request after `timeout` (30 s by default), so a hung provider turns into a
    /// retry instead of a stuck worker.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn access_token(&self, tenant: &TenantId) -> Option<&str> {
        self.accounts
            .whatsapp(tenant)
            .and_then(|a| a.access_token.as_deref())
            .filter(|t| !t.trim().is_empty())
    }
}

#[async_trait]
impl ChannelSender for WhatsAppCloud {
    async fn send(&self, reply: &OutboundReply) -> Result<Delivery, SendError> {
        self.post_message(reply, messages::reply(reply), "send_message")
            .await
    }

    async fn send_template(
        &self,
        reply: &OutboundReply,
        template: &TemplateMessage,
    ) -> Result<Delivery, SendError> {
        self.post_message(reply, messages::template(template), "send_template")
            .await
    }
}

impl WhatsAppCloud {
    /// `POST /{version}/{phone_number_id}/messages` with `message` (its `type` and the object of
    /// that type) addressed to the reply's guest, classified as sent, transient, refused, or
    /// refused for a closed window.
    async fn post_message(
        &self,
        reply: &OutboundReply,
        message: serde_json::Value,
        operation: &'static str,
    ) -> Result<Delivery, SendError> {
        let account = self.accounts.whatsapp(&reply.tenant_id);
        let phone_number_id = account
            .and_then(|a| a.phone_number_id.as_deref())
            .filter(|id| !id.trim().is_empty());
        let (Some(phone_number_id), Some(token)) =
            (phone_number_id, self.access_token(&reply.tenant_id))
        else {
            let missing = SendError::Permanent(format!(
                "whatsapp not configured for tenant {}",
                reply.tenant_id
            ));
            return Err(send_results::failed(
                WHATSAPP,
                ProviderCode::NotConfigured,
                missing,
            ));
        };
        let url = format!("{}/{}/{phone_number_id}/messages", self.base, self.version);
        let mut body = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": reply.guest_ref.as_str(),
        });
        if let (Some(body), serde_json::Value::Object(message)) = (body.as_object_mut(), message) {
            body.extend(message);
        }
        let call = provider_span(WHATSAPP, operation);
        let response = self
            .client
            .post(url)
            .bearer_auth(token)
            .timeout(self.timeout)
            .json(&body)
            .send()
            .instrument(call.clone())
            .await
            .map_err(|e| {
                let error = send_transport_error(WHATSAPP, e);
                send_results::failed(WHATSAPP, ProviderCode::Unreachable, error)
            })?;
        answered(&call, response.status());
        if !response.status().is_success() {
            let failure = GraphFailure::read(response).await;
            let error = if failure.rate_limited() {
                SendError::RateLimited {
                    reason: failure.describe(),
                    retry_after: None,
                }
            } else if failure.transient() {
                SendError::Transient(failure.describe())
            } else if failure.window_closed() {
                SendError::WindowClosed(failure.describe())
            } else {
                SendError::Permanent(failure.describe())
            };
            return Err(send_results::failed(WHATSAPP, failure.code(), error));
        }
        send_results::sent(WHATSAPP);
        // A 2xx means Meta accepted the message: an unreadable body must not cause a resend.
        let provider_message_id = match response.json::<SendResponse>().await {
            Ok(sent) => sent.messages.into_iter().next().map(|m| m.id),
            Err(error) => {
                tracing::warn!(reply_id = %reply.reply_id, %error, "whatsapp accepted a message with an unreadable answer");
                None
            }
        };
        Ok(Delivery::Sent {
            provider_message_id,
        })
    }
}

#[async_trait]
impl MediaSource for WhatsAppCloud {
    async fn fetch_audio(
        &self,
        tenant: &TenantId,
        _channel: conserje_domain::values::Channel,
        provider_media_id: &str,
    ) -> Result<AudioClip, MediaError> {
        let Some(token) = self.access_token(tenant) else {
            return Err(MediaError::Failed(format!(
                "whatsapp not configured for tenant {tenant}"
            )));
        };
        let media_id = provider_media_id.trim();
        if media_id.is_empty() || !media_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(MediaError::NotFound(format!(
                "whatsapp media id {provider_media_id:?} is not a Graph id"
            )));
        }
        let url = format!("{}/{}/{media_id}", self.base, self.version);
        let response = self
            .client
            .get(url)
            .bearer_auth(token)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| media_transport_error(WHATSAPP, self.timeout, e))?;
        if !response.status().is_success() {
            let failure = GraphFailure::read(response).await;
            return Err(if failure.not_found() {
                MediaError::NotFound(failure.describe())
            } else {
                MediaError::Failed(failure.describe())
            });
        }
        let info: MediaInfo = response
            .json()
            .await
            .map_err(|e| MediaError::Failed(format!("whatsapp media answer: {e}")))?;
        // The download URL (lookaside.fbsbx.com in production) also wants the Bearer token.
        let download = self
            .client
            .get(&info.url)
            .bearer_auth(token)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| media_transport_error(WHATSAPP, self.timeout, e))?;
        if !download.status().is_success() {
            let failure = GraphFailure::read(download).await;
            return Err(if failure.not_found() {
                MediaError::NotFound(failure.describe())
            } else {
                MediaError::Failed(failure.describe())
            });
        }
        let header_type = download
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = read_audio(WHATSAPP, self.timeout, download).await?;
        Ok(AudioClip {
            bytes,
            mime_type: info
                .mime_type
                .or(header_type)
                .unwrap_or_else(|| "audio/ogg".to_owned()),
            duration_seconds: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(status: u16, body: &str) -> GraphFailure {
        GraphFailure {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            error: serde_json::from_str::<GraphErrorBody>(body)
                .ok()
                .map(|b| b.error),
            body: body.to_owned(),
        }
    }

    #[test]
    fn graph_rate_limits_are_transient_even_as_a_400() {
        let limited = failure(
            400,
            r#"{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"fbtrace_id":"A1"}}"#,
        );
        assert!(limited.transient() && limited.rate_limited());
        let bad_token = failure(
            401,
            r#"{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190,"fbtrace_id":"A2"}}"#,
        );
        assert!(!bad_token.transient() && !bad_token.rate_limited());
        assert_eq!(
            bad_token.describe(),
            "WhatsApp HTTP 401: Invalid OAuth access token (OAuthException code 190 fbtrace_id A2)"
        );
        assert!(failure(502, "<html>Bad gateway</html>").transient());
        assert_eq!(
            failure(502, "<html>Bad gateway</html>").describe(),
            "WhatsApp HTTP 502: <html>Bad gateway</html>"
        );
    }
}
