//! From the mentions of one message to its check-in and check-out.
//!
//! - Two dates joined by a range connector ("al", "to", "a", "-", "to the") are check-in →
//!   check-out, whatever cue came before the first: "from Monday to Wednesday" once read both
//!   days as check-ins (the "from" was within reach of both) and lost the check-out.
//! - A bare day takes the month of a dated neighbour ("del 20 al 25 de diciembre"), and a
//!   date without a year the year of a dated neighbour ("June 2 to 5, 2028", "del 28 de
//!   diciembre al 3 de enero de 2028"), rolling over the new year when the days go backwards;
//!   otherwise "June 2" of "June 2 to 5, 2028" would be next June's.
//! - "next week" puts the first weekday of the message in the ISO week after today's, and a
//!   check-out weekday is the first after the check-in.

use chrono::NaiveDate;

use super::resolve::{add_days, in_next_week, Resolver};
use super::words::joins_a_range;
use super::{Calendar, Mention, Role, StayDates, When};

/// Marks dates joined as a range: the first is the check-in, the second the check-out.
pub(super) fn pair_ranges(words: &[String], mentions: &mut [Mention]) {
    for k in 1..mentions.len() {
        let (before, after) = (mentions[k - 1], mentions[k]);
        // A one-token range ("20-25") shares its token and already has its roles.
        let between = words.get(before.end + 1..after.start).unwrap_or_default();
        if before.role == Role::Out || !joins_a_range(between) {
            continue;
        }
        mentions[k - 1].role = Role::In;
        mentions[k].role = Role::Out;
    }
}

/// The calendar dates with a month among `mentions`, with their positions.
fn dated(mentions: &[Mention]) -> Vec<(usize, Calendar, u32)> {
    mentions
        .iter()
        .enumerate()
        .filter_map(|(k, m)| match m.when {
            When::Calendar(c) => c.month.map(|month| (k, c, month)),
            _ => None,
        })
        .collect()
}

/// Bare days take the month (and year) of the nearest dated neighbour, the one before first.
fn propagate_months(mentions: &mut [Mention]) {
    for k in 0..mentions.len() {
        let When::Calendar(c) = mentions[k].when else {
            continue;
        };
        if c.month.is_some() {
            continue;
        }
        let neighbours = dated(mentions);
        let before = neighbours.iter().rev().find(|(j, _, _)| *j < k);
        let after = neighbours.iter().find(|(j, _, _)| *j > k);
        let (month, year) = match (before, after) {
            (Some(&(_, d, mo)), _) => {
                // "from dec 20 to 25"; "dec 28 to 3" rolls into the next month.
                let mo2 = if c.day < d.day { mo % 12 + 1 } else { mo };
                (mo2, d.year.map(|y| if mo2 < mo { y + 1 } else { y }))
            }
            (None, Some(&(_, d, mo))) => {
                // "del 28 al 3 de enero": the 28th is December's.
                let mo2 = if c.day > d.day {
                    (mo + 10) % 12 + 1
                } else {
                    mo
                };
                (mo2, d.year.map(|y| if mo2 > mo { y - 1 } else { y }))
            }
            (None, None) => continue,
        };
        mentions[k].when = When::Calendar(Calendar {
            day: c.day,
            month: Some(month),
            year: c.year.or(year),
        });
    }
}

/// Dates with a month but no year take the year of the nearest neighbour that has one, the one
/// after first (a year is usually written once, at the end of the range).
fn propagate_years(mentions: &mut [Mention]) {
    let with_year: Vec<(usize, Calendar, u32, i32)> = dated(mentions)
        .into_iter()
        .filter_map(|(k, c, month)| c.year.map(|y| (k, c, month, y)))
        .collect();
    for (k, mention) in mentions.iter_mut().enumerate() {
        let When::Calendar(c) = mention.when else {
            continue;
        };
        let (Some(month), None) = (c.month, c.year) else {
            continue;
        };
        let after = with_year.iter().find(|(j, ..)| *j > k);
        let before = with_year.iter().rev().find(|(j, ..)| *j < k);
        let year = match (after, before) {
            (Some(&(_, d, mo, y)), _) => {
                if (month, c.day) > (mo, d.day) {
                    y - 1
                } else {
                    y
                }
            }
            (None, Some(&(_, d, mo, y))) => {
                if (month, c.day) < (mo, d.day) {
                    y + 1
                } else {
                    y
                }
            }
            (None, None) => continue,
        };
        mention.when = When::Calendar(Calendar {
            year: Some(year),
            ..c
        });
    }
}

/// A weekday written beside calendar dates ("sábado 13 de febrero", "Friday the 12th of
/// February … back on the Monday, the 15th") restates them: read as a date of its own it moved
/// the stay to this week. The weekday's role (arriving, leaving) passes to the date after it.
fn drop_restated_weekdays(words: &[String], mentions: &mut Vec<Mention>) {
    // Words that may stand between a weekday and the date it restates.
    const BETWEEN: &[&str] = &[
        "the", "so", "that's", "thats", "dia", "el", "o", "feira", "de", "es", "e", "is", "ie",
        "that", "which", "ou", "sea", "seja",
    ];
    let mut restated = vec![false; mentions.len()];
    for k in 0..mentions.len().saturating_sub(1) {
        let (weekday, next) = (mentions[k], mentions[k + 1]);
        if !matches!(weekday.when, When::Weekday { .. }) || !matches!(next.when, When::Calendar(_))
        {
            continue;
        }
        let gap = words.get(weekday.end + 1..next.start).unwrap_or_default();
        if gap.len() <= 4 && gap.iter().all(|w| BETWEEN.contains(&w.as_str())) {
            restated[k] = true;
            if next.role == Role::Unknown {
                mentions[k + 1].role = weekday.role;
            }
        }
    }
    let mut k = 0;
    mentions.retain(|_| {
        k += 1;
        !restated[k - 1]
    });
}

/// The stay of one message: its mentions (in order), a weekend and a night count.
pub(super) fn assemble(
    words: &[String],
    mut mentions: Vec<Mention>,
    weekend: Option<(NaiveDate, NaiveDate)>,
    nights: Option<u32>,
    next_week: bool,
    named_month: Option<u32>,
    resolver: Resolver,
) -> StayDates {
    drop_restated_weekdays(words, &mut mentions);
    propagate_months(&mut mentions);
    if let Some(month) = named_month {
        // "e em fevereiro, do 10 ao 14": days no dated neighbour placed take the month named.
        for m in &mut mentions {
            if let When::Calendar(c @ Calendar { month: None, .. }) = m.when {
                m.when = When::Calendar(Calendar {
                    month: Some(month),
                    ..c
                });
            }
        }
    }
    propagate_years(&mut mentions);
    if next_week {
        if let Some(m) = mentions
            .iter_mut()
            .find(|m| matches!(m.when, When::Weekday { .. }))
        {
            if let When::Weekday { day, .. } = m.when {
                m.when = When::Fixed(in_next_week(resolver.today, day));
            }
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
    out.check_in = check_in.and_then(|w| resolver.check_in(w));
    out.check_out = check_out.and_then(|w| resolver.check_out(w, out.check_in));
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
