//! Proactive messages: what the hotel writes to a guest without being asked — the booking
//! confirmation, a pre-arrival note, a review request after the stay, a notice when staff or the
//! PMS change or cancel a booking.
//!
//! Writing first is a hotel's decision (on WhatsApp outside the guest's 24-hour window it is a
//! paid template Meta must have approved), so every kind is off until the hotel turns it on in
//! `[hotels.X.proactive]`. The scheduled kinds are durable timers: a row per reservation and
//! kind in the store ([`ProactiveTimers`]), fed from the reservation's events, so a restart in
//! the middle of a wait loses nothing; each message is recorded on the conversation under a turn
//! key of its reservation and kind ([`ProactiveKind::turn_key`]), so a timer that fires twice —
//! a crash between the send and the clearing of its row — still says it once.

use async_trait::async_trait;
use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::template::TemplatePurpose;

/// What a proactive message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProactiveKind {
    /// A booking made outside a conversation (the API, staff, the PMS) is confirmed to the
    /// guest's WhatsApp. A booking made in a conversation was confirmed there already.
    Confirmation,
    /// N days before check-in: the check-in time and how to get there.
    PreArrival,
    /// The day after check-out: how was the stay?
    ReviewRequest,
    /// Staff or the PMS changed the booking.
    ChangeNotice,
    /// Staff or the PMS cancelled the booking.
    CancellationNotice,
}

impl ProactiveKind {
    pub const ALL: [ProactiveKind; 5] = [
        Self::Confirmation,
        Self::PreArrival,
        Self::ReviewRequest,
        Self::ChangeNotice,
        Self::CancellationNotice,
    ];

    /// The word stored in the timers table and the turn key.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmation => "confirmation",
            Self::PreArrival => "pre_arrival",
            Self::ReviewRequest => "review_request",
            Self::ChangeNotice => "change_notice",
            Self::CancellationNotice => "cancellation_notice",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == word)
    }

    /// The message template it goes as outside WhatsApp's window.
    pub fn purpose(self) -> TemplatePurpose {
        match self {
            Self::Confirmation => TemplatePurpose::Confirmation,
            Self::PreArrival => TemplatePurpose::PreArrival,
            Self::ReviewRequest => TemplatePurpose::ReviewRequest,
            Self::ChangeNotice | Self::CancellationNotice => TemplatePurpose::BookingUpdate,
        }
    }

    /// The conversation turn that records it: one per reservation and kind, so it is said once
    /// however often its timer fires. A change notice names the change (its event's sequence),
    /// since a booking may be changed more than once.
    pub fn turn_key(self, reservation_id: Uuid, change: Option<i64>) -> String {
        match change {
            Some(sequence) => format!("reservation:{reservation_id}:{}:{sequence}", self.as_str()),
            None => format!("reservation:{reservation_id}:{}", self.as_str()),
        }
    }
}

impl std::fmt::Display for ProactiveKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn default_pre_arrival_days() -> u32 {
    2
}

fn default_send_at() -> NaiveTime {
    NaiveTime::from_hms_opt(10, 0, 0).expect("10:00 is a time")
}

/// One hotel's proactive messages: `[hotels.X.proactive]`. Everything is off by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProactiveSettings {
    #[serde(default)]
    pub confirmation: bool,
    #[serde(default)]
    pub pre_arrival: bool,
    /// How many days before check-in the pre-arrival message goes.
    #[serde(default = "default_pre_arrival_days")]
    pub pre_arrival_days: u32,
    #[serde(default)]
    pub review_request: bool,
    /// Tell the guest when staff or the PMS change or cancel their booking.
    #[serde(default)]
    pub change_notice: bool,
    /// The hotel's local time the scheduled messages go at (`"10:00"`): nobody wants a
    /// pre-arrival note at 3 a.m.
    #[serde(default = "default_send_at", with = "hh_mm")]
    pub send_at: NaiveTime,
}

impl Default for ProactiveSettings {
    fn default() -> Self {
        Self {
            confirmation: false,
            pre_arrival: false,
            pre_arrival_days: default_pre_arrival_days(),
            review_request: false,
            change_notice: false,
            send_at: default_send_at(),
        }
    }
}

impl ProactiveSettings {
    pub fn enabled(&self, kind: ProactiveKind) -> bool {
        match kind {
            ProactiveKind::Confirmation => self.confirmation,
            ProactiveKind::PreArrival => self.pre_arrival,
            ProactiveKind::ReviewRequest => self.review_request,
            ProactiveKind::ChangeNotice | ProactiveKind::CancellationNotice => self.change_notice,
        }
    }

    /// When a scheduled kind is due for a stay from `check_in` to `check_out`, at the hotel's
    /// [`send_at`](Self::send_at) in `zone`: the pre-arrival N days before check-in, the review
    /// request the day after check-out. `None` for the kinds that go at once, for a kind that is
    /// off, and for a time already past at `now` (a pre-arrival note for a stay booked the day
    /// before would arrive after the guest did).
    pub fn due_at(
        &self,
        kind: ProactiveKind,
        check_in: NaiveDate,
        check_out: NaiveDate,
        zone: Tz,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if !self.enabled(kind) {
            return None;
        }
        let day = match kind {
            ProactiveKind::PreArrival => {
                check_in.checked_sub_days(Days::new(u64::from(self.pre_arrival_days)))?
            }
            ProactiveKind::ReviewRequest => check_out.checked_add_days(Days::new(1))?,
            _ => return None,
        };
        let local = day.and_time(self.send_at);
        // A time skipped by a DST change goes at the first instant after it.
        let due = zone
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                zone.from_local_datetime(&(local + chrono::Duration::hours(1)))
                    .earliest()
            })?
            .with_timezone(&Utc);
        (due > now).then_some(due)
    }
}

/// `send_at` as `"HH:MM"`.
mod hh_mm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&time.format("%H:%M").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(d)?;
        NaiveTime::parse_from_str(&text, "%H:%M").map_err(|_| {
            serde::de::Error::custom(format!("send_at {text:?} is not a time like \"10:00\""))
        })
    }
}

/// A timer that is due: send `kind` for `reservation_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueMessage {
    pub reservation_id: Uuid,
    pub kind: ProactiveKind,
}

/// The scheduled proactive messages (`proactive_timers`), kept in the store beside the events.
#[async_trait]
pub trait ProactiveTimers: Send + Sync {
    /// Sets (or moves) the timer of `kind` for the reservation.
    async fn schedule(
        &self,
        reservation_id: Uuid,
        kind: ProactiveKind,
        due: DateTime<Utc>,
    ) -> Result<(), String>;
    /// Drops the timer of `kind` (it fired, or no longer applies).
    async fn clear(&self, reservation_id: Uuid, kind: ProactiveKind) -> Result<(), String>;
    /// Drops every timer of the reservation (it was cancelled).
    async fn clear_all(&self, reservation_id: Uuid) -> Result<(), String>;
    /// The timers due at `now`, earliest first.
    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<DueMessage>, String>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn on() -> ProactiveSettings {
        ProactiveSettings {
            pre_arrival: true,
            review_request: true,
            ..ProactiveSettings::default()
        }
    }

    #[test]
    fn everything_is_off_until_the_hotel_turns_it_on() {
        let settings = ProactiveSettings::default();
        assert!(ProactiveKind::ALL.iter().all(|k| !settings.enabled(*k)));
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let due = settings.due_at(
            ProactiveKind::PreArrival,
            day("2026-12-20"),
            day("2026-12-25"),
            chrono_tz::Europe::Madrid,
            now,
        );
        assert_eq!(due, None);
    }

    #[test]
    fn scheduled_messages_go_at_the_hotels_local_hour() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let madrid = chrono_tz::Europe::Madrid;
        let (check_in, check_out) = (day("2026-12-20"), day("2026-12-25"));
        assert_eq!(
            on().due_at(ProactiveKind::PreArrival, check_in, check_out, madrid, now),
            // 10:00 in Madrid on 18 December is 09:00 UTC.
            Some(Utc.with_ymd_and_hms(2026, 12, 18, 9, 0, 0).unwrap())
        );
        assert_eq!(
            on().due_at(
                ProactiveKind::ReviewRequest,
                check_in,
                check_out,
                madrid,
                now
            ),
            Some(Utc.with_ymd_and_hms(2026, 12, 26, 9, 0, 0).unwrap())
        );
        let late = Utc.with_ymd_and_hms(2026, 12, 19, 9, 0, 0).unwrap();
        assert_eq!(
            on().due_at(ProactiveKind::PreArrival, check_in, check_out, madrid, late),
            None,
            "a pre-arrival note already past is not sent after the fact"
        );
        assert_eq!(
            on().due_at(
                ProactiveKind::Confirmation,
                check_in,
                check_out,
                madrid,
                now
            ),
            None,
            "the confirmation goes at once, not on a timer"
        );
    }

    #[test]
    fn kinds_and_settings_read_back() {
        for kind in ProactiveKind::ALL {
            assert_eq!(ProactiveKind::parse(kind.as_str()), Some(kind));
        }
        let id = Uuid::from_u128(1);
        assert_ne!(
            ProactiveKind::ChangeNotice.turn_key(id, Some(3)),
            ProactiveKind::ChangeNotice.turn_key(id, Some(5)),
            "each change is told"
        );
        let text = r#"{"pre_arrival": true, "pre_arrival_days": 3, "send_at": "09:30"}"#;
        let settings: ProactiveSettings = serde_json::from_str(text).unwrap();
        assert_eq!(settings.pre_arrival_days, 3);
        assert_eq!(settings.send_at, NaiveTime::from_hms_opt(9, 30, 0).unwrap());
        let bad = serde_json::from_str::<ProactiveSettings>(r#"{"send_at": "25:00"}"#);
        assert!(bad.unwrap_err().to_string().contains("send_at"));
    }
}
