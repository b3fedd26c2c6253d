//! Only a provider's signed webhook speaks as its guest, each hotel's secret opens only its own
//! webhook, secrets rotate without a gap, and every way in bounds what it takes.

use std::path::Path;

use chrono::{TimeZone, Utc};
use conserje_domain::api_key::Role;
use conserje_domain::session::{session_stream_id, Session, SessionEvent, MAX_TEXT_CHARS};
use conserje_domain::values::{GuestRef, TenantId};
use conserje_gateway::extract::API_BODY_LIMIT;
use conserje_tests::channels::*;
use conserje_tests::{eventually, fresh_store, FixedClock, StoreKind, TestApp};
use cqrs_es::Aggregate;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn status_and_json(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn session_id(tenant: &str, channel: &str, guest: &str) -> String {
    session_stream_id(
        &TenantId::parse(tenant).unwrap(),
        conserje_domain::values::Channel::parse(channel).unwrap(),
        &GuestRef::parse(guest).unwrap(),
    )
}

async fn received(app: &TestApp, session: &str) -> Vec<SessionEvent> {
    app.runtime
        .feed
        .stream(Session::TYPE, session)
        .await
        .unwrap()
        .iter()
        .map(|e| e.decode::<Session>().unwrap())
        .filter(|e| matches!(e, SessionEvent::GuestMessageReceived { .. }))
        .collect()
}

/// An integration key cannot speak as a WhatsApp or Telegram guest, and what it posts as `api`
/// lives in a conversation of its own: a predicted Telegram id posted first does not make the
/// real update a duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_api_cannot_speak_as_a_channel_guest_nor_shadow_its_messages() {
    let (mut options, dir) = fresh_store(StoreKind::Sqlite).await;
    options.config = Some(channel_config(dir.path()));
    let app = TestApp::spawn(&options).await;
    let integration = app
        .client_as("booking-engine", Role::Integration, Some(SOL))
        .await;
    let chat = 424242;
    let post = |body: Value| {
        integration
            .post(app.url("/api/v1/messages"))
            .json(&body)
            .send()
    };

    let (status, answer) = status_and_json(
        post(json!({"channel": "telegram", "guest": chat.to_string(),
                    "provider_message_id": provider_message_id(9100), "text": "cancel my booking"}))
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["error"], "channel_forbidden");
    assert_eq!(inbound_appended(&app).await, 0, "nothing appended");

    // The same id on the integration's own channel is accepted…
    let (status, answer) = status_and_json(
        post(
            json!({"guest": chat.to_string(), "provider_message_id": provider_message_id(9100),
                    "text": "hola"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(
        answer["session_id"],
        session_id(SOL, "api", &chat.to_string())
    );
    // …and the real Telegram update with that id is still recorded, in the Telegram conversation.
    let response = post_telegram(&app, SOL, &telegram_text(9100, chat, "Bob", "hola")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let telegram = session_id(SOL, "telegram", &chat.to_string());
    eventually("the Telegram update is recorded", || async {
        received(&app, &telegram).await.len() == 1
    })
    .await;

    // Another hotel's data is not the integration's to post for.
    let (status, _) = status_and_json(
        post(json!({"tenant_id": "default", "guest": "1", "provider_message_id": "x", "text": "hola"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let events = app
        .runtime
        .feed
        .stream(Session::TYPE, &session_id(SOL, "api", &chat.to_string()))
        .await
        .unwrap();
    assert_eq!(
        events[0].meta("actor"),
        Some("integration:booking-engine"),
        "the actor is the key that carried the message"
    );
    app.stop().await;
}

/// Each hotel's Telegram secret opens only its own webhook, and a tenant nobody configured is
/// refused rather than created.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_telegram_secret_opens_only_its_own_hotel() {
    let (mut options, dir) = fresh_store(StoreKind::Sqlite).await;
    options.config = Some(channel_config(dir.path()));
    let app = TestApp::spawn(&options).await;
    let update = telegram_text(7001, 31337, "Eve", "hola")
        .to_string()
        .into_bytes();
    let cases = [
        ("default", SOL_TELEGRAM_SECRET, StatusCode::UNAUTHORIZED),
        (SOL, DEFAULT_TELEGRAM_SECRET, StatusCode::UNAUTHORIZED),
        (
            "hotel-nadie",
            DEFAULT_TELEGRAM_SECRET,
            StatusCode::NOT_FOUND,
        ),
        ("hotel-nadie", SOL_TELEGRAM_SECRET, StatusCode::NOT_FOUND),
    ];
    for (tenant, secret, expected) in cases {
        let response = post_telegram_raw(&app, tenant, update.clone(), Some(secret)).await;
        assert_eq!(
            response.status(),
            expected,
            "{tenant} with another's secret"
        );
    }
    assert_eq!(inbound_appended(&app).await, 0, "nothing appended");
    let response = post_telegram_raw(&app, SOL, update, Some(SOL_TELEGRAM_SECRET)).await;
    assert_eq!(response.status(), StatusCode::OK);
    app.stop().await;
}

/// `hotel-sol`'s accounts in the middle of a rotation (`rotating`) or after it.
fn rotation_config(dir: &Path, rotating: bool) -> std::path::PathBuf {
    let built_in = include_str!("../../config/conserje.toml");
    let accounts = if rotating {
        r#"
[hotels.hotel-sol.whatsapp]
phone_number_id = "209876543210987"
app_secret = "sol-old-secret"
next_app_secret = "sol-new-secret"

[hotels.hotel-sol.telegram]
secret_token = "sol-old-token"
next_secret_token = "sol-new-token"
"#
    } else {
        r#"
[hotels.hotel-sol.whatsapp]
phone_number_id = "209876543210987"
app_secret = "sol-new-secret"

[hotels.hotel-sol.telegram]
secret_token = "sol-new-token"
"#
    };
    let path = dir.join(if rotating {
        "rotating.toml"
    } else {
        "rotated.toml"
    });
    std::fs::write(&path, format!("{built_in}\n{accounts}")).unwrap();
    path
}

/// During a rotation a webhook signed with either secret passes; after it, only the new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_pass_with_either_secret_during_a_rotation_and_only_the_new_one_after() {
    let (mut options, dir) = fresh_store(StoreKind::Sqlite).await;
    let signed = |secret: &str, n: u32| {
        let body = whatsapp_text(
            SOL_PHONE_NUMBER_ID,
            "5491155557001",
            "Ana",
            &format!("wamid.rot{n}{secret}"),
            "hola",
        )
        .to_string()
        .into_bytes();
        let signature = sign_whatsapp(secret, &body);
        (body, signature)
    };
    let update = |n: i64| {
        telegram_text(n, 5005, "Ana", "hola")
            .to_string()
            .into_bytes()
    };

    for (rotating, old_passes) in [(true, true), (false, false)] {
        options.config = Some(rotation_config(dir.path(), rotating));
        let app = TestApp::spawn(&options).await;
        let phase = if rotating { "during" } else { "after" };
        let n = u32::from(rotating);
        let (body, signature) = signed("sol-old-secret", n);
        let old = post_whatsapp_raw(&app, body, Some(&signature))
            .await
            .status();
        let (body, signature) = signed("sol-new-secret", n);
        let new = post_whatsapp_raw(&app, body, Some(&signature))
            .await
            .status();
        assert_eq!(
            new,
            StatusCode::OK,
            "WhatsApp, new secret, {phase} the rotation"
        );
        assert_eq!(
            old == StatusCode::OK,
            old_passes,
            "WhatsApp, old secret, {phase}: {old}"
        );
        let base = if rotating { 100 } else { 200 };
        let old = post_telegram_raw(&app, SOL, update(base), Some("sol-old-token"))
            .await
            .status();
        let new = post_telegram_raw(&app, SOL, update(base + 1), Some("sol-new-token"))
            .await
            .status();
        assert_eq!(new, StatusCode::OK, "Telegram, new token, {phase}");
        assert_eq!(
            old == StatusCode::OK,
            old_passes,
            "Telegram, old token, {phase}: {old}"
        );
        app.stop().await;
    }
}

/// Every way in bounds the text and the timestamp: the API refuses a text over the channels'
/// limit (and a body over its own), a webhook's is cut to it, and a timestamp far in the future
/// or past is clamped to our clock's window.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn long_texts_and_far_timestamps_are_bounded_on_every_way_in() {
    let now = Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap();
    let (mut options, dir) = fresh_store(StoreKind::Sqlite).await;
    options.config = Some(channel_config(dir.path()));
    let app = TestApp::spawn_with_clock(&options, std::sync::Arc::new(FixedClock(now))).await;

    // Just over the limit, not a megabyte: a body that fits the socket buffers is written whole
    // before the server answers 413 and closes, so the client reads the answer instead of
    // failing mid-write with a broken pipe (which is what CI saw with 1 MiB).
    let oversized = "a".repeat(API_BODY_LIMIT + 1024);
    let body =
        json!({"tenant_id": SOL, "guest": "g1", "provider_message_id": "big", "text": oversized});
    let (status, answer) = status_and_json(
        app.http
            .post(app.url("/api/v1/messages"))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );
    let body = json!({"tenant_id": SOL, "guest": "g1", "provider_message_id": "long", "text": "b".repeat(MAX_TEXT_CHARS + 1)});
    let (status, answer) = status_and_json(
        app.http
            .post(app.url("/api/v1/messages"))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("text_too_long"))
    );

    let body = json!({"tenant_id": SOL, "guest": "g2", "provider_message_id": "future", "text": "hola",
                      "received_at": "9999-01-01T00:00:00Z"});
    let response = app
        .http
        .post(app.url("/api/v1/messages"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let api_session = session_id(SOL, "api", "g2");
    eventually("the message is recorded", || async {
        !received(&app, &api_session).await.is_empty()
    })
    .await;
    match &received(&app, &api_session).await[0] {
        SessionEvent::GuestMessageReceived { received_at, .. } => {
            assert_eq!(
                *received_at,
                now + chrono::Duration::minutes(5),
                "clamped to now + 5 min"
            )
        }
        other => panic!("{other:?}"),
    }

    // A WhatsApp text of 300 000 characters (under the webhook's 1 MiB) is kept to its first
    // 4 096, with the provider's 1970 timestamp moved to a week ago.
    let mut delivery = whatsapp_text(
        SOL_PHONE_NUMBER_ID,
        "5491155557002",
        "Ana",
        "wamid.long",
        &"c".repeat(300_000),
    );
    delivery["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = json!("1");
    let response = post_whatsapp(&app, &delivery).await;
    assert_eq!(response.status(), StatusCode::OK);
    let whatsapp = session_id(SOL, "whatsapp", "5491155557002");
    eventually("the long message is recorded", || async {
        !received(&app, &whatsapp).await.is_empty()
    })
    .await;
    match &received(&app, &whatsapp).await[0] {
        SessionEvent::GuestMessageReceived {
            text, received_at, ..
        } => {
            assert_eq!(
                text.as_deref().map(|t| t.chars().count()),
                Some(MAX_TEXT_CHARS)
            );
            assert_eq!(*received_at, now - chrono::Duration::days(7));
        }
        other => panic!("{other:?}"),
    }
    app.stop().await;
}

fn provider_message_id(update_id: i64) -> String {
    conserje_commands::channels::telegram::provider_message_id(update_id)
}

/// A client that never finishes its headers, or trickles its body, is cut off after the
/// configured timeouts; everyone else is served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_clients_are_cut_off_and_do_not_hold_the_server() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut options, _dir) = fresh_store(StoreKind::Sqlite).await;
    options.http.header_read_timeout_seconds = 1;
    options.http.body_read_timeout_seconds = 1;
    let app = TestApp::spawn(&options).await;

    // Half-open: a request line and one header, then silence.
    let mut idle = Vec::new();
    for _ in 0..50 {
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        stream
            .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        idle.push(stream);
    }
    let response = app.http.get(app.url("/health/live")).send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "served beside 50 half-open connections"
    );
    let started = std::time::Instant::now();
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), idle[0].read(&mut buf))
        .await
        .expect("the server closed the half-open connection within its timeout");
    assert!(
        matches!(read, Ok(0) | Err(_)) || buf.starts_with(b"HTTP/1.1 408"),
        "{read:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(4));

    // A body announced as 100 bytes of which 10 ever arrive.
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"guest\":",
        app.admin_key
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("the slow body is answered within its timeout")
    .ok();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 4"),
        "a client error, not a hang: {answer:?}"
    );
    app.stop().await;
}
