//! Money, dates and times as a guest reads them in their language.

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use conserje_domain::understanding::Language;

/// `1.080,00 EUR` in Spanish and Portuguese, `EUR 1,080.00` in English.
pub fn money(minor: i64, currency: &str, language: Language) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.unsigned_abs();
    let (units, cents) = (minor / 100, minor % 100);
    let digits = units.to_string();
    let (group, decimal) = match language {
        Language::En => (',', '.'),
        Language::Es | Language::Pt => ('.', ','),
    };
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    match language {
        Language::En => format!("{sign}{currency} {grouped}{decimal}{cents:02}"),
        Language::Es | Language::Pt => format!("{sign}{grouped}{decimal}{cents:02} {currency}"),
    }
}

/// `20/12/2026` in Spanish and Portuguese, `20 Dec 2026` in English.
pub fn date(day: NaiveDate, language: Language) -> String {
    match language {
        Language::En => day.format("%-d %b %Y").to_string(),
        Language::Es | Language::Pt => day.format("%d/%m/%Y").to_string(),
    }
}

/// When the desk reopens, relative to `now`: "mañana a las 09:00", "today at 09:00".
pub fn back_at(at: DateTime<Tz>, now: DateTime<Tz>, language: Language) -> String {
    let time = at.format("%H:%M");
    let days = (at.date_naive() - now.date_naive()).num_days();
    match (language, days) {
        (Language::Es, 0) => format!("hoy a las {time}"),
        (Language::Es, 1) => format!("mañana a las {time}"),
        (Language::Es, _) => format!("el {} a las {time}", date(at.date_naive(), language)),
        (Language::En, 0) => format!("today at {time}"),
        (Language::En, 1) => format!("tomorrow at {time}"),
        (Language::En, _) => format!("on {} at {time}", date(at.date_naive(), language)),
        (Language::Pt, 0) => format!("hoje às {time}"),
        (Language::Pt, 1) => format!("amanhã às {time}"),
        (Language::Pt, _) => format!("em {} às {time}", date(at.date_naive(), language)),
    }
}

/// The short booking number guests are given: the last 8 hex digits of the id, which are random
/// in a UUIDv7 (its first digits are a timestamp, shared by bookings made in the same minute).
pub fn booking_ref(id: uuid::Uuid) -> String {
    let hex = id.simple().to_string();
    hex[hex.len() - 8..].to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_as_each_language_writes_it() {
        assert_eq!(money(108_000, "EUR", Language::Es), "1.080,00 EUR");
        assert_eq!(money(108_000, "EUR", Language::En), "EUR 1,080.00");
        assert_eq!(money(-9_050, "BRL", Language::Pt), "-90,50 BRL");
        assert_eq!(money(123_456_789, "EUR", Language::En), "EUR 1,234,567.89");
    }

    #[test]
    fn dates_read_as_each_language_writes_them() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        assert_eq!(date(day, Language::Es), "05/12/2026");
        assert_eq!(date(day, Language::En), "5 Dec 2026");
    }

    #[test]
    fn a_booking_ref_is_the_random_tail_of_the_id() {
        let id = uuid::Uuid::parse_str("01937c2e-8a4b-7c3d-9e1f-123456789abc").unwrap();
        assert_eq!(booking_ref(id), "56789ABC");
    }
}
