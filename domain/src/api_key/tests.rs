use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;

use super::*;
use crate::values::TenantId;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap()
}

fn issue(role: Role, scope: Scope, expires_at: Option<DateTime<Utc>>) -> ApiKeyCommand {
    ApiKeyCommand::Issue {
        name: KeyName::parse("front-desk").unwrap(),
        role,
        scope,
        secret_sha256: "ab".repeat(32),
        expires_at,
        now: now(),
    }
}

fn issued(role: Role, scope: Scope) -> ApiKeyEvent {
    ApiKeyEvent::ApiKeyIssued {
        name: KeyName::parse("front-desk").unwrap(),
        role,
        scope,
        secret_sha256: "ab".repeat(32),
        expires_at: None,
    }
}

fn sol() -> Scope {
    Scope::Hotel(TenantId::parse("hotel-sol").unwrap())
}

#[test]
fn a_hotel_key_is_issued_once() {
    TestFramework::<ApiKey>::with(())
        .given_no_previous_events()
        .when(issue(Role::Staff, sol(), None))
        .then_expect_events(vec![issued(Role::Staff, sol())]);
    TestFramework::<ApiKey>::with(())
        .given(vec![issued(Role::Staff, sol())])
        .when(issue(Role::Staff, sol(), None))
        .then_expect_error(ApiKeyError::AlreadyIssued);
}

#[test]
fn only_admin_keys_span_every_hotel() {
    for role in [Role::Integration, Role::Staff, Role::Analyst] {
        TestFramework::<ApiKey>::with(())
            .given_no_previous_events()
            .when(issue(role, Scope::AllHotels, None))
            .then_expect_error(ApiKeyError::HotelRequired(role));
    }
    TestFramework::<ApiKey>::with(())
        .given_no_previous_events()
        .when(issue(Role::Admin, Scope::AllHotels, None))
        .then_expect_events(vec![issued(Role::Admin, Scope::AllHotels)]);
}

#[test]
fn an_expiry_in_the_past_is_refused() {
    TestFramework::<ApiKey>::with(())
        .given_no_previous_events()
        .when(issue(
            Role::Staff,
            sol(),
            Some(now() - Duration::seconds(1)),
        ))
        .then_expect_error(ApiKeyError::ExpiresInThePast);
}

#[test]
fn a_key_is_revoked_once_and_an_unknown_one_not_at_all() {
    TestFramework::<ApiKey>::with(())
        .given(vec![issued(Role::Staff, sol())])
        .when(ApiKeyCommand::Revoke { reason: None })
        .then_expect_events(vec![ApiKeyEvent::ApiKeyRevoked { reason: None }]);
    TestFramework::<ApiKey>::with(())
        .given(vec![
            issued(Role::Staff, sol()),
            ApiKeyEvent::ApiKeyRevoked { reason: None },
        ])
        .when(ApiKeyCommand::Revoke { reason: None })
        .then_expect_error(ApiKeyError::AlreadyRevoked);
    TestFramework::<ApiKey>::with(())
        .given_no_previous_events()
        .when(ApiKeyCommand::Revoke { reason: None })
        .then_expect_error(ApiKeyError::NotIssued);
}

#[test]
fn a_key_opens_nothing_once_revoked_or_expired() {
    let mut key = ApiKey::default();
    key.apply(ApiKeyEvent::ApiKeyIssued {
        name: KeyName::parse("night").unwrap(),
        role: Role::Staff,
        scope: sol(),
        secret_sha256: "cd".repeat(32),
        expires_at: Some(now() + Duration::hours(1)),
    });
    assert!(key.valid_at(now()).is_some());
    assert!(
        key.valid_at(now() + Duration::hours(1)).is_none(),
        "expired"
    );
    key.apply(ApiKeyEvent::ApiKeyRevoked { reason: None });
    assert!(key.valid_at(now()).is_none(), "revoked");
}

#[test]
fn names_and_ids_cannot_smuggle_separators() {
    assert!(KeyName::parse("front-desk.2").is_ok());
    for bad in ["", "Front", "a:b", "a b", "staff/x", &"x".repeat(65)] {
        assert!(KeyName::parse(bad).is_err(), "{bad:?}");
    }
    assert!(KeyId::parse("0123456789abcdef").is_ok());
    for bad in ["0123456789ABCDEF", "0123", "0123456789abcdeg"] {
        assert!(KeyId::parse(bad).is_err(), "{bad:?}");
    }
    assert!(Scope::AllHotels.covers(&TenantId::parse("x").unwrap()));
    assert!(!sol().covers(&TenantId::parse("hotel-mar").unwrap()));
}

#[test]
fn a_rotation_brings_the_expiry_forward_and_never_extends_it() {
    let at = now() + Duration::hours(24);
    TestFramework::<ApiKey>::with(())
        .given(vec![issued(Role::Staff, sol())])
        .when(ApiKeyCommand::ExpireAt { at, now: now() })
        .then_expect_events(vec![ApiKeyEvent::ApiKeyExpiryBroughtForward {
            expires_at: at,
        }]);
    let sooner = ApiKeyEvent::ApiKeyExpiryBroughtForward {
        expires_at: now() + Duration::hours(1),
    };
    TestFramework::<ApiKey>::with(())
        .given(vec![issued(Role::Staff, sol()), sooner])
        .when(ApiKeyCommand::ExpireAt { at, now: now() })
        .then_expect_events(vec![]);
    TestFramework::<ApiKey>::with(())
        .given(vec![issued(Role::Staff, sol())])
        .when(ApiKeyCommand::ExpireAt {
            at: now(),
            now: now(),
        })
        .then_expect_error(ApiKeyError::ExpiresInThePast);
}
