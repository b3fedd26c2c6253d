//! The vocabulary of dates: month and weekday names, the cues that say check-in or check-out,
//! the connectors of a range, numeric dates, years and "next week", over folded tokens.
//!
//! Portuguese weekdays are ordinals too ("segunda" is also "second", "quarta" "fourth", "quinta"
//! "fifth"): they are weekdays only with a cue ("segunda-feira", "na quarta", "de terça") or as
//! the two ends of a range ("de segunda a quarta"), so that "a quarta noite" stays no date.

use chrono::Weekday;

use super::Role;
use crate::understanding::numbers::{day_number, is_guest_noun, is_nights_noun, is_other_unit};
use crate::understanding::text::DASH;

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
pub(super) fn english_month(word: &str) -> bool {
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

/// A weekday name, and whether it is a Portuguese ordinal that needs a cue to be a weekday.
fn weekday_name(word: &str) -> Option<(Weekday, bool)> {
    Some(match word {
        "lunes" | "monday" => (Weekday::Mon, false),
        "martes" | "tuesday" => (Weekday::Tue, false),
        "miercoles" | "wednesday" => (Weekday::Wed, false),
        "jueves" | "thursday" => (Weekday::Thu, false),
        "viernes" | "friday" | "sexta" => (Weekday::Fri, false),
        "sabado" | "saturday" => (Weekday::Sat, false),
        "domingo" | "sunday" => (Weekday::Sun, false),
        "segunda" => (Weekday::Mon, true),
        "terca" => (Weekday::Tue, true),
        "quarta" => (Weekday::Wed, true),
        "quinta" => (Weekday::Thu, true),
        _ => return None,
    })
}

/// Connectors between the two weekdays of a Portuguese range ("de segunda a quarta").
const WEEKDAY_RANGE: &[&str] = &["a", "ate", "ao"];

/// The weekday at `i`, if the word is one there (see the module's note on Portuguese).
pub(super) fn weekday(words: &[String], i: usize) -> Option<Weekday> {
    let (day, ordinal) = weekday_name(&words[i])?;
    let word = |k: usize| words.get(k).map(String::as_str);
    let prev = i.checked_sub(1).and_then(word);
    let cued =
        word(i + 1) == Some("feira") || matches!(prev, Some("na" | "de" | "ate" | "proxima"));
    let other_end = |connector: Option<&str>, end: Option<&str>| {
        connector.is_some_and(|c| WEEKDAY_RANGE.contains(&c))
            && end.is_some_and(|e| weekday_name(e).is_some())
    };
    let in_range =
        other_end(prev, i.checked_sub(2).and_then(word)) || other_end(word(i + 1), word(i + 2));
    (!ordinal || cued || in_range).then_some(day)
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
/// Words after which a bare number is a day ("el 20", "on the 6th", "dia 6").
pub(super) const DATE_PREPOSITIONS: &[&str] = &[
    "del", "el", "al", "dia", "day", "the", "on", "from", "to", "until", "till", "desde", "hasta",
    "entre", "y", "and", "a", "de", "do", "ao", "ate", "em", "no", "o", "los", "dias",
];
/// Words between the two ends of a range ("del 20 al 25", "jan 8 - 11").
pub(super) const RANGE_CONNECTORS: &[&str] = &[
    "al", "a", "to", "until", "till", "hasta", "ate", "ao", "y", "and", "e", "through", "thru",
    DASH,
];
/// Words that may follow a range connector before the second end ("to the 14th", "ao dia 14").
const RANGE_FILLERS: &[&str] = &["the", "el", "dia", "day", "o"];
/// Words before a number that make it an hour ("a las 15 - 17", "at 8-10").
const TIME_CUES: &[&str] = &["las", "as", "at"];

/// The role the cue words in the three words before `i` give a date at `i`.
pub(super) fn cue(words: &[String], i: usize) -> Role {
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

/// Whether `between` (the words between two dates) joins them as a range: one connector, then
/// fillers ("al", "to the", "-", "ao dia").
pub(super) fn joins_a_range(between: &[String]) -> bool {
    match between.split_first() {
        Some((connector, fillers)) => {
            RANGE_CONNECTORS.contains(&connector.as_str())
                && fillers.iter().all(|f| RANGE_FILLERS.contains(&f.as_str()))
        }
        None => false,
    }
}

/// The index of the second number of a range starting with the day at `i` ("10 to 14", "10th
/// to the 14th", "8 - 11", but also "2 a 3 personas": see [`quantity_after`]).
pub(super) fn range_end(words: &[String], i: usize) -> Option<usize> {
    let connector = words.get(i + 1)?;
    if !RANGE_CONNECTORS.contains(&connector.as_str()) {
        return None;
    }
    let mut j = i + 2;
    while words
        .get(j)
        .is_some_and(|w| RANGE_FILLERS.contains(&w.as_str()))
    {
        j += 1;
    }
    words
        .get(j)
        .is_some_and(|w| day_number(w).is_some())
        .then_some(j)
}

/// Whether the number at `i` is the value being replaced ("3 en vez de 2", "em vez do dia 10",
/// "instead of the 10th"): the old value of a correction is no date of the new stay.
pub(super) fn replaced(words: &[String], i: usize) -> bool {
    let mut k = i;
    while k > 0 && RANGE_FILLERS.contains(&words[k - 1].as_str()) {
        k -= 1;
    }
    let word = |back: usize| k.checked_sub(back).map(|p| words[p].as_str());
    matches!(
        (word(2), word(1)),
        (Some("vez"), Some("de" | "del" | "do" | "da"))
            | (Some("instead"), Some("of"))
            | (Some("rather"), Some("than"))
    )
}

/// Whether the number at `i` is an hour ("a las 15 - 17", "at 8 - 10").
pub(super) fn at_time(words: &[String], i: usize) -> bool {
    i.checked_sub(1)
        .is_some_and(|p| TIME_CUES.contains(&words[p].as_str()))
}

/// Whether the number at `i` counts something ("3 noches", "2 personas", "15 horas") rather
/// than being a day; "14 of december" is a day.
pub(super) fn quantity_after(words: &[String], i: usize) -> bool {
    words.get(i + 1).is_some_and(|n| {
        is_nights_noun(n)
            || is_guest_noun(n)
            || (is_other_unit(n) && month_after(words, i).is_none())
    })
}

/// `20/12`, `20/12/2026`, `20.12`, `2026-12-20`: day, month, year.
pub(super) fn numeric_date(token: &str) -> Option<(u32, u32, Option<i32>)> {
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

/// A four-digit year of this century.
fn year(word: &str) -> Option<i32> {
    (word.len() == 4)
        .then(|| word.parse::<i32>().ok())
        .flatten()
        .filter(|y| (2000..2100).contains(y))
}

/// A year right after the date ending at `i` ("june 2, 2028", "to 5 2028"), and where the date
/// then ends.
pub(super) fn year_after(words: &[String], i: usize) -> (Option<i32>, usize) {
    match words.get(i + 1).and_then(|w| year(w)) {
        Some(y) => (Some(y), i + 1),
        None => (None, i),
    }
}

/// A month (and year) right after a day at `i`: "20 de diciembre (de 2026)", "20 december".
pub(super) fn month_after(words: &[String], i: usize) -> Option<(u32, Option<i32>, usize)> {
    let mut j = i + 1;
    if matches!(words.get(j).map(String::as_str), Some("de" | "of" | "del")) {
        j += 1;
    }
    let m = month(words.get(j)?)?;
    let mut k = j + 1;
    if matches!(words.get(k).map(String::as_str), Some("de" | "del" | "of")) {
        k += 1;
    }
    match words.get(k).and_then(|w| year(w)) {
        Some(y) => Some((m, Some(y), k)),
        None => Some((m, None, j)),
    }
}

/// Whether the message speaks of next week ("next week", "la semana que viene", "la próxima
/// semana", "semana que vem", "na próxima semana"), not of next weekend ("el fin de semana que
/// viene", "próximo fim de semana").
pub(super) fn next_week(words: &[String]) -> bool {
    let word = |k: usize| words.get(k).map(String::as_str);
    (0..words.len()).any(|i| {
        let weekend = i >= 2
            && matches!(
                (word(i - 2), word(i - 1)),
                (Some("fin" | "fim"), Some("de"))
            );
        match (word(i), word(i + 1), word(i + 2)) {
            (Some("next" | "following"), Some("week"), _) => true,
            (Some("proxima" | "siguiente"), Some("semana"), _) => true,
            (Some("semana"), Some("que"), Some("viene" | "vem")) => !weekend,
            (Some("semana"), Some("proxima" | "siguiente"), _) => !weekend,
            _ => false,
        }
    })
}

/// A full month name at `i` that no day is attached to ("e em fevereiro, do 10 ao 14"): the
/// month of the message's bare days. "may" (a verb too) and abbreviations ("mar", "set") are
/// not taken alone.
pub(super) fn month_alone(words: &[String], i: usize) -> Option<u32> {
    let w = words[i].as_str();
    if w.len() < 4 || w == "may" {
        return None;
    }
    let m = month(w)?;
    let day_at = |j: usize| {
        words
            .get(j)
            .is_some_and(|t| super::day_number(t.split('-').next().unwrap_or("")).is_some())
    };
    let glued = |j: usize| {
        matches!(
            words.get(j).map(String::as_str),
            Some("the" | "de" | "del" | "of")
        )
    };
    // "february 5", "february the 5th" carry their day after; "5 de febrero" before.
    let day_after = day_at(i + 1) || (glued(i + 1) && day_at(i + 2));
    let day_before = (i >= 1 && day_at(i - 1)) || (i >= 2 && glued(i - 1) && day_at(i - 2));
    (!day_after && !day_before).then_some(m)
}
