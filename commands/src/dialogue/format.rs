//! Money, dates and times as a guest reads them in their language.

use chrono::{DateTime, Datelike, NaiveDate};
use chrono_tz::Tz;
use conserje_domain::understanding::{Language, Locale};

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

/// A day as a guest checks it before saying yes: weekday, day, month and year, never a bare
/// number ("Thu 4 Mar 2027", "jue 4 mar 2027", "qui, 4 mar 2027"), so a stay resolved to the
/// wrong month or year is caught on the quote, not at the front desk.
pub fn date(day: NaiveDate, locale: Locale) -> String {
    const WEEKDAYS: [[&str; 7]; 3] = [
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"],
        ["seg", "ter", "qua", "qui", "sex", "sáb", "dom"],
    ];
    const MONTHS: [[&str; 12]; 3] = [
        [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ],
        [
            "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic",
        ],
        [
            "jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez",
        ],
    ];
    let table = match locale.language() {
        Language::En => 0,
        Language::Es => 1,
        Language::Pt => 2,
    };
    let weekday = WEEKDAYS[table][day.weekday().num_days_from_monday() as usize];
    let month = MONTHS[table][day.month0() as usize];
    let (d, y) = (day.day(), day.year());
    match locale.language() {
        Language::Pt => format!("{weekday}, {d} {month} {y}"),
        Language::En | Language::Es => format!("{weekday} {d} {month} {y}"),
    }
}

/// When the desk reopens, relative to `now`: "mañana a las 09:00", "today at 09:00".
pub fn back_at(at: DateTime<Tz>, now: DateTime<Tz>, language: Language) -> String {
    let time = at.format("%H:%M");
    let days = (at.date_naive() - now.date_naive()).num_days();
    match (language, days) {
        (Language::Es, 0) => format!("hoy a las {time}"),
        (Language::Es, 1) => format!("mañana a las {time}"),
        (Language::Es, _) => format!("el {} a las {time}", date(at.date_naive(), Locale::Es)),
        (Language::En, 0) => format!("today at {time}"),
        (Language::En, 1) => format!("tomorrow at {time}"),
        (Language::En, _) => format!("on {} at {time}", date(at.date_naive(), Locale::En)),
        (Language::Pt, 0) => format!("hoje às {time}"),
        (Language::Pt, 1) => format!("amanhã às {time}"),
        (Language::Pt, _) => format!("em {} às {time}", date(at.date_naive(), Locale::PtBr)),
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
    fn dates_carry_the_weekday_and_the_year() {
        let day = NaiveDate::from_ymd_opt(2027, 3, 4).unwrap();
        assert_eq!(date(day, Locale::En), "Thu 4 Mar 2027");
        assert_eq!(date(day, Locale::Es), "jue 4 mar 2027");
        assert_eq!(date(day, Locale::PtPt), "qui, 4 mar 2027");
        assert_eq!(date(day, Locale::PtBr), "qui, 4 mar 2027");
    }

    #[test]
    fn a_booking_ref_is_the_random_tail_of_the_id() {
        let id = uuid::Uuid::parse_str("01937c2e-8a4b-7c3d-9e1f-123456789abc").unwrap();
        assert_eq!(booking_ref(id), "56789ABC");
    }
}
