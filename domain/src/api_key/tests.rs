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

fn signed_in(token: &str, at: DateTime<Utc>, hours: i64) -> ApiKeyEvent {
    ApiKeyEvent::ConsoleSignedIn {
        token_sha256: token.to_owned(),
        signed_in_at: at,
        expires_at: at + Duration::hours(hours),
    }
}

#[test]
fn staff_sign_in_to_the_console_until_the_session_expires_or_they_sign_out() {
    TestFramework::<ApiKey>::with(())
        .given(vec![issued(Role::Staff, sol())])
        .when(ApiKeyCommand::SignIn {
            token_sha256: "t1".into(),
            expires_at: now() + Duration::hours(12),
            now: now(),
        })
        .then_expect_events(vec![signed_in("t1", now(), 12)]);
    let mut key = ApiKey::default();
    key.apply(issued(Role::Staff, sol()));
    key.apply(signed_in("t1", now(), 12));
    assert!(key.console_session_open("t1", now() + Duration::hours(11)));
    assert!(!key.console_session_open("t1", now() + Duration::hours(12)));
    assert!(!key.console_session_open("t2", now()));
    key.apply(ApiKeyEvent::ConsoleSignedOut {
        token_sha256: "t1".into(),
    });
    assert!(!key.console_session_open("t1", now()));
}

#[test]
fn a_revoked_key_ends_its_console_sessions_and_cannot_sign_in() {
    let mut key = ApiKey::default();
    key.apply(issued(Role::Staff, sol()));
    key.apply(signed_in("t1", now(), 12));
    key.apply(ApiKeyEvent::ApiKeyRevoked { reason: None });
    assert!(!key.console_session_open("t1", now()));
    TestFramework::<ApiKey>::with(())
        .given(vec![
            issued(Role::Staff, sol()),
            ApiKeyEvent::ApiKeyRevoked { reason: None },
        ])
        .when(ApiKeyCommand::SignIn {
            token_sha256: "t2".into(),
            expires_at: now() + Duration::hours(12),
            now: now(),
        })
        .then_expect_error(ApiKeyError::NotValid);
}

#[test]
fn an_integration_key_cannot_sign_in_and_a_session_never_outlives_its_key() {
    TestFramework::<ApiKey>::with(())
        .given(vec![issued(Role::Integration, sol())])
        .when(ApiKeyCommand::SignIn {
            token_sha256: "t1".into(),
            expires_at: now() + Duration::hours(12),
            now: now(),
        })
        .then_expect_error(ApiKeyError::NoConsole(Role::Integration));
    let short_lived = ApiKeyEvent::ApiKeyIssued {
        name: KeyName::parse("front-desk").unwrap(),
        role: Role::Staff,
        scope: sol(),
        secret_sha256: "ab".repeat(32),
        expires_at: Some(now() + Duration::hours(1)),
    };
    TestFramework::<ApiKey>::with(())
        .given(vec![short_lived])
        .when(ApiKeyCommand::SignIn {
            token_sha256: "t1".into(),
            expires_at: now() + Duration::hours(12),
            now: now(),
        })
        .then_expect_events(vec![signed_in("t1", now(), 1)]);
}

#[test]
fn old_console_sessions_are_dropped_as_new_ones_open() {
    let mut key = ApiKey::default();
    key.apply(issued(Role::Staff, sol()));
    key.apply(signed_in("yesterday", now() - Duration::hours(24), 12));
    for n in 0..MAX_CONSOLE_SESSIONS + 3 {
        key.apply(signed_in(
            &format!("t{n}"),
            now() + Duration::minutes(n as i64),
            12,
        ));
    }
    assert_eq!(key.console_sessions.len(), MAX_CONSOLE_SESSIONS);
    assert!(!key.console_sessions.contains_key("yesterday"));
    assert!(!key.console_sessions.contains_key("t0"));
    assert!(key.console_session_open(
        &format!("t{}", MAX_CONSOLE_SESSIONS + 2),
        now() + Duration::hours(1)
    ));
}
