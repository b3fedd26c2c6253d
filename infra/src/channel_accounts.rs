//! Each hotel's WhatsApp and Telegram accounts: the secrets that authenticate webhooks and the
//! tokens that send replies, from the configuration file and, for the `default` tenant, the
//! environment.
//!
//! The environment covers the common single-hotel install: `conserje serve` with only
//! `CONSERJE_WHATSAPP_*` / `CONSERJE_TELEGRAM_*` set accepts real webhooks, no file needed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use conserje_domain::values::TenantId;
use serde::Deserialize;

use crate::hotels::{HotelSettings, DEFAULT_HOTEL};

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

/// The environment variables that configure the `default` tenant's accounts.
pub mod env {
    pub const WHATSAPP_APP_SECRET: &str = "CONSERJE_WHATSAPP_APP_SECRET";
    pub const WHATSAPP_NEXT_APP_SECRET: &str = "CONSERJE_WHATSAPP_NEXT_APP_SECRET";
    pub const WHATSAPP_VERIFY_TOKEN: &str = "CONSERJE_WHATSAPP_VERIFY_TOKEN";
    pub const WHATSAPP_ACCESS_TOKEN: &str = "CONSERJE_WHATSAPP_ACCESS_TOKEN";
    pub const WHATSAPP_PHONE_NUMBER_ID: &str = "CONSERJE_WHATSAPP_PHONE_NUMBER_ID";
    pub const TELEGRAM_SECRET_TOKEN: &str = "CONSERJE_TELEGRAM_SECRET_TOKEN";
    pub const TELEGRAM_NEXT_SECRET_TOKEN: &str = "CONSERJE_TELEGRAM_NEXT_SECRET_TOKEN";
    pub const TELEGRAM_BOT_TOKEN: &str = "CONSERJE_TELEGRAM_BOT_TOKEN";
}

/// The accounts of every configured hotel.
#[derive(Debug, Clone, Default)]
pub struct ChannelAccounts {
    /// Every configured hotel: a webhook for any other tenant is refused.
    hotels: BTreeSet<String>,
    whatsapp: BTreeMap<String, WhatsAppAccount>,
    telegram: BTreeMap<String, TelegramBot>,
    tenant_by_phone_number_id: HashMap<String, String>,
}

/// Which hotel a WhatsApp webhook belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedTenant {
    pub tenant: TenantId,
    /// False when the number is not configured and the webhook went to the `default` tenant
    /// (counted, so operators notice a number nobody set up).
    pub known: bool,
}

impl ChannelAccounts {
    /// The accounts of `hotels`, with the `default` tenant's fields filled from `lookup`
    /// (the process environment in production) where the file leaves them empty.
    pub fn new(
        hotels: &BTreeMap<String, HotelSettings>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let mut accounts = Self::default();
        for (tenant, settings) in hotels {
            if let Some(whatsapp) = &settings.whatsapp {
                accounts.whatsapp.insert(tenant.clone(), whatsapp.clone());
            }
            if let Some(telegram) = &settings.telegram {
                accounts.telegram.insert(tenant.clone(), telegram.clone());
            }
        }
        let non_empty = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let whatsapp = accounts
            .whatsapp
            .entry(DEFAULT_HOTEL.to_owned())
            .or_default();
        fill(
            &mut whatsapp.app_secret,
            non_empty(env::WHATSAPP_APP_SECRET),
        );
        fill(
            &mut whatsapp.next_app_secret,
            non_empty(env::WHATSAPP_NEXT_APP_SECRET),
        );
        fill(
            &mut whatsapp.verify_token,
            non_empty(env::WHATSAPP_VERIFY_TOKEN),
        );
        fill(
            &mut whatsapp.access_token,
            non_empty(env::WHATSAPP_ACCESS_TOKEN),
        );
        fill(
            &mut whatsapp.phone_number_id,
            non_empty(env::WHATSAPP_PHONE_NUMBER_ID),
        );
        let telegram = accounts
            .telegram
            .entry(DEFAULT_HOTEL.to_owned())
            .or_default();
        fill(
            &mut telegram.secret_token,
            non_empty(env::TELEGRAM_SECRET_TOKEN),
        );
        fill(
            &mut telegram.next_secret_token,
            non_empty(env::TELEGRAM_NEXT_SECRET_TOKEN),
        );
        fill(&mut telegram.bot_token, non_empty(env::TELEGRAM_BOT_TOKEN));
        accounts.hotels = hotels.keys().cloned().collect();
        accounts.hotels.insert(DEFAULT_HOTEL.to_owned());
        accounts.tenant_by_phone_number_id = accounts
            .whatsapp
            .iter()
            .filter_map(|(tenant, a)| Some((a.phone_number_id.clone()?, tenant.clone())))
            .collect();
        accounts
    }

    /// The accounts of `hotels` and the process environment.
    pub fn from_env(hotels: &BTreeMap<String, HotelSettings>) -> Self {
        Self::new(hotels, |name| std::env::var(name).ok())
    }

    /// Whether `tenant` is a configured hotel (the `default` one always is).
    pub fn knows(&self, tenant: &TenantId) -> bool {
        self.hotels.contains(tenant.as_str())
    }

    /// The hotel whose business number is `phone_number_id`. A number no hotel names belongs to
    /// `default` only while `default` names no number of its own — the one-number install
    /// configured by environment alone; otherwise it is nobody's (`None`), and its messages are
    /// not recorded anywhere.
    pub fn whatsapp_tenant(&self, phone_number_id: &str) -> Option<ResolvedTenant> {
        if let Some(tenant) = self.tenant_by_phone_number_id.get(phone_number_id) {
            return Some(ResolvedTenant {
                tenant: TenantId::parse(tenant).expect("configured tenant ids are valid"),
                known: true,
            });
        }
        let default_has_a_number = self
            .whatsapp
            .get(DEFAULT_HOTEL)
            .is_some_and(|a| a.phone_number_id.is_some());
        (!default_has_a_number).then(|| ResolvedTenant {
            tenant: TenantId::parse(DEFAULT_HOTEL).expect("default is a valid tenant id"),
            known: false,
        })
    }

    /// A hotel's own WhatsApp account. There is no fallback to another hotel's: a hotel
    /// without one neither receives nor sends on WhatsApp.
    pub fn whatsapp(&self, tenant: &TenantId) -> Option<&WhatsAppAccount> {
        self.whatsapp.get(tenant.as_str())
    }

    /// A hotel's own Telegram bot; its secret opens only this hotel's webhook.
    pub fn telegram(&self, tenant: &TenantId) -> Option<&TelegramBot> {
        self.telegram.get(tenant.as_str())
    }
}

fn fill(field: &mut Option<String>, value: Option<String>) {
    if field.is_none() {
        *field = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hotels::ConfigFile;

    const FILE: &str = r#"
        [hotels.default]
        time_zone = "Europe/Madrid"
        [hotels.hotel-sol]
        time_zone = "America/Argentina/Buenos_Aires"
        [hotels.hotel-sol.whatsapp]
        phone_number_id = "106540352242922"
        app_secret = "sol-secret"
        [hotels.hotel-sol.telegram]
        secret_token = "sol-telegram"
        [pms_simulator]
        currency = "EUR"
        rooms = []
    "#;

    fn accounts(env: &[(&str, &str)]) -> ChannelAccounts {
        let file: ConfigFile = toml::from_str(FILE).unwrap();
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ChannelAccounts::new(&file.hotels, |name| env.get(name).cloned())
    }

    #[test]
    fn a_webhook_finds_its_hotel_by_phone_number_id_and_strangers_go_to_default() {
        let accounts = accounts(&[]);
        let sol = accounts.whatsapp_tenant("106540352242922").unwrap();
        assert_eq!((sol.tenant.as_str(), sol.known), ("hotel-sol", true));
        let stranger = accounts.whatsapp_tenant("999").unwrap();
        assert_eq!(
            (stranger.tenant.as_str(), stranger.known),
            ("default", false)
        );
    }

    #[test]
    fn a_stranger_number_is_nobodys_once_default_has_a_number_of_its_own() {
        let accounts = accounts(&[(env::WHATSAPP_PHONE_NUMBER_ID, "555")]);
        assert_eq!(
            accounts.whatsapp_tenant("555").unwrap().tenant.as_str(),
            "default"
        );
        assert_eq!(accounts.whatsapp_tenant("999"), None);
    }

    #[test]
    fn only_configured_hotels_are_known_and_secrets_do_not_cross_hotels() {
        let accounts = accounts(&[(env::TELEGRAM_SECRET_TOKEN, "env-telegram")]);
        let other = TenantId::parse("elsewhere").unwrap();
        assert!(!accounts.knows(&other));
        assert!(accounts.knows(&TenantId::parse("hotel-sol").unwrap()));
        assert!(
            accounts.telegram(&other).is_none(),
            "no fallback to default's bot"
        );
        assert!(
            accounts.whatsapp(&other).is_none(),
            "no fallback to default's number"
        );
    }

    #[test]
    fn during_a_rotation_both_secrets_are_accepted() {
        let accounts = accounts(&[
            (env::WHATSAPP_APP_SECRET, "old"),
            (env::WHATSAPP_NEXT_APP_SECRET, "new"),
            (env::TELEGRAM_SECRET_TOKEN, "t-old"),
        ]);
        let default = TenantId::parse("default").unwrap();
        assert_eq!(
            accounts.whatsapp(&default).unwrap().app_secrets(),
            ["old", "new"]
        );
        assert_eq!(
            accounts.telegram(&default).unwrap().secret_tokens(),
            ["t-old"]
        );
    }

    #[test]
    fn the_environment_configures_the_default_tenant_only() {
        let accounts = accounts(&[
            (env::WHATSAPP_APP_SECRET, "env-secret"),
            (env::TELEGRAM_SECRET_TOKEN, "env-telegram"),
        ]);
        let default = TenantId::parse("default").unwrap();
        let sol = TenantId::parse("hotel-sol").unwrap();
        assert_eq!(
            accounts.whatsapp(&default).unwrap().app_secret.as_deref(),
            Some("env-secret")
        );
        assert_eq!(
            accounts.whatsapp(&sol).unwrap().app_secret.as_deref(),
            Some("sol-secret")
        );
        assert_eq!(
            accounts.telegram(&default).unwrap().secret_token.as_deref(),
            Some("env-telegram")
        );
    }
}
