//! The hotel's cancellation policy as a rule: free until some hours before arrival, then a fee.
//!
//! The fee is computed by the reservation when it is cancelled, from the policy and the clock, and
//! recorded on `ReservationCancelled`; a cancellation that costs something is refused until the
//! guest (or the API caller) has accepted that exact fee, so nobody is charged without having
//! been told how much first.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::pricing::PriceQuote;
use crate::stay::StayDates;

/// What a late cancellation costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancellationFee {
    /// Cancelling is always free.
    None,
    /// The first night's price, as quoted (after the long-stay discount, shared evenly).
    FirstNight,
    /// A share of the stay's total.
    Percent(u8),
}

/// A hotel's cancellation policy. The default is the one our hotels state to guests: free up to
/// 48 hours before arrival (the check-in time on the arrival day), then the first night.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancellationPolicy {
    /// Cancelling is free until this many hours before arrival.
    #[serde(
        default = "default_free_hours",
        deserialize_with = "crate::lenient::number"
    )]
    pub free_until_hours: u32,
    #[serde(default = "default_fee")]
    pub fee: CancellationFee,
    /// The time on the arrival day that "before arrival" counts from (the check-in time).
    #[serde(default = "default_arrival", with = "crate::hotel::hh_mm")]
    pub arrival: NaiveTime,
}

fn default_free_hours() -> u32 {
    48
}

fn default_fee() -> CancellationFee {
    CancellationFee::FirstNight
}

fn default_arrival() -> NaiveTime {
    NaiveTime::from_hms_opt(15, 0, 0).expect("valid time")
}

impl Default for CancellationPolicy {
    fn default() -> Self {
        Self {
            free_until_hours: default_free_hours(),
            fee: default_fee(),
            arrival: default_arrival(),
        }
    }
}

/// What cancelling now would cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationCharge {
    pub fee_minor: i64,
    pub currency: String,
    /// Until when cancelling was (or is) free, in the hotel's zone.
    pub free_until: DateTime<Utc>,
}

impl CancellationPolicy {
    /// The charge for cancelling `stay`, priced `price`, at `now` in a hotel in `zone`.
    pub fn charge(
        &self,
        stay: &StayDates,
        price: &PriceQuote,
        now: DateTime<Utc>,
        zone: Tz,
    ) -> CancellationCharge {
        let arrival_local = stay.check_in.and_time(self.arrival);
        let arrival = zone
            .from_local_datetime(&arrival_local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&arrival_local));
        let free_until = arrival - Duration::hours(i64::from(self.free_until_hours));
        let fee_minor = if now < free_until {
            0
        } else {
            match self.fee {
                CancellationFee::None => 0,
                // The total over the nights, so a discounted long stay is charged its
                // discounted night, and a one-night stay never more than its total.
                CancellationFee::FirstNight => price.total_minor / price.nights.max(1),
                CancellationFee::Percent(p) => price.total_minor * i64::from(p.min(100)) / 100,
            }
        };
        CancellationCharge {
            fee_minor,
            currency: price.currency.clone(),
            free_until,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::Money;
    use chrono::NaiveDate;

    fn stay() -> (StayDates, PriceQuote) {
        let stay = StayDates {
            check_in: NaiveDate::from_ymd_opt(2026, 12, 10).unwrap(),
            check_out: NaiveDate::from_ymd_opt(2026, 12, 13).unwrap(),
        };
        (stay, PriceQuote::for_stay(&Money::new(10_000, "EUR"), 3))
    }

    #[test]
    fn free_until_48_hours_before_the_check_in_time_then_the_first_night() {
        let (stay, price) = stay();
        let policy = CancellationPolicy::default();
        let madrid: Tz = "Europe/Madrid".parse().unwrap();
        // Arrival 2026-12-10 15:00 Madrid = 14:00 UTC; free until 2026-12-08 14:00 UTC.
        let before = Utc.with_ymd_and_hms(2026, 12, 8, 13, 59, 0).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 12, 8, 14, 0, 0).unwrap();
        let free = policy.charge(&stay, &price, before, madrid);
        assert_eq!(free.fee_minor, 0);
        assert_eq!(free.free_until, after);
        assert_eq!(
            policy.charge(&stay, &price, after, madrid).fee_minor,
            10_000
        );
    }

    #[test]
    fn a_long_stay_is_charged_its_discounted_night_and_percent_fees_are_shares() {
        let (mut stay, _) = stay();
        stay.check_out = NaiveDate::from_ymd_opt(2026, 12, 20).unwrap();
        let price = PriceQuote::for_stay(&Money::new(10_000, "EUR"), 10);
        let late = Utc.with_ymd_and_hms(2026, 12, 9, 0, 0, 0).unwrap();
        let policy = CancellationPolicy::default();
        assert_eq!(
            policy.charge(&stay, &price, late, chrono_tz::UTC).fee_minor,
            9_000
        );
        let half = CancellationPolicy {
            fee: CancellationFee::Percent(50),
            ..policy
        };
        assert_eq!(
            half.charge(&stay, &price, late, chrono_tz::UTC).fee_minor,
            45_000
        );
        let never = CancellationPolicy {
            fee: CancellationFee::None,
            ..policy
        };
        assert_eq!(
            never.charge(&stay, &price, late, chrono_tz::UTC).fee_minor,
            0
        );
    }

    #[test]
    fn the_policy_reads_from_configuration() {
        let policy: CancellationPolicy =
            toml::from_str("free_until_hours = 24\nfee = { percent = 30 }\narrival = \"14:00\"")
                .unwrap();
        assert_eq!(policy.free_until_hours, 24);
        assert_eq!(policy.fee, CancellationFee::Percent(30));
        let default: CancellationPolicy = toml::from_str("").unwrap();
        assert_eq!(default, CancellationPolicy::default());
    }
}
