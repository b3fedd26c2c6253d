//! Telegram's flood control on `sendMessage`: about one message a second per chat (short bursts
//! tolerated) and about 30 a second across chats, overflow answered with 429 and `retry_after`.
//!
//! Both limits are sliding windows over the instants of accepted messages, so a sender that paces
//! itself exactly at the limit is never refused and one that does not is refused until the window
//! frees up. They are off until a test turns them on, because most tests send as fast as they can.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The window of the global limit.
const SECOND: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(super) struct Pacing {
    /// At most `per_chat_burst` messages to one chat in any `per_chat_burst × per_chat_interval`;
    /// zero is no per-chat limit.
    per_chat_interval: Duration,
    /// At least 1.
    per_chat_burst: u32,
    /// At most this many messages in any second across chats; zero is no global limit.
    global_per_second: u32,
    /// Accepted sends per chat key, oldest first (kept whole, for `sent_times`).
    times: HashMap<String, Vec<Instant>>,
    /// Accepted sends of the last second across chats, oldest first.
    recent: VecDeque<Instant>,
    refused: usize,
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            per_chat_interval: Duration::ZERO,
            per_chat_burst: 1,
            global_per_second: 0,
            times: HashMap::new(),
            recent: VecDeque::new(),
            refused: 0,
        }
    }
}

impl Pacing {
    pub(super) fn set_limits(&mut self, per_chat_interval: Duration, global_per_second: u32) {
        self.per_chat_interval = per_chat_interval;
        self.global_per_second = global_per_second;
    }

    pub(super) fn set_burst(&mut self, burst: u32) {
        self.per_chat_burst = burst.max(1);
    }

    /// Records a message to `chat` sent at `now`, or refuses it with the whole seconds to wait.
    /// Check and record happen under one lock, so two concurrent sends cannot both take the last
    /// slot.
    pub(super) fn admit(&mut self, chat: &str, now: Instant) -> Result<(), u64> {
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= SECOND)
        {
            self.recent.pop_front();
        }
        let wait = self.chat_wait(chat, now).max(self.global_wait(now));
        if !wait.is_zero() {
            self.refused += 1;
            return Err(whole_seconds(wait));
        }
        self.times.entry(chat.to_owned()).or_default().push(now);
        self.recent.push_back(now);
        Ok(())
    }

    pub(super) fn times(&self, chat: &str) -> Vec<Instant> {
        self.times.get(chat).cloned().unwrap_or_default()
    }

    pub(super) fn refused(&self) -> usize {
        self.refused
    }

    /// How long until `chat` may receive another message; zero when it may now.
    fn chat_wait(&self, chat: &str, now: Instant) -> Duration {
        if self.per_chat_interval.is_zero() {
            return Duration::ZERO;
        }
        let burst = self.per_chat_burst as usize;
        let window = self.per_chat_interval.saturating_mul(self.per_chat_burst);
        let times = self.times.get(chat).map_or(&[][..], Vec::as_slice);
        // The burst-th most recent send: while it is inside the window, the window is full.
        let Some(oldest) = times.len().checked_sub(burst).and_then(|i| times.get(i)) else {
            return Duration::ZERO;
        };
        window.saturating_sub(now.duration_since(*oldest))
    }

    /// How long until any chat may receive another message; zero when one may now.
    fn global_wait(&self, now: Instant) -> Duration {
        let limit = self.global_per_second as usize;
        if limit == 0 || self.recent.len() < limit {
            return Duration::ZERO;
        }
        // `recent` holds only the last second; a slot frees when the limit-th most recent leaves.
        self.recent
            .get(self.recent.len() - limit)
            .map_or(Duration::ZERO, |t| {
                SECOND.saturating_sub(now.duration_since(*t))
            })
    }
}

/// `retry_after` is whole seconds, rounded up, and never 0 (Telegram never says "retry now").
fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}
