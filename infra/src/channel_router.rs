//! One [`ChannelSender`] and [`MediaSource`] for every channel: the conversation worker holds a
//! single port and this router picks the WhatsApp or Telegram adapter by the reply's channel.
//!
//! A channel whose API base is not configured keeps its replies in the outbox, so the embedded
//! default (`conserje serve` with no provider account) answers guests in the transcript instead of
//! failing every send.

use std::sync::Arc;

use async_trait::async_trait;
use conserje_domain::channel::{
    AudioClip, ChannelSender, Delivery, MediaError, MediaSource, OutboundReply, SendError,
};
use conserje_domain::template::TemplateMessage;
use conserje_domain::values::{Channel, TenantId};

use crate::channel_accounts::ChannelAccounts;
use crate::send_results::{self, ProviderCode, SendResult};
use crate::telegram::TelegramBotApi;
use crate::whatsapp::WhatsAppCloud;

pub use crate::http::MAX_AUDIO_BYTES;

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
    pub fn delivers(&self, channel: Channel) -> bool {
        match channel {
            Channel::WhatsApp => self.whatsapp.is_some(),
            Channel::Telegram => self.telegram.is_some(),
            Channel::Api => false,
        }
    }
}

#[async_trait]
impl ChannelSender for ChannelRouter {
    async fn send(&self, reply: &OutboundReply) -> Result<Delivery, SendError> {
        match (reply.channel, &self.whatsapp, &self.telegram) {
            (Channel::WhatsApp, Some(whatsapp), _) => whatsapp.send(reply).await,
            (Channel::Telegram, _, Some(telegram)) => telegram.send(reply).await,
            _ => {
                send_results::record(reply.channel.as_str(), SendResult::Outbox, ProviderCode::Ok);
                Ok(Delivery::KeptInOutbox)
            }
        }
    }

    /// WhatsApp sends the template; other channels have no window, so the reply's own words go.
    async fn send_template(
        &self,
        reply: &OutboundReply,
        template: &TemplateMessage,
    ) -> Result<Delivery, SendError> {
        match (reply.channel, &self.whatsapp) {
            (Channel::WhatsApp, Some(whatsapp)) => whatsapp.send_template(reply, template).await,
            _ => self.send(reply).await,
        }
    }
}

#[async_trait]
impl MediaSource for ChannelRouter {
    async fn fetch_audio(
        &self,
        tenant: &TenantId,
        channel: Channel,
        provider_media_id: &str,
    ) -> Result<AudioClip, MediaError> {
        match (channel, &self.whatsapp, &self.telegram) {
            (Channel::WhatsApp, Some(whatsapp), _) => {
                whatsapp
                    .fetch_audio(tenant, channel, provider_media_id)
                    .await
            }
            (Channel::Telegram, _, Some(telegram)) => {
                telegram
                    .fetch_audio(tenant, channel, provider_media_id)
                    .await
            }
            _ => Err(MediaError::Failed(format!("no {channel} API configured"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conserje_domain::understanding::Language;
    use conserje_domain::values::GuestRef;

    fn reply(channel: Channel) -> OutboundReply {
        OutboundReply {
            reply_id: uuid::Uuid::now_v7(),
            tenant_id: TenantId::parse("default").unwrap(),
            channel,
            guest_ref: GuestRef::parse("34600111222").unwrap(),
            text: "Hola".to_owned(),
            language: Language::Es,
            message_template: None,
            choices: None,
            proactive: None,
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
        for channel in Channel::ALL {
            assert!(!router.delivers(channel));
            assert_eq!(
                router.send(&reply(channel)).await,
                Ok(Delivery::KeptInOutbox)
            );
        }
        let tenant = TenantId::parse("default").unwrap();
        assert_eq!(
            router.fetch_audio(&tenant, Channel::Telegram, "f1").await,
            Err(MediaError::Failed("no telegram API configured".to_owned()))
        );
    }
}
