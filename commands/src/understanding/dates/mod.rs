//! Stay dates in Spanish, English and Portuguese, resolved against the hotel's today.
//!
//! Our own grammar over the folded tokens of [`crate::understanding::text::tokens`], because the
//! ranges guests write ("del 20 al 25 de diciembre", "from Dec 20 to 25", "de 20 a 25 de
//! dezembro", "chegando sexta, saindo dia 6") are what a single-date parser misses. Conventions
//! (each rule, and the misreading it prevents, is detailed where it is implemented):
//! - a date without a year is the next one on or after today (a check-out: after the check-in),
//!   except one with a month that fell within the last 14 days, which stays in the past so the
//!   dialogue refuses it ("nov 30 to dec 3" on 1 December is not next November's);
//! - a year that is written is kept, and a year written once after a range applies to both ends
//!   ("June 2 to 5, 2028", "del 2 al 5 de junio de 2028");
//! - a bare day ("el 20", "dia 6") is the next such day of a month on or after the same
//!   reference; with an anchor (the check-in of the quote being corrected) it is in the
//!   anchor's month ("mejor del 10 al 14");
//! - a bare day next to a dated one takes its month ("del 20 al 25 de diciembre");
//! - two dates joined by a connector ("al", "to", "a", "-", "–") are check-in → check-out
//!   ("jan 8 - 11", "8–11", "10th-14th", "from the 10th to the 14th"): the tokenizer keeps a
//!   dash next to a number as a token, where it used to drop it and lose the range's end; a
//!   range of counts ("de 2 a 3 personas", "a las 15 - 17") is no date, and neither is the old
//!   value of a correction ("somos 3 en vez de 2", "instead of the 10th");
//! - a weekday is the next one on or after today; "next friday" / "el próximo viernes" skips
//!   today; "next week" / "la semana que viene" / "semana que vem" puts it in next ISO week; a
//!   check-out weekday is the first after the check-in ("del viernes al domingo", "de segunda a
//!   quarta");
//! - "this weekend" / "el fin de semana" / "o fim de semana": check-in Friday, check-out Sunday
//!   of this week (from today when today is Saturday or Sunday); "next weekend" / "el fin de
//!   semana que viene" / "próximo fim de semana": the same when today is Monday–Thursday, the
//!   following week's Friday → Sunday when today is Friday–Sunday;
//! - "for three nights" sets `nights`, and `check_out = check_in + nights` when there is a
//!   check-in but no explicit check-out.
//!
//! Layout: [`words`] is the vocabulary (months, weekdays, cues, connectors), this module scans
//! the words into mentions, [`ranges`] pairs and completes them, [`resolve`] turns them into
//! dates.

mod ranges;
mod resolve;
#[cfg(test)]
mod tests;
mod words;

use chrono::{NaiveDate, Weekday};

use super::numbers::{day_number, is_nights_noun, small_number};
use resolve::{add_days, weekend_dates, Resolver};
use words::{
    at_time, cue, english_month, month_after, numeric_date, quantity_after, range_end, replaced,
    weekday, year_after, DATE_PREPOSITIONS,
};

pub use words::month;

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

/// A date as written: day, optional month, optional year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Calendar {
    day: u32,
    month: Option<u32>,
    year: Option<i32>,
}

#[derive(Debug, Clone, Copy)]
enum When {
    /// Resolved against a reference date (see [`resolve`]).
    Calendar(Calendar),
    /// "el viernes", "next friday" (`strict`: not today).
    Weekday {
        day: Weekday,
        strict: bool,
    },
    Fixed(NaiveDate),
}

/// One date of the message, with the words it spans.
#[derive(Debug, Clone, Copy)]
struct Mention {
    when: When,
    role: Role,
    start: usize,
    end: usize,
}

/// The mentions found so far.
struct Scan<'a> {
    words: &'a [String],
    mentions: Vec<Mention>,
}

impl Scan<'_> {
    /// Records a date spanning `start..=end`, its role given by the cues before it.
    fn push(&mut self, when: When, start: usize, end: usize) {
        self.push_as(when, cue(self.words, start), start, end);
    }

    fn push_as(&mut self, when: When, role: Role, start: usize, end: usize) {
        self.mentions.push(Mention {
            when,
            role,
            start,
            end,
        });
    }

    fn calendar(&mut self, day: u32, month: Option<u32>, year: Option<i32>, at: (usize, usize)) {
        self.push(When::Calendar(Calendar { day, month, year }), at.0, at.1);
    }

    /// A token with a hyphen at `i`: "20-25 (de) diciembre", "jan 8-11" (a range), "20/12-25/12"
    /// (two dates), "25-12" (a date). Returns the index after what it read.
    fn hyphenated(&mut self, i: usize) -> Option<usize> {
        let words = self.words;
        let (a, b) = words[i].split_once('-')?;
        let date = |day, month, year| When::Calendar(Calendar { day, month, year });
        if let (Some(a), Some(b)) = (day_number(a), day_number(b)) {
            let after = month_after(words, i);
            let before = i
                .checked_sub(1)
                .map(|p| words[p].as_str())
                .filter(|p| english_month(p))
                .and_then(month);
            // "8-11" alone could be the 8th to the 11th or 8 November: no date, as ever.
            if !(b > 12 || a > b || after.is_some() || before.is_some()) {
                return None;
            }
            let (m, y, end) = match (after, before) {
                (Some((m, y, end)), _) => (Some(m), y, end),
                (None, Some(m)) => {
                    let (y, end) = year_after(words, i);
                    (Some(m), y, end)
                }
                (None, None) => (None, None, i),
            };
            self.push_as(date(a, m, y), Role::In, i, i);
            self.push_as(date(b, m, y), Role::Out, i, end);
            return Some(end + 1);
        }
        if let (Some((d1, m1, y1)), Some((d2, m2, y2))) = (numeric_date(a), numeric_date(b)) {
            if words[i].contains(['/', '.']) {
                self.push_as(date(d1, Some(m1), y1), Role::In, i, i);
                self.push_as(date(d2, Some(m2), y2), Role::Out, i, i);
                return Some(i + 1);
            }
        }
        let (d, m, y) = numeric_date(&words[i])?;
        self.calendar(d, Some(m), y, (i, i));
        Some(i + 1)
    }

    /// Whether a date ends right before the connector before `i` ("jan 8 - 11": the 11).
    fn continues_a_range(&self, i: usize) -> bool {
        self.mentions
            .last()
            .is_some_and(|m| m.end < i && words::joins_a_range(&self.words[m.end + 1..i]))
    }
}

/// Finds the stay dates in `words` (folded tokens); `taken[i]` marks tokens already used as a
/// guest count, which are not dates. `anchor`: the check-in of the stay being discussed, the
/// month and year of bare days ("actually the 10th to the 14th").
pub fn find(
    words: &[String],
    taken: &[bool],
    today: NaiveDate,
    anchor: Option<NaiveDate>,
) -> StayDates {
    let mut scan = Scan {
        words,
        mentions: Vec::new(),
    };
    let mut weekend: Option<(NaiveDate, NaiveDate)> = None;
    let mut nights: Option<u32> = None;
    let mut named_month: Option<u32> = None;
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let next = words.get(i + 1).map(String::as_str);
        let prev = i.checked_sub(1).map(|p| words[p].as_str());
        if taken.get(i).copied().unwrap_or(false) {
            i += 1;
            continue;
        }
        if named_month.is_none() {
            named_month = words::month_alone(words, i);
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
                    Some(
                        "por"
                            | "for"
                            | "durante"
                            | "during"
                            | "para"
                            | "pra"
                            | "ficar"
                            | "ficamos"
                            | "fico"
                            | "quedarnos"
                            | "quedarme"
                            | "quedamos"
                            | "quedar"
                            | "stay"
                            | "staying"
                            | "stop"
                    )
                )
            {
                nights = Some(n * 7);
                i += 2;
                continue;
            }
        }
        if let Some((d, m, y)) = numeric_date(w).filter(|_| w.contains(['/', '.']) || w.len() == 10)
        {
            scan.calendar(d, Some(m), y, (i, i));
            i += 1;
            continue;
        }
        if let Some(next) = scan.hyphenated(i) {
            i = next;
            continue;
        }
        if let Some(day) = day_number(w) {
            let quantity = quantity_after(words, i);
            if let Some((m, y, end)) = month_after(words, i) {
                scan.calendar(day, Some(m), y, (i, end));
                i = end + 1;
                continue;
            }
            // "february the 5th": an English month, then "the", then the day.
            let month_before = prev.filter(|p| english_month(p)).or_else(|| {
                (prev == Some("the"))
                    .then(|| i.checked_sub(2).map(|p| words[p].as_str()))
                    .flatten()
                    .filter(|p| english_month(p))
            });
            if let Some(m) = month_before.and_then(month) {
                if !quantity {
                    let (y, end) = year_after(words, i);
                    scan.calendar(day, Some(m), y, (i, end));
                    i = end + 1;
                    continue;
                }
            }
            // "el martes 16", "quinta-feira 11": a weekday before a bare day introduces it.
            let after_weekday =
                i >= 1 && (weekday(words, i - 1).is_some() || prev == Some("feira"));
            let after_preposition =
                prev.is_some_and(|p| DATE_PREPOSITIONS.contains(&p)) || after_weekday;
            // "10 to 14", "8 - 11": the first day of a range; "de 2 a 3 personas" counts people
            // (a count goes up: "el 20 - 3 noches" is a day and a stay length).
            let (starts_range, counts_something) = match range_end(words, i) {
                Some(j) => (
                    !at_time(words, i),
                    quantity_after(words, j) && day_number(&words[j]).is_some_and(|b| b >= day),
                ),
                None => (false, false),
            };
            if !quantity
                && !counts_something
                && !replaced(words, i)
                && (after_preposition || starts_range || scan.continues_a_range(i))
            {
                let (y, end) = year_after(words, i);
                scan.calendar(day, None, y, (i, end));
                i = end + 1;
                continue;
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
            scan.push(When::Fixed(add_days(today, offset)), i, i + width - 1);
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
        // "un finde", "a weekend", "um fim de semana": some weekend, not this one — the dates
        // are still to be asked.
        let some_weekend = matches!(
            prev,
            Some("un" | "una" | "a" | "um" | "uma" | "one" | "any")
        );
        if weekend_width > 0 && some_weekend {
            i += weekend_width;
            continue;
        }
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
            scan.push(When::Weekday { day, strict }, i, i);
        }
        i += 1;
    }
    let mut mentions = scan.mentions;
    ranges::pair_ranges(words, &mut mentions);
    let resolver = Resolver { today, anchor };
    ranges::assemble(
        words,
        mentions,
        weekend,
        nights,
        words::next_week(words),
        named_month,
        resolver,
    )
}
