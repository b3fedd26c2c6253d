//! Guest messages through the log and events out of it, on both profiles: the embedded default
//! (SQLite log and read models) and the distributed one (Kafka-protocol broker, Redis, PostgreSQL).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use conserje_domain::session::Session;
use conserje_tests::{eventually, eventually_within, fresh_store, StoreKind, TestApp};
use cqrs_es::Aggregate;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn message(guest: &str, id: &str, text: &str) -> Value {
    json!({
        "tenant_id": "hotel-sol",
        "channel": "api",
        "guest": guest,
        "provider_message_id": id,
        "text": text,
    })
}

async fn post_message(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    let response = app
        .http
        .post(app.url("/api/v1/messages"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn session_summary(app: &TestApp, guest: &str) -> Vec<Value> {
    app.http
        .get(app.url(&format!(
            "/api/v1/sessions?tenant=hotel-sol&channel=api&guest={guest}"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn message_count(app: &TestApp, guest: &str) -> u64 {
    session_summary(app, guest)
        .await
        .first()
        .and_then(|s| s["message_count"].as_u64())
        .unwrap_or(0)
}

async fn a_message_is_acknowledged_recorded_once_and_shown(kind: StoreKind) {
    let (options, _dir) = fresh_store(kind).await;
    let app = TestApp::spawn(&options).await;
    let guest = "5491155550001";
    let (status, body) = post_message(&app, &message(guest, "wamid.A", "hola")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["session_id"], "hotel-sol/api/5491155550001");
    assert!(body["offset"].as_i64().unwrap() >= 0);
    let (again, _) = post_message(&app, &message(guest, "wamid.A", "hola")).await;
    assert_eq!(
        again,
        StatusCode::ACCEPTED,
        "a webhook retry is acknowledged"
    );
    post_message(&app, &message(guest, "wamid.B", "¿tienen habitación?")).await;

    eventually("the session view to show two messages", || async {
        message_count(&app, guest).await == 2
    })
    .await;
    let summary = session_summary(&app, guest).await;
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0]["state"], "active");
    assert!(summary[0]["last_message_at"].is_string());
    let stream = app
        .runtime
        .feed
        .stream(Session::TYPE, "hotel-sol/api/5491155550001")
        .await
        .unwrap();
    let received = stream
        .iter()
        .filter(|e| e.event_type == "GuestMessageReceived")
        .count();
    assert_eq!(
        received, 2,
        "the repeated provider message id was recorded once"
    );
    assert!(session_summary(&app, "5490000000000").await.is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_message_is_acknowledged_recorded_once_and_shown_sqlite() {
    a_message_is_acknowledged_recorded_once_and_shown(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_message_is_acknowledged_recorded_once_and_shown_postgres() {
    a_message_is_acknowledged_recorded_once_and_shown(StoreKind::Postgres).await;
}

async fn bad_messages_are_refused_and_nothing_is_appended(kind: StoreKind) {
    let (options, _dir) = fresh_store(kind).await;
    let app = TestApp::spawn(&options).await;
    let bad = StatusCode::BAD_REQUEST;
    let cases = [
        (json!({"tenant_id": "hotel-sol"}), bad, "malformed_request"),
        (
            json!({"tenant_id": "Hotel Sol", "channel": "api", "guest": "1",
                   "provider_message_id": "x", "text": "hi"}),
            bad,
            "invalid_tenant",
        ),
        // Only the provider's signed webhook speaks as a WhatsApp or Telegram guest.
        (
            json!({"tenant_id": "hotel-sol", "channel": "whatsapp", "guest": "34600111222",
                   "provider_message_id": "wamid.x", "text": "cancel my booking"}),
            StatusCode::FORBIDDEN,
            "channel_forbidden",
        ),
        (
            json!({"tenant_id": "hotel-sol", "channel": "telegram", "guest": "1",
                   "provider_message_id": "tg-1", "text": "yes"}),
            StatusCode::FORBIDDEN,
            "channel_forbidden",
        ),
        (message("1", "", "hi"), bad, "invalid_message_id"),
        (message("1", "x", "   "), bad, "empty_message"),
        (message("1", "x", &"a".repeat(4097)), bad, "text_too_long"),
    ];
    for (body, status, code) in cases {
        let (answered, answer) = post_message(&app, &body).await;
        assert_eq!(answered, status, "{body}");
        assert_eq!(answer["error"], code, "{body}");
    }
    let lag = app
        .runtime
        .log
        .lag("nobody", &app.runtime.topics.inbound)
        .await
        .unwrap();
    assert_eq!(
        lag.iter().map(|p| p.end).sum::<i64>(),
        0,
        "nothing appended"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_messages_are_refused_and_nothing_is_appended_sqlite() {
    bad_messages_are_refused_and_nothing_is_appended(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_messages_are_refused_and_nothing_is_appended_postgres() {
    bad_messages_are_refused_and_nothing_is_appended(StoreKind::Postgres).await;
}

/// 200 messages of one conversation posted at once: the session records every one, in the order
/// the log accepted them.
async fn two_hundred_concurrent_messages_are_recorded_in_log_order(kind: StoreKind) {
    let (mut options, _dir) = fresh_store(kind).await;
    // One guest's burst over the per-guest limit is refused (see api_limits.rs); this test is
    // about order, so the limit is lifted.
    options.channels.webhook_rate_limit_per_minute = 0;
    // The test polls the session view with its one key until all 200 are in.
    options.access.api_rate_limit_per_minute = 0;
    let app = TestApp::spawn(&options).await;
    let guest = "5491155550200";
    let posts = (0..200).map(|n| {
        let app = &app;
        async move {
            let id = format!("wamid.{n:03}");
            let (status, body) = post_message(app, &message(guest, &id, &format!("m{n}"))).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{body}");
            (id, body["offset"].as_i64().unwrap())
        }
    });
    let offsets: BTreeMap<String, i64> =
        futures::future::join_all(posts).await.into_iter().collect();
    let distinct: BTreeSet<i64> = offsets.values().copied().collect();
    assert_eq!(distinct.len(), 200, "each message has its own offset");

    let stream_id = format!("hotel-sol/api/{guest}");
    let feed = &app.runtime.feed;
    eventually_within(
        "all 200 messages to be recorded",
        Duration::from_secs(90),
        || async {
            let events = feed.stream(Session::TYPE, &stream_id).await.unwrap();
            events
                .iter()
                .filter(|e| e.event_type == "GuestMessageReceived")
                .count()
                == 200
        },
    )
    .await;
    let recorded: Vec<i64> = feed
        .stream(Session::TYPE, &stream_id)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event_type == "GuestMessageReceived")
        .map(|e| {
            let id = e.payload["GuestMessageReceived"]["provider_message_id"]
                .as_str()
                .unwrap();
            offsets[id]
        })
        .collect();
    assert_eq!(recorded.len(), 200, "none lost");
    assert!(
        recorded.windows(2).all(|w| w[0] < w[1]),
        "recorded in log order"
    );
    eventually("the session view to count 200", || async {
        message_count(&app, guest).await == 200
    })
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_messages_are_recorded_in_log_order_sqlite() {
    two_hundred_concurrent_messages_are_recorded_in_log_order(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_messages_are_recorded_in_log_order_postgres() {
    two_hundred_concurrent_messages_are_recorded_in_log_order(StoreKind::Postgres).await;
}

/// Every stored event reaches the events topic, keyed by aggregate, with CloudEvents headers.
async fn the_relay_publishes_events_with_cloudevents_headers(kind: StoreKind) {
    let (options, _dir) = fresh_store(kind).await;
    let app = TestApp::spawn(&options).await;
    let (status, _) = post_message(&app, &message("5491155550300", "wamid.R", "hola")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let mut consumer = app
        .runtime
        .log
        .consumer("test-reader", &app.runtime.topics.events)
        .await
        .unwrap();
    let mut records = Vec::new();
    for _ in 0..100 {
        records.extend(
            consumer
                .poll(100, Duration::from_millis(200))
                .await
                .unwrap(),
        );
        if records.len() >= 2 {
            break;
        }
    }
    let types: Vec<&str> = records
        .iter()
        .take(2)
        .map(|r| r.header("ce_type").unwrap())
        .collect();
    assert_eq!(
        types,
        ["SessionStarted", "GuestMessageReceived"],
        "the message's events come first, in order (the bot's turn follows)"
    );
    for record in &records {
        assert_eq!(record.key, "hotel-sol/api/5491155550300");
        assert_eq!(record.header("ce_subject"), Some(record.key.as_str()));
        assert_eq!(record.header("ce_source"), Some("/conserje/Session"));
        assert_eq!(record.header("tenant"), Some("hotel-sol"));
        assert_eq!(record.header("schema_version"), Some("1"));
        let event: Value = serde_json::from_slice(&record.payload).unwrap();
        assert_eq!(
            record.header("ce_id"),
            event["metadata"]["event_id"].as_str(),
            "ce_id is the event id"
        );
        assert!(record.header("ce_time").is_some());
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_relay_publishes_events_with_cloudevents_headers_sqlite() {
    the_relay_publishes_events_with_cloudevents_headers(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_relay_publishes_events_with_cloudevents_headers_postgres() {
    the_relay_publishes_events_with_cloudevents_headers(StoreKind::Postgres).await;
}

/// The late-commit scenario of the event store, end to end through the broker: an event whose
/// transaction commits after a later one is still published, and each is published once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_relay_publishes_a_late_commit_once_through_the_broker() {
    let (options, _dir) = fresh_store(StoreKind::Postgres).await;
    let rt = conserje_gateway::Runtime::open(&options).await.unwrap();
    let conserje_infra::Database::Postgres(pool) = rt.db.clone() else {
        unreachable!("the distributed profile runs on PostgreSQL")
    };
    let insert = "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                  event_version, payload, metadata) \
                  VALUES ('Probe', $1, 1, 'Probed', '1', '{}', '{\"tenant_id\": \"hotel-sol\"}')";
    let mut a = pool.begin().await.unwrap();
    sqlx::query(insert)
        .bind("late")
        .execute(&mut *a)
        .await
        .unwrap();
    let mut b = pool.begin().await.unwrap();
    sqlx::query(insert)
        .bind("early")
        .execute(&mut *b)
        .await
        .unwrap();
    b.commit().await.unwrap();

    let before = rt.relay.catch_up().await.unwrap();
    assert_eq!(before, 0, "B waits behind A's open transaction");
    a.commit().await.unwrap();
    conserje_tests::catch_up_at_least(&rt.relay, 2).await;
    assert_eq!(
        rt.relay.catch_up().await.unwrap(),
        0,
        "nothing published twice"
    );

    let mut consumer = rt
        .log
        .consumer("late-commit-reader", &rt.topics.events)
        .await
        .unwrap();
    let mut subjects = Vec::new();
    for _ in 0..50 {
        for record in consumer
            .poll(100, Duration::from_millis(200))
            .await
            .unwrap()
        {
            subjects.push(record.header("ce_subject").unwrap().to_owned());
        }
        if subjects.len() >= 2 {
            break;
        }
    }
    let extra = consumer
        .poll(100, Duration::from_millis(500))
        .await
        .unwrap();
    assert!(extra.is_empty(), "no duplicate on the topic");
    subjects.sort();
    assert_eq!(subjects, ["early", "late"], "A and B each once");
}
