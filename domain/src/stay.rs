//! Stay dates and the hotel's calendar rules.
//!
//! "Today" is always the hotel's today, in its own time zone: at 01:30 UTC on the 23rd it is still
//! the 22nd in Buenos Aires, and a guest there may book a check-in on the 22nd.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Longest stay the hotel accepts in one reservation.
pub const MAX_NIGHTS: i64 = 90;
/// How far ahead a check-in may be booked.
pub const MAX_DAYS_AHEAD: i64 = 365;
/// How far ahead availability may be asked for (wider than booking: guests plan ahead).
pub const MAX_AVAILABILITY_DAYS_AHEAD: i64 = 730;

/// The calendar date in the hotel's time zone at instant `now`.
pub fn hotel_today(now: DateTime<Utc>, zone: Tz) -> NaiveDate {
    now.with_timezone(&zone).date_naive()
}

/// Check-in and check-out dates of a stay, checked against the booking rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StayDates {
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
}

/// A stay that breaks one of the hotel's calendar rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StayError {
    #[error("check-in {0} is before today in the hotel's time zone")]
    CheckInInPast(NaiveDate),
    #[error("check-out must be after check-in")]
    CheckOutNotAfterCheckIn,
    #[error("a stay is at most {max} nights; {nights} were asked")]
    StayTooLong { nights: i64, max: i64 },
    #[error("check-in can be at most {max} days ahead; {days} were asked")]
    BookingTooFarAhead { days: i64, max: i64 },
}

impl StayDates {
    /// Validates a stay for a booking made on the hotel's date `today`.
    pub fn for_booking(
        check_in: NaiveDate,
        check_out: NaiveDate,
        today: NaiveDate,
    ) -> Result<Self, StayError> {
        Self::checked(check_in, check_out, today, MAX_DAYS_AHEAD)
    }

    /// Validates a stay for an availability question (check-in up to 730 days ahead).
    pub fn for_availability(
        check_in: NaiveDate,
        check_out: NaiveDate,
        today: NaiveDate,
    ) -> Result<Self, StayError> {
        Self::checked(check_in, check_out, today, MAX_AVAILABILITY_DAYS_AHEAD)
    }

    fn checked(
        check_in: NaiveDate,
        check_out: NaiveDate,
        today: NaiveDate,
        max_ahead: i64,
    ) -> Result<Self, StayError> {
        if check_in < today {
            return Err(StayError::CheckInInPast(check_in));
        }
        if check_out <= check_in {
            return Err(StayError::CheckOutNotAfterCheckIn);
        }
        let days = (check_in - today).num_days();
        if days > max_ahead {
            return Err(StayError::BookingTooFarAhead {
                days,
                max: max_ahead,
            });
        }
        let nights = (check_out - check_in).num_days();
        if nights > MAX_NIGHTS {
            return Err(StayError::StayTooLong {
                nights,
                max: MAX_NIGHTS,
            });
        }
        Ok(Self {
            check_in,
            check_out,
        })
    }

    pub fn nights(&self) -> i64 {
        (self.check_out - self.check_in).num_days()
    }

    /// The nights of the stay, one date per night (the check-out date is not a night).
    pub fn each_night(&self) -> impl Iterator<Item = NaiveDate> {
        let first = self.check_in;
        (0..self.nights()).map(move |i| first + chrono::Days::new(i as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    const TODAY: &str = "2026-11-22";

    fn stay(nights: u64) -> Result<StayDates, StayError> {
        let ci = d("2026-12-01");
        StayDates::for_booking(ci, ci + chrono::Days::new(nights), d(TODAY))
    }

    #[test]
    fn nights_edges_zero_one_ninety_ninety_one() {
        assert_eq!(stay(0), Err(StayError::CheckOutNotAfterCheckIn));
        assert_eq!(stay(1).unwrap().nights(), 1);
        assert_eq!(stay(90).unwrap().nights(), 90);
        assert_eq!(
            stay(91),
            Err(StayError::StayTooLong {
                nights: 91,
                max: 90
            })
        );
    }

    #[test]
    fn check_out_before_check_in_is_refused() {
        assert_eq!(
            StayDates::for_booking(d("2026-12-05"), d("2026-12-01"), d(TODAY)),
            Err(StayError::CheckOutNotAfterCheckIn)
        );
    }

    #[test]
    fn check_in_yesterday_is_refused_today_is_accepted() {
        assert_eq!(
            StayDates::for_booking(d("2026-11-21"), d("2026-11-23"), d(TODAY)),
            Err(StayError::CheckInInPast(d("2026-11-21")))
        );
        assert!(StayDates::for_booking(d(TODAY), d("2026-11-23"), d(TODAY)).is_ok());
    }

    #[test]
    fn check_in_365_days_ahead_is_accepted_366_is_refused() {
        let today = d(TODAY);
        let at = |days| today + chrono::Days::new(days);
        assert!(StayDates::for_booking(at(365), at(366), today).is_ok());
        assert_eq!(
            StayDates::for_booking(at(366), at(367), today),
            Err(StayError::BookingTooFarAhead {
                days: 366,
                max: 365
            })
        );
        assert!(StayDates::for_availability(at(730), at(731), today).is_ok());
        assert!(StayDates::for_availability(at(731), at(732), today).is_err());
    }

    #[test]
    fn today_is_the_hotels_today_not_utcs() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 1, 30, 0).unwrap();
        let ba: Tz = "America/Argentina/Buenos_Aires".parse().unwrap();
        assert_eq!(hotel_today(now, ba), d("2026-11-22"));
        assert_eq!(hotel_today(now, chrono_tz::UTC), d("2026-11-23"));
        let today = hotel_today(now, ba);
        assert!(StayDates::for_booking(d("2026-11-22"), d("2026-11-24"), today).is_ok());
        assert!(StayDates::for_booking(
            d("2026-11-22"),
            d("2026-11-24"),
            hotel_today(now, chrono_tz::UTC)
        )
        .is_err());
    }

    #[test]
    fn each_night_lists_the_nights_not_the_check_out() {
        let s = StayDates::for_booking(d("2026-12-01"), d("2026-12-03"), d(TODAY)).unwrap();
        let nights: Vec<_> = s.each_night().collect();
        assert_eq!(nights, vec![d("2026-12-01"), d("2026-12-02")]);
    }
}
