//! Each hotel's WhatsApp and Telegram accounts: the secrets that authenticate webhooks and the
//! tokens that send replies, from the configuration (file and environment, see
//! [`crate::config`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::config::{HotelSettings, DEFAULT_HOTEL};
pub use crate::config::{TelegramBot, WhatsAppAccount};
use conserje_domain::values::TenantId;

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
    /// The accounts of `hotels`, as configured (file and environment, see [`crate::config`]).
    pub fn new(hotels: &BTreeMap<String, HotelSettings>) -> Self {
        let mut accounts = Self::default();
        for (tenant, settings) in hotels {
            if let Some(whatsapp) = &settings.whatsapp {
                accounts.whatsapp.insert(tenant.clone(), whatsapp.clone());
            }
            if let Some(telegram) = &settings.telegram {
                accounts.telegram.insert(tenant.clone(), telegram.clone());
            }
        }
        accounts.hotels = hotels.keys().cloned().collect();
        accounts.hotels.insert(DEFAULT_HOTEL.to_owned());
        accounts.tenant_by_phone_number_id = accounts
            .whatsapp
            .iter()
            .filter_map(|(tenant, a)| Some((a.phone_number_id.clone()?, tenant.clone())))
            .collect();
        accounts
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{env, ConfigFile};

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
        let vars = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        let file = ConfigFile::parse("test", FILE, vars).unwrap();
        ChannelAccounts::new(&file.hotels)
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
