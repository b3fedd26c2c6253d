//! The configuration: every hotel's settings, from a TOML file with the environment layered on
//! top (figment), so secrets need not live in the file.
//!
//! Any hotel setting can be overridden by a variable `CONSERJE_HOTELS__<HOTEL>__<FIELD>`, with
//! `__` between nested keys: `CONSERJE_HOTELS__HOTEL_SOL__PMS__API_KEY` sets
//! `[hotels.hotel-sol.pms] api_key`. Variable names cannot hold a `-`, so `_` in the hotel part
//! matches a hotel whose id has `-` there. The single-hotel shortcuts `CONSERJE_WHATSAPP_*` and
//! `CONSERJE_TELEGRAM_*` set the `default` hotel's accounts. Values from the environment are
//! text; numeric settings accept text, so a phone number id of digits stays a string and an
//! `id_hotel` of digits a number. Empty variables are ignored.
//!
//! This module depends on nothing else in the crate; the adapters depend on it.

mod channels;
mod pms;

use std::collections::BTreeMap;
use std::path::Path;

use chrono_tz::Tz;
use conserje_domain::cancellation::CancellationPolicy;
use conserje_domain::hotel::{BusinessHours, Localized, TextKey};
use conserje_domain::proactive::ProactiveSettings;
use conserje_domain::template::TemplateRegistry;
use conserje_domain::understanding::HotelTopic;
use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use serde::Deserialize;

pub use channels::{TelegramBot, WhatsAppAccount};
pub use pms::{
    PmsKind, PmsSettings, QloAppsSettings, SimulatedRoom, SimulatorSettings, QLOAPPS_KEY_LENGTH,
};

use crate::InfraError;

/// The configuration built into the binary, used when no file is given.
pub const DEFAULT_CONFIG: &str = include_str!("../../../config/conserje.toml");

/// The entry used for tenants the file does not name.
pub const DEFAULT_HOTEL: &str = "default";

/// The prefix of per-hotel overrides.
pub const HOTEL_ENV_PREFIX: &str = "CONSERJE_HOTELS__";

/// The single-hotel shortcuts, each setting a field of the `default` hotel.
pub mod env {
    pub const WHATSAPP_APP_SECRET: &str = "CONSERJE_WHATSAPP_APP_SECRET";
    pub const WHATSAPP_NEXT_APP_SECRET: &str = "CONSERJE_WHATSAPP_NEXT_APP_SECRET";
    pub const WHATSAPP_VERIFY_TOKEN: &str = "CONSERJE_WHATSAPP_VERIFY_TOKEN";
    pub const WHATSAPP_ACCESS_TOKEN: &str = "CONSERJE_WHATSAPP_ACCESS_TOKEN";
    pub const WHATSAPP_PHONE_NUMBER_ID: &str = "CONSERJE_WHATSAPP_PHONE_NUMBER_ID";
    pub const TELEGRAM_SECRET_TOKEN: &str = "CONSERJE_TELEGRAM_SECRET_TOKEN";
    pub const TELEGRAM_NEXT_SECRET_TOKEN: &str = "CONSERJE_TELEGRAM_NEXT_SECRET_TOKEN";
    pub const TELEGRAM_BOT_TOKEN: &str = "CONSERJE_TELEGRAM_BOT_TOKEN";

    /// Each shortcut and the key it sets.
    pub(super) const SHORTCUTS: [(&str, &str); 8] = [
        (WHATSAPP_APP_SECRET, "whatsapp.app_secret"),
        (WHATSAPP_NEXT_APP_SECRET, "whatsapp.next_app_secret"),
        (WHATSAPP_VERIFY_TOKEN, "whatsapp.verify_token"),
        (WHATSAPP_ACCESS_TOKEN, "whatsapp.access_token"),
        (WHATSAPP_PHONE_NUMBER_ID, "whatsapp.phone_number_id"),
        (TELEGRAM_SECRET_TOKEN, "telegram.secret_token"),
        (TELEGRAM_NEXT_SECRET_TOKEN, "telegram.next_secret_token"),
        (TELEGRAM_BOT_TOKEN, "telegram.bot_token"),
    ];
}

/// One hotel's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HotelSettings {
    /// IANA zone: "today" for the booking rules is the hotel's today.
    pub time_zone: Tz,
    /// E-mails and E.164 phones the hotel refuses to book. An e-mail entry refuses every address
    /// of the same mailbox (`Email::identity`: any case, any `+tag`, Gmail's dots); a phone
    /// entry may be written in any format.
    #[serde(default)]
    pub blacklist: Vec<String>,
    /// The hotel's WhatsApp business number (see [`crate::channel_accounts`]).
    #[serde(default)]
    pub whatsapp: Option<WhatsAppAccount>,
    /// The hotel's Telegram bot.
    #[serde(default)]
    pub telegram: Option<TelegramBot>,
    /// The name guests know the hotel by.
    #[serde(default)]
    pub name: Option<String>,
    /// Front-desk hours in the hotel's zone; 09:00–21:00 when absent.
    #[serde(default)]
    pub business_hours: BusinessHours,
    /// Answers to guests' questions about the hotel, per topic and language.
    #[serde(default)]
    pub facts: BTreeMap<HotelTopic, Localized>,
    /// How to reach a person (phone or e-mail), for when the bot cannot help.
    #[serde(default)]
    pub contact: Option<String>,
    /// The hotel's own wording of bot replies: `[hotels.X.replies.es] greeting = "…"`.
    #[serde(default)]
    pub replies: BTreeMap<TextKey, BTreeMap<String, String>>,
    /// The PMS the hotel books in; the built-in simulator when absent.
    #[serde(default)]
    pub pms: PmsSettings,
    /// Free cancellation window and the fee after it (48 h, then the first night, when absent).
    #[serde(default)]
    pub cancellation: CancellationPolicy,
    /// The WhatsApp message templates Meta approved for the hotel's number:
    /// `[[hotels.X.templates]] name = "…" purpose = "reply" languages = ["es", "en_US"]
    /// parameters = ["guest_name", "reply"]`.
    #[serde(default)]
    pub templates: TemplateRegistry,
    /// The messages the hotel writes first: `[hotels.X.proactive] confirmation = true
    /// pre_arrival = true pre_arrival_days = 2 review_request = true change_notice = true
    /// send_at = "10:00"` (all off when absent).
    #[serde(default)]
    pub proactive: ProactiveSettings,
}

impl HotelSettings {
    /// Settings with a time zone and nothing else configured.
    pub fn in_zone(time_zone: Tz) -> Self {
        Self {
            time_zone,
            blacklist: vec![],
            whatsapp: None,
            telegram: None,
            name: None,
            business_hours: BusinessHours::default(),
            facts: BTreeMap::new(),
            contact: None,
            replies: BTreeMap::new(),
            pms: PmsSettings::default(),
            cancellation: CancellationPolicy::default(),
            templates: TemplateRegistry::default(),
            proactive: ProactiveSettings::default(),
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub hotels: BTreeMap<String, HotelSettings>,
    pub pms_simulator: SimulatorSettings,
}

impl ConfigFile {
    /// Reads `path` (the built-in configuration when `None`) and the process environment.
    pub fn load(path: Option<&Path>) -> Result<Self, InfraError> {
        Self::load_with_env(path, std::env::vars())
    }

    /// Reads `path` with `vars` as the environment.
    pub fn load_with_env(
        path: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, InfraError> {
        match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| InfraError::Config {
                    path: p.display().to_string(),
                    reason: e.to_string(),
                })?;
                Self::parse(&p.display().to_string(), &text, vars)
            }
            None => Self::parse("<built-in>", DEFAULT_CONFIG, vars),
        }
    }

    /// Parses `text` (named `name` in errors) with `vars` layered on top, and checks it.
    pub fn parse(
        name: &str,
        text: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, InfraError> {
        let fail = |reason: String| InfraError::Config {
            path: name.to_owned(),
            reason,
        };
        // The hotels the file names, to match `_` in variable names against `-` in ids.
        let named: BTreeMap<String, toml::Value> = toml::from_str::<toml::Table>(text)
            .map_err(|e| fail(e.to_string()))?
            .get("hotels")
            .and_then(|h| h.as_table())
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let mut figment = Figment::from(Toml::string(text));
        for (key, value) in overrides(vars, &named) {
            figment = figment.merge(Serialized::default(&key, value));
        }
        let file: Self = figment.extract().map_err(|e| fail(describe(e)))?;
        if !file.hotels.contains_key(DEFAULT_HOTEL) {
            return Err(fail(format!(
                "a [hotels.{DEFAULT_HOTEL}] entry is required"
            )));
        }
        for (hotel, settings) in &file.hotels {
            settings
                .pms
                .qloapps()
                .map_err(|reason| fail(format!("[hotels.{hotel}.pms] {reason}")))?;
        }
        Ok(file)
    }
}

/// figment's error with every message it holds, one per line, naming where each came from.
fn describe(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The dotted keys and values the environment sets, as text.
fn overrides(
    vars: impl IntoIterator<Item = (String, String)>,
    named: &BTreeMap<String, toml::Value>,
) -> Vec<(String, String)> {
    let mut keys = vec![];
    for (name, value) in vars {
        if value.trim().is_empty() {
            continue;
        }
        if let Some((_, key)) = env::SHORTCUTS.iter().find(|(var, _)| *var == name) {
            keys.push((format!("hotels.{DEFAULT_HOTEL}.{key}"), value));
            continue;
        }
        let Some(rest) = name.strip_prefix(HOTEL_ENV_PREFIX) else {
            continue;
        };
        let mut parts = rest.split("__").map(str::to_lowercase);
        let Some(hotel) = parts.next().filter(|h| !h.is_empty()) else {
            continue;
        };
        let hotel = if named.contains_key(&hotel) {
            hotel
        } else {
            let dashed = hotel.replace('_', "-");
            if named.contains_key(&dashed) {
                dashed
            } else {
                hotel
            }
        };
        let path: Vec<String> = parts.collect();
        if path.is_empty() || path.iter().any(String::is_empty) {
            continue;
        }
        keys.push((format!("hotels.{hotel}.{}", path.join(".")), value));
    }
    // Shortcuts first, so that an explicit CONSERJE_HOTELS__DEFAULT__… wins over them.
    keys.sort_by_key(|(key, _)| {
        !key.starts_with(&format!("hotels.{DEFAULT_HOTEL}.whatsapp"))
            && !key.starts_with(&format!("hotels.{DEFAULT_HOTEL}.telegram"))
    });
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
        [hotels.default]
        time_zone = "Europe/Madrid"
        [hotels.hotel-sol]
        time_zone = "America/Argentina/Buenos_Aires"
        [hotels.hotel-sol.pms]
        kind = "qloapps"
        base_url = "https://pms.hotel-sol.example/"
        id_hotel = 1
        room_types = { standard = 11, double = 12 }
        [pms_simulator]
        currency = "EUR"
        rooms = []
    "#;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_built_in_configuration_parses() {
        let file = ConfigFile::load_with_env(None, vec![]).unwrap();
        assert!(file.hotels.contains_key(DEFAULT_HOTEL));
        assert!(!file.pms_simulator.rooms.is_empty());
    }

    #[test]
    fn a_qloapps_hotel_needs_its_key_and_the_environment_can_give_it() {
        let missing = ConfigFile::parse("f", FILE, vec![])
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("[hotels.hotel-sol.pms] api_key is required"),
            "{missing}"
        );
        let key = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
        let file = ConfigFile::parse(
            "f",
            FILE,
            vars(&[
                ("CONSERJE_HOTELS__HOTEL_SOL__PMS__API_KEY", key),
                ("CONSERJE_HOTELS__HOTEL_SOL__PMS__ID_HOTEL", "7"),
                ("CONSERJE_DATA_DIR", "/elsewhere"),
            ]),
        )
        .unwrap();
        let qlo = file.hotels["hotel-sol"].pms.qloapps().unwrap().unwrap();
        assert_eq!(qlo.api_key, key);
        assert_eq!(qlo.id_hotel, 7, "the environment wins over the file");
        assert_eq!(qlo.base_url, "https://pms.hotel-sol.example");
        assert_eq!(qlo.room_types.len(), 2);
    }

    #[test]
    fn a_key_of_the_wrong_length_is_named() {
        let err = ConfigFile::parse(
            "f",
            FILE,
            vars(&[("CONSERJE_HOTELS__HOTEL_SOL__PMS__API_KEY", "short")]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("api_key must be 32 characters, this one has 5"),
            "{err}"
        );
    }

    #[test]
    fn digits_stay_text_where_the_setting_is_text() {
        let file = ConfigFile::parse(
            "f",
            FILE.replace("kind = \"qloapps\"", "kind = \"simulator\"")
                .as_str(),
            vars(&[
                (env::WHATSAPP_PHONE_NUMBER_ID, "106540352242922"),
                (
                    "CONSERJE_HOTELS__DEFAULT__CANCELLATION__FREE_UNTIL_HOURS",
                    "24",
                ),
                ("CONSERJE_HOTELS__HOTEL_SOL__TELEGRAM__BOT_TOKEN", "123:abc"),
            ]),
        )
        .unwrap();
        let default = &file.hotels[DEFAULT_HOTEL];
        assert_eq!(
            default
                .whatsapp
                .as_ref()
                .unwrap()
                .phone_number_id
                .as_deref(),
            Some("106540352242922")
        );
        assert_eq!(default.cancellation.free_until_hours, 24);
        assert_eq!(
            file.hotels["hotel-sol"]
                .telegram
                .as_ref()
                .unwrap()
                .bot_token
                .as_deref(),
            Some("123:abc")
        );
    }

    #[test]
    fn an_unknown_setting_from_the_environment_is_refused_by_name() {
        let err = ConfigFile::parse("f", FILE, vars(&[("CONSERJE_HOTELS__DEFAULT__TYPO", "x")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("typo"), "{err}");
    }

    const TEMPLATES: &str = r#"
        [hotels.default]
        time_zone = "Europe/Madrid"
        [[hotels.default.templates]]
        name = "respuesta_pendiente"
        purpose = "reply"
        languages = ["es", "en_US", "pt_BR"]
        parameters = ["guest_name", "reply"]
        [[hotels.default.templates]]
        name = "oferta_verano"
        category = "marketing"
        languages = ["es"]
        [pms_simulator]
        currency = "EUR"
        rooms = []
    "#;

    #[test]
    fn a_hotel_registers_its_templates_and_a_broken_registry_is_named() {
        use conserje_domain::template::{TemplateCategory, TemplatePurpose};
        let file = ConfigFile::parse("f", TEMPLATES, vec![]).unwrap();
        let templates = &file.hotels[DEFAULT_HOTEL].templates;
        let reply = templates.for_purpose(TemplatePurpose::Reply).unwrap();
        assert_eq!(reply.name.as_str(), "respuesta_pendiente");
        assert_eq!(reply.languages, ["es", "en_US", "pt_BR"]);
        assert_eq!(reply.parameters.len(), 2);
        let names: Vec<&str> = templates.names().map(|n| n.as_str()).collect();
        assert_eq!(names, ["respuesta_pendiente", "oferta_verano"]);
        let offer = templates
            .named(&conserje_domain::template::TemplateName::parse("oferta_verano").unwrap())
            .unwrap();
        assert_eq!(offer.category, TemplateCategory::Marketing);

        let twice = TEMPLATES.replace("oferta_verano", "respuesta_pendiente");
        let err = ConfigFile::parse("f", &twice, vec![])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("template respuesta_pendiente is registered twice"),
            "{err}"
        );
        let bad_name = TEMPLATES.replace("oferta_verano", "Oferta Verano");
        let err = ConfigFile::parse("f", &bad_name, vec![])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"Oferta Verano\" is not a WhatsApp template name"),
            "{err}"
        );
        let bad_field = TEMPLATES.replace("\"reply\"]", "\"room_number\"]");
        let err = ConfigFile::parse("f", &bad_field, vec![])
            .unwrap_err()
            .to_string();
        assert!(err.contains("room_number"), "{err}");
    }
}
