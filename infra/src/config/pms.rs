//! Which PMS a hotel books in, and the built-in simulator's catalogue.

use std::collections::BTreeMap;

use conserje_domain::values::RoomType;
use serde::Deserialize;

/// Which kind of PMS a hotel uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PmsKind {
    /// The built-in simulator (the embedded default): no PMS of the hotel's own.
    #[default]
    Simulator,
    /// A QloApps 1.6.1 (or later) shop, through its webservice.
    Qloapps,
}

/// `[hotels.X.pms]`: the hotel's PMS. Other tools write this table, so its shape is fixed:
///
/// ```toml
/// [hotels.X.pms]
/// kind = "qloapps"
/// base_url = "https://pms.example.com"
/// api_key = "…"            # 32 characters; or CONSERJE_HOTELS__X__PMS__API_KEY
/// id_hotel = 1
/// room_types = { standard = 11, double = 12 }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PmsSettings {
    #[serde(default)]
    pub kind: PmsKind,
    /// The shop's base URL; the adapter adds `/api/...`.
    #[serde(default)]
    pub base_url: Option<String>,
    /// The webservice key (exactly 32 characters).
    #[serde(default)]
    pub api_key: Option<String>,
    /// The hotel's id in the PMS (QloApps' `id_hotel`, the booking's `id_property`).
    #[serde(
        default,
        deserialize_with = "conserje_domain::lenient::optional_number"
    )]
    pub id_hotel: Option<u32>,
    /// conserje's room-type code → the PMS's room type id.
    #[serde(default, deserialize_with = "conserje_domain::lenient::numbers")]
    pub room_types: BTreeMap<String, u32>,
}

/// A QloApps hotel's settings once checked: every field a call needs is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QloAppsSettings {
    pub base_url: String,
    pub api_key: String,
    pub id_hotel: u32,
    /// In the order the hotel lists them.
    pub room_types: Vec<(RoomType, u32)>,
}

/// QloApps' webservice keys are exactly this long (`WebserviceKey::$key` is 32 characters).
pub const QLOAPPS_KEY_LENGTH: usize = 32;

impl PmsSettings {
    /// The QloApps settings, checked; `Ok(None)` for a simulated PMS. The error names the field.
    pub fn qloapps(&self) -> Result<Option<QloAppsSettings>, String> {
        if self.kind != PmsKind::Qloapps {
            return Ok(None);
        }
        let base_url = self
            .base_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .ok_or("base_url is required for kind = \"qloapps\"")?;
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(format!(
                "base_url {base_url:?} must start with http:// or https://"
            ));
        }
        let api_key = self
            .api_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or("api_key is required for kind = \"qloapps\" (or set it in the environment)")?;
        if api_key.chars().count() != QLOAPPS_KEY_LENGTH {
            return Err(format!(
                "api_key must be {QLOAPPS_KEY_LENGTH} characters, this one has {}",
                api_key.chars().count()
            ));
        }
        let id_hotel = self
            .id_hotel
            .ok_or("id_hotel is required for kind = \"qloapps\"")?;
        if self.room_types.is_empty() {
            return Err(
                "room_types must map at least one room type, e.g. { standard = 11 }".into(),
            );
        }
        let room_types = self
            .room_types
            .iter()
            .map(|(code, id)| {
                RoomType::parse(code)
                    .map(|room| (room, *id))
                    .map_err(|e| format!("room_types: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(QloAppsSettings {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: api_key.to_owned(),
            id_hotel,
            room_types,
        }))
    }
}

/// One room type the simulator sells.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatedRoom {
    pub code: String,
    pub nightly_rate_minor: i64,
    /// Rooms of this type in the hotel.
    pub inventory: u32,
}

/// The built-in PMS simulator's catalogue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatorSettings {
    pub currency: String,
    pub rooms: Vec<SimulatedRoom>,
}
