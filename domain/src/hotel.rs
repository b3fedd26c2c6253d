//! What a hotel tells its guests: opening hours of its front desk, its facts (breakfast, parking,
//! Wi-Fi…) and its own wording of the bot's replies. Each tenant configures its own.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::template::TemplateRegistry;
use crate::understanding::{HotelTopic, Language, Locale};
use crate::values::TenantId;

/// When staff are at the desk, in the hotel's time zone. Bookings work around the clock; these
/// hours decide when a guest who wants a person is told to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessHours {
    #[serde(with = "hh_mm")]
    pub opens: NaiveTime,
    #[serde(with = "hh_mm")]
    pub closes: NaiveTime,
}

impl Default for BusinessHours {
    /// 09:00–21:00, the hours most of our hotels keep.
    fn default() -> Self {
        Self {
            opens: NaiveTime::from_hms_opt(9, 0, 0).expect("valid time"),
            closes: NaiveTime::from_hms_opt(21, 0, 0).expect("valid time"),
        }
    }
}

/// Whether staff are in, and if not when they come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeskStatus {
    Open,
    Closed {
        /// The next opening, in the hotel's time zone.
        back_at: DateTime<Tz>,
    },
}

impl BusinessHours {
    /// The desk's status at `now` in `zone`. Hours that close before they open (22:00–06:00) span
    /// midnight.
    pub fn status(&self, now: DateTime<Utc>, zone: Tz) -> DeskStatus {
        let local = now.with_timezone(&zone);
        let time = local.time();
        let open = if self.opens <= self.closes {
            time >= self.opens && time < self.closes
        } else {
            time >= self.opens || time < self.closes
        };
        if open {
            return DeskStatus::Open;
        }
        let date = if time < self.opens {
            local.date_naive()
        } else {
            local.date_naive() + Duration::days(1)
        };
        let back_at = zone
            .from_local_datetime(&date.and_time(self.opens))
            .earliest()
            .unwrap_or(local + Duration::hours(1));
        DeskStatus::Closed { back_at }
    }
}

/// The key of a hotel's own text: a locale (`pt-PT`) or a bare language (`pt`) that covers every
/// variant of it, so a hotel that writes one Portuguese text serves Lisbon and São Paulo alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum TextKey {
    Language(Language),
    Locale(Locale),
}

impl TextKey {
    /// The keys that serve `locale`, most specific first.
    pub fn serving(locale: Locale) -> [TextKey; 2] {
        [
            TextKey::Locale(locale),
            TextKey::Language(locale.language()),
        ]
    }
}

impl TryFrom<String> for TextKey {
    type Error = String;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        if let Some(language) = Language::parse(&code) {
            return Ok(Self::Language(language));
        }
        Locale::parse(&code)
            .map(Self::Locale)
            .ok_or_else(|| format!("unknown language {code:?}: use es, en, pt, pt-BR or pt-PT"))
    }
}

impl From<TextKey> for String {
    fn from(key: TextKey) -> Self {
        match key {
            TextKey::Language(l) => l.code().to_owned(),
            TextKey::Locale(l) => l.code().to_owned(),
        }
    }
}

/// A text in each of the guest languages or locales (one left out falls back to its language,
/// then English, then any).
pub type Localized = BTreeMap<TextKey, String>;

/// Everything the dialogue needs to know about one hotel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotelProfile {
    /// The name guests know the hotel by.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub business_hours: BusinessHours,
    /// Answers to `hotel_info` questions, by topic.
    #[serde(default)]
    pub facts: BTreeMap<HotelTopic, Localized>,
    /// How guests reach a person when the bot cannot help (phone or e-mail).
    #[serde(default)]
    pub contact: Option<String>,
    /// The hotel's own wording of replies: template name → source, per language or locale.
    #[serde(default)]
    pub replies: BTreeMap<TextKey, BTreeMap<String, String>>,
    /// The WhatsApp templates Meta approved for the hotel's number.
    #[serde(default)]
    pub templates: TemplateRegistry,
    /// Which messages the hotel writes first, and when.
    #[serde(default)]
    pub proactive: crate::proactive::ProactiveSettings,
}

impl HotelProfile {
    /// The fact about `topic` for `locale`: in its variant, its language, English, or any
    /// language the hotel wrote.
    pub fn fact(&self, topic: HotelTopic, locale: Locale) -> Option<&str> {
        let texts = self.facts.get(&topic)?;
        TextKey::serving(locale)
            .iter()
            .chain(&[TextKey::Language(Language::En)])
            .find_map(|key| texts.get(key))
            .or_else(|| texts.values().next())
            .map(String::as_str)
    }

    /// The hotel's own wording of reply `name` for `locale`, if it has one.
    pub fn own_reply(&self, locale: Locale, name: &str) -> Option<&str> {
        TextKey::serving(locale)
            .iter()
            .find_map(|key| self.replies.get(key)?.get(name))
            .map(String::as_str)
    }
}

/// Finds each tenant's profile (configuration in production, fixed values in tests).
pub trait HotelProfiles: Send + Sync {
    fn profile(&self, tenant: &TenantId) -> HotelProfile;
}

pub(crate) mod hh_mm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&time.format("%H:%M").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let raw = String::deserialize(d)?;
        NaiveTime::parse_from_str(raw.trim(), "%H:%M").map_err(|_| {
            serde::de::Error::custom(format!("{raw:?} is not a time of day like \"09:00\""))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        // Madrid is UTC+1 in November.
        Utc.with_ymd_and_hms(2026, 11, 22, hour - 1, minute, 0)
            .unwrap()
    }

    #[test]
    fn the_desk_is_open_within_its_hours_and_says_when_it_reopens() {
        let hours = BusinessHours::default();
        let madrid = chrono_tz::Europe::Madrid;
        assert_eq!(hours.status(at(9, 0), madrid), DeskStatus::Open);
        assert_eq!(hours.status(at(20, 59), madrid), DeskStatus::Open);
        let DeskStatus::Closed { back_at } = hours.status(at(22, 30), madrid) else {
            panic!("closed at 22:30");
        };
        assert_eq!(back_at.to_rfc3339(), "2026-11-23T09:00:00+01:00");
        let DeskStatus::Closed { back_at } = hours.status(at(7, 0), madrid) else {
            panic!("closed at 07:00");
        };
        assert_eq!(back_at.to_rfc3339(), "2026-11-22T09:00:00+01:00");
    }

    #[test]
    fn night_hours_span_midnight() {
        let hours: BusinessHours =
            serde_json::from_str(r#"{"opens":"22:00","closes":"06:00"}"#).expect("valid hours");
        let madrid = chrono_tz::Europe::Madrid;
        assert_eq!(hours.status(at(23, 0), madrid), DeskStatus::Open);
        assert_eq!(hours.status(at(5, 0), madrid), DeskStatus::Open);
        assert!(matches!(
            hours.status(at(12, 0), madrid),
            DeskStatus::Closed { .. }
        ));
    }
}
