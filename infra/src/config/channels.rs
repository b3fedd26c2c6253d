//! A hotel's WhatsApp and Telegram accounts as the configuration states them.

use serde::Deserialize;

/// A hotel's WhatsApp Cloud API business number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppAccount {
    /// `metadata.phone_number_id` of incoming webhooks: how a webhook finds its hotel.
    pub phone_number_id: Option<String>,
    /// The Meta app secret: `X-Hub-Signature-256` is the HMAC-SHA256 of the body with it.
    pub app_secret: Option<String>,
    /// During a rotation, the secret Meta will sign with next: both are accepted until the
    /// operator moves it to `app_secret` (see `conserje secrets rotate`).
    pub next_app_secret: Option<String>,
    /// Echoed back by the verification handshake when Meta presents it.
    pub verify_token: Option<String>,
    /// Bearer token of `POST /{version}/{phone_number_id}/messages` and the media endpoint.
    pub access_token: Option<String>,
}

impl WhatsAppAccount {
    /// The app secrets a delivery may be signed with: the current one and, during a rotation,
    /// the next (empty values are none).
    pub fn app_secrets(&self) -> Vec<&str> {
        secrets(&self.app_secret, &self.next_app_secret)
    }
}

/// A hotel's Telegram bot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramBot {
    /// Must equal `X-Telegram-Bot-Api-Secret-Token` on every webhook (set with `setWebhook`).
    pub secret_token: Option<String>,
    /// During a rotation, the token the next `setWebhook` sets: both are accepted meanwhile.
    pub next_secret_token: Option<String>,
    /// The `bot<token>` of the Bot API's URLs.
    pub bot_token: Option<String>,
}

impl TelegramBot {
    /// The secret tokens an update may carry: the current one and, during a rotation, the next.
    pub fn secret_tokens(&self) -> Vec<&str> {
        secrets(&self.secret_token, &self.next_secret_token)
    }
}

fn secrets<'a>(current: &'a Option<String>, next: &'a Option<String>) -> Vec<&'a str> {
    [current, next]
        .into_iter()
        .filter_map(|s| s.as_deref())
        .filter(|s| !s.is_empty())
        .collect()
}
