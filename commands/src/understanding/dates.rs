//! Stay dates in Spanish, English and Portuguese, resolved against the hotel's today.
//!
//! Our own grammar over the folded tokens, because the ranges guests write ("del 20 al 25 de
//! diciembre", "from Dec 20 to 25", "de 20 a 25 de dezembro", "chegando sexta, saindo dia 6")
//! are what a single-date parser misses. Conventions:
//! - a date without a year is the next one on or after today (a check-out: after the check-in);
//! - a bare day ("el 20", "dia 6") is the next such day of a month on or after the same reference;
//! - a bare day next to a dated one takes its month ("del 20 al 25 de diciembre");
//! - a weekday is the next one on or after today; "next friday" / "el próximo viernes" skips
//!   today;
//! - "this weekend" / "el fin de semana" / "o fim de semana": check-in Friday, check-out Sunday
//!   of this week (from today when today is Saturday or Sunday); "next weekend" / "el fin de
//!   semana que viene" / "próximo fim de semana": the same when today is Monday–Thursday, the
//!   following week's Friday → Sunday when today is Friday–Sunday;
//! - "for three nights" sets `nights`, and `check_out = check_in + nights` when there is a
//!   check-in but no explicit check-out.

use chrono::{Datelike, Days, NaiveDate, Weekday};

use super::numbers::{day_number, is_nights_noun, small_number};

/// The dates found in one message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StayDates {
    /// The first night.
    pub check_in: Option<NaiveDate>,
    /// The departure day, explicit or `check_in + nights`.
    pub check_out: Option<NaiveDate>,
    /// "for three nights", when no explicit check-out was given.
    pub nights: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    In,
    Out,
    Unknown,
}

#[derive(Debug, Clone, Copy)]
enum When {
    /// Day, optional month, optional year: resolved against a reference date.
    Calendar(u32, Option<u32>, Option<i32>),
    Fixed(NaiveDate),
}

#[derive(Debug, Clone, Copy)]
struct Mention {
    when: When,
    role: Role,
}

/// Month number of a (folded) month name or abbreviation in any of the three languages.
pub fn month(word: &str) -> Option<u32> {
    let m = match word {
        "enero" | "january" | "janeiro" | "jan" | "ene" => 1,
        "febrero" | "february" | "fevereiro" | "feb" | "fev" => 2,
        "marzo" | "march" | "marco" | "mar" => 3,
        "abril" | "april" | "apr" | "abr" => 4,
        "mayo" | "may" | "maio" | "mai" => 5,
        "junio" | "june" | "junho" | "jun" => 6,
        "julio" | "july" | "julho" | "jul" => 7,
        "agosto" | "august" | "aug" | "ago" => 8,
        "septiembre" | "setiembre" | "september" | "setembro" | "sep" | "sept" | "set" => 9,
        "octubre" | "october" | "outubro" | "oct" | "out" => 10,
        "noviembre" | "november" | "novembro" | "nov" => 11,
        "diciembre" | "december" | "dezembro" | "dec" | "dic" | "dez" => 12,
        _ => return None,
    };
    Some(m)
}

/// Month names and abbreviations written before the day ("dec 20", "december 20th"): English
/// only, since "out 20" (Portuguese October) collides with "check out 20".
fn english_month(word: &str) -> bool {
    matches!(
        word,
        "january"
            | "february"
            | "march"
            | "april"
            | "may"
            | "june"
            | "july"
            | "august"
            | "september"
            | "october"
            | "november"
            | "december"
            | "jan"
            | "feb"
            | "mar"
            | "apr"
            | "jun"
            | "jul"
            | "aug"
            | "sep"
            | "sept"
            | "oct"
            | "nov"
            | "dec"
    )
}

fn weekday(words: &[String], i: usize) -> Option<Weekday> {
    let w = words[i].as_str();
    let next = words.get(i + 1).map(String::as_str);
    let prev = i.checked_sub(1).map(|p| words[p].as_str());
    let feira = next == Some("feira") || matches!(prev, Some("na" | "de" | "ate" | "proxima"));
    Some(match w {
        "lunes" | "monday" => Weekday::Mon,
        "martes" | "tuesday" => Weekday::Tue,
        "miercoles" | "wednesday" => Weekday::Wed,
        "jueves" | "thursday" => Weekday::Thu,
        "viernes" | "friday" | "sexta" => Weekday::Fri,
        "sabado" | "saturday" => Weekday::Sat,
        "domingo" | "sunday" => Weekday::Sun,
        "quinta" if feira || prev == Some("na") => Weekday::Thu,
        "segunda" if feira => Weekday::Mon,
        "terca" if feira => Weekday::Tue,
        "quarta" if feira => Weekday::Wed,
        _ => return None,
    })
}

const CHECK_OUT_CUES: &[&str] = &[
    "saindo",
    "saida",
    "salida",
    "saliendo",
    "salimos",
    "salgo",
    "leaving",
    "leave",
    "checkout",
    "hasta",
    "until",
    "till",
    "ate",
    "out",
    "departure",
    "departing",
    "sair",
    "volvemos",
];
const CHECK_IN_CUES: &[&str] = &[
    "llegada", "llegando", "llego", "llegamos", "chegando", "chegada", "chego", "chegamos",
    "arriving", "arrive", "arrival", "entrada", "checkin", "desde", "from", "partir", "in",
];
const DATE_PREPOSITIONS: &[&str] = &[
    "del", "el", "al", "dia", "day", "the", "on", "from", "to", "until", "till", "desde", "hasta",
    "entre", "y", "and", "a", "de", "do", "ao", "ate", "em", "no", "o", "los", "dias",
];
const RANGE_CONNECTORS: &[&str] = &[
    "al", "a", "to", "until", "till", "hasta", "ate", "ao", "y", "and", "e",
];

fn cue(words: &[String], i: usize) -> Role {
    for back in 1..=3 {
        let Some(p) = i.checked_sub(back) else { break };
        let w = words[p].as_str();
        if CHECK_OUT_CUES.contains(&w) {
            return Role::Out;
        }
        if CHECK_IN_CUES.contains(&w) {
            return Role::In;
        }
    }
    Role::Unknown
}

fn add_days(date: NaiveDate, n: u64) -> NaiveDate {
    date.checked_add_days(Days::new(n)).unwrap_or(date)
}

/// The next `weekday` on or after `from` (`strict`: after).
fn next_weekday(from: NaiveDate, weekday: Weekday, strict: bool) -> NaiveDate {
    let ahead = (7 + weekday.num_days_from_monday() - from.weekday().num_days_from_monday()) % 7;
    let ahead = if ahead == 0 && strict { 7 } else { ahead };
    add_days(from, u64::from(ahead))
}

/// Resolves day/month/year against `reference`: the first matching date on or after it.
fn resolve(
    day: u32,
    month: Option<u32>,
    year: Option<i32>,
    reference: NaiveDate,
) -> Option<NaiveDate> {
    match (month, year) {
        (Some(m), Some(y)) => NaiveDate::from_ymd_opt(y, m, day),
        (Some(m), None) => (0..=4).find_map(|k| {
            NaiveDate::from_ymd_opt(reference.year() + k, m, day).filter(|d| *d >= reference)
        }),
        (None, _) => {
            let mut y = reference.year();
            let mut m = reference.month();
            for _ in 0..14 {
                if let Some(d) = NaiveDate::from_ymd_opt(y, m, day).filter(|d| *d >= reference) {
                    return Some(d);
                }
                (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            }
            None
        }
    }
}

/// `20/12`, `20/12/2026`, `20.12`, `2026-12-20`: day, month, year.
fn numeric_date(token: &str) -> Option<(u32, u32, Option<i32>)> {
    let parts: Vec<&str> = token.split(['/', '-', '.']).collect();
    let num = |s: &str| s.parse::<u32>().ok();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 => Some((num(d)?, num(m)?, Some(num(y)? as i32))),
        [d, m] | [d, m, _] => {
            let (d, m) = (num(d)?, num(m)?);
            let year = match parts.get(2) {
                Some(y) if y.len() == 4 => Some(num(y)? as i32),
                Some(y) if y.len() == 2 => Some(2000 + num(y)? as i32),
                Some(_) => return None,
                None => None,
            };
            let (d, m) = if m > 12 && d <= 12 { (m, d) } else { (d, m) };
            ((1..=31).contains(&d) && (1..=12).contains(&m)).then_some((d, m, year))
        }
        _ => None,
    }
}

/// A month (and year) right after a day at `i`: "20 de diciembre (de 2026)", "20 december".
fn month_after(words: &[String], i: usize) -> Option<(u32, Option<i32>, usize)> {
    let mut j = i + 1;
    if matches!(words.get(j).map(String::as_str), Some("de" | "of" | "del")) {
        j += 1;
    }
    let m = month(words.get(j)?)?;
    let mut end = j;
    let mut year = None;
    let mut k = j + 1;
    if matches!(words.get(k).map(String::as_str), Some("de" | "del" | "of")) {
        k += 1;
    }
    if let Some(y) = words.get(k).and_then(|w| w.parse::<i32>().ok()) {
        if (2000..2100).contains(&y) {
            year = Some(y);
            end = k;
        }
    }
    Some((m, year, end))
}

fn is_number(word: &str) -> bool {
    day_number(word).is_some()
}

/// Finds the stay dates in `words` (folded tokens); `taken[i]` marks tokens already used as a
/// guest count, which are not dates.
pub fn find(words: &[String], taken: &[bool], today: NaiveDate) -> StayDates {
    let mut mentions: Vec<Mention> = Vec::new();
    let mut weekend: Option<(NaiveDate, NaiveDate)> = None;
    let mut nights: Option<u32> = None;
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let next = words.get(i + 1).map(String::as_str);
        let prev = i.checked_sub(1).map(|p| words[p].as_str());
        if taken.get(i).copied().unwrap_or(false) {
            i += 1;
            continue;
        }
        // Nights: "3 noches", "three nights", "tres noites", "una semana". A long count before
        // "nights" ("91 noches") is kept too, so the dialogue can explain the 90-night limit.
        let count = small_number(w).or_else(|| {
            w.parse::<u32>()
                .ok()
                .filter(|n| (1..=999).contains(n) && next.is_some_and(is_nights_noun))
        });
        if let Some(n) = count {
            if next.is_some_and(is_nights_noun) {
                nights = Some(n);
                i += 2;
                continue;
            }
            if matches!(next, Some("semana" | "semanas" | "week" | "weeks"))
                && matches!(
                    prev,
                    Some("por" | "for" | "durante" | "during" | "para" | "pra")
                )
            {
                nights = Some(n * 7);
                i += 2;
                continue;
            }
        }
        if let Some((d, m, y)) = numeric_date(w).filter(|_| w.contains(['/', '.']) || w.len() == 10)
        {
            mentions.push(Mention {
                when: When::Calendar(d, Some(m), y),
                role: cue(words, i),
            });
            i += 1;
            continue;
        }
        // "20-25 (de) diciembre": a range in one token.
        if let Some((a, b)) = w.split_once('-') {
            if let (Some(a), Some(b)) = (day_number(a), day_number(b)) {
                if b > 12 || a > b || month_after(words, i).is_some() {
                    let (m, y, end) = match month_after(words, i) {
                        Some((m, y, end)) => (Some(m), y, end),
                        None => (None, None, i),
                    };
                    mentions.push(Mention {
                        when: When::Calendar(a, m, y),
                        role: Role::In,
                    });
                    mentions.push(Mention {
                        when: When::Calendar(b, m, y),
                        role: Role::Out,
                    });
                    i = end + 1;
                    continue;
                }
            } else if let Some((d, m, y)) = numeric_date(w) {
                mentions.push(Mention {
                    when: When::Calendar(d, Some(m), y),
                    role: cue(words, i),
                });
                i += 1;
                continue;
            }
        }
        if let Some(day) = day_number(w) {
            let not_quantity = !next.is_some_and(|n| {
                is_nights_noun(n)
                    || super::numbers::is_guest_noun(n)
                    || super::numbers::is_other_unit(n)
            });
            if let Some((m, y, end)) = month_after(words, i) {
                mentions.push(Mention {
                    when: When::Calendar(day, Some(m), y),
                    role: cue(words, i),
                });
                i = end + 1;
                continue;
            }
            if let Some(m) = prev.filter(|p| english_month(p)).and_then(month) {
                if not_quantity {
                    mentions.push(Mention {
                        when: When::Calendar(day, Some(m), None),
                        role: cue(words, i),
                    });
                    i += 1;
                    continue;
                }
            }
            let after_preposition = prev.is_some_and(|p| DATE_PREPOSITIONS.contains(&p));
            let before_range = next.is_some_and(|n| RANGE_CONNECTORS.contains(&n))
                && words.get(i + 2).is_some_and(|n| is_number(n));
            if not_quantity && (after_preposition || before_range) {
                mentions.push(Mention {
                    when: When::Calendar(day, None, None),
                    role: cue(words, i),
                });
            }
            i += 1;
            continue;
        }
        // Relative days.
        let relative = match (prev, w, next) {
            (_, "pasado", Some("manana")) => Some((2, 2)),
            (Some("depois"), "de", Some("amanha")) => Some((2, 2)),
            (_, "day", Some("after"))
                if words.get(i + 2).map(String::as_str) == Some("tomorrow") =>
            {
                Some((2, 3))
            }
            (Some("la" | "esta" | "por" | "de" | "pasado"), "manana", _) => None,
            (_, "manana" | "tomorrow" | "amanha", _) => Some((1, 1)),
            (_, "hoy" | "today" | "hoje" | "tonight", _) => Some((0, 1)),
            (Some("esta"), "noche", _) => Some((0, 1)),
            _ => None,
        };
        if let Some((offset, width)) = relative {
            mentions.push(Mention {
                when: When::Fixed(add_days(today, offset)),
                role: cue(words, i),
            });
            i += width;
            continue;
        }
        // Weekends.
        let weekend_width = match (w, next) {
            ("fin" | "fim", Some("de"))
                if words.get(i + 2).map(String::as_str) == Some("semana") =>
            {
                3
            }
            ("finde" | "weekend" | "fds", _) => 1,
            _ => 0,
        };
        if weekend_width > 0 {
            let after: Vec<&str> = words[i + weekend_width..]
                .iter()
                .take(2)
                .map(String::as_str)
                .collect();
            let before: Vec<&str> = words[i.saturating_sub(2)..i]
                .iter()
                .map(String::as_str)
                .collect();
            let is_next = before
                .iter()
                .any(|b| matches!(*b, "next" | "proximo" | "siguiente" | "proxima"))
                || after
                    .first()
                    .is_some_and(|a| matches!(*a, "que" | "siguiente"))
                    && after.get(1).is_some_and(|a| matches!(*a, "viene" | "vem"))
                || after.first() == Some(&"siguiente");
            weekend = Some(weekend_dates(today, is_next));
            i += weekend_width;
            continue;
        }
        if let Some(day) = weekday(words, i) {
            let strict = matches!(prev, Some("next" | "proximo" | "proxima"))
                || matches!(
                    (next, words.get(i + 2).map(String::as_str)),
                    (Some("que"), Some("viene" | "vem"))
                );
            mentions.push(Mention {
                when: When::Fixed(next_weekday(today, day, strict)),
                role: cue(words, i),
            });
        }
        i += 1;
    }
    assemble(mentions, weekend, nights, today)
}

/// Friday → Sunday of this weekend, or of the next one (see the module's conventions).
fn weekend_dates(today: NaiveDate, next: bool) -> (NaiveDate, NaiveDate) {
    let from_monday = today.weekday().num_days_from_monday();
    let in_weekend = from_monday >= 4;
    let friday = if in_weekend {
        add_days(today, 0)
            .checked_sub_days(Days::new(u64::from(from_monday - 4)))
            .unwrap_or(today)
    } else {
        next_weekday(today, Weekday::Fri, false)
    };
    if next && in_weekend {
        let friday = add_days(friday, 7);
        return (friday, add_days(friday, 2));
    }
    let check_in = friday.max(today);
    let sunday = add_days(friday, 2);
    let check_out = if sunday > check_in {
        sunday
    } else {
        add_days(check_in, 1)
    };
    (check_in, check_out)
}

fn assemble(
    mut mentions: Vec<Mention>,
    weekend: Option<(NaiveDate, NaiveDate)>,
    nights: Option<u32>,
    today: NaiveDate,
) -> StayDates {
    // Month propagation: bare days take the month of a dated neighbour.
    for k in 0..mentions.len() {
        if let When::Calendar(day, None, None) = mentions[k].when {
            let after = mentions[k + 1..].iter().find_map(|m| match m.when {
                When::Calendar(d, Some(mo), y) => Some((d, mo, y)),
                _ => None,
            });
            let before = mentions[..k].iter().rev().find_map(|m| match m.when {
                When::Calendar(d, Some(mo), y) => Some((d, mo, y)),
                _ => None,
            });
            mentions[k].when = match (before, after) {
                (Some((d, mo, y)), _) => {
                    // "from dec 20 to 25"; "dec 28 to 3" rolls into the next month.
                    let mo2 = if day < d { mo % 12 + 1 } else { mo };
                    let y2 = y.map(|y| if mo2 < mo { y + 1 } else { y });
                    When::Calendar(day, Some(mo2), y2)
                }
                (None, Some((d, mo, y))) => {
                    let mo2 = if day > d { (mo + 10) % 12 + 1 } else { mo };
                    let y2 = y.map(|y| if mo2 > mo { y - 1 } else { y });
                    When::Calendar(day, Some(mo2), y2)
                }
                (None, None) => mentions[k].when,
            };
        }
    }
    let mut out = StayDates {
        nights,
        ..StayDates::default()
    };
    if let Some((check_in, check_out)) = weekend.filter(|_| mentions.is_empty()) {
        out.check_in = Some(check_in);
        out.check_out = Some(check_out);
        out.nights = None;
        return out;
    }
    let mut ins: Vec<When> = Vec::new();
    let mut outs: Vec<When> = Vec::new();
    let mut unknown: Vec<When> = Vec::new();
    for m in &mentions {
        match m.role {
            Role::In => ins.push(m.when),
            Role::Out => outs.push(m.when),
            Role::Unknown => unknown.push(m.when),
        }
    }
    let mut order = unknown.into_iter();
    let check_in = ins.first().copied().or_else(|| {
        if outs.is_empty() || mentions.len() > 1 {
            order.next()
        } else {
            None
        }
    });
    let check_out = outs.first().copied().or_else(|| order.next());
    out.check_in = check_in.and_then(|w| at(w, today));
    let out_reference = out.check_in.map_or(today, |d| add_days(d, 1));
    out.check_out = check_out.and_then(|w| at(w, out_reference));
    if let (Some(i), Some(o)) = (out.check_in, out.check_out) {
        if o <= i {
            out.check_out = None;
        }
    }
    match (out.check_in, out.check_out, out.nights) {
        (Some(i), None, Some(n)) => out.check_out = Some(add_days(i, u64::from(n))),
        (_, Some(_), Some(_)) => out.nights = None,
        _ => {}
    }
    if out.check_in.is_none() && out.check_out.is_none() {
        if let Some((check_in, check_out)) = weekend {
            out.check_in = Some(check_in);
            out.check_out = Some(check_out);
        }
    }
    out
}

fn at(when: When, reference: NaiveDate) -> Option<NaiveDate> {
    match when {
        When::Fixed(d) => Some(d),
        When::Calendar(d, m, y) => resolve(d, m, y, reference),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::understanding::text::tokens;

    /// A Monday.
    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 16).unwrap()
    }

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(if m >= 11 { 2026 } else { 2027 }, m, day).unwrap()
    }

    fn dates_on(text: &str, today: NaiveDate) -> StayDates {
        let words = tokens(text);
        find(&words, &vec![false; words.len()], today)
    }

    fn dates(text: &str) -> (Option<NaiveDate>, Option<NaiveDate>, Option<u32>) {
        let s = dates_on(text, today());
        (s.check_in, s.check_out, s.nights)
    }

    #[test]
    fn ranges_in_three_languages() {
        let expected = (Some(d(12, 20)), Some(d(12, 25)), None);
        assert_eq!(dates("del 20 al 25 de diciembre"), expected);
        assert_eq!(dates("from Dec 20 to 25"), expected);
        assert_eq!(dates("de 20 a 25 de dezembro"), expected);
        assert_eq!(dates("december 20th to the 25th"), expected);
        assert_eq!(dates("20-25 dezembro"), expected);
        assert_eq!(dates("entre el 20/12 y el 25/12"), expected);
        assert_eq!(
            dates("del 28 de diciembre al 3 de enero"),
            (Some(d(12, 28)), Some(d(1, 3)), None)
        );
        assert_eq!(
            dates("del 28 al 3 de enero"),
            (Some(d(12, 28)), Some(d(1, 3)), None)
        );
    }

    #[test]
    fn tomorrow_in_three_languages() {
        for text in ["mañana", "manana", "tomorrow", "amanhã", "amanha"] {
            assert_eq!(dates(text), (Some(d(11, 17)), None, None), "{text}");
        }
        for text in [
            "pasado mañana",
            "the day after tomorrow",
            "depois de amanhã",
        ] {
            assert_eq!(dates(text), (Some(d(11, 18)), None, None), "{text}");
        }
        assert_eq!(dates("mañana por la mañana"), (Some(d(11, 17)), None, None));
    }

    #[test]
    fn next_weekend_in_three_languages() {
        let coming = (Some(d(11, 20)), Some(d(11, 22)), None);
        for text in [
            "next weekend",
            "el fin de semana que viene",
            "próximo fim de semana",
            "este finde",
            "this weekend",
        ] {
            assert_eq!(dates(text), coming, "{text}");
        }
        let saturday = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        let s = dates_on("next weekend", saturday);
        assert_eq!(
            (s.check_in, s.check_out),
            (Some(d(11, 27)), Some(d(11, 29)))
        );
        let s = dates_on("este fin de semana", saturday);
        assert_eq!(
            (s.check_in, s.check_out),
            (Some(d(11, 21)), Some(d(11, 22)))
        );
    }

    #[test]
    fn nights_in_three_languages() {
        assert_eq!(dates("for three nights"), (None, None, Some(3)));
        assert_eq!(dates("quiero quedarme 91 noches"), (None, None, Some(91)));
        assert_eq!(dates("por tres noches"), (None, None, Some(3)));
        assert_eq!(dates("por 3 noites"), (None, None, Some(3)));
        assert_eq!(dates("por una semana"), (None, None, Some(7)));
        let with_start = (Some(d(11, 20)), Some(d(11, 23)), Some(3));
        assert_eq!(dates("three nights from friday"), with_start);
        assert_eq!(dates("3 noches desde el viernes"), with_start);
        assert_eq!(dates("3 noites a partir de sexta"), with_start);
    }

    #[test]
    fn check_out_only_and_with_check_in() {
        assert_eq!(dates("saindo dia 6"), (None, Some(d(12, 6)), None));
        assert_eq!(
            dates("chegando sexta, saindo dia 6"),
            (Some(d(11, 20)), Some(d(12, 6)), None)
        );
        assert_eq!(
            dates("llegamos el 18 y salimos el 20"),
            (Some(d(11, 18)), Some(d(11, 20)), None)
        );
        assert_eq!(dates("leaving on the 6th"), (None, Some(d(12, 6)), None));
    }

    #[test]
    fn single_dates_resolve_to_the_next_occurrence() {
        assert_eq!(dates("el 15 de mayo"), (Some(d(5, 15)), None, None));
        assert_eq!(dates("on the 10th"), (Some(d(12, 10)), None, None));
        assert_eq!(dates("no dia 20"), (Some(d(11, 20)), None, None));
        assert_eq!(dates("20/11/2026"), (Some(d(11, 20)), None, None));
        assert_eq!(dates("2027-01-05"), (Some(d(1, 5)), None, None));
        assert_eq!(dates("el viernes"), (Some(d(11, 20)), None, None));
        assert_eq!(dates("next monday"), (Some(d(11, 23)), None, None));
    }

    #[test]
    fn quantities_and_times_are_not_dates() {
        assert_eq!(dates("para 2 personas"), (None, None, None));
        assert_eq!(dates("a las 15 horas"), (None, None, None));
        assert_eq!(dates("cuesta 120 euros"), (None, None, None));
    }
}
