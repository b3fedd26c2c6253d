//! How often and for how long the PMS sync tries a failed operation again.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The waits between attempts. The default gives a PMS about 48 minutes to come back (30 s,
/// 1, 2, 5, 10 and 30 min) before the reservation is rejected or handed to staff: long enough to
/// ride out a restart or a short outage, short enough that a guest is not left waiting for an
/// answer through an evening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    pub delays: Vec<Duration>,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self {
            delays: [30, 60, 120, 300, 600, 1800]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
        }
    }
}

impl RetrySchedule {
    /// When to try again after the `failed`-th failure (1-based); `None` when that was the last
    /// attempt.
    pub fn next(&self, failed: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let wait = self.delays.get(failed.checked_sub(1)? as usize)?;
        Some(now + chrono::Duration::from_std(*wait).ok()?)
    }

    /// Parses "30,60,120" (seconds).
    pub fn parse(text: &str) -> Result<Self, String> {
        let delays = text
            .split(',')
            .map(|part| {
                part.trim()
                    .parse::<u64>()
                    .map(Duration::from_secs)
                    .map_err(|_| format!("{part:?} is not a number of seconds"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if delays.is_empty() || delays.iter().any(Duration::is_zero) {
            return Err("the retry delays must be one or more positive numbers of seconds".into());
        }
        Ok(Self { delays })
    }
}

/// "30,60,120" (seconds), what [`RetrySchedule::parse`] reads.
impl std::fmt::Display for RetrySchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seconds: Vec<String> = self
            .delays
            .iter()
            .map(|d| d.as_secs().to_string())
            .collect();
        f.write_str(&seconds.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_waits_longer_and_the_last_gives_up() {
        let schedule = RetrySchedule::parse("30, 60").unwrap();
        let now = Utc::now();
        assert_eq!(
            schedule.next(1, now),
            Some(now + chrono::Duration::seconds(30))
        );
        assert_eq!(
            schedule.next(2, now),
            Some(now + chrono::Duration::seconds(60))
        );
        assert_eq!(schedule.next(3, now), None);
        assert_eq!(schedule.next(0, now), None);
        assert!(RetrySchedule::parse("30,soon").is_err());
        assert_eq!(RetrySchedule::default().delays.len(), 6);
    }
}
