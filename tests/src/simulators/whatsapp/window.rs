//! The simulator's clock and the 24-hour customer-service window it measures.
//!
//! The window is the time a guest's last message leaves open for free-form replies; a test
//! that wants to see a reply refused at hour 25 should not wait 25 hours, so the clock is the
//! simulator's own: real time by default, stopped at an instant by `set_now`, moved by
//! `advance`. Only the window and the webhook timestamps read it; throughput and pacing are
//! about real seconds and use the real clock.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

/// How long a guest's message keeps the window open.
pub(super) const WINDOW: Duration = Duration::hours(24);

/// Real time, or a stopped instant, plus whatever `advance` added.
#[derive(Debug, Default)]
pub(super) struct SimClock {
    stopped_at: Option<DateTime<Utc>>,
    skipped: Duration,
}

impl SimClock {
    pub(super) fn now(&self) -> DateTime<Utc> {
        self.stopped_at.unwrap_or_else(Utc::now) + self.skipped
    }

    /// Stops the clock at `now`; it then moves only by [`SimClock::advance`].
    pub(super) fn set(&mut self, now: DateTime<Utc>) {
        self.stopped_at = Some(now);
        self.skipped = Duration::zero();
    }

    pub(super) fn advance(&mut self, by: Duration) {
        self.skipped += by;
    }
}

/// When each guest last wrote, and whether free-form sends are held to the window.
#[derive(Debug, Default)]
pub(super) struct Window {
    /// Keyed by the `wa_id`'s digits, so `+34 600…` and `34600…` are one guest.
    last_wrote: HashMap<String, DateTime<Utc>>,
    /// What a test said with `enforce_window`; `None` until it says anything.
    enforced: Option<bool>,
}

impl Window {
    pub(super) fn guest_wrote(&mut self, wa_id: &str, at: DateTime<Utc>) {
        let last = self.last_wrote.entry(digits(wa_id)).or_insert(at);
        // The window runs from the *latest* message, whatever order tests report them in.
        *last = (*last).max(at);
    }

    pub(super) fn enforce(&mut self, enforced: bool) {
        self.enforced = Some(enforced);
    }

    /// Whether a free-form message to `wa_id` may go out at `now`: always when the window is not
    /// enforced; otherwise only when the guest wrote at most 24 h before `now`.
    ///
    /// Unless a test says otherwise, the window is enforced as soon as the simulator has heard of
    /// any guest writing: suites that never tell it (they post webhooks to conserje themselves)
    /// keep the old "every text is accepted" behaviour.
    pub(super) fn is_open(&self, wa_id: &str, now: DateTime<Utc>) -> bool {
        let enforced = self.enforced.unwrap_or(!self.last_wrote.is_empty());
        if !enforced {
            return true;
        }
        self.last_wrote
            .get(&digits(wa_id))
            .is_some_and(|last| now - *last <= WINDOW)
    }
}

/// A phone number's digits, WhatsApp's `wa_id` having no `+`, spaces or dashes; an id with no
/// digit at all (some tests name guests) is kept whole.
pub(super) fn digits(wa_id: &str) -> String {
    let digits: String = wa_id.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        wa_id.to_owned()
    } else {
        digits
    }
}
