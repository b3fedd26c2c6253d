//! The availability cache of one hotel: free rooms and rates per room type and night, as the
//! PMS last stated them, with when it did.
//!
//! It is warmed at start and refreshed in the background for the next 60 nights (the old
//! system's robustness guide: cache warming), so a quote can be answered without a PMS round
//! trip while the figures are recent, and from the last known figures — said to be that old —
//! while the PMS is down. Our own bookings adjust it at once (a room we just booked is not
//! offered again from the cache); everything else waits for the next refresh, and the PMS
//! confirms every booking anyway.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, Utc};
use conserje_domain::ports::NightOffer;
use conserje_domain::stay::StayDates;
use conserje_domain::values::{Money, RoomType};

#[derive(Debug, Clone)]
struct Night {
    units: u32,
    rate: Money,
    as_of: DateTime<Utc>,
}

/// What the cache knows of a stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedStay {
    /// Rooms free on every night of the stay.
    pub units: u32,
    /// The average of the nights' rates, rounded down to a minor unit.
    pub nightly_rate: Money,
    /// The oldest figure it was built from.
    pub as_of: DateTime<Utc>,
}

/// Room types' rates and when the oldest of them was read.
pub type DatedRates = (Vec<(RoomType, Money)>, DateTime<Utc>);

#[derive(Debug, Default)]
pub struct AvailabilityCache {
    nights: Mutex<BTreeMap<(RoomType, NaiveDate), Night>>,
}

impl AvailabilityCache {
    fn nights(&self) -> std::sync::MutexGuard<'_, BTreeMap<(RoomType, NaiveDate), Night>> {
        self.nights
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stores what the PMS said at `as_of`, replacing those nights.
    pub fn store(&self, offers: &[NightOffer], as_of: DateTime<Utc>) {
        let mut nights = self.nights();
        for offer in offers {
            nights.insert(
                (offer.room_type.clone(), offer.night),
                Night {
                    units: offer.available_units,
                    rate: offer.rate.clone(),
                    as_of,
                },
            );
        }
    }

    /// Drops the nights before `today`: they can no longer be booked.
    pub fn forget_before(&self, today: NaiveDate) {
        self.nights().retain(|(_, night), _| *night >= today);
    }

    /// The stay as the cache knows it; `None` unless every night is known.
    pub fn stay(&self, room_type: &RoomType, stay: &StayDates) -> Option<CachedStay> {
        let nights = self.nights();
        let mut units = u32::MAX;
        let mut total = 0i64;
        let mut as_of: Option<DateTime<Utc>> = None;
        let mut currency = None;
        let mut count = 0i64;
        for night in stay.each_night() {
            let known = nights.get(&(room_type.clone(), night))?;
            units = units.min(known.units);
            total += known.rate.minor;
            as_of = Some(as_of.map_or(known.as_of, |t| t.min(known.as_of)));
            currency.get_or_insert_with(|| known.rate.currency.clone());
            count += 1;
        }
        Some(CachedStay {
            units,
            nightly_rate: Money::new(total / count.max(1), &currency?),
            as_of: as_of?,
        })
    }

    /// Every room type's rate on `night`, with when it was stated.
    pub fn rates_on(&self, night: NaiveDate) -> Option<DatedRates> {
        let nights = self.nights();
        let mut rates = vec![];
        let mut oldest: Option<DateTime<Utc>> = None;
        for ((room_type, n), known) in nights.iter() {
            if *n == night {
                rates.push((room_type.clone(), known.rate.clone()));
                oldest = Some(oldest.map_or(known.as_of, |t| t.min(known.as_of)));
            }
        }
        Some((rates, oldest?))
    }

    /// We booked one room of `room_type` for `stay`: one fewer is free each of its nights.
    pub fn took(&self, room_type: &RoomType, stay: &StayDates) {
        let mut nights = self.nights();
        for night in stay.each_night() {
            if let Some(known) = nights.get_mut(&(room_type.clone(), night)) {
                known.units = known.units.saturating_sub(1);
            }
        }
    }

    /// We cancelled one room of `room_type` for `stay`: one more is free each of its nights.
    pub fn released(&self, room_type: &RoomType, stay: &StayDates) {
        let mut nights = self.nights();
        for night in stay.each_night() {
            if let Some(known) = nights.get_mut(&(room_type.clone(), night)) {
                known.units += 1;
            }
        }
    }

    /// How many room-type nights are held.
    pub fn len(&self) -> usize {
        self.nights().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn offer(room: &RoomType, night: &str, units: u32, rate: i64) -> NightOffer {
        NightOffer {
            night: night.parse().unwrap(),
            room_type: room.clone(),
            available_units: units,
            rate: Money::new(rate, "EUR"),
        }
    }

    #[test]
    fn a_stay_is_known_only_when_every_night_is_and_takes_the_tightest_night() {
        let cache = AvailabilityCache::default();
        let double = RoomType::parse("double").unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
        let t1 = Utc.with_ymd_and_hms(2026, 12, 1, 10, 5, 0).unwrap();
        cache.store(&[offer(&double, "2026-12-10", 3, 14_000)], t0);
        cache.store(&[offer(&double, "2026-12-11", 1, 16_001)], t1);
        let stay = |a: &str, b: &str| StayDates {
            check_in: a.parse().unwrap(),
            check_out: b.parse().unwrap(),
        };
        let two = cache
            .stay(&double, &stay("2026-12-10", "2026-12-12"))
            .unwrap();
        assert_eq!(
            (two.units, two.nightly_rate.minor, two.as_of),
            (1, 15_000, t0)
        );
        assert_eq!(cache.stay(&double, &stay("2026-12-10", "2026-12-13")), None);
        cache.took(&double, &stay("2026-12-11", "2026-12-12"));
        assert_eq!(
            cache
                .stay(&double, &stay("2026-12-11", "2026-12-12"))
                .unwrap()
                .units,
            0
        );
        cache.released(&double, &stay("2026-12-11", "2026-12-12"));
        assert_eq!(
            cache
                .stay(&double, &stay("2026-12-11", "2026-12-12"))
                .unwrap()
                .units,
            1
        );
        cache.forget_before("2026-12-11".parse().unwrap());
        assert_eq!(cache.len(), 1);
        let (rates, as_of) = cache.rates_on("2026-12-11".parse().unwrap()).unwrap();
        assert_eq!((rates.len(), as_of), (1, t1));
    }
}
