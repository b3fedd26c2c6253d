//! Who "the guest" is for the five-active limit and the blacklist: the mailbox of the e-mail and
//! the E.164 phone, taken from the reservation, never the `guest_ref` the caller sends.
//!
//! Every scenario runs on the real service against a fresh SQLite file and a fresh PostgreSQL
//! database (`both_stores!`). "Now" is fixed at 2026-11-22T12:00Z, 2026-11-22 in every hotel.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Days, NaiveDate, TimeZone, Utc};
use conserje_commands::reservation_desk::NewReservation;
use conserje_commands::CommandError;
use conserje_domain::guest::{Guest, GuestCommand, GuestServices};
use conserje_domain::journal::AggregateStore;
use conserje_domain::metadata::Actor;
use conserje_domain::ports::Clock;
use conserje_domain::reservation::{
    RejectionReason, ReservationCommand, ReservationRequest, ReservationStatus,
};
use conserje_domain::values::{GuestRef, TenantId};
use conserje_domain::EventMetadata;
use conserje_infra::config::ConfigFile;
use conserje_infra::event_store::SqlAggregateStore;
use conserje_infra::hotels::HotelRegistry;
use conserje_tests::{eventually, fresh_store, FixedClock, StoreKind, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;
use uuid::Uuid;

/// Not named in the configuration, so it gets `[hotels.default]`, whose blacklist holds
/// `blocked.guest@example.com`.
const TENANT: &str = "hotel-luna";
const ANA: &str = "ana@example.com";
const ANA_PHONE: &str = "+34 600 123 456";
/// The stream ids of Ana's limit (see `conserje_domain::guest::guest_stream_ids`).
const ANA_EMAIL_STREAM: &str = "hotel-luna/email:ana@example.com";
const ANA_PHONE_STREAM: &str = "hotel-luna/phone:+34600123456";
const OTTO: &str = "otto@example.com";
const OTTO_PHONE: &str = "+34 611 222 333";
const LIMIT_CODE: &str = "too_many_active_reservations";

fn fixed_clock() -> Arc<dyn Clock> {
    Arc::new(FixedClock(
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap(),
    ))
}

fn day(offset: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap() + Days::new(offset)
}

async fn start(kind: StoreKind) -> (TestApp, TempDir) {
    let (options, dir) = fresh_store(kind).await;
    let app = TestApp::spawn_with_clock(&options, fixed_clock()).await;
    (app, dir)
}

/// Two nights from `from` days ahead in a standard room (20 in stock, so never sold out here).
fn booking(email: &str, phone: &str, guest_ref: Option<&str>, from: u64) -> Value {
    let mut guest = json!({ "name": "Ana Pérez", "email": email, "phone": phone });
    if let Some(guest_ref) = guest_ref {
        guest["guest_ref"] = json!(guest_ref);
    }
    json!({
        "tenant_id": TENANT,
        "guest": guest,
        "room_type": "standard",
        "check_in": day(from),
        "check_out": day(from + 2),
        "guests": 2,
    })
}

async fn post(app: &TestApp, path: &str, body: &Value) -> (StatusCode, Value) {
    let response = app
        .http
        .post(app.url(path))
        .json(body)
        .send()
        .await
        .expect("POST is answered");
    let status = response.status();
    let body = response.json().await.expect("a JSON answer");
    (status, body)
}

/// Books `body`, expects a confirmed reservation and returns its id.
async fn create(app: &TestApp, body: &Value) -> Uuid {
    let (status, answer) = post(app, "/api/v1/reservations", body).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "booking {body} answered {answer}"
    );
    assert_eq!(answer["status"], "confirmed", "{answer}");
    answer["reservation_id"]
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok())
        .unwrap_or_else(|| panic!("no reservation_id in {answer}"))
}

/// Books `body` and expects a 422 with `code`.
async fn refused(app: &TestApp, body: &Value, code: &str, why: &str) {
    let (status, answer) = post(app, "/api/v1/reservations", body).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
        "{why}: booking {body} answered {answer}"
    );
}

async fn cancel(app: &TestApp, id: Uuid) {
    let (status, answer) = post(
        app,
        &format!("/api/v1/reservations/{id}/cancel"),
        &json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "cancel answered {answer}");
}

/// The `Guest` streams of the service's store, read directly.
fn guest_store(app: &TestApp) -> SqlAggregateStore<Guest> {
    let config = ConfigFile::load(None).expect("the built-in configuration");
    let services = GuestServices {
        clock: fixed_clock(),
        hotels: Arc::new(HotelRegistry::new(config.hotels)),
    };
    SqlAggregateStore::new(&app.runtime.db, services)
}

/// The reservations held on one guest stream, with their check-outs.
async fn holds(store: &SqlAggregateStore<Guest>, stream: &str) -> BTreeMap<Uuid, NaiveDate> {
    store.load(stream).await.expect("the stream loads").holds
}

fn meta() -> EventMetadata {
    EventMetadata::new(
        TenantId::parse(TENANT).unwrap(),
        Actor::staff("test"),
        "api",
    )
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
// The limit goes by the mailbox and by the phone
// ---------------------------------------------------------------------------------------------

async fn the_limit_goes_by_mailbox_and_phone(kind: StoreKind) {
    let (app, _dir) = start(kind).await;
    let guests = guest_store(&app);

    // Ana books five, all labelled with Otto's ref: the caller's label is kept on each
    // reservation, but it is not whom they count for.
    let mut anas = Vec::new();
    for i in 0..5 {
        anas.push(create(&app, &booking(ANA, ANA_PHONE, Some(OTTO), 10 + 3 * i)).await);
    }
    let (status, row) = get(&app, anas[0]).await;
    assert_eq!(status, StatusCode::OK, "{row}");
    assert_eq!(row["guest_ref"], OTTO, "the hotel's label stays: {row}");
    for stream in [ANA_EMAIL_STREAM, ANA_PHONE_STREAM] {
        let held: Vec<Uuid> = holds(&guests, stream).await.into_keys().collect();
        let mut expected = anas.clone();
        expected.sort();
        assert_eq!(held, expected, "each of Ana's five is held on {stream}");
    }

    // A sixth: another spelling of her mailbox, under a ref of her own invention and with
    // another phone, is still Ana (the e-mail's stream refuses).
    refused(
        &app,
        &booking(
            "Ana+spam@Example.com",
            "+34 622 333 444",
            Some("ana-the-sixth"),
            40,
        ),
        LIMIT_CODE,
        "the same mailbox with a tag, a new ref and a new phone",
    )
    .await;
    refused(
        &app,
        &booking(ANA, "+34 622 333 444", None, 40),
        LIMIT_CODE,
        "the same e-mail with another phone",
    )
    .await;
    // A wholly new e-mail with her phone is still Ana (the phone's stream refuses).
    let new_mail = "ana.perez@example.org";
    refused(
        &app,
        &booking(new_mail, ANA_PHONE, Some(new_mail), 40),
        LIMIT_CODE,
        "a new e-mail with the same phone",
    )
    .await;
    // That refusal came after the new e-mail's stream had taken the hold: it was given back,
    // so the new address can still book five with a phone of its own.
    let new_mail_stream = "hotel-luna/email:ana.perez@example.org";
    assert!(
        holds(&guests, new_mail_stream).await.is_empty(),
        "the first stream's hold is released when the second refuses"
    );
    for i in 0..5 {
        create(
            &app,
            &booking(new_mail, "+34 633 444 555", None, 60 + 3 * i),
        )
        .await;
    }
    refused(
        &app,
        &booking(new_mail, "+34 633 444 555", None, 80),
        LIMIT_CODE,
        "the new address now has five of its own",
    )
    .await;

    // Otto, whose ref Ana used five times, is not locked out: the limit is not his ref's.
    create(&app, &booking(OTTO, OTTO_PHONE, None, 40)).await;
    create(&app, &booking(OTTO, OTTO_PHONE, Some(OTTO), 43)).await;

    // Cancelling one of Ana's frees one slot, on both of her streams.
    cancel(&app, anas[0]).await;
    for stream in [ANA_EMAIL_STREAM, ANA_PHONE_STREAM] {
        assert!(
            !holds(&guests, stream).await.contains_key(&anas[0]),
            "the cancelled reservation is released on {stream}"
        );
    }
    create(&app, &booking("ANA+again@example.com", ANA_PHONE, None, 46)).await;
    refused(
        &app,
        &booking(ANA, ANA_PHONE, None, 49),
        LIMIT_CODE,
        "the freed slot is taken again",
    )
    .await;
    app.stop().await;
}

both_stores!(the_limit_goes_by_mailbox_and_phone =>
    a_sixth_is_refused_by_mailbox_or_phone_whatever_the_ref_sqlite,
    a_sixth_is_refused_by_mailbox_or_phone_whatever_the_ref_postgres);

async fn get(app: &TestApp, id: Uuid) -> (StatusCode, Value) {
    let response = app
        .http
        .get(app.url(&format!("/api/v1/reservations/{id}")))
        .send()
        .await
        .expect("GET is answered");
    let status = response.status();
    (status, response.json().await.expect("a JSON answer"))
}

// ---------------------------------------------------------------------------------------------
// A modification moves the check-out on both streams
// ---------------------------------------------------------------------------------------------

async fn modification_reschedules_both_holds(kind: StoreKind) {
    let (app, _dir) = start(kind).await;
    let guests = guest_store(&app);
    let id = create(&app, &booking(ANA, ANA_PHONE, None, 10)).await;
    let (status, answer) = post(
        &app,
        &format!("/api/v1/reservations/{id}/modify"),
        &json!({ "check_out": day(15) }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "modify answered {answer}");
    for stream in [ANA_EMAIL_STREAM, ANA_PHONE_STREAM] {
        assert_eq!(
            holds(&guests, stream).await.get(&id),
            Some(&day(15)),
            "the new check-out on {stream}"
        );
    }
    app.stop().await;
}

both_stores!(modification_reschedules_both_holds =>
    a_modified_stay_is_rescheduled_on_the_mailbox_and_the_phone_sqlite,
    a_modified_stay_is_rescheduled_on_the_mailbox_and_the_phone_postgres);

// ---------------------------------------------------------------------------------------------
// A crash between the two holds
// ---------------------------------------------------------------------------------------------

/// The booking process crashed after holding a request on the e-mail's stream, before the
/// phone's (which refuses: Ana has five there). Settling it again must reject it *and* give the
/// e-mail's slot back, or the new address would keep a slot for a reservation that never was.
async fn a_crash_between_the_holds_is_finished_by_settling_again(kind: StoreKind) {
    let (app, _dir) = start(kind).await;
    let guests = guest_store(&app);
    for i in 0..5 {
        create(&app, &booking(ANA, ANA_PHONE, None, 10 + 3 * i)).await;
    }

    let zoe = "zoe@example.com";
    let zoe_stream = "hotel-luna/email:zoe@example.com";
    let id = Uuid::now_v7();
    let tenant = TenantId::parse(TENANT).unwrap();
    let request = ReservationRequest {
        reservation_id: id,
        tenant_id: tenant.clone(),
        guest_ref: GuestRef::parse(zoe).unwrap(),
        name: "Zoe".into(),
        email: zoe.into(),
        phone: ANA_PHONE.into(),
        room_type: "standard".into(),
        check_in: day(40),
        check_out: day(42),
        guests: 2,
        special_requests: None,
        conversation: None,
    };
    app.runtime
        .reservations
        .execute(
            &id.to_string(),
            ReservationCommand::Request(request),
            meta(),
        )
        .await
        .expect("the request is recorded");
    guests
        .execute(
            zoe_stream,
            GuestCommand::HoldReservation {
                tenant_id: tenant.clone(),
                reservation_id: id,
                check_out: day(42),
            },
            meta(),
        )
        .await
        .expect("the first hold");

    // Asking again under the same id settles it again, as replay of `ReservationRequested`
    // would (the booking subscription may be doing that concurrently: every step is idempotent).
    let again = NewReservation {
        tenant_id: tenant.clone(),
        guest_ref: Some(GuestRef::parse(zoe).unwrap()),
        name: "Zoe".into(),
        email: zoe.into(),
        phone: ANA_PHONE.into(),
        room_type: "standard".into(),
        check_in: day(40),
        check_out: day(42),
        guests: 2,
        special_requests: None,
        conversation: None,
    };
    match app.runtime.desk.request_as(id, again, meta()).await {
        Err(CommandError::Refused { code, .. }) => assert_eq!(code, LIMIT_CODE),
        other => panic!("expected the limit's refusal, got {other:?}"),
    }
    let reservation = app.runtime.desk.find(id).await.expect("the reservation");
    assert_eq!(reservation.status, ReservationStatus::Rejected);
    assert_eq!(
        reservation.rejection,
        Some(RejectionReason::TooManyActiveReservations)
    );
    eventually("the e-mail's hold is released", || async {
        holds(&guests, zoe_stream).await.is_empty()
    })
    .await;
    assert_eq!(holds(&guests, ANA_PHONE_STREAM).await.len(), 5);
    app.stop().await;
}

both_stores!(a_crash_between_the_holds_is_finished_by_settling_again =>
    a_hold_left_on_the_first_stream_is_released_when_the_second_refuses_sqlite,
    a_hold_left_on_the_first_stream_is_released_when_the_second_refuses_postgres);

// ---------------------------------------------------------------------------------------------
// The blacklist goes by the mailbox
// ---------------------------------------------------------------------------------------------

async fn the_blacklist_goes_by_mailbox(kind: StoreKind) {
    let (app, _dir) = start(kind).await;
    let phone = "+34 644 555 666";
    for spelling in [
        "blocked.guest@example.com",
        "Blocked.Guest+x@example.com",
        "BLOCKED.GUEST+booking@EXAMPLE.COM",
    ] {
        refused(
            &app,
            &booking(spelling, phone, Some("someone-else"), 10),
            "guest_blacklisted",
            "the blacklisted mailbox, however written",
        )
        .await;
    }
    // At example.com a dot is part of the mailbox: `blockedguest` is somebody else.
    create(&app, &booking("blockedguest@example.com", phone, None, 10)).await;
    app.stop().await;
}

both_stores!(the_blacklist_goes_by_mailbox =>
    a_blacklisted_mailbox_is_refused_with_any_case_or_tag_sqlite,
    a_blacklisted_mailbox_is_refused_with_any_case_or_tag_postgres);
