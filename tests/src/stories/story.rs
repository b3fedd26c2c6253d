//! One story file: its TOML shape (`tests/conversations/README.md`) and the checked, resolved
//! form the player plays.
//!
//! Loading does every check that does not need the service — unknown keys, a locale or channel
//! that does not exist, date expressions and placeholders — so a typo in a story is reported as
//! that story's failure naming the field, instead of surfacing as a puzzling reply mismatch.

use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;

use super::dates::{self, Context};

/// The language (and variant) every bot reply of a story must be in: the domain's own.
pub use conserje_domain::understanding::Locale;

/// A story's locale, spelt exactly as a folder and a reply carry it (`pt` alone is refused: a
/// story must say which Portuguese it is written in).
fn exact_locale(code: &str) -> Option<Locale> {
    Locale::ALL.into_iter().find(|l| l.code() == code)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    WhatsApp,
    Telegram,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WhatsApp => "whatsapp",
            Self::Telegram => "telegram",
        }
    }
}

/// A story, checked and with its date expressions resolved.
#[derive(Debug, Clone)]
pub struct Story {
    pub title: String,
    pub locale: Locale,
    pub channel: Channel,
    pub name: Option<String>,
    pub turns: Vec<Turn>,
    pub bookings: Option<Vec<Booking>>,
    pub handoff: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct Turn {
    /// The guest's text with its placeholders still in: `{booking_ref}` is only known mid-play.
    pub guest: String,
    /// Each reply's acceptable templates, in order.
    pub expect: Option<Vec<Vec<String>>>,
    pub slots: SlotChecks,
    pub intent: Option<String>,
    /// Substrings, placeholders still in.
    pub says: Vec<String>,
}

/// The slots a turn checks: `None` is not checked, `Some(None)` must be empty.
#[derive(Debug, Clone, Default)]
pub struct SlotChecks {
    pub check_in: Option<Option<NaiveDate>>,
    pub check_out: Option<Option<NaiveDate>>,
    pub guests: Option<Option<u32>>,
    pub room_type: Option<Option<String>>,
    pub email: Option<Option<String>>,
}

/// One reservation as the API shows it; ordered so that two lists compare as multisets.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Booking {
    pub room: String,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    pub guests: u32,
    pub status: String,
}

impl std::fmt::Display for Booking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}..{} x{} {}",
            self.room, self.check_in, self.check_out, self.guests, self.status
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStory {
    title: String,
    locale: String,
    channel: String,
    name: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    covers: Vec<String>,
    /// `day` (12:00 in Madrid, the default) or `night` (23:30: the front desk is closed).
    #[serde(default)]
    #[allow(dead_code)]
    clock: Option<String>,
    #[serde(default, rename = "turn")]
    turns: Vec<RawTurn>,
    #[serde(rename = "final")]
    final_: Option<RawFinal>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTurn {
    guest: String,
    expect: Option<Vec<String>>,
    slots: Option<RawSlots>,
    intent: Option<String>,
    says: Option<OneOrMany>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlots {
    check_in: Option<String>,
    check_out: Option<String>,
    guests: Option<CountOrEmpty>,
    room_type: Option<String>,
    email: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CountOrEmpty {
    Count(u32),
    Empty(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFinal {
    bookings: Option<Vec<RawBooking>>,
    handoff: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBooking {
    room: String,
    check_in: String,
    check_out: String,
    guests: u32,
    status: String,
}

/// Reads and checks the story at `path`, whose folder under the stories' root is `folder`
/// (the locale it is filed under). `today` resolves its dates.
pub fn load(path: &Path, folder: &str, today: NaiveDate) -> Result<Story, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the file: {e}"))?;
    parse(&text, folder, today)
}

/// [`load`] of a story's text.
pub fn parse(text: &str, folder: &str, today: NaiveDate) -> Result<Story, String> {
    let raw: RawStory = toml::from_str(text).map_err(|e| format!("not a valid story: {e}"))?;
    let locale = exact_locale(&raw.locale).ok_or_else(|| {
        format!(
            "locale: {:?} is not one of es, en, pt-BR, pt-PT",
            raw.locale
        )
    })?;
    if locale.code() != folder {
        return Err(format!(
            "locale: {:?} but the file is filed under {folder}/",
            raw.locale
        ));
    }
    let channel = match raw.channel.as_str() {
        "whatsapp" => Channel::WhatsApp,
        "telegram" => Channel::Telegram,
        other => return Err(format!("channel: {other:?} is not whatsapp or telegram")),
    };
    if let Some(clock) = raw.clock.as_deref() {
        if super::Clock::parse(clock).is_none() {
            return Err(format!("clock: {clock:?} is not day or night"));
        }
    }
    if raw.title.trim().is_empty() {
        return Err("title: empty".to_owned());
    }
    if raw.turns.is_empty() {
        return Err("no [[turn]]".to_owned());
    }
    // Placeholders are checked with a stand-in booking number; the real one comes mid-play.
    let check = Context {
        today,
        language: locale.language(),
        booking_ref: Some("0000ABCD"),
    };
    let turns = raw
        .turns
        .into_iter()
        .enumerate()
        .map(|(i, turn)| {
            compile_turn(turn, today, &check).map_err(|e| format!("turn {}, {e}", i + 1))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (bookings, handoff) = match raw.final_ {
        None => (None, None),
        Some(RawFinal { bookings, handoff }) => {
            let bookings = bookings
                .map(|list| {
                    list.into_iter()
                        .enumerate()
                        .map(|(i, b)| {
                            compile_booking(b, today)
                                .map_err(|e| format!("[final] bookings[{i}].{e}"))
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?;
            (bookings, handoff)
        }
    };
    Ok(Story {
        title: raw.title,
        locale,
        channel,
        name: raw.name.filter(|n| !n.trim().is_empty()),
        turns,
        bookings,
        handoff,
    })
}

fn compile_turn(raw: RawTurn, today: NaiveDate, check: &Context<'_>) -> Result<Turn, String> {
    if raw.guest.trim().is_empty() {
        return Err("guest: empty".to_owned());
    }
    dates::expand(&raw.guest, check).map_err(|e| format!("guest: {e}"))?;
    let says = match raw.says {
        None => vec![],
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(list)) => list,
    };
    for (i, s) in says.iter().enumerate() {
        let expanded = dates::expand(s, check).map_err(|e| format!("says[{i}]: {e}"))?;
        if expanded.is_empty() {
            return Err(format!("says[{i}]: empty"));
        }
    }
    let expect = raw
        .expect
        .map(|list| {
            list.iter()
                .enumerate()
                .map(|(i, element)| {
                    let alternatives: Vec<String> =
                        element.split('|').map(|a| a.trim().to_owned()).collect();
                    if alternatives.iter().any(|a| a.is_empty()) {
                        return Err(format!("expect[{i}]: {element:?} has an empty template"));
                    }
                    Ok(alternatives)
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let slots = raw
        .slots
        .map(|s| compile_slots(s, today))
        .transpose()?
        .unwrap_or_default();
    Ok(Turn {
        guest: raw.guest,
        expect,
        slots,
        intent: raw.intent,
        says,
    })
}

fn compile_slots(raw: RawSlots, today: NaiveDate) -> Result<SlotChecks, String> {
    let date = |key: &str, value: Option<String>| -> Result<Option<Option<NaiveDate>>, String> {
        match value.as_deref() {
            None => Ok(None),
            Some("") => Ok(Some(None)),
            Some(expr) => dates::resolve(expr, today)
                .map(|d| Some(Some(d)))
                .map_err(|e| format!("slots.{key}: {e}")),
        }
    };
    let text = |value: Option<String>| value.map(|v| Some(v).filter(|v| !v.is_empty()));
    let guests = match raw.guests {
        None => None,
        Some(CountOrEmpty::Count(n)) => Some(Some(n)),
        Some(CountOrEmpty::Empty(s)) if s.is_empty() => Some(None),
        Some(CountOrEmpty::Empty(s)) => {
            return Err(format!("slots.guests: {s:?} is neither a number nor \"\""))
        }
    };
    Ok(SlotChecks {
        check_in: date("check_in", raw.check_in)?,
        check_out: date("check_out", raw.check_out)?,
        guests,
        room_type: text(raw.room_type),
        email: text(raw.email),
    })
}

fn compile_booking(raw: RawBooking, today: NaiveDate) -> Result<Booking, String> {
    let date =
        |key: &str, expr: &str| dates::resolve(expr, today).map_err(|e| format!("{key}: {e}"));
    Ok(Booking {
        room: raw.room,
        check_in: date("check_in", &raw.check_in)?,
        check_out: date("check_out", &raw.check_out)?,
        guests: raw.guests,
        status: raw.status,
    })
}

#[cfg(test)]
#[path = "story_tests.rs"]
mod tests;
