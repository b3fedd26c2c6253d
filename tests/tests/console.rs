//! The staff console over plain HTTP, as a browser without JavaScript uses it: signing in and
//! out, what a session may see (its hotel only, by role), the CSRF token every form needs, what
//! guests wrote shown as text, bookings with their timeline, and the operations page. The same
//! pages in a real Chromium are `console_browser.rs`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use conserje_domain::api_key::{ApiKey, Role};
use conserje_domain::reservation::Reservation;
use conserje_tests::channels::{
    channel_config, post_whatsapp, whatsapp_text, DEFAULT_PHONE_NUMBER_ID, SOL, SOL_PHONE_NUMBER_ID,
};
use conserje_tests::console::{conversation_path, hidden_field, location, ConsoleClient};
use conserje_tests::{fresh_store, FixedClock, StoreKind, TestApp};
use cqrs_es::Aggregate;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

/// Sunday 22 November 2026, 12:00 in Madrid: the front desk is open.
fn midday() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 11, 0, 0).unwrap()
}

async fn desk(kind: StoreKind) -> (TestApp, TempDir) {
    let (mut options, dir) = fresh_store(kind).await;
    options.config = Some(channel_config(dir.path()));
    let app = TestApp::spawn_with_clock(&options, Arc::new(FixedClock(midday()))).await;
    (app, dir)
}

/// A WhatsApp guest of the hotel behind `phone_number_id` writes `text` as `name`.
async fn guest_writes(app: &TestApp, phone_number_id: &str, wa_id: &str, name: &str, text: &str) {
    let id = format!("wamid.{}", uuid::Uuid::now_v7().simple());
    let payload = whatsapp_text(phone_number_id, wa_id, name, &id, text);
    let response = post_whatsapp(app, &payload).await;
    assert_eq!(response.status(), 200, "webhook accepted");
}

/// Waits until the inbox of `console` lists `needle`; returns the inbox.
async fn inbox_lists(console: &mut ConsoleClient, needle: &str) -> String {
    inbox_until(console, "/console/inbox/rows", needle, true).await
}

/// Waits until the inbox fragment at `path` lists `needle` (or, unless `listed`, no longer
/// does): the inbox is a read model, a moment behind the events.
async fn inbox_until(
    console: &mut ConsoleClient,
    path: &str,
    needle: &str,
    listed: bool,
) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        last = console.page(path).await;
        if last.contains(needle) == listed {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never had {needle:?} listed = {listed}; it shows {last}");
}

/// The stored events of key `key` (`cjk_<id>_<secret>`), as (type, actor, channel).
async fn key_events(app: &TestApp, key: &str) -> Vec<(String, String, String)> {
    let id = key.trim_start_matches("cjk_").split('_').next().unwrap();
    app.runtime
        .feed
        .stream(ApiKey::TYPE, id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.event_type.clone(),
                e.metadata["actor"].as_str().unwrap_or_default().to_owned(),
                e.metadata["channel"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn staff_sign_in_with_their_key_and_signing_out_ends_the_session() {
    let (app, _dir) = desk(StoreKind::Sqlite).await;
    let key = app.issue_key("ana", Role::Staff, Some("default")).await;

    let mut visitor = ConsoleClient::new(&app);
    let response = visitor.get("/console").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/console/sign-in?next=/console");

    let (response, _) = visitor.sign_in("cjk_0000000000000000_nope", None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("That key is unknown, revoked or expired."),
        "{page}"
    );

    let mut console = ConsoleClient::new(&app);
    let (response, cookie) = console.sign_in(&key, None).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/console");
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=43200",
    ] {
        assert!(
            cookie.contains(attribute),
            "cookie lacks {attribute}: {cookie}"
        );
    }
    let inbox = console.page("/console").await;
    assert!(inbox.contains("staff:ana"), "{inbox}");
    assert!(!inbox.contains(&key), "the key must not reach the page");

    // Signing out needs the session's token, like every form.
    let response = console
        .post("/console/sign-out", &[("csrf", "forged")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let session = console.cookies.clone();
    let csrf = console.csrf().await;
    let response = console.post("/console/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // The old cookie opens nothing any more, even if the browser kept it.
    let mut replayed = ConsoleClient::new(&app);
    replayed.cookies = session;
    let response = replayed.get("/console").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let events = key_events(&app, &key).await;
    let types: Vec<&str> = events.iter().map(|(t, _, _)| t.as_str()).collect();
    assert_eq!(
        types,
        ["ApiKeyIssued", "ConsoleSignedIn", "ConsoleSignedOut"],
        "sign-in and sign-out are on the key's stream"
    );
    for (_, actor, channel) in &events[1..] {
        assert_eq!(actor, "staff:ana");
        assert_eq!(channel, "console");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_integration_key_cannot_sign_in_and_revoking_a_key_ends_its_sessions() {
    let (app, _dir) = desk(StoreKind::Sqlite).await;
    let integration = app
        .issue_key("pos", Role::Integration, Some("default"))
        .await;
    let mut console = ConsoleClient::new(&app);
    let (response, cookie) = console.sign_in(&integration, None).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(cookie.is_empty(), "no session for an integration");

    let key = app.issue_key("luis", Role::Staff, Some("default")).await;
    let mut console = ConsoleClient::signed_in(&app, &key).await;
    console.page("/console").await;
    let id = key.trim_start_matches("cjk_").split('_').next().unwrap();
    let response = app
        .http
        .post(app.url(&format!("/api/v1/keys/{id}/revoke")))
        .json(&json!({ "reason": "left the hotel" }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let response = console.get("/console").await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "a revoked key's session ends"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn staff_reply_take_over_and_hand_back_only_with_the_sessions_token() {
    for kind in [StoreKind::Sqlite, StoreKind::Postgres] {
        let (app, _dir) = desk(kind).await;
        let key = app.issue_key("ana", Role::Staff, Some("default")).await;
        let mut console = ConsoleClient::signed_in(&app, &key).await;
        guest_writes(
            &app,
            DEFAULT_PHONE_NUMBER_ID,
            "34600222001",
            "Marta",
            "Hola, ¿tenéis parking?",
        )
        .await;
        inbox_lists(&mut console, "Marta").await;
        let conversation = conversation_path("default/whatsapp/34600222001");
        let page = console.page(&conversation).await;
        assert!(page.contains("Take over"), "{page}");
        let csrf = hidden_field(&page, "csrf").unwrap();

        let forged = console
            .post(
                &format!("{conversation}/replies"),
                &[("csrf", "x"), ("text", "forged")],
            )
            .await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);

        let taken = console
            .post(&format!("{conversation}/take-over"), &[("csrf", &csrf)])
            .await;
        assert_eq!(taken.status(), StatusCode::SEE_OTHER);
        let again = console
            .post(&format!("{conversation}/take-over"), &[("csrf", &csrf)])
            .await;
        assert_eq!(again.status(), StatusCode::CONFLICT, "already with staff");
        let replied = console
            .post(
                &format!("{conversation}/replies"),
                &[("csrf", &csrf), ("text", "Sí, en el sótano. Soy Ana.")],
            )
            .await;
        assert_eq!(replied.status(), StatusCode::SEE_OTHER);
        let page = console.page(&conversation).await;
        assert!(page.contains("Sí, en el sótano. Soy Ana."), "{page}");
        assert!(page.contains("taken over by staff:ana"), "{page}");
        assert!(page.contains("Hand back to the bot"), "{page}");
        inbox_until(
            &mut console,
            "/console/inbox/rows?handed_off=1",
            "Marta",
            true,
        )
        .await;
        let back = console
            .post(&format!("{conversation}/hand-back"), &[("csrf", &csrf)])
            .await;
        assert_eq!(back.status(), StatusCode::SEE_OTHER);
        inbox_until(
            &mut console,
            "/console/inbox/rows?handed_off=1",
            "Marta",
            false,
        )
        .await;

        // The session's actor and channel are on the conversation's events.
        let events = app
            .runtime
            .feed
            .stream("Session", "default/whatsapp/34600222001")
            .await
            .unwrap();
        let by_console: Vec<(&str, &str)> = events
            .iter()
            .filter(|e| e.metadata["channel"] == "console")
            .map(|e| {
                (
                    e.event_type.as_str(),
                    e.metadata["actor"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            by_console,
            [
                ("HandoffRequested", "staff:ana"),
                ("ReplyComposed", "staff:ana"),
                ("HandoffResolved", "staff:ana"),
            ]
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_staff_key_of_one_hotel_sees_nothing_of_another_and_guests_markup_stays_text() {
    let (app, _dir) = desk(StoreKind::Sqlite).await;
    let key = app.issue_key("ana", Role::Staff, Some("default")).await;
    let mut console = ConsoleClient::signed_in(&app, &key).await;
    guest_writes(
        &app,
        DEFAULT_PHONE_NUMBER_ID,
        "34600222002",
        "<script>alert(1)</script>Eva",
        "<img src=x onerror=alert(2)> quiero hablar con una persona",
    )
    .await;
    guest_writes(
        &app,
        SOL_PHONE_NUMBER_ID,
        "34600222003",
        "Sol Guest",
        "Hola",
    )
    .await;

    let rows = inbox_lists(&mut console, "Eva").await;
    assert!(
        rows.contains("&lt;script&gt;alert(1)&lt;/script&gt;Eva"),
        "{rows}"
    );
    assert!(!rows.contains("<script>alert"), "{rows}");
    let page = console
        .page(&conversation_path("default/whatsapp/34600222002"))
        .await;
    assert!(
        page.contains("&lt;img src=x onerror=alert(2)&gt;"),
        "{page}"
    );
    assert!(!page.contains("<img src=x"), "{page}");

    // Hotel Sol's guest is written and listed for Sol, not for the default hotel's staff.
    let sol_key = app.issue_key("sol-desk", Role::Staff, Some(SOL)).await;
    let mut sol = ConsoleClient::signed_in(&app, &sol_key).await;
    inbox_lists(&mut sol, "Sol Guest").await;
    let rows = console.page("/console/inbox/rows").await;
    assert!(
        !rows.contains("Sol Guest"),
        "another hotel's guest listed: {rows}"
    );
    let response = console
        .get(&conversation_path(&format!("{SOL}/whatsapp/34600222003")))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = sol
        .get(&conversation_path("default/whatsapp/34600222002"))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn roles_decide_the_pages_analysts_see_figures_and_only_admins_operations() {
    for kind in [StoreKind::Sqlite, StoreKind::Postgres] {
        let (app, _dir) = desk(kind).await;
        let analyst = app.issue_key("bi", Role::Analyst, Some("default")).await;
        let staff = app.issue_key("ana", Role::Staff, Some("default")).await;
        let mut analyst = ConsoleClient::signed_in(&app, &analyst).await;
        let figures = analyst.page("/console/figures").await;
        for view in [
            "daily_occupancy",
            "intent_mix",
            "handoff_counts",
            "reply_read_rate",
        ] {
            assert!(figures.contains(view), "the figures name {view}");
        }
        assert_eq!(figures.matches("<svg").count(), 7, "one chart per figure");
        assert_eq!(
            analyst.get("/console").await.status(),
            StatusCode::FORBIDDEN
        );
        let mut staff = ConsoleClient::signed_in(&app, &staff).await;
        assert_eq!(
            staff.get("/console/operations").await.status(),
            StatusCode::FORBIDDEN
        );

        let mut admin = ConsoleClient::new(&app);
        let (response, _) = admin.sign_in(&app.admin_key, Some("default")).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let operations = admin.page("/console/operations").await;
        for consumer in [
            "reservations",
            "inbox",
            "session-view",
            "conversation-worker",
        ] {
            assert!(operations.contains(consumer), "operations list {consumer}");
        }
        let csrf = hidden_field(&operations, "csrf").unwrap();
        let started = admin
            .post(
                "/console/operations/replays",
                &[("csrf", &csrf), ("projection", "inbox")],
            )
            .await;
        assert_eq!(started.status(), StatusCode::SEE_OTHER);
        let mut page = String::new();
        for _ in 0..100 {
            page = admin.page("/console/operations").await;
            if page.contains("done") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(page.contains("done"), "the replay finishes: {page}");
        let refused = admin
            .post(
                "/console/operations/replays",
                &[("csrf", &csrf), ("projection", "no-such-thing")],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bookings_timeline_shows_its_events_in_order_and_staff_cancel_with_the_api_rules() {
    for kind in [StoreKind::Sqlite, StoreKind::Postgres] {
        let (app, _dir) = desk(kind).await;
        let key = app.issue_key("ana", Role::Staff, Some("default")).await;
        let staff = TestApp::client_with(&key);
        let answer: Value = staff
            .post(app.url("/api/v1/reservations"))
            .json(&json!({
                "guest": { "name": "Ana <b>Pérez</b>", "email": "ana@example.com", "phone": "+34600111222" },
                "room_type": "standard",
                "check_in": "2026-12-10",
                "check_out": "2026-12-12",
                "guests": 2,
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = answer["reservation_id"]
            .as_str()
            .expect("booked")
            .to_owned();
        let mut console = ConsoleClient::signed_in(&app, &key).await;
        let list = console.page("/console/bookings").await;
        assert!(list.contains(&format!("/console/bookings/{id}")), "{list}");
        assert!(list.contains("Ana &lt;b&gt;Pérez&lt;/b&gt;"), "{list}");
        let detail = console.page(&format!("/console/bookings/{id}")).await;
        let requested = detail.find("ReservationRequested").expect("requested");
        let confirmed = detail.find("ReservationConfirmed").expect("confirmed");
        assert!(requested < confirmed, "oldest first");
        assert!(detail.contains("by staff:ana"), "{detail}");
        assert!(detail.contains("through api"), "{detail}");

        let csrf = hidden_field(&detail, "csrf").unwrap();
        let cancelled = console
            .post(
                &format!("/console/bookings/{id}/cancel"),
                &[("csrf", &csrf), ("reason", "guest phoned")],
            )
            .await;
        assert_eq!(cancelled.status(), StatusCode::SEE_OTHER);
        let events = app
            .runtime
            .feed
            .stream(Reservation::TYPE, &id)
            .await
            .unwrap();
        let last = events.last().unwrap();
        assert_eq!(last.event_type, "ReservationCancelled");
        assert_eq!(last.metadata["actor"], "staff:ana");
        assert_eq!(last.metadata["channel"], "console");
        let detail = console.page(&format!("/console/bookings/{id}")).await;
        assert!(detail.contains("cancelled: guest phoned"), "{detail}");
        assert!(
            !detail.contains("Cancel booking"),
            "no cancel form on a cancelled booking"
        );
        app.stop().await;
    }
}
