//! Throughput per business number, and when each guest was sent something.
//!
//! Meta limits how many messages one phone number sends per second (80 by default) and answers
//! 130429 past it. The limit here is a sliding second over *accepted* sends, in real time (the
//! simulator's test clock does not move it), so a sender that paces itself right is never
//! refused and one that bursts is. The per-recipient times let a test check pacing towards one
//! guest (Meta's ~1 message / 6 s pair limit, 131056, is not enforced).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::window::digits;

/// The span the throughput limit counts over.
const SECOND: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(super) struct Pacing {
    /// Sends per second per business number; `None` is no limit.
    per_second: Option<u32>,
    /// Accepted sends of the last second, per `phone_number_id`, oldest first.
    recent: HashMap<String, VecDeque<Instant>>,
    /// Real times of the sends accepted for each guest (keyed by the `wa_id`'s digits).
    times: HashMap<String, Vec<DateTime<Utc>>>,
    /// A real instant and the same instant on the wall clock, so times are monotonic.
    origin: (Instant, DateTime<Utc>),
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            per_second: None,
            recent: HashMap::new(),
            times: HashMap::new(),
            origin: (Instant::now(), Utc::now()),
        }
    }
}

impl Pacing {
    /// 0 lifts the limit.
    pub(super) fn set_limit(&mut self, per_second: u32) {
        self.per_second = (per_second > 0).then_some(per_second);
    }

    /// Counts a send from `phone_number_id` to `wa_id` if the number has throughput left;
    /// `false` (nothing counted) when the last second already holds `per_second` sends.
    pub(super) fn admit(&mut self, phone_number_id: &str, wa_id: &str) -> bool {
        let now = Instant::now();
        let recent = self.recent.entry(phone_number_id.to_owned()).or_default();
        while recent.front().is_some_and(|t| now - *t >= SECOND) {
            recent.pop_front();
        }
        if self
            .per_second
            .is_some_and(|limit| recent.len() >= limit as usize)
        {
            return false;
        }
        recent.push_back(now);
        let elapsed = chrono::Duration::from_std(now - self.origin.0).unwrap_or_default();
        let at = self.origin.1 + elapsed;
        self.times.entry(digits(wa_id)).or_default().push(at);
        true
    }

    pub(super) fn times(&self, wa_id: &str) -> Vec<DateTime<Utc>> {
        self.times.get(&digits(wa_id)).cloned().unwrap_or_default()
    }
}
