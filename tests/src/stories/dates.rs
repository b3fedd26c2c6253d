//! Date expressions (`today+3`, `M+2/08`, `W+1/mon`, `Y+1/03/15`) and the `{EXPR|FORMAT}`
//! placeholders of guest and `says` text.
//!
//! Stories name dates relative to the run's day so that the suite never goes stale: a story
//! written in March still books "next month" when it runs in December. Everything here is a pure
//! function of "today" and the story's language, so it is unit-tested without the service.

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use conserje_domain::understanding::Language;

/// Resolves a date expression against `today`; the error says what is wrong with it.
pub fn resolve(expr: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let expr = expr.trim();
    let bad = |why: &str| format!("date expression {expr:?}: {why}");
    if let Some(rest) = expr.strip_prefix("today") {
        if rest.is_empty() {
            return Ok(today);
        }
        let usage = || bad("expected today, today+N or today-N");
        let moved = if let Some(digits) = rest.strip_prefix('+') {
            today.checked_add_days(Days::new(number(digits).ok_or_else(usage)?))
        } else if let Some(digits) = rest.strip_prefix('-') {
            today.checked_sub_days(Days::new(number(digits).ok_or_else(usage)?))
        } else {
            return Err(usage());
        };
        return moved.ok_or_else(|| bad("out of range"));
    }
    if let Some(rest) = expr.strip_prefix("M+") {
        let (k, dd) = rest.split_once('/').ok_or_else(|| bad("expected M+K/DD"))?;
        let k = number(k).ok_or_else(|| bad("K in M+K/DD must be a number"))?;
        let day = two_digits(dd).ok_or_else(|| bad("DD in M+K/DD must be two digits"))?;
        let first = today
            .with_day(1)
            .and_then(|d| d.checked_add_months(Months::new(u32::try_from(k).ok()?)))
            .ok_or_else(|| bad("out of range"))?;
        return first
            .with_day(day)
            .ok_or_else(|| bad(&format!("{} has no day {dd}", first.format("%Y-%m"))));
    }
    if let Some(rest) = expr.strip_prefix("W+") {
        let (k, ddd) = rest
            .split_once('/')
            .ok_or_else(|| bad("expected W+K/ddd"))?;
        let k = number(k).ok_or_else(|| bad("K in W+K/ddd must be a number"))?;
        let weekday = weekday(ddd).ok_or_else(|| bad("ddd must be mon, tue, … or sun"))?;
        let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
        return k
            .checked_mul(7)
            .and_then(|days| monday.checked_add_days(Days::new(days)))
            .and_then(|d| d.checked_add_days(Days::new(weekday.num_days_from_monday().into())))
            .ok_or_else(|| bad("out of range"));
    }
    if let Some(rest) = expr.strip_prefix("Y+") {
        let mut parts = rest.split('/');
        let (Some(k), Some(mm), Some(dd), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected Y+K/MM/DD"));
        };
        let k = number(k)
            .and_then(|k| i32::try_from(k).ok())
            .ok_or_else(|| bad("K in Y+K/MM/DD must be a number"))?;
        let month = two_digits(mm).ok_or_else(|| bad("MM in Y+K/MM/DD must be two digits"))?;
        let day = two_digits(dd).ok_or_else(|| bad("DD in Y+K/MM/DD must be two digits"))?;
        let year = today
            .year()
            .checked_add(k)
            .ok_or_else(|| bad("out of range"))?;
        return NaiveDate::from_ymd_opt(year, month, day)
            .ok_or_else(|| bad(&format!("{year} has no {mm}/{dd}")));
    }
    Err(bad("expected today, today±N, M+K/DD, W+K/ddd or Y+K/MM/DD"))
}

/// A non-negative decimal number, digits only.
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Exactly two decimal digits (`08`, `31`).
fn two_digits(text: &str) -> Option<u32> {
    if text.len() != 2 {
        return None;
    }
    number(text).and_then(|n| u32::try_from(n).ok())
}

fn weekday(ddd: &str) -> Option<Weekday> {
    const DAYS: [(&str, Weekday); 7] = [
        ("mon", Weekday::Mon),
        ("tue", Weekday::Tue),
        ("wed", Weekday::Wed),
        ("thu", Weekday::Thu),
        ("fri", Weekday::Fri),
        ("sat", Weekday::Sat),
        ("sun", Weekday::Sun),
    ];
    DAYS.iter().find(|(name, _)| *name == ddd).map(|(_, d)| *d)
}

const MONTHS_ES: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_PT: [&str; 12] = [
    "janeiro",
    "fevereiro",
    "março",
    "abril",
    "maio",
    "junho",
    "julho",
    "agosto",
    "setembro",
    "outubro",
    "novembro",
    "dezembro",
];
const MON_ES: [&str; 12] = [
    "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic",
];
const MON_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const MON_PT: [&str; 12] = [
    "jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez",
];
const WEEKDAYS_ES: [&str; 7] = [
    "lunes",
    "martes",
    "miércoles",
    "jueves",
    "viernes",
    "sábado",
    "domingo",
];
const WEEKDAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const WEEKDAYS_PT: [&str; 7] = [
    "segunda-feira",
    "terça-feira",
    "quarta-feira",
    "quinta-feira",
    "sexta-feira",
    "sábado",
    "domingo",
];

/// Writes `day` as a guest would: `d`, `dd`, `mm`, `yyyy`, `month`, `mon` or `weekday`.
pub fn format(day: NaiveDate, format: &str, language: Language) -> Result<String, String> {
    let month = day.month0() as usize;
    let weekday = day.weekday().num_days_from_monday() as usize;
    let pick = |es: &[&str], en: &[&str], pt: &[&str], i: usize| {
        match language {
            Language::Es => es[i],
            Language::En => en[i],
            Language::Pt => pt[i],
        }
        .to_owned()
    };
    Ok(match format {
        "d" => day.day().to_string(),
        "dd" => format!("{:02}", day.day()),
        "mm" => format!("{:02}", day.month()),
        "yyyy" => day.year().to_string(),
        "month" => pick(&MONTHS_ES, &MONTHS_EN, &MONTHS_PT, month),
        "mon" => pick(&MON_ES, &MON_EN, &MON_PT, month),
        "weekday" => pick(&WEEKDAYS_ES, &WEEKDAYS_EN, &WEEKDAYS_PT, weekday),
        other => {
            return Err(format!(
                "unknown date format {other:?}: expected d, dd, mm, yyyy, month, mon or weekday"
            ))
        }
    })
}

/// What placeholders expand to in one story at one moment of its conversation.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub today: NaiveDate,
    pub language: Language,
    /// The number of the conversation's last booking; `None` before the bot gave one.
    pub booking_ref: Option<&'a str>,
}

/// Expands every `{EXPR|FORMAT}` and `{booking_ref}` in `text`.
pub fn expand(text: &str, context: &Context<'_>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        out.push_str(&rest[..open]);
        if rest[open..].starts_with('}') {
            return Err(format!("a '}}' without its '{{' in {text:?}"));
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("a '{{' without its '}}' in {text:?}"))?;
        let inner = &after[..close];
        if inner.contains('{') {
            return Err(format!("a '{{' inside a placeholder in {text:?}"));
        }
        out.push_str(&placeholder(inner, context)?);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn placeholder(inner: &str, context: &Context<'_>) -> Result<String, String> {
    if inner == "booking_ref" {
        return context.booking_ref.map(str::to_owned).ok_or_else(|| {
            "{booking_ref} is used before the bot gave a booking number (no booked reply yet)"
                .to_owned()
        });
    }
    let (expr, fmt) = inner.split_once('|').ok_or_else(|| {
        format!("placeholder {{{inner}}}: expected {{EXPR|FORMAT}} or {{booking_ref}}")
    })?;
    let day = resolve(expr, context.today).map_err(|e| format!("placeholder {{{inner}}}: {e}"))?;
    format(day, fmt.trim(), context.language).map_err(|e| format!("placeholder {{{inner}}}: {e}"))
}

#[cfg(test)]
#[path = "dates_tests.rs"]
mod tests;
