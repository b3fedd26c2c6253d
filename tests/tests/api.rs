//! End-to-end suite of the HTTP API: the real service on a random port, against a fresh
//! PostgreSQL database and a fresh SQLite file. Every scenario is one `async fn scenario(kind)`
//! run once per store by the wrappers that `both_stores!` generates.
//!
//! "Now" is fixed at 2026-11-22T12:00Z, which is 2026-11-22 in every configured hotel zone
//! (Madrid 13:00, Buenos Aires 09:00), so every date below is relative to that hotel day.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use conserje_domain::api_key::Role;
use conserje_domain::ports::Clock;
use conserje_gateway::settings::StoreOptions;
use conserje_tests::{fresh_store, FixedClock, StoreKind, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A tenant not named in the configuration: it gets `[hotels.default]` (Europe/Madrid, with
/// `blocked.guest@example.com` on the blacklist).
const TENANT: &str = "hotel-luna";
/// A configured tenant (America/Argentina/Buenos_Aires) with an empty blacklist.
const TENANT_SOL: &str = "hotel-sol";
const BLACKLISTED: &str = "blocked.guest@example.com";

/// A phone of the guest's own, the same for every spelling of their e-mail (`+34 600 xxx xxx`, a
/// valid Spanish mobile): the five-active limit also recognises a guest by the phone, so guests
/// that shared one would all count as one guest.
fn phone_of(email: &str) -> String {
    let n = email
        .trim()
        .to_lowercase()
        .bytes()
        .fold(17u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 1_000_000;
    format!("+34 600 {:03} {:03}", n / 1000, n % 1000)
}

/// The instant every test runs at.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
}

/// The hotel's today at [`now`].
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

/// The hotel date `offset` days after today, as the API writes it.
fn day(offset: u64) -> String {
    (today() + Days::new(offset)).to_string()
}

/// The hotel date `offset` days before today.
fn days_ago(offset: u64) -> String {
    (today() - Days::new(offset)).to_string()
}

fn fixed_clock() -> Arc<dyn Clock> {
    Arc::new(FixedClock(now()))
}

/// A fresh store of `kind` and the service on it, with the clock fixed at [`now`]. Keep the
/// `TempDir` alive for the whole test.
async fn start(kind: StoreKind) -> (TestApp, StoreOptions, TempDir) {
    let (options, dir) = fresh_store(kind).await;
    let app = TestApp::spawn_with_clock(&options, fixed_clock()).await;
    (app, options, dir)
}

/// A valid booking body for the default tenant.
fn booking(email: &str, room_type: &str, check_in: &str, check_out: &str, guests: u32) -> Value {
    booking_for(TENANT, email, room_type, check_in, check_out, guests)
}

fn booking_for(
    tenant: &str,
    email: &str,
    room_type: &str,
    check_in: &str,
    check_out: &str,
    guests: u32,
) -> Value {
    json!({
        "tenant_id": tenant,
        "guest": { "name": "Ana Pérez", "email": email, "phone": phone_of(email) },
        "room_type": room_type,
        "check_in": check_in,
        "check_out": check_out,
        "guests": guests,
        "special_requests": "quiet room, high floor",
    })
}

/// Status and JSON body of a response; panics with the raw body if it is not JSON.
async fn answer(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("response body");
    let body = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{status}: body is not JSON ({e}): {text:?}"))
    };
    (status, body)
}

async fn post_json(app: &TestApp, path: &str, body: &Value) -> (StatusCode, Value) {
    post_json_with(&app.http, app, path, body).await
}

/// POSTs `body` with `client` (and so its key).
async fn post_json_with(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let request = client.post(app.url(path)).json(body);
    answer(request.send().await.expect("POST is answered")).await
}

/// POSTs `body` with `client` and a forged `X-Actor` header, which must change nothing.
async fn post_json_forging_actor(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    body: &Value,
    forged: &str,
) -> (StatusCode, Value) {
    let request = client
        .post(app.url(path))
        .header("X-Actor", forged)
        .json(body);
    answer(request.send().await.expect("POST is answered")).await
}

/// POSTs a raw body with a given content type.
async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: &str,
) -> (StatusCode, Value) {
    let response = app
        .http
        .post(app.url(path))
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("POST is answered");
    answer(response).await
}

async fn get_json(app: &TestApp, path: &str) -> (StatusCode, Value) {
    answer(
        app.http
            .get(app.url(path))
            .send()
            .await
            .expect("GET is answered"),
    )
    .await
}

/// Books and expects 201; returns the answer.
async fn create(app: &TestApp, body: &Value) -> Value {
    let (status, answer) = post_json(app, "/api/v1/reservations", body).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "booking {body} answered {answer}"
    );
    assert_eq!(answer["status"], "confirmed", "{answer}");
    answer
}

/// The id of a reservation in a command's answer.
fn id_of(answer: &Value) -> String {
    answer["reservation_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no reservation_id in {answer}"))
        .to_owned()
}

fn reservation_path(id: &str) -> String {
    format!("/api/v1/reservations/{id}")
}

/// Asserts an error answer: its status, its `error` code and a non-empty `message`.
fn assert_error(actual: (StatusCode, Value), status: StatusCode, code: &str, context: &str) {
    let (actual_status, body) = actual;
    assert_eq!(
        actual_status, status,
        "{context}: expected {status} {code}, got {actual_status} {body}"
    );
    assert_eq!(body["error"], code, "{context}: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{context}: the error has no message: {body}"
    );
}

/// Expects a 422 with `code` for booking `body`.
async fn expect_refusal(app: &TestApp, body: &Value, code: &str) {
    let outcome = post_json(app, "/api/v1/reservations", body).await;
    assert_error(
        outcome,
        StatusCode::UNPROCESSABLE_ENTITY,
        code,
        &format!("booking {body}"),
    );
}

/// The price the simulator charges: rate × nights less 10 % from 7 nights, 20 % from 30.
fn expected_price(nightly_rate: i64, nights: i64) -> Value {
    let subtotal = nightly_rate * nights;
    let percent = match nights {
        n if n >= 30 => 20,
        n if n >= 7 => 10,
        _ => 0,
    };
    let discount = subtotal * percent / 100;
    json!({
        "nights": nights,
        "nightly_rate_minor": nightly_rate,
        "subtotal_minor": subtotal,
        "discount_percent": percent,
        "discount_minor": discount,
        "total_minor": subtotal - discount,
        "currency": "EUR",
    })
}

/// Generates the SQLite and PostgreSQL tests of one scenario.
macro_rules! both_stores {
    ($scenario:ident => $sqlite:ident, $postgres:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $sqlite() {
            $scenario(StoreKind::Sqlite).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $postgres() {
            $scenario(StoreKind::Postgres).await;
        }
    };
}

// ---------------------------------------------------------------------------------------------
// 1. The README walk-through, and a restart
// ---------------------------------------------------------------------------------------------

async fn readme_walkthrough(kind: StoreKind) {
    let (app, options, _dir) = start(kind).await;

    // 7 nights in a standard room: 10 % off.
    let week = create(
        &app,
        &booking("ana@example.com", "standard", &day(10), &day(17), 2),
    )
    .await;
    assert_eq!(week["price"], expected_price(9_000, 7), "{week}");
    assert_eq!(week["price"]["total_minor"], 56_700);
    assert_eq!(week["room_type"], "standard");
    assert_eq!(week["check_in"], day(10));
    assert_eq!(week["check_out"], day(17));
    assert_eq!(week["guests"], 2);
    assert!(
        week["pms_ref"].as_str().is_some_and(|r| !r.is_empty()),
        "a confirmed booking has a PMS reference: {week}"
    );
    let week_id = id_of(&week);

    // 30 nights: 20 % off (the tier the old system never reached).
    let month = create(
        &app,
        &booking("bruno@example.com", "double", &day(20), &day(50), 2),
    )
    .await;
    assert_eq!(month["price"], expected_price(12_000, 30), "{month}");
    assert_eq!(month["price"]["discount_percent"], 20);
    assert_eq!(month["price"]["total_minor"], 288_000);
    assert_ne!(id_of(&month), week_id);

    // 91 nights: refused.
    expect_refusal(
        &app,
        &booking("carla@example.com", "standard", &day(10), &day(101), 2),
        "stay_too_long",
    )
    .await;

    // The read model shows the booking as it was answered.
    let (status, row) = get_json(&app, &reservation_path(&week_id)).await;
    assert_eq!(status, StatusCode::OK, "{row}");
    assert_eq!(row["reservation_id"], week_id.as_str());
    assert_eq!(row["tenant_id"], TENANT);
    assert_eq!(row["guest_ref"], "ana@example.com");
    assert_eq!(row["status"], "confirmed");
    assert_eq!(row["room_type"], "standard");
    assert_eq!(row["check_in"], day(10));
    assert_eq!(row["check_out"], day(17));
    assert_eq!(row["nights"], 7);
    assert_eq!(row["guests"], 2);
    assert_eq!(row["nightly_rate_minor"], 9_000);
    assert_eq!(row["subtotal_minor"], 63_000);
    assert_eq!(row["discount_percent"], 10);
    assert_eq!(row["discount_minor"], 6_300);
    assert_eq!(row["total_minor"], 56_700);
    assert_eq!(row["currency"], "EUR");
    assert_eq!(row["pms_ref"], week["pms_ref"]);
    assert_eq!(row["rejection_reason"], Value::Null);

    // A restart keeps everything.
    app.stop().await;
    let app = TestApp::spawn_with_clock(&options, fixed_clock()).await;
    let (status, after) = get_json(&app, &reservation_path(&week_id)).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(after, row, "the row changed across a restart");
    let (status, month_row) = get_json(&app, &reservation_path(&id_of(&month))).await;
    assert_eq!(status, StatusCode::OK, "{month_row}");
    assert_eq!(month_row["total_minor"], 288_000);

    // And the restarted service still takes bookings, with fresh PMS references.
    let later = create(
        &app,
        &booking("dora@example.com", "standard", &day(10), &day(12), 1),
    )
    .await;
    assert_ne!(later["pms_ref"], week["pms_ref"], "PMS references repeat");
    assert_ne!(later["pms_ref"], month["pms_ref"], "PMS references repeat");
    app.stop().await;
}

both_stores!(readme_walkthrough =>
    readme_discounts_and_stay_limit_survive_restart_sqlite,
    readme_discounts_and_stay_limit_survive_restart_postgres);

// ---------------------------------------------------------------------------------------------
// 2. Every refusal code and every malformed request through HTTP
// ---------------------------------------------------------------------------------------------

async fn refusals(kind: StoreKind) {
    let (app, _options, _dir) = start(kind).await;
    let email = "eva@example.com";

    // The boundaries that are accepted, so each refusal below is about the one thing it changes.
    create(&app, &booking(email, "standard", &day(0), &day(1), 1)).await;
    create(&app, &booking(email, "standard", &day(365), &day(366), 10)).await;
    create(&app, &booking(email, "standard", &day(30), &day(120), 2)).await;

    let cases = [
        (
            booking(email, "standard", &days_ago(1), &day(2), 2),
            "check_in_in_past",
        ),
        (
            booking(email, "standard", &day(5), &day(5), 2),
            "check_out_not_after_check_in",
        ),
        (
            booking(email, "standard", &day(6), &day(5), 2),
            "check_out_not_after_check_in",
        ),
        (
            booking(email, "standard", &day(5), &day(96), 2),
            "stay_too_long",
        ),
        (
            booking(email, "standard", &day(366), &day(367), 2),
            "booking_too_far_ahead",
        ),
        (booking(email, "standard", &day(5), &day(7), 0), "no_guests"),
        (
            booking(email, "standard", &day(5), &day(7), 11),
            "too_many_guests",
        ),
        (
            booking("ana@localhost", "standard", &day(5), &day(7), 2),
            "invalid_email",
        ),
        (
            booking("not-an-email", "standard", &day(5), &day(7), 2),
            "invalid_email",
        ),
        (
            booking(BLACKLISTED, "standard", &day(5), &day(7), 2),
            "guest_blacklisted",
        ),
        (
            booking("Blocked.Guest@Example.com", "standard", &day(5), &day(7), 2),
            "guest_blacklisted",
        ),
        (
            booking(email, "penthouse", &day(5), &day(7), 2),
            "room_unavailable",
        ),
    ];
    for (body, code) in &cases {
        expect_refusal(&app, body, code).await;
    }

    let mut bad_phone = booking(email, "standard", &day(5), &day(7), 2);
    bad_phone["guest"]["phone"] = json!("600 123 456");
    expect_refusal(&app, &bad_phone, "invalid_phone").await;

    // The blacklist is per hotel: hotel-sol has none.
    create(
        &app,
        &booking_for(TENANT_SOL, BLACKLISTED, "standard", &day(5), &day(7), 2),
    )
    .await;

    // The five-active limit: eva already holds 3, so 2 more pass and the 6th is refused.
    create(&app, &booking(email, "double", &day(5), &day(7), 2)).await;
    create(&app, &booking(email, "double", &day(8), &day(9), 2)).await;
    expect_refusal(
        &app,
        &booking(email, "double", &day(10), &day(12), 2),
        "too_many_active_reservations",
    )
    .await;
    // The same guest spelt differently is still the same guest.
    expect_refusal(
        &app,
        &booking("EVA@Example.com", "double", &day(10), &day(12), 2),
        "too_many_active_reservations",
    )
    .await;

    // Malformed requests are 400 malformed_request, never 422.
    let path = "/api/v1/reservations";
    let valid = booking("fede@example.com", "standard", &day(5), &day(7), 2);
    assert_error(
        post_raw(
            &app,
            path,
            "application/json",
            r#"{"tenant_id": "hotel-luna", "#,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "malformed_request",
        "truncated JSON",
    );
    let mut missing = valid.clone();
    missing.as_object_mut().unwrap().remove("check_out");
    assert_error(
        post_json(&app, path, &missing).await,
        StatusCode::BAD_REQUEST,
        "malformed_request",
        "missing check_out",
    );
    let mut missing_guest_field = valid.clone();
    missing_guest_field["guest"]
        .as_object_mut()
        .unwrap()
        .remove("email");
    assert_error(
        post_json(&app, path, &missing_guest_field).await,
        StatusCode::BAD_REQUEST,
        "malformed_request",
        "missing guest.email",
    );
    let mut wrong_type = valid.clone();
    wrong_type["guests"] = json!("two");
    assert_error(
        post_json(&app, path, &wrong_type).await,
        StatusCode::BAD_REQUEST,
        "malformed_request",
        "guests is a string",
    );
    let mut negative = valid.clone();
    negative["guests"] = json!(-1);
    assert_error(
        post_json(&app, path, &negative).await,
        StatusCode::BAD_REQUEST,
        "malformed_request",
        "negative guests",
    );
    let mut bad_date = valid.clone();
    bad_date["check_in"] = json!("2026-13-01");
    assert_error(
        post_json(&app, path, &bad_date).await,
        StatusCode::BAD_REQUEST,
        "malformed_request",
        "month 13",
    );
    let mut unknown_field = valid.clone();
    unknown_field["discount"] = json!(100);
    assert_error(
        post_json(&app, path, &unknown_field).await,
        StatusCode::BAD_REQUEST,
        "malformed_request",
        "unknown field",
    );
    assert_error(
        post_raw(&app, path, "text/plain", &valid.to_string()).await,
        StatusCode::BAD_REQUEST,
        "malformed_request",
        "text/plain body",
    );
    let no_content_type = app
        .http
        .post(app.url(path))
        .body(valid.to_string())
        .send()
        .await
        .expect("POST is answered");
    assert_error(
        answer(no_content_type).await,
        StatusCode::BAD_REQUEST,
        "malformed_request",
        "no content type",
    );
    let mut bad_tenant = valid.clone();
    bad_tenant["tenant_id"] = json!("Hotel Luna");
    assert_error(
        post_json(&app, path, &bad_tenant).await,
        StatusCode::BAD_REQUEST,
        "invalid_tenant",
        "tenant with a space and capitals",
    );

    // None of the refused or malformed requests booked anything for fede.
    let fede = create(&app, &valid).await;
    assert_eq!(fede["price"], expected_price(9_000, 2));

    // Unknown and non-UUID reservation ids.
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_error(
        get_json(&app, &reservation_path(&unknown)).await,
        StatusCode::NOT_FOUND,
        "not_found",
        "GET of an unknown id",
    );
    assert_error(
        get_json(&app, &format!("{}/events", reservation_path(&unknown))).await,
        StatusCode::NOT_FOUND,
        "not_found",
        "events of an unknown id",
    );
    assert_error(
        post_json(
            &app,
            &format!("{}/cancel", reservation_path(&unknown)),
            &json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
        "cancel of an unknown id",
    );
    assert_error(
        post_json(
            &app,
            &format!("{}/modify", reservation_path(&unknown)),
            &json!({ "guests": 1 }),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
        "modify of an unknown id",
    );
    assert_error(
        get_json(&app, &reservation_path("not-a-uuid")).await,
        StatusCode::BAD_REQUEST,
        "invalid_id",
        "GET of a non-UUID id",
    );
    assert_error(
        post_json(
            &app,
            &format!("{}/cancel", reservation_path("42")),
            &json!({}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_id",
        "cancel of a non-UUID id",
    );
    assert_error(
        get_json(&app, "/api/v1/nothing-here").await,
        StatusCode::NOT_FOUND,
        "not_found",
        "unknown endpoint",
    );
    app.stop().await;
}

both_stores!(refusals =>
    every_refusal_is_422_with_its_code_and_malformed_requests_are_400_sqlite,
    every_refusal_is_422_with_its_code_and_malformed_requests_are_400_postgres);

// ---------------------------------------------------------------------------------------------
// 3. Cancellation
// ---------------------------------------------------------------------------------------------

async fn cancellation(kind: StoreKind) {
    let (app, _options, _dir) = start(kind).await;
    let created = create(
        &app,
        &booking("gala@example.com", "king", &day(3), &day(6), 2),
    )
    .await;
    let id = id_of(&created);
    let cancel = format!("{}/cancel", reservation_path(&id));

    let (status, cancelled) =
        post_json(&app, &cancel, &json!({ "reason": "change of plans" })).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["reservation_id"], id.as_str());
    assert_eq!(cancelled["fee_minor"], 0, "three days ahead it is free");

    let (status, row) = get_json(&app, &reservation_path(&id)).await;
    assert_eq!(status, StatusCode::OK, "{row}");
    assert_eq!(row["status"], "cancelled");
    assert_eq!(row["check_in"], day(3), "cancelling keeps the terms");

    assert_error(
        post_json(&app, &cancel, &json!({})).await,
        StatusCode::CONFLICT,
        "already_cancelled",
        "second cancellation",
    );
    // A cancelled reservation cannot be modified either.
    assert_error(
        post_json(
            &app,
            &format!("{}/modify", reservation_path(&id)),
            &json!({ "guests": 1 }),
        )
        .await,
        StatusCode::CONFLICT,
        "already_cancelled",
        "modifying a cancelled reservation",
    );
    let (_, still) = get_json(&app, &reservation_path(&id)).await;
    assert_eq!(still["status"], "cancelled");
    assert_eq!(still["last_sequence"], row["last_sequence"]);

    // Cancelling without a body works too.
    let other = id_of(
        &create(
            &app,
            &booking("hugo@example.com", "king", &day(3), &day(6), 1),
        )
        .await,
    );
    let response = app
        .http
        .post(app.url(&format!("{}/cancel", reservation_path(&other))))
        .send()
        .await
        .expect("POST is answered");
    let (status, body) = answer(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "cancelled");
    app.stop().await;
}

both_stores!(cancellation =>
    cancel_is_200_then_visible_then_409_already_cancelled_sqlite,
    cancel_is_200_then_visible_then_409_already_cancelled_postgres);

/// Inside the hotel's free-cancellation window (48 h before the 15:00 arrival by default) a
/// cancellation costs the first night: the API states the fee and cancels only once the caller
/// accepts that exact amount.
async fn late_cancellation(kind: StoreKind) {
    let (app, _options, _dir) = start(kind).await;
    // Arriving tomorrow at 15:00, about 26 hours from now.
    let created = create(
        &app,
        &booking("iris@example.com", "double", &day(1), &day(3), 2),
    )
    .await;
    let id = id_of(&created);
    let first_night = created["price"]["nightly_rate_minor"].as_i64().unwrap();
    let cancel = format!("{}/cancel", reservation_path(&id));

    let (status, refused) = post_json(&app, &cancel, &json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["error"], "cancellation_fee_applies");
    assert_eq!(refused["fee_minor"], first_night, "{refused}");
    assert_eq!(refused["currency"], "EUR");
    assert!(refused["message"]
        .as_str()
        .unwrap()
        .contains("accept_fee_minor"));
    let (status, cheaper) = post_json(
        &app,
        &cancel,
        &json!({ "accept_fee_minor": first_night - 1 }),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "less than the fee is not accepting it"
    );
    assert_eq!(cheaper["fee_minor"], first_night);
    let (_, still) = get_json(&app, &reservation_path(&id)).await;
    assert_eq!(still["status"], "confirmed", "nothing was cancelled yet");

    let (status, cancelled) =
        post_json(&app, &cancel, &json!({ "accept_fee_minor": first_night })).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["fee_minor"], first_night);
    // Analysts read the fee from the `reservations` table.
    let (_, row) = get_json(&app, &reservation_path(&id)).await;
    assert_eq!(row["status"], "cancelled");
    assert_eq!(row["cancellation_fee_minor"], first_night, "{row}");
    app.stop().await;
}

both_stores!(late_cancellation =>
    a_late_cancellation_states_its_fee_and_waits_for_it_to_be_accepted_sqlite,
    a_late_cancellation_states_its_fee_and_waits_for_it_to_be_accepted_postgres);

// ---------------------------------------------------------------------------------------------
// 4. Modification
// ---------------------------------------------------------------------------------------------

async fn modification(kind: StoreKind) {
    let (app, _options, _dir) = start(kind).await;
    let created = create(
        &app,
        &booking("iris@example.com", "double", &day(10), &day(12), 2),
    )
    .await;
    assert_eq!(created["price"], expected_price(12_000, 2));
    let id = id_of(&created);
    let modify = format!("{}/modify", reservation_path(&id));

    // 2 nights → 7 nights: the guest pays the difference.
    let (status, modified) = post_json(&app, &modify, &json!({ "check_out": day(17) })).await;
    assert_eq!(status, StatusCode::OK, "{modified}");
    assert_eq!(modified["price"], expected_price(12_000, 7));
    let old_total = created["price"]["total_minor"].as_i64().unwrap();
    let new_total = modified["price"]["total_minor"].as_i64().unwrap();
    assert_eq!(new_total, 75_600);
    assert_eq!(modified["price_difference_minor"], new_total - old_total);
    assert_eq!(modified["price_difference_minor"], 51_600);
    assert_eq!(modified["settlement"], "guest_pays");
    assert_eq!(modified["check_in"], day(10));
    assert_eq!(modified["check_out"], day(17));
    assert_eq!(modified["status"], "confirmed");
    assert_eq!(modified["pms_ref"], created["pms_ref"]);

    let (status, row) = get_json(&app, &reservation_path(&id)).await;
    assert_eq!(status, StatusCode::OK, "{row}");
    assert_eq!(row["check_in"], day(10));
    assert_eq!(row["check_out"], day(17));
    assert_eq!(row["nights"], 7);
    assert_eq!(row["total_minor"], 75_600);
    assert_eq!(row["discount_percent"], 10);
    assert_eq!(row["status"], "confirmed");

    let (_, trail_before) = get_json(&app, &format!("{}/events", reservation_path(&id))).await;
    let events_before = trail_before.as_array().expect("events array").len();

    // 91 nights: refused, and nothing changes.
    assert_error(
        post_json(&app, &modify, &json!({ "check_out": day(101) })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "stay_too_long",
        "modify to 91 nights",
    );
    // Other rules are re-checked too.
    assert_error(
        post_json(&app, &modify, &json!({ "check_in": days_ago(1) })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "check_in_in_past",
        "modify to a past check-in",
    );
    assert_error(
        post_json(&app, &modify, &json!({ "guests": 11 })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "too_many_guests",
        "modify to 11 guests",
    );
    assert_error(
        post_json(&app, &modify, &json!({ "room_type": "penthouse" })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "room_unavailable",
        "modify to an unknown room type",
    );
    assert_error(
        post_json(&app, &modify, &json!({ "check_out": "tomorrow" })).await,
        StatusCode::BAD_REQUEST,
        "malformed_request",
        "modify with a date that is not a date",
    );
    let (status, unchanged) = get_json(&app, &reservation_path(&id)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        unchanged, row,
        "a refused modification changed the reservation"
    );
    let (_, trail_after) = get_json(&app, &format!("{}/events", reservation_path(&id))).await;
    assert_eq!(
        trail_after.as_array().expect("events array").len(),
        events_before,
        "a refused modification left events: {trail_after}"
    );

    // Shorter and cheaper: a refund.
    let (status, shorter) = post_json(
        &app,
        &modify,
        &json!({ "check_out": day(11), "room_type": "standard", "guests": 1 }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{shorter}");
    assert_eq!(shorter["price"], expected_price(9_000, 1));
    assert_eq!(shorter["price_difference_minor"], 9_000 - 75_600);
    assert_eq!(shorter["settlement"], "refund");
    assert_eq!(shorter["room_type"], "standard");
    assert_eq!(shorter["guests"], 1);

    // The same terms again: nothing to settle.
    let (status, same) = post_json(&app, &modify, &json!({ "guests": 1 })).await;
    assert_eq!(status, StatusCode::OK, "{same}");
    assert_eq!(same["price_difference_minor"], 0);
    assert_eq!(same["settlement"], "none");

    let (_, row) = get_json(&app, &reservation_path(&id)).await;
    assert_eq!(row["room_type"], "standard");
    assert_eq!(row["check_out"], day(11));
    assert_eq!(row["total_minor"], 9_000);
    app.stop().await;
}

both_stores!(modification =>
    modify_states_the_price_difference_and_refused_modify_changes_nothing_sqlite,
    modify_states_the_price_difference_and_refused_modify_changes_nothing_postgres);

// ---------------------------------------------------------------------------------------------
// 5. The audit trail
// ---------------------------------------------------------------------------------------------

fn meta<'a>(event: &'a Value, key: &str) -> &'a str {
    event["metadata"][key]
        .as_str()
        .unwrap_or_else(|| panic!("event has no metadata {key}: {event}"))
}

async fn audit_trail(kind: StoreKind) {
    let (app, _options, _dir) = start(kind).await;
    // Maria's key acts; the header claiming someone else is the caller's word, not proof.
    let maria = app.client_as("maria", Role::Staff, Some(TENANT)).await;
    let forged = "staff:director";
    let (status, created) = post_json_forging_actor(
        &maria,
        &app,
        "/api/v1/reservations",
        &booking("julia@example.com", "double", &day(4), &day(6), 2),
        forged,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = id_of(&created);
    let (status, body) = post_json_forging_actor(
        &maria,
        &app,
        &format!("{}/modify", reservation_path(&id)),
        &json!({ "check_out": day(8) }),
        forged,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = post_json_forging_actor(
        &maria,
        &app,
        &format!("{}/cancel", reservation_path(&id)),
        &json!({ "reason": "guest called" }),
        forged,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, trail) = get_json(&app, &format!("{}/events", reservation_path(&id))).await;
    assert_eq!(status, StatusCode::OK, "{trail}");
    let events = trail.as_array().expect("events array");
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "ReservationRequested",
            "ReservationConfirmed",
            "ReservationModificationRequested",
            "ReservationModified",
            "ReservationCancelled",
        ],
        "{trail}"
    );

    let sequences: Vec<i64> = events
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(sequences, (1..=events.len() as i64).collect::<Vec<_>>());
    let positions: Vec<i64> = events
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "positions are not strictly increasing: {positions:?}"
    );

    let mut event_ids = HashSet::new();
    for event in events {
        let event_id = uuid::Uuid::parse_str(meta(event, "event_id")).expect("event_id is a UUID");
        assert_eq!(event_id.get_version_num(), 7, "event_id is not a UUIDv7");
        assert!(event_ids.insert(event_id), "event_id repeats: {trail}");
        assert_eq!(event["event_version"], "1");
        assert_eq!(meta(event, "tenant_id"), TENANT);
        assert_eq!(meta(event, "source_ip"), "127.0.0.1");
        uuid::Uuid::parse_str(meta(event, "correlation_id")).expect("correlation_id is a UUID");
        uuid::Uuid::parse_str(meta(event, "causation_id")).expect("causation_id is a UUID");
        assert!(!meta(event, "recorded_at").is_empty());
        let recorded_at: DateTime<Utc> =
            serde_json::from_value(event["recorded_at"].clone()).expect("recorded_at is a time");
        assert!(recorded_at <= Utc::now());
        // The booking process confirms inline with the request's metadata, and its catch-up
        // subscription may (rarely) get there first, as system:booking-process on the same
        // correlation. Every other event is written by the request itself.
        let by_process = event["event_type"] == "ReservationConfirmed"
            && meta(event, "actor") == "system:booking-process";
        if by_process {
            assert_eq!(meta(event, "channel"), "system", "{event}");
        } else {
            assert_eq!(meta(event, "actor"), "staff:maria", "{event}");
            assert_eq!(meta(event, "channel"), "api", "{event}");
        }
    }

    // One correlation per request, shared by the events it produced, distinct across requests.
    let correlation = |i: usize| meta(&events[i], "correlation_id").to_owned();
    assert_eq!(correlation(0), correlation(1), "create: {trail}");
    assert_eq!(correlation(2), correlation(3), "modify: {trail}");
    let distinct: HashSet<String> = [correlation(0), correlation(2), correlation(4)].into();
    assert_eq!(distinct.len(), 3, "requests share a correlation: {trail}");

    // The payloads carry what happened.
    assert_eq!(
        events[1]["payload"]["ReservationConfirmed"]["pms_ref"], created["pms_ref"],
        "{trail}"
    );
    assert_eq!(
        events[3]["payload"]["ReservationModified"]["price_difference_minor"],
        expected_price(12_000, 4)["total_minor"].as_i64().unwrap()
            - expected_price(12_000, 2)["total_minor"].as_i64().unwrap(),
        "{trail}"
    );
    assert_eq!(
        events[4]["payload"]["ReservationCancelled"]["reason"],
        "guest called"
    );

    // The first admin key acts as admin:admin.
    let anonymous = create(
        &app,
        &booking("kai@example.com", "double", &day(4), &day(6), 2),
    )
    .await;
    let (_, trail) = get_json(
        &app,
        &format!("{}/events", reservation_path(&id_of(&anonymous))),
    )
    .await;
    let first = &trail.as_array().expect("events array")[0];
    assert_eq!(first["event_type"], "ReservationRequested");
    assert_eq!(meta(first, "actor"), "admin:admin");
    assert_eq!(meta(first, "channel"), "api");
    app.stop().await;
}

both_stores!(audit_trail =>
    events_trail_is_ordered_with_actor_channel_correlation_and_unique_ids_sqlite,
    events_trail_is_ordered_with_actor_channel_correlation_and_unique_ids_postgres);

// ---------------------------------------------------------------------------------------------
// 6. Five active reservations per guest, under concurrency
// ---------------------------------------------------------------------------------------------

async fn five_active_limit(kind: StoreKind) {
    let (app, _options, _dir) = start(kind).await;
    let email = "lena@example.com";
    let mut held = Vec::new();
    for i in 0..4 {
        let created = create(
            &app,
            &booking(email, "standard", &day(10 + 3 * i), &day(12 + 3 * i), 2),
        )
        .await;
        held.push(id_of(&created));
    }

    // Ten concurrent requests for the fifth slot, some with the e-mail spelt differently.
    let attempts = (0..10u64).map(|i| {
        let spelling = if i % 2 == 0 {
            email.to_owned()
        } else {
            email.to_uppercase()
        };
        let body = booking(&spelling, "standard", &day(40 + i), &day(42 + i), 2);
        let app = &app;
        async move { post_json(app, "/api/v1/reservations", &body).await }
    });
    let outcomes = futures::future::join_all(attempts).await;
    let mut by_status: HashMap<StatusCode, Vec<&Value>> = HashMap::new();
    for (status, body) in &outcomes {
        by_status.entry(*status).or_default().push(body);
    }
    let created = by_status
        .get(&StatusCode::CREATED)
        .cloned()
        .unwrap_or_default();
    let refused = by_status
        .get(&StatusCode::UNPROCESSABLE_ENTITY)
        .cloned()
        .unwrap_or_default();
    assert_eq!(created.len(), 1, "exactly one wins: {outcomes:?}");
    assert_eq!(refused.len(), 9, "nine are refused: {outcomes:?}");
    for body in &refused {
        assert_eq!(body["error"], "too_many_active_reservations", "{body}");
    }
    let fifth = id_of(created[0]);
    let (status, row) = get_json(&app, &reservation_path(&fifth)).await;
    assert_eq!(status, StatusCode::OK, "{row}");
    assert_eq!(row["status"], "confirmed");
    assert_eq!(row["guest_ref"], email);

    // Still full.
    expect_refusal(
        &app,
        &booking(email, "standard", &day(60), &day(61), 2),
        "too_many_active_reservations",
    )
    .await;

    // Cancelling one frees exactly one slot.
    let (status, body) = post_json(
        &app,
        &format!("{}/cancel", reservation_path(&held[0])),
        &json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    create(&app, &booking(email, "standard", &day(60), &day(61), 2)).await;
    expect_refusal(
        &app,
        &booking(email, "standard", &day(62), &day(63), 2),
        "too_many_active_reservations",
    )
    .await;

    // Another guest is not affected.
    create(
        &app,
        &booking("otto@example.com", "standard", &day(60), &day(61), 2),
    )
    .await;
    app.stop().await;
}

both_stores!(five_active_limit =>
    ten_concurrent_bookings_for_the_fifth_slot_yield_one_201_and_nine_422_sqlite,
    ten_concurrent_bookings_for_the_fifth_slot_yield_one_201_and_nine_422_postgres);

// ---------------------------------------------------------------------------------------------
// 7. Room inventory
// ---------------------------------------------------------------------------------------------

async fn inventory(kind: StoreKind) {
    let (app, _options, _dir) = start(kind).await;
    let guests = ["a@example.com", "b@example.com", "c@example.com"];
    let mut suites = Vec::new();
    for (i, email) in guests.iter().enumerate() {
        // Overlapping stays: all three share the nights of day 12 and 13.
        let i = i as u64;
        let created = create(
            &app,
            &booking(email, "suite", &day(10 + i), &day(14 + i), 2),
        )
        .await;
        assert_eq!(created["price"]["nightly_rate_minor"], 30_000);
        suites.push(id_of(&created));
    }
    let fourth = booking("d@example.com", "suite", &day(12), &day(13), 2);
    expect_refusal(&app, &fourth, "room_unavailable").await;

    // Other room types, other nights and other hotels are free.
    create(
        &app,
        &booking("d@example.com", "king", &day(12), &day(13), 2),
    )
    .await;
    create(
        &app,
        &booking("e@example.com", "suite", &day(16), &day(18), 2),
    )
    .await;
    create(
        &app,
        &booking_for(TENANT_SOL, "f@example.com", "suite", &day(12), &day(13), 2),
    )
    .await;

    // A cancellation gives the room back.
    let (status, body) = post_json(
        &app,
        &format!("{}/cancel", reservation_path(&suites[1])),
        &json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    create(&app, &fourth).await;
    expect_refusal(
        &app,
        &booking("g@example.com", "suite", &day(12), &day(13), 2),
        "room_unavailable",
    )
    .await;
    app.stop().await;
}

both_stores!(inventory =>
    fourth_overlapping_suite_is_room_unavailable_until_one_is_cancelled_sqlite,
    fourth_overlapping_suite_is_room_unavailable_until_one_is_cancelled_postgres);

// ---------------------------------------------------------------------------------------------
// 8. Health
// ---------------------------------------------------------------------------------------------

async fn health(kind: StoreKind) {
    let (app, _options, _dir) = start(kind).await;
    let (status, live) = get_json(&app, "/health/live").await;
    assert_eq!(status, StatusCode::OK, "{live}");
    assert_eq!(live["status"], "live");
    let (status, ready) = get_json(&app, "/health/ready").await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    let store = match kind {
        StoreKind::Sqlite => "sqlite",
        StoreKind::Postgres => "postgres",
    };
    assert_eq!(ready, json!({ "status": "ready", "store": store }));
    app.stop().await;
}

both_stores!(health =>
    health_live_and_ready_name_the_store_sqlite,
    health_live_and_ready_name_the_store_postgres);

/// A wrong method and an oversized body are refused in the API's error shape, with their own
/// statuses (they were an empty 405 and a 400).
#[tokio::test]
async fn wrong_methods_and_oversized_bodies_get_json_errors() {
    let (app, _options, _dir) = start(StoreKind::Sqlite).await;
    let response = app
        .http
        .delete(app.url("/api/v1/messages"))
        .send()
        .await
        .unwrap();
    let (status, body) = answer(response).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["error"], "method_not_allowed");
    let huge = format!(
        r#"{{"tenant_id":"default","channel":"api","guest":"g1","provider_message_id":"m1","text":"{}"}}"#,
        "a".repeat(10 * 1024 * 1024)
    );
    let (status, body) = post_raw(&app, "/api/v1/messages", "application/json", &huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["error"], "payload_too_large");
    app.stop().await;
}
