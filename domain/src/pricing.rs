//! The price of a stay: nightly rate × nights, less the long-stay discount.
//!
//! The hotel's old system tested `nights >= 7` before `nights >= 30` in an `elif` chain, so the
//! 20 % tier was unreachable. Here the tiers are matched from the longest down.

use serde::{Deserialize, Serialize};

use crate::values::Money;

/// Discount in percent for a stay of `nights` nights: 20 % from 30 nights, 10 % from 7.
pub fn long_stay_discount_percent(nights: i64) -> u8 {
    match nights {
        n if n >= 30 => 20,
        n if n >= 7 => 10,
        _ => 0,
    }
}

/// What the guest pays for a stay, with each step shown so a reply or an invoice can explain it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceQuote {
    pub nights: i64,
    pub nightly_rate_minor: i64,
    pub subtotal_minor: i64,
    pub discount_percent: u8,
    pub discount_minor: i64,
    pub total_minor: i64,
    pub currency: String,
}

impl PriceQuote {
    /// Rounds the discount down to whole minor units, so the guest never pays a fraction more.
    pub fn for_stay(nightly_rate: &Money, nights: i64) -> Self {
        let subtotal = nightly_rate.minor * nights;
        let discount_percent = long_stay_discount_percent(nights);
        let discount = subtotal * i64::from(discount_percent) / 100;
        Self {
            nights,
            nightly_rate_minor: nightly_rate.minor,
            subtotal_minor: subtotal,
            discount_percent,
            discount_minor: discount,
            total_minor: subtotal - discount,
            currency: nightly_rate.currency.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discount_tiers_at_their_edges() {
        assert_eq!(long_stay_discount_percent(6), 0);
        assert_eq!(long_stay_discount_percent(7), 10);
        assert_eq!(long_stay_discount_percent(29), 10);
        assert_eq!(long_stay_discount_percent(30), 20);
        assert_eq!(long_stay_discount_percent(90), 20);
    }

    #[test]
    fn quote_multiplies_and_discounts_in_minor_units() {
        let rate = Money::new(12_000, "EUR");
        let six = PriceQuote::for_stay(&rate, 6);
        assert_eq!((six.subtotal_minor, six.total_minor), (72_000, 72_000));
        let seven = PriceQuote::for_stay(&rate, 7);
        assert_eq!(seven.subtotal_minor, 84_000);
        assert_eq!(seven.discount_minor, 8_400);
        assert_eq!(seven.total_minor, 75_600);
        let thirty = PriceQuote::for_stay(&rate, 30);
        assert_eq!(thirty.discount_percent, 20);
        assert_eq!(thirty.total_minor, 288_000);
        let odd = PriceQuote::for_stay(&Money::new(9_999, "USD"), 7);
        assert_eq!(odd.discount_minor, 6_999);
        assert_eq!(odd.total_minor, 69_993 - 6_999);
    }
}
