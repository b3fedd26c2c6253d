//! End-to-end suite of the providers' webhooks: WhatsApp Cloud API and Telegram Bot API
//! deliveries posted to the real service, signed as the providers sign them.
//!
//! What a webhook promises is "recorded on the guest's session, once"; what it refuses must
//! leave the inbound topic untouched, which [`inbound_appended`] reads from the log itself, not
//! from anything the conversation worker does.

use std::collections::BTreeSet;
use std::time::Duration;

use conserje_domain::session::{session_stream_id, Session};
use conserje_domain::values::{GuestRef, TenantId};
use conserje_tests::channels::*;
use conserje_tests::{eventually_within, fresh_store, StoreKind, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

/// The service with [`channel_config`]'s accounts and `rate_limit` messages per guest per minute.
async fn start(kind: StoreKind, rate_limit: u32) -> (TestApp, TempDir) {
    let (mut options, dir) = fresh_store(kind).await;
    options.config = Some(channel_config(dir.path()));
    options.channels.webhook_rate_limit_per_minute = rate_limit;
    (TestApp::spawn(&options).await, dir)
}

async fn session(app: &TestApp, tenant: &str, channel: &str, guest: &str) -> Session {
    let id = session_stream_id(
        &TenantId::parse(tenant).unwrap(),
        conserje_domain::values::Channel::parse(channel).unwrap(),
        &GuestRef::parse(guest).unwrap(),
    );
    app.runtime.conversations.session(&id).await.unwrap()
}

/// Waits until the session has recorded every id of `ids`, then returns it.
async fn recorded(
    app: &TestApp,
    tenant: &str,
    channel: &str,
    guest: &str,
    ids: &[&str],
) -> Session {
    // Patient: on the distributed store a fresh topic prefix means fresh consumer groups, which
    // tansu forms slowly while the rest of the suite shares it (a CI run waited over 10 s).
    eventually_within(
        &format!("{tenant}/{channel}/{guest} to record {ids:?}"),
        Duration::from_secs(60),
        || async {
            let seen = session(app, tenant, channel, guest).await.seen_message_ids;
            ids.iter().all(|id| seen.contains(*id))
        },
    )
    .await;
    session(app, tenant, channel, guest).await
}

async fn status_and_json(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn ids(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|id| (*id).to_owned()).collect()
}

// ---------------------------------------------------------------------------------------------
// WhatsApp: recorded once, normalised
// ---------------------------------------------------------------------------------------------

async fn whatsapp_messages_are_recorded_once_and_normalised(kind: StoreKind) {
    let (app, _dir) = start(kind, 120).await;
    let guest = "5491155550001";
    let deliveries = [
        whatsapp_text(
            SOL_PHONE_NUMBER_ID,
            guest,
            "Ana Pérez",
            "wamid.T1",
            "hola, ¿hay habitación?",
        ),
        whatsapp_voice(
            SOL_PHONE_NUMBER_ID,
            guest,
            "Ana Pérez",
            "wamid.V1",
            "MEDIA-1",
        ),
        whatsapp_button_reply(
            SOL_PHONE_NUMBER_ID,
            guest,
            "Ana Pérez",
            "wamid.B1",
            "yes",
            "Sí, confirmar",
        ),
        // Meta redelivers a webhook it got no 200 for: the same message id again.
        whatsapp_text(
            SOL_PHONE_NUMBER_ID,
            guest,
            "Ana Pérez",
            "wamid.T1",
            "hola, ¿hay habitación?",
        ),
        whatsapp_text(
            SOL_PHONE_NUMBER_ID,
            guest,
            "Ana Pérez",
            "wamid.T2",
            "para dos",
        ),
    ];
    for delivery in &deliveries {
        let (status, body) = status_and_json(post_whatsapp(&app, delivery).await).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["accepted"], 1, "{body}");
    }

    // One guest's records share a partition, in order: once T2 is recorded, so is the retry.
    let conversation = recorded(&app, SOL, "whatsapp", guest, &["wamid.T2"]).await;
    assert_eq!(
        conversation.seen_message_ids,
        ids(&["wamid.T1", "wamid.V1", "wamid.B1", "wamid.T2"])
    );
    assert_eq!(
        conversation.message_count, 4,
        "the redelivery is recorded once"
    );
    assert_eq!(
        conversation.tenant_id.unwrap().as_str(),
        SOL,
        "the number's hotel"
    );

    let messages = inbound_messages(&app, deliveries.len()).await;
    assert_eq!(messages.len(), deliveries.len(), "{messages:?}");
    let by_id = |id: &str| {
        messages
            .iter()
            .find(|m| m.provider_message_id == id)
            .unwrap()
    };
    let text = by_id("wamid.T1");
    assert_eq!(text.guest_ref.as_str(), guest);
    assert_eq!(text.guest_name.as_deref(), Some("Ana Pérez"));
    assert_eq!(text.channel.as_str(), "whatsapp");
    assert_eq!(text.text.as_deref(), Some("hola, ¿hay habitación?"));
    let age = chrono::Utc::now() - text.received_at;
    assert!(
        age.num_seconds().abs() < 120,
        "the provider's timestamp: {age}"
    );
    let voice = by_id("wamid.V1");
    let media = voice.media.as_ref().expect("a voice note is media");
    assert_eq!(
        (
            media.kind.as_str(),
            media.provider_media_id.as_str(),
            media.mime_type.as_deref()
        ),
        ("audio", "MEDIA-1", Some("audio/ogg; codecs=opus"))
    );
    assert_eq!(voice.text, None);
    assert_eq!(by_id("wamid.B1").text.as_deref(), Some("Sí, confirmar"));

    assert_eq!(
        metric(&app, "conserje_webhook_messages_accepted_total", "whatsapp").await,
        5
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn whatsapp_messages_are_recorded_once_and_normalised_sqlite() {
    whatsapp_messages_are_recorded_once_and_normalised(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn whatsapp_messages_are_recorded_once_and_normalised_postgres() {
    whatsapp_messages_are_recorded_once_and_normalised(StoreKind::Postgres).await;
}

// ---------------------------------------------------------------------------------------------
// Authentication: nothing unauthenticated reaches the log
// ---------------------------------------------------------------------------------------------

async fn unauthenticated_deliveries_are_refused_and_append_nothing(kind: StoreKind) {
    let (app, _dir) = start(kind, 120).await;
    let payload = whatsapp_text(
        SOL_PHONE_NUMBER_ID,
        "5491155550002",
        "Eve",
        "wamid.E1",
        "hola",
    );
    let body = payload.to_string().into_bytes();
    let other_body = whatsapp_text(SOL_PHONE_NUMBER_ID, "5491155550002", "Eve", "wamid.E2", "x")
        .to_string()
        .into_bytes();
    // A delivery naming two hotels must be signed by both; one signature cannot cover the other.
    let mut two_hotels = payload.clone();
    two_hotels["entry"][0]["changes"]
        .as_array_mut()
        .unwrap()
        .push(
            whatsapp_text(
                DEFAULT_PHONE_NUMBER_ID,
                "34600000001",
                "Mallory",
                "wamid.E3",
                "x",
            )["entry"][0]["changes"][0]
                .clone(),
        );
    let two_hotels = two_hotels.to_string().into_bytes();
    let cases: Vec<(&str, Vec<u8>, Option<String>)> = vec![
        ("no signature", body.clone(), None),
        (
            "another hotel's secret",
            body.clone(),
            Some(sign_whatsapp(DEFAULT_APP_SECRET, &body)),
        ),
        (
            "another body's signature",
            body.clone(),
            Some(sign_whatsapp(SOL_APP_SECRET, &other_body)),
        ),
        ("not hex", body.clone(), Some("sha256=not-hex".to_owned())),
        (
            "no prefix",
            body.clone(),
            Some(sign_whatsapp(SOL_APP_SECRET, &body)[7..].to_owned()),
        ),
        (
            "one of two hotels",
            two_hotels.clone(),
            Some(sign_whatsapp(SOL_APP_SECRET, &two_hotels)),
        ),
        (
            "malformed and unsigned",
            b"{not json".to_vec(),
            Some("sha256=00".to_owned()),
        ),
    ];
    for (case, body, signature) in &cases {
        let (status, answer) =
            status_and_json(post_whatsapp_raw(&app, body.clone(), signature.as_deref()).await)
                .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {answer}");
        assert_eq!(answer["error"], "invalid_signature", "{case}");
        assert!(answer["message"].is_string(), "{case}");
    }

    let update = telegram_text(501, 777002, "Eve", "hola");
    for (case, secret) in [
        ("no secret", None),
        ("wrong secret", Some("guess")),
        ("another hotel's secret", Some(DEFAULT_TELEGRAM_SECRET)),
    ] {
        let response = post_telegram_raw(&app, SOL, update.to_string().into_bytes(), secret).await;
        let (status, answer) = status_and_json(response).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {answer}");
        assert_eq!(answer["error"], "invalid_secret_token", "{case}");
    }

    assert_eq!(
        inbound_appended(&app).await,
        0,
        "nothing reached the inbound topic"
    );
    let failures = |channel| metric(&app, "conserje_webhook_signature_failures_total", channel);
    assert_eq!(failures("whatsapp").await, cases.len() as u64);
    assert_eq!(failures("telegram").await, 3);
    assert_eq!(
        metric(&app, "conserje_webhook_messages_accepted_total", "whatsapp").await,
        0
    );

    // The same deliveries, signed right, go through: the refusals were the signatures.
    let (status, _) = status_and_json(post_whatsapp(&app, &payload).await).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = status_and_json(post_telegram(&app, SOL, &update).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(inbound_appended(&app).await, 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unauthenticated_deliveries_are_refused_and_append_nothing_sqlite() {
    unauthenticated_deliveries_are_refused_and_append_nothing(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unauthenticated_deliveries_are_refused_and_append_nothing_postgres() {
    unauthenticated_deliveries_are_refused_and_append_nothing(StoreKind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hotel_without_secrets_accepts_no_webhook() {
    // The built-in configuration has no channel accounts (and the suite sets no
    // CONSERJE_WHATSAPP_* / CONSERJE_TELEGRAM_* variables): nothing unsigned is ever accepted.
    let (options, _dir) = fresh_store(StoreKind::Sqlite).await;
    let app = TestApp::spawn(&options).await;
    let payload = whatsapp_text(
        DEFAULT_PHONE_NUMBER_ID,
        "34600000002",
        "Ana",
        "wamid.N1",
        "hola",
    );
    let body = payload.to_string().into_bytes();
    let signature = sign_whatsapp("", &body);
    let (status, answer) =
        status_and_json(post_whatsapp_raw(&app, body, Some(&signature)).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    assert_eq!(answer["error"], "channel_not_configured");
    let update = telegram_text(1, 1, "Ana", "hola").to_string().into_bytes();
    let (status, answer) =
        status_and_json(post_telegram_raw(&app, "default", update, Some("")).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    assert_eq!(answer["error"], "channel_not_configured");
    let handshake = app
        .http
        .get(app.url("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=&hub.challenge=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(handshake.status(), StatusCode::FORBIDDEN);
    assert_eq!(inbound_appended(&app).await, 0);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The verification handshake
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_handshake_echoes_the_challenge_for_a_configured_token_only() {
    let (app, _dir) = start(StoreKind::Sqlite, 120).await;
    let handshake = |mode: &str, token: &str| {
        app.http
            .get(app.url("/webhooks/whatsapp"))
            .query(&[
                ("hub.mode", mode),
                ("hub.verify_token", token),
                ("hub.challenge", "1158201444"),
            ])
            .send()
    };
    for token in [SOL_VERIFY_TOKEN, DEFAULT_VERIFY_TOKEN] {
        let response = handshake("subscribe", token).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{token}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        assert_eq!(response.text().await.unwrap(), "1158201444");
    }
    for (mode, token) in [
        ("subscribe", "not-a-token"),
        ("subscribe", ""),
        ("unsubscribe", SOL_VERIFY_TOKEN),
    ] {
        let (status, answer) = status_and_json(handshake(mode, token).await.unwrap()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{mode} {token}");
        assert_eq!(answer["error"], "verification_failed");
    }
    let bare = app
        .http
        .get(app.url("/webhooks/whatsapp"))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Bodies: too large, malformed
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oversized_and_malformed_bodies_are_refused_in_the_error_shape() {
    let (app, _dir) = start(StoreKind::Sqlite, 120).await;
    let mut huge = whatsapp_text(
        SOL_PHONE_NUMBER_ID,
        "5491155550003",
        "Ana",
        "wamid.H1",
        "hola",
    );
    huge["padding"] = json!("x".repeat(1_100 * 1024));
    let huge = huge.to_string().into_bytes();
    assert!(huge.len() > 1 << 20);
    let signature = sign_whatsapp(SOL_APP_SECRET, &huge);
    let (status, answer) =
        status_and_json(post_whatsapp_raw(&app, huge.clone(), Some(&signature)).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(answer["error"], "payload_too_large");
    let (status, answer) =
        status_and_json(post_telegram_raw(&app, SOL, huge, Some(SOL_TELEGRAM_SECRET)).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(answer["error"], "payload_too_large");

    // Signed right (a body naming no number is the default hotel's to sign), but not a delivery.
    for body in [
        &b"{not json"[..],
        br#"{"object": "whatsapp_business_account", "entry": "x"}"#,
    ] {
        let signature = sign_whatsapp(DEFAULT_APP_SECRET, body);
        let (status, answer) =
            status_and_json(post_whatsapp_raw(&app, body.to_vec(), Some(&signature)).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["error"], "malformed_request");
    }
    let (status, answer) = status_and_json(
        post_telegram_raw(
            &app,
            SOL,
            b"{\"update_id\": \"one\"}".to_vec(),
            Some(SOL_TELEGRAM_SECRET),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"], "malformed_request");

    let (status, answer) = status_and_json(
        post_telegram(&app, "Not A Tenant", &telegram_text(1, 1, "Ana", "hola")).await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(inbound_appended(&app).await, 0);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Rate limit per guest
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_guest_past_the_limit_waits_and_the_hotels_other_guests_do_not() {
    let (app, _dir) = start(StoreKind::Sqlite, 3).await;
    let flooder = "5491155550004";
    let text =
        |guest: &str, id: &str| whatsapp_text(SOL_PHONE_NUMBER_ID, guest, "Guest", id, "hola");
    for n in 0..3 {
        let (status, _) =
            status_and_json(post_whatsapp(&app, &text(flooder, &format!("wamid.F{n}"))).await)
                .await;
        assert_eq!(status, StatusCode::OK, "message {n} is within the limit");
    }
    let response = post_whatsapp(&app, &text(flooder, "wamid.F3")).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let (status, answer) = status_and_json(response).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{answer}");
    assert_eq!(answer["error"], "rate_limited");

    let other = "5491155550005";
    let (status, _) = status_and_json(post_whatsapp(&app, &text(other, "wamid.O1")).await).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "another guest of the hotel is not held back"
    );

    // A delivery with the other guest's message and one more of the flooder's: refused whole.
    let before = inbound_appended(&app).await;
    let mut both = text(other, "wamid.O2");
    let value = &mut both["entry"][0]["changes"][0]["value"];
    value["contacts"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "profile": { "name": "Guest" }, "wa_id": flooder }));
    value["messages"].as_array_mut().unwrap().push(json!({
        "from": flooder, "id": "wamid.F4", "timestamp": chrono::Utc::now().timestamp().to_string(),
        "type": "text", "text": { "body": "hola?" }
    }));
    let (status, _) = status_and_json(post_whatsapp(&app, &both).await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        inbound_appended(&app).await,
        before,
        "nothing of a refused delivery is appended"
    );

    // Telegram chats have their own allowance too.
    for n in 0..3 {
        let (status, _) = status_and_json(
            post_telegram(&app, SOL, &telegram_text(n, 777003, "Ana", "hola")).await,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) =
        status_and_json(post_telegram(&app, SOL, &telegram_text(3, 777003, "Ana", "hola")).await)
            .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    assert_eq!(
        metric(&app, "conserje_webhook_rate_limited_total", "whatsapp").await,
        2
    );
    assert_eq!(
        metric(&app, "conserje_webhook_rate_limited_total", "telegram").await,
        1
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Statuses, unknown types, unknown numbers
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn statuses_are_appended_as_receipts_and_the_rest_counted() {
    let (app, _dir) = start(StoreKind::Sqlite, 120).await;
    // `warning` is a status word conserje does not know: counted, not recorded.
    for status in ["sent", "delivered", "read", "warning"] {
        let delivery = whatsapp_status(SOL_PHONE_NUMBER_ID, "wamid.OUT1", "5491155550006", status);
        let (code, answer) = status_and_json(post_whatsapp(&app, &delivery).await).await;
        assert_eq!(code, StatusCode::OK, "{answer}");
        assert_eq!(
            (answer["accepted"].as_u64(), answer["statuses"].as_u64()),
            (Some(0), Some(1))
        );
    }
    // A reaction taken back (no emoji) has nothing to record.
    let unreacted = whatsapp_delivery(
        SOL_PHONE_NUMBER_ID,
        json!([{ "profile": { "name": "Ana" }, "wa_id": "5491155550006" }]),
        json!([{
            "from": "5491155550006", "id": "wamid.R1", "timestamp": "1744344496",
            "type": "reaction", "reaction": { "message_id": "wamid.OUT1" }
        }]),
    );
    let (code, _) = status_and_json(post_whatsapp(&app, &unreacted).await).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        inbound_appended(&app).await,
        3,
        "the three known statuses are appended as receipts; the removed reaction is not recorded"
    );
    assert_eq!(
        metric(&app, "conserje_webhook_statuses_ignored_total", "whatsapp").await,
        1
    );
    assert_eq!(
        metric(&app, "conserje_webhook_ignored_total", "whatsapp").await,
        1
    );
    assert_eq!(
        metric(&app, "conserje_webhook_unknown_number_total", "whatsapp").await,
        0
    );

    // A number nobody configured: signed with the default hotel's secret, acknowledged (so Meta
    // does not retry) but recorded for no hotel, and counted.
    let stranger = "34600000003";
    let delivery = whatsapp_text(
        UNKNOWN_PHONE_NUMBER_ID,
        stranger,
        "Luis",
        "wamid.U1",
        "hello",
    );
    let (code, answer) = status_and_json(post_whatsapp(&app, &delivery).await).await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(
        (answer["accepted"].as_u64(), answer["refused"].as_u64()),
        (Some(0), Some(1)),
        "{answer}"
    );
    assert_eq!(
        inbound_appended(&app).await,
        3,
        "nothing recorded beyond the receipts"
    );
    assert_eq!(
        metric(&app, "conserje_webhook_unknown_number_total", "whatsapp").await,
        1
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Telegram
// ---------------------------------------------------------------------------------------------

async fn telegram_updates_are_recorded_once_and_normalised(kind: StoreKind) {
    let (app, _dir) = start(kind, 120).await;
    let chat = 777001;
    let updates = [
        telegram_text(9001, chat, "Lucía", "hola"),
        telegram_voice(9002, chat, "Lucía", "AwADBAADbXXXXXXXXXXXGBdhD2l6_XX", 12),
        telegram_callback(9003, chat, "Lucía", "confirm"),
        telegram_text(9001, chat, "Lucía", "hola"),
        telegram_text(9004, chat, "Lucía", "gracias"),
    ];
    for update in &updates {
        let (status, answer) = status_and_json(post_telegram(&app, SOL, update).await).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        // A button press is answered in the webhook's own reply, so the guest's
        // client stops its spinner without a second call to the Bot API.
        let expected = match update["callback_query"]["id"].as_str() {
            Some(id) => json!({ "method": "answerCallbackQuery", "callback_query_id": id }),
            None => json!({}),
        };
        assert_eq!(answer, expected);
    }
    // The guest blocking the bot is an update with nothing to record.
    let blocked = json!({
        "update_id": 9005,
        "my_chat_member": {
            "chat": { "id": chat, "type": "private" },
            "from": { "id": chat, "is_bot": false, "first_name": "Lucía" }, "date": 1441645532,
            "old_chat_member": { "user": { "id": 7, "is_bot": true, "first_name": "Bot" }, "status": "member" },
            "new_chat_member": { "user": { "id": 7, "is_bot": true, "first_name": "Bot" }, "status": "kicked", "until_date": 0 }
        }
    });
    let (status, answer) = status_and_json(post_telegram(&app, SOL, &blocked).await).await;
    assert_eq!((status, answer), (StatusCode::OK, json!({})));

    let chat_id = chat.to_string();
    let conversation = recorded(&app, SOL, "telegram", &chat_id, &["tg-9004"]).await;
    assert_eq!(
        conversation.seen_message_ids,
        ids(&["tg-9001", "tg-9002", "tg-9003", "tg-9004"])
    );
    assert_eq!(conversation.message_count, 4);

    let messages = inbound_messages(&app, updates.len()).await;
    assert_eq!(
        messages.len(),
        updates.len(),
        "the member update appended nothing"
    );
    let by_id = |id: &str| {
        messages
            .iter()
            .find(|m| m.provider_message_id == id)
            .unwrap()
    };
    assert_eq!(by_id("tg-9001").guest_name.as_deref(), Some("Lucía Tester"));
    assert_eq!(by_id("tg-9001").channel.as_str(), "telegram");
    let media = by_id("tg-9002")
        .media
        .clone()
        .expect("a voice note is media");
    assert_eq!(
        (
            media.kind.as_str(),
            media.provider_media_id.as_str(),
            media.duration_seconds
        ),
        ("audio", "AwADBAADbXXXXXXXXXXXGBdhD2l6_XX", Some(12))
    );
    assert_eq!(by_id("tg-9003").text.as_deref(), Some("confirm"));
    assert_eq!(by_id("tg-9003").guest_ref.as_str(), chat_id);

    // A group chat's id is negative: it is a guest like any other.
    let group = -1001234567890_i64;
    let (status, _) = status_and_json(
        post_telegram(
            &app,
            SOL,
            &telegram_text(9006, group, "Ana", "hola a todos"),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    recorded(&app, SOL, "telegram", &group.to_string(), &["tg-9006"]).await;

    assert_eq!(
        metric(&app, "conserje_webhook_messages_accepted_total", "telegram").await,
        6
    );
    assert_eq!(
        metric(&app, "conserje_webhook_ignored_total", "telegram").await,
        1
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn telegram_updates_are_recorded_once_and_normalised_sqlite() {
    telegram_updates_are_recorded_once_and_normalised(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn telegram_updates_are_recorded_once_and_normalised_postgres() {
    telegram_updates_are_recorded_once_and_normalised(StoreKind::Postgres).await;
}
