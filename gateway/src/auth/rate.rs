//! Per-key request rate: a leaked or runaway key cannot take the API from the others.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use conserje_domain::api_key::KeyId;
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// Forget idle keys' state every this many checks, so the map stays as small as the active keys.
const FORGET_EVERY: u64 = 4096;

pub struct KeyRate {
    /// `None` when the limit is 0: no limit.
    limiter: Option<DefaultKeyedRateLimiter<KeyId>>,
    checks: AtomicU64,
}

impl KeyRate {
    /// `per_minute` requests per key, in bursts up to as many, refilled evenly; 0 is no limit.
    pub fn new(per_minute: u32) -> Self {
        Self {
            limiter: NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            checks: AtomicU64::new(0),
        }
    }

    /// Spends one request of `key`, or answers 429 with the wait.
    pub fn spend(&self, key: &KeyId) -> Result<(), ApiError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            limiter.retain_recent();
        }
        match limiter.check_key(key) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(limiter.clock().now());
                Err(ApiError::TooManyRequests {
                    retry_after_seconds: wait.as_secs().max(1),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_rate_waits_and_another_key_does_not() {
        let rate = KeyRate::new(2);
        let a = KeyId::parse("00000000000000aa").unwrap();
        let b = KeyId::parse("00000000000000bb").unwrap();
        assert!(rate.spend(&a).is_ok());
        assert!(rate.spend(&a).is_ok());
        match rate.spend(&a) {
            Err(ApiError::TooManyRequests {
                retry_after_seconds,
            }) => assert!(
                (1..=30).contains(&retry_after_seconds),
                "{retry_after_seconds}"
            ),
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(rate.spend(&b).is_ok());
    }
}
