//! What stands between the providers' webhooks and the inbound topic: signature and secret-token
//! checks, the per-guest rate limit, and the counters `/metrics` shows.
//!
//! The rate limit is per *guest* (`tenant/channel/guest`, the session id), not per IP: Meta and
//! Telegram post every hotel's webhooks from a few shared addresses, so a per-IP limit would let
//! one flooding guest starve every other guest of the hotel.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::ApiError;

mod counters;

pub use counters::{count, ChannelCounters, WebhookCounters};

/// The prefix of `X-Hub-Signature-256`'s value.
const SIGNATURE_PREFIX: &str = "sha256=";

/// Every this many checks the limiter forgets guests whose allowance is full again, so a stream
/// of one-off senders cannot grow it without bound.
const FORGET_EVERY: u64 = 4096;

/// Whether `header` (`X-Hub-Signature-256`) is `sha256=<hex HMAC-SHA256 of body with
/// app_secret>`, compared in constant time so the signature cannot be guessed byte by byte.
pub fn whatsapp_signature_is_valid(app_secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(presented) = header.and_then(|h| h.trim().strip_prefix(SIGNATURE_PREFIX)) else {
        return false;
    };
    let Ok(presented) = hex::decode(presented) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&presented).is_ok()
}

/// Whether a presented secret (Telegram's `X-Telegram-Bot-Api-Secret-Token`, WhatsApp's
/// `hub.verify_token`) equals the configured one, in constant time for equal lengths.
pub fn secret_matches(expected: &str, presented: Option<&str>) -> bool {
    presented.is_some_and(|p| bool::from(p.as_bytes().ct_eq(expected.as_bytes())))
}

/// The per-guest limiter and the counters, shared by every webhook request.
pub struct WebhookGuard {
    /// `None` when the limit is 0: no limit.
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    checks: AtomicU64,
    /// The WhatsApp verification tokens of every configured hotel.
    verify_tokens: Vec<String>,
    pub counters: WebhookCounters,
}

impl WebhookGuard {
    /// A guard accepting `per_minute` messages per guest (bursts up to that many, refilled
    /// evenly over the minute; 0 disables the limit) and the handshake for `verify_tokens`.
    pub fn new(per_minute: u32, verify_tokens: Vec<String>) -> Self {
        Self {
            limiter: NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            checks: AtomicU64::new(0),
            verify_tokens,
            counters: WebhookCounters::new(),
        }
    }

    /// Whether `presented` is the verification token of any configured hotel.
    pub fn is_verify_token(&self, presented: Option<&str>) -> bool {
        // Every token is compared, so the timing does not tell which one matched.
        self.verify_tokens.iter().fold(false, |found, token| {
            secret_matches(token, presented) | found
        })
    }

    /// Takes one message per key in `keys` (the session ids of a delivery's messages) from their
    /// guests' allowances, or answers `429` with the longest wait when any guest is over it.
    ///
    /// All of a guest's messages are taken at once (all or none); a delivery refused for one
    /// guest may still have used the allowance of another guest checked before it, which costs
    /// that guest at most one redelivery's worth.
    pub fn admit(&self, keys: &[String]) -> Result<(), ApiError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            limiter.retain_recent();
        }
        let mut per_guest: Vec<(&String, u32)> = Vec::new();
        for key in keys {
            match per_guest.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n = n.saturating_add(1),
                None => per_guest.push((key, 1)),
            }
        }
        let mut longest: Option<Duration> = None;
        for (key, n) in per_guest {
            let Some(n) = NonZeroU32::new(n) else {
                continue;
            };
            let wait = match limiter.check_key_n(key, n) {
                Ok(Ok(())) => continue,
                Ok(Err(not_until)) => not_until.wait_time_from(limiter.clock().now()),
                // More messages at once than a whole minute's allowance.
                Err(_) => Duration::from_secs(60),
            };
            longest = longest.max(Some(wait));
        }
        match longest {
            None => Ok(()),
            Some(wait) => Err(ApiError::TooManyRequests {
                retry_after_seconds: wait.as_secs_f64().ceil().max(1.0) as u64,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231, test case 2.
    const KEY: &str = "Jefe";
    const DATA: &[u8] = b"what do ya want for nothing?";
    const MAC: &str = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

    #[test]
    fn the_signature_is_the_hex_hmac_sha256_of_the_body() {
        let header = format!("sha256={MAC}");
        assert!(whatsapp_signature_is_valid(KEY, DATA, Some(&header)));
        assert!(!whatsapp_signature_is_valid("other", DATA, Some(&header)));
        assert!(!whatsapp_signature_is_valid(
            KEY,
            b"tampered",
            Some(&header)
        ));
        assert!(
            !whatsapp_signature_is_valid(KEY, DATA, Some(MAC)),
            "prefix required"
        );
        assert!(!whatsapp_signature_is_valid(KEY, DATA, Some("sha256=zz")));
        assert!(!whatsapp_signature_is_valid(KEY, DATA, Some("sha256=")));
        assert!(!whatsapp_signature_is_valid(KEY, DATA, None));
    }

    #[test]
    fn secrets_must_match_exactly() {
        assert!(secret_matches("s3cret", Some("s3cret")));
        assert!(!secret_matches("s3cret", Some("s3cre")));
        assert!(!secret_matches("s3cret", Some("s3cret ")));
        assert!(!secret_matches("s3cret", None));
    }

    #[test]
    fn a_guest_over_the_limit_waits_and_others_do_not() {
        let guard = WebhookGuard::new(3, vec![]);
        let ana = "hotel-sol/whatsapp/1".to_owned();
        let luis = "hotel-sol/whatsapp/2".to_owned();
        assert!(guard.admit(&[ana.clone(), ana.clone()]).is_ok());
        assert!(guard.admit(std::slice::from_ref(&ana)).is_ok());
        match guard.admit(std::slice::from_ref(&ana)) {
            Err(ApiError::TooManyRequests {
                retry_after_seconds,
            }) => assert!(
                (1..=20).contains(&retry_after_seconds),
                "{retry_after_seconds}"
            ),
            other => panic!("{other:?}"),
        }
        assert!(guard.admit(&[luis.clone(), luis.clone(), luis]).is_ok());
        assert!(
            guard.admit(&vec![ana.clone(); 4]).is_err(),
            "more than a minute's allowance at once"
        );
        assert!(WebhookGuard::new(0, vec![]).admit(&vec![ana; 500]).is_ok());
    }

    #[test]
    fn any_hotels_verify_token_opens_the_handshake() {
        let guard = WebhookGuard::new(1, vec!["a-token".into(), "b-token".into()]);
        assert!(guard.is_verify_token(Some("b-token")));
        assert!(!guard.is_verify_token(Some("c-token")));
        assert!(!guard.is_verify_token(None));
    }
}
