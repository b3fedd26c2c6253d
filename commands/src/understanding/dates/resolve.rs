//! Turning what was said into dates, against the hotel's today (and the stay being discussed).
//!
//! - A month without a year is the next one on or after the reference (today for a check-in,
//!   the day after the check-in for a check-out), except a date that fell within the last
//!   [`RECENT_PAST_DAYS`] days: that one stays this year's, in the past, so that "nov 30 to dec 3"
//!   written on 1 December is refused as past instead of quoted for next November.
//! - A year that was written is honoured as is: "June 2 to 5, 2028" is never moved.
//! - A bare day is the next such day on or after the reference; with an anchor (the check-in of
//!   a pending quote), a bare check-in day is read in the anchor's month and year ("mejor del 10
//!   al 14" corrects December's quote to December, not to the next 10th), moving to the next
//!   month only when it is before the anchor's day and already past; a bare check-out with no
//!   check-in is the first such day after the anchor.
//! - A weekday is the next one on or after today (`strict`: after); a check-out weekday is the
//!   first one after the check-in, so "del viernes al domingo" never comes out backwards.

use chrono::{Datelike, Days, NaiveDate, Weekday};

use super::{Calendar, When};

/// How far back a date with a month but no year is still read as this (past) one.
pub(super) const RECENT_PAST_DAYS: u64 = 14;

pub(super) fn add_days(date: NaiveDate, n: u64) -> NaiveDate {
    date.checked_add_days(Days::new(n)).unwrap_or(date)
}

fn sub_days(date: NaiveDate, n: u64) -> NaiveDate {
    date.checked_sub_days(Days::new(n)).unwrap_or(date)
}

/// The next `weekday` on or after `from` (`strict`: after).
pub(super) fn next_weekday(from: NaiveDate, weekday: Weekday, strict: bool) -> NaiveDate {
    let ahead = (7 + weekday.num_days_from_monday() - from.weekday().num_days_from_monday()) % 7;
    let ahead = if ahead == 0 && strict { 7 } else { ahead };
    add_days(from, u64::from(ahead))
}

/// `weekday` of the ISO week after today's ("next week from tuesday").
pub(super) fn in_next_week(today: NaiveDate, weekday: Weekday) -> NaiveDate {
    let monday = sub_days(today, u64::from(today.weekday().num_days_from_monday()));
    add_days(monday, 7 + u64::from(weekday.num_days_from_monday()))
}

/// The first `day` of a month on or after `reference`.
fn day_on_or_after(day: u32, reference: NaiveDate) -> Option<NaiveDate> {
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

/// Friday → Sunday of this weekend, or of the next one (see the module's conventions).
pub(super) fn weekend_dates(today: NaiveDate, next: bool) -> (NaiveDate, NaiveDate) {
    let from_monday = today.weekday().num_days_from_monday();
    let in_weekend = from_monday >= 4;
    let friday = if in_weekend {
        sub_days(today, u64::from(from_monday - 4))
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

/// Resolves mentions against the hotel's today and the stay being discussed.
#[derive(Debug, Clone, Copy)]
pub(super) struct Resolver {
    pub today: NaiveDate,
    /// The check-in of the pending quote, for bare days in a correction.
    pub anchor: Option<NaiveDate>,
}

impl Resolver {
    pub fn check_in(&self, when: When) -> Option<NaiveDate> {
        match when {
            When::Fixed(d) => Some(d),
            When::Weekday { day, strict } => Some(next_weekday(self.today, day, strict)),
            When::Calendar(c) => match (c.month, self.anchor) {
                (None, Some(anchor)) => self.anchored(c.day, anchor),
                _ => self.calendar(c, self.today, true),
            },
        }
    }

    pub fn check_out(&self, when: When, check_in: Option<NaiveDate>) -> Option<NaiveDate> {
        let reference = check_in.map_or(self.today, |d| add_days(d, 1));
        match when {
            When::Fixed(d) => Some(d),
            When::Weekday { day, strict } => Some(match check_in {
                Some(_) => next_weekday(reference, day, false),
                None => next_weekday(self.today, day, strict),
            }),
            When::Calendar(c) => match (c.month, check_in, self.anchor) {
                (None, None, Some(anchor)) => day_on_or_after(c.day, add_days(anchor, 1)),
                _ => self.calendar(c, reference, check_in.is_none()),
            },
        }
    }

    /// A bare check-in day in a correction: in the anchor's month and year, or the next month
    /// when it is before the anchor's day and already past.
    fn anchored(&self, day: u32, anchor: NaiveDate) -> Option<NaiveDate> {
        let month_start = anchor.with_day(1).unwrap_or(anchor);
        let date = day_on_or_after(day, month_start)?;
        if day < anchor.day() && date < self.today {
            day_on_or_after(day, add_days(date, 1))
        } else {
            Some(date)
        }
    }

    /// Day, month and year against `reference` (see the module's conventions); `from_today`:
    /// the reference is today, so a recent past date stays in the past.
    fn calendar(&self, c: Calendar, reference: NaiveDate, from_today: bool) -> Option<NaiveDate> {
        match (c.month, c.year) {
            (Some(m), Some(y)) => NaiveDate::from_ymd_opt(y, m, c.day),
            (Some(m), None) => {
                if from_today {
                    if let Some(recent) = self.recent_past(c.day, m) {
                        return Some(recent);
                    }
                }
                (0..=4).find_map(|k| {
                    NaiveDate::from_ymd_opt(reference.year() + k, m, c.day)
                        .filter(|d| *d >= reference)
                })
            }
            (None, _) => day_on_or_after(c.day, reference),
        }
    }

    /// The `day` of `month` that fell within the last [`RECENT_PAST_DAYS`] days, if one did.
    fn recent_past(&self, day: u32, month: u32) -> Option<NaiveDate> {
        let since = sub_days(self.today, RECENT_PAST_DAYS);
        [self.today.year(), self.today.year() - 1]
            .into_iter()
            .filter_map(|y| NaiveDate::from_ymd_opt(y, month, day))
            .find(|d| (since..self.today).contains(d))
    }
}
