//! The QloApps adapter's contract with the QloApps simulator: every `Pms` call and every error
//! class the adapter tells apart, plus `check()`. The simulator speaks QloApps 1.6.1 as
//! `shared/pms-qloapps.md` describes it, traps included, so a test failing here means the adapter
//! (or the simulator) parts from that contract.
//!
//! Not covered here: the dispatcher's plain-text `401 Unauthorized` (it answers a request with no
//! key at all, and the adapter always sends its key; `errors.rs` unit-tests its mapping).

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use conserje_domain::ports::{Freshness, Pms, PmsBookingRequest, PmsError, PmsFault};
use conserje_domain::pricing::PriceQuote;
use conserje_domain::stay::StayDates;
use conserje_domain::values::{Email, GuestRef, Money, Phone, RoomType, TenantId};
use conserje_infra::config::QloAppsSettings;
use conserje_infra::pms::qloapps::QloApps;
use conserje_tests::simulators::qloapps::{QloAppsSimulator, SimHotel};
use uuid::Uuid;

const KEY: &str = "QL0APPSC0NTRACTTESTKEY0123456789";
const WRONG_KEY: &str = "WR0NGKEYWR0NGKEYWR0NGKEYWR0NGKEY";
/// Calls that should be answered at once get this long.
const TIMEOUT: Duration = Duration::from_secs(3);
/// Fault tests wait no longer than this for an answer.
const SHORT_TIMEOUT: Duration = Duration::from_millis(500);

fn date(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

fn stay(from: &str, to: &str) -> StayDates {
    StayDates {
        check_in: date(from),
        check_out: date(to),
    }
}

fn room(code: &str) -> RoomType {
    RoomType::parse(code).expect("a room type code")
}

fn tenant() -> TenantId {
    TenantId::parse("default").expect("a tenant")
}

/// The sample hotel's mapping: standard 11, double 12, king 13, suite 14.
fn settings(base_url: &str, api_key: &str) -> QloAppsSettings {
    settings_with(
        base_url,
        api_key,
        &[
            ("standard", 11),
            ("double", 12),
            ("king", 13),
            ("suite", 14),
        ],
    )
}

fn settings_with(base_url: &str, api_key: &str, mapping: &[(&str, u32)]) -> QloAppsSettings {
    QloAppsSettings {
        base_url: base_url.to_owned(),
        api_key: api_key.to_owned(),
        id_hotel: 1,
        room_types: mapping.iter().map(|(code, id)| (room(code), *id)).collect(),
    }
}

async fn start() -> (QloAppsSimulator, QloApps) {
    start_with(TIMEOUT).await
}

async fn start_with(timeout: Duration) -> (QloAppsSimulator, QloApps) {
    let sim = QloAppsSimulator::start(KEY, SimHotel::sample()).await;
    let pms = QloApps::new(settings(&sim.base_url(), KEY), timeout);
    (sim, pms)
}

/// A booking request for `guests` in `code` over `stay`, quoted at €110 a night.
fn booking(reservation_id: Uuid, code: &str, stay: StayDates, guests: u8) -> PmsBookingRequest {
    let nights = (stay.check_out - stay.check_in).num_days();
    PmsBookingRequest {
        reservation_id,
        room_type: room(code),
        stay,
        guests,
        guest_name: "Ana María López".to_owned(),
        guest_ref: GuestRef::parse("ana@example.com").expect("a guest ref"),
        email: Email::parse("ana@example.com").expect("an e-mail"),
        phone: Phone::parse("+34600111222").expect("a phone"),
        price: PriceQuote::for_stay(&Money::new(11_000, "EUR"), nights),
        special_requests: "Late arrival".to_owned(),
    }
}

fn marker(reservation_id: Uuid) -> String {
    format!("conserje-{reservation_id}")
}

async fn free(pms: &QloApps, code: &str, stay: &StayDates) -> u32 {
    pms.availability(&tenant(), &room(code), stay, None)
        .await
        .expect("availability")
        .available_units
}

// ---- availability, rates, calendar --------------------------------------------------------

#[tokio::test]
async fn availability_counts_free_rooms_and_quotes_the_nightly_rate_with_tax() {
    let (sim, pms) = start().await;
    let stay = stay("2030-05-01", "2030-05-04");
    let standard = pms
        .availability(&tenant(), &room("standard"), &stay, None)
        .await
        .expect("availability");
    assert_eq!(standard.room_type, room("standard"));
    assert_eq!(standard.available_units, 5);
    assert_eq!(
        standard.nightly_rate,
        Money::new(11_000, "EUR"),
        "€100 + 10 % tax"
    );
    assert_eq!(standard.freshness, Freshness::Live);
    let suite = pms
        .availability(&tenant(), &room("suite"), &stay, None)
        .await
        .expect("availability");
    assert_eq!(
        (suite.available_units, suite.nightly_rate.minor),
        (2, 28_600)
    );
    assert_eq!(sim.calls_to("POST", "/api/hotel_ari"), 2);
}

#[tokio::test]
async fn booked_out_rooms_are_not_free() {
    let (sim, pms) = start().await;
    let stay = stay("2030-05-01", "2030-05-04");
    // Overlapping each other, so each takes its own suite.
    sim.book_directly(14, date("2030-04-28"), date("2030-05-03"));
    sim.book_directly(14, date("2030-05-02"), date("2030-05-05"));
    let suite = pms
        .availability(&tenant(), &room("suite"), &stay, None)
        .await
        .expect("a booked-out type is an answer, not an error");
    assert_eq!(suite.available_units, 0);
    assert_eq!(
        suite.nightly_rate.minor, 28_600,
        "a sold-out type keeps its rate"
    );

    sim.book_directly(11, date("2030-05-03"), date("2030-05-04"));
    assert_eq!(
        free(&pms, "standard", &stay).await,
        4,
        "taken on one night of the stay"
    );
    assert_eq!(
        free(&pms, "standard", &stay_of(date("2030-05-01"), 2)).await,
        5,
        "the check-out night is free"
    );

    sim.set_rooms(12, 0);
    assert_eq!(
        free(&pms, "double", &stay).await,
        0,
        "rooms taken out of service"
    );
    sim.set_rooms(12, 7);
    assert_eq!(free(&pms, "double", &stay).await, 7);
}

#[tokio::test]
async fn a_per_night_price_change_moves_the_average_rate() {
    let (sim, pms) = start().await;
    let stay = stay("2030-05-01", "2030-05-04");
    sim.set_price(11, date("2030-05-02"), "130.00");
    sim.set_price(11, date("2030-05-04"), "500.00");
    let standard = pms
        .availability(&tenant(), &room("standard"), &stay, None)
        .await
        .expect("availability");
    // (110 + 143 + 110) / 3 nights; the check-out night's price does not count.
    assert_eq!(standard.nightly_rate, Money::new(12_100, "EUR"));
    let one_night = pms
        .availability(
            &tenant(),
            &room("standard"),
            &stay_of(date("2030-05-02"), 1),
            None,
        )
        .await
        .expect("availability");
    assert_eq!(one_night.nightly_rate.minor, 14_300);
}

fn stay_of(from: NaiveDate, nights: u64) -> StayDates {
    StayDates {
        check_in: from,
        check_out: from + chrono::Days::new(nights),
    }
}

#[tokio::test]
async fn a_room_type_the_hotel_does_not_sell_is_unknown() {
    let (sim, pms) = start().await;
    let stay = stay("2030-05-01", "2030-05-04");
    let error = pms
        .availability(&tenant(), &room("penthouse"), &stay, None)
        .await
        .expect_err("not mapped");
    assert_eq!(error, PmsError::UnknownRoomType("penthouse".into()));
    assert_eq!(error.kind(), "unknown_room_type");
    assert!(!error.is_transient());
    assert_eq!(sim.calls(), 0, "an unmapped code never reaches the PMS");

    // Mapped to an id the hotel lacks: the answer leaves it out, which is not "sold out".
    let wrong = QloApps::new(
        settings_with(&sim.base_url(), KEY, &[("standard", 11), ("loft", 99)]),
        TIMEOUT,
    );
    let error = wrong
        .availability(&tenant(), &room("loft"), &stay, None)
        .await
        .expect_err("not in the PMS");
    assert_eq!(error, PmsError::UnknownRoomType("loft".into()));
    let error = wrong
        .create_booking(&tenant(), &booking(Uuid::now_v7(), "penthouse", stay, 2))
        .await
        .expect_err("not mapped");
    assert_eq!(error, PmsError::UnknownRoomType("penthouse".into()));
    assert!(sim.bookings().is_empty());
}

#[tokio::test]
async fn rates_are_every_mapped_types_nightly_price_with_tax() {
    let (_sim, pms) = start().await;
    let rates = pms.rates(&tenant()).await.expect("rates");
    let eur = |minor| Money::new(minor, "EUR");
    assert_eq!(
        rates,
        vec![
            (room("standard"), eur(11_000)),
            (room("double"), eur(15_400)),
            (room("king"), eur(19_800)),
            (room("suite"), eur(28_600)),
        ]
    );
}

#[tokio::test]
async fn the_calendar_covers_every_night_in_chunks_of_a_month() {
    let (sim, pms) = start().await;
    let from = date("2030-06-01");
    let to = from + chrono::Days::new(40);
    sim.set_price(12, date("2030-07-05"), "200.00");
    sim.book_directly(11, date("2030-06-10"), date("2030-06-12"));
    let offers = pms.calendar(&tenant(), from, to).await.expect("a calendar");
    assert_eq!(
        sim.calls_to("POST", "/api/hotel_ari"),
        2,
        "40 nights are searched as 31 + 9"
    );
    assert_eq!(offers.len(), 40 * 4, "every night, every mapped type");
    let mut nights: Vec<NaiveDate> = offers.iter().map(|o| o.night).collect();
    nights.dedup();
    assert_eq!(nights.len(), 40);
    assert_eq!(nights.first(), Some(&from));
    assert_eq!(
        nights.last(),
        Some(&date("2030-07-10")),
        "`to` is exclusive"
    );
    let offer = |night: &str, code: &str| {
        offers
            .iter()
            .find(|o| o.night == date(night) && o.room_type == room(code))
            .unwrap_or_else(|| panic!("no {code} offer on {night}"))
    };
    assert_eq!(
        offer("2030-07-05", "double").rate,
        Money::new(22_000, "EUR")
    );
    assert_eq!(offer("2030-07-04", "double").rate.minor, 15_400);
    assert_eq!(offer("2030-06-10", "standard").available_units, 4);
    assert_eq!(offer("2030-06-11", "standard").available_units, 4);
    assert_eq!(offer("2030-06-12", "standard").available_units, 5);
    assert_eq!(offer("2030-06-10", "suite").available_units, 2);
}

// ---- the booking lifecycle ----------------------------------------------------------------

#[tokio::test]
async fn a_booking_is_created_with_our_marker_and_found_by_it() {
    let (sim, pms) = start().await;
    let reservation_id = Uuid::now_v7();
    let stay = stay("2030-05-01", "2030-05-04");
    let created = pms
        .create_booking(&tenant(), &booking(reservation_id, "standard", stay, 3))
        .await
        .expect("a booking");

    let orders = sim.bookings();
    assert_eq!(orders.len(), 1, "one order: {orders:?}");
    let order = &orders[0];
    assert_eq!(order.source, marker(reservation_id));
    assert_eq!(
        (
            order.email.as_str(),
            order.firstname.as_str(),
            order.lastname.as_str()
        ),
        ("ana@example.com", "Ana María", "López")
    );
    assert_eq!(order.phone.as_deref(), Some("+34600111222"));
    assert_eq!(order.lines.len(), 1);
    let line = &order.lines[0];
    assert_eq!(line.id_room_type, 11);
    assert_eq!(
        (line.date_from, line.date_to),
        (stay.check_in, stay.check_out)
    );
    assert_eq!(line.adults, 3, "sent as `adult`: QloApps ignores `adults`");
    assert!(!order.cancelled);
    assert!(order.remarks.iter().any(|r| r.contains("Late arrival")));

    assert_eq!(created.pms_ref, order.id_order.to_string());
    assert_eq!(created.reservation_id, reservation_id);
    assert_eq!(created.room_type, room("standard"));
    assert_eq!(
        (created.stay, created.guests, created.cancelled),
        (stay, 3, false)
    );

    let found = pms
        .find_booking(&tenant(), reservation_id)
        .await
        .expect("a search")
        .expect("found by its marker");
    assert_eq!(found, created);
    let got = pms
        .get_booking(&tenant(), &created.pms_ref)
        .await
        .expect("the booking");
    assert_eq!(got, created);
    assert_eq!(free(&pms, "standard", &stay).await, 4);

    // Someone else's booking is not ours; an unknown marker is the empty list `[]`.
    sim.book_directly(11, stay.check_in, stay.check_out);
    assert_eq!(
        pms.find_booking(&tenant(), Uuid::now_v7())
            .await
            .expect("a search"),
        None
    );
    let front_desk = pms
        .get_booking(&tenant(), "2")
        .await
        .expect("the front desk's");
    assert_eq!(front_desk.reservation_id, Uuid::nil());
}

#[tokio::test]
async fn availability_for_a_change_counts_the_reservations_own_rooms_as_free() {
    let (_sim, pms) = start().await;
    let stay = stay("2030-05-01", "2030-05-04");
    let mine = Uuid::now_v7();
    let created = pms
        .create_booking(&tenant(), &booking(mine, "suite", stay, 2))
        .await
        .expect("my suite");
    pms.create_booking(&tenant(), &booking(Uuid::now_v7(), "suite", stay, 2))
        .await
        .expect("someone else's suite");
    let excluding = |reservation_id, code: &'static str| {
        let pms = &pms;
        async move {
            pms.availability(&tenant(), &room(code), &stay, Some(reservation_id))
                .await
                .expect("availability")
                .available_units
        }
    };
    assert_eq!(free(&pms, "suite", &stay).await, 0, "sold out");
    assert_eq!(
        excluding(mine, "suite").await,
        1,
        "my own suite is free to me"
    );
    assert_eq!(
        excluding(Uuid::now_v7(), "suite").await,
        0,
        "no booking frees nothing"
    );
    assert_eq!(
        excluding(mine, "standard").await,
        5,
        "another type is not counted twice"
    );

    pms.cancel_booking(&tenant(), &created.pms_ref)
        .await
        .expect("cancelled");
    assert_eq!(
        excluding(mine, "suite").await,
        1,
        "a cancelled booking's room is free once, not twice"
    );
}

#[tokio::test]
async fn a_modification_replaces_the_bookings_lines() {
    let (sim, pms) = start().await;
    let reservation_id = Uuid::now_v7();
    let old = stay("2030-05-01", "2030-05-04");
    let created = pms
        .create_booking(&tenant(), &booking(reservation_id, "standard", old, 3))
        .await
        .expect("a booking");

    let new = stay("2030-05-10", "2030-05-12");
    let changed = pms
        .modify_booking(&tenant(), &created.pms_ref, &room("double"), &new, 2)
        .await
        .expect("changed");
    assert_eq!(changed.pms_ref, created.pms_ref);
    assert_eq!(changed.reservation_id, reservation_id);
    assert_eq!(
        (changed.room_type.clone(), changed.stay, changed.guests),
        (room("double"), new, 2)
    );
    assert!(!changed.cancelled);

    let orders = sim.bookings();
    assert_eq!(orders.len(), 1, "changed in place, not rebooked");
    let lines = &orders[0].lines;
    assert_eq!(lines.len(), 1, "the old line is gone: {lines:?}");
    assert_eq!(
        (
            lines[0].id_room_type,
            lines[0].date_from,
            lines[0].date_to,
            lines[0].adults
        ),
        (12, new.check_in, new.check_out, 2)
    );
    assert_eq!(
        free(&pms, "standard", &old).await,
        5,
        "the old room is released"
    );
    assert_eq!(free(&pms, "double", &new).await, 4);
    assert_eq!(
        pms.get_booking(&tenant(), &created.pms_ref)
            .await
            .expect("the booking"),
        changed
    );

    // Same room type, other dates.
    let later = stay("2030-05-11", "2030-05-14");
    let moved = pms
        .modify_booking(&tenant(), &created.pms_ref, &room("double"), &later, 2)
        .await
        .expect("moved");
    assert_eq!(moved.stay, later);
    let lines = &sim.bookings()[0].lines;
    assert_eq!((lines.len(), lines[0].date_from), (1, later.check_in));
}

#[tokio::test]
async fn a_change_to_a_sold_out_stay_is_unavailable_and_changes_nothing() {
    let (sim, pms) = start().await;
    let stay = stay("2030-05-01", "2030-05-04");
    let created = pms
        .create_booking(&tenant(), &booking(Uuid::now_v7(), "standard", stay, 2))
        .await
        .expect("a booking");
    sim.book_directly(14, stay.check_in, stay.check_out);
    sim.book_directly(14, stay.check_in, stay.check_out);
    let error = pms
        .modify_booking(&tenant(), &created.pms_ref, &room("suite"), &stay, 2)
        .await
        .expect_err("no suite left");
    assert_eq!(error, PmsError::Unavailable("suite".into()));
    assert!(!error.is_transient());
    let lines = &sim.bookings()[0].lines;
    assert_eq!(
        (lines.len(), lines[0].id_room_type),
        (1, 11),
        "the booking is as it was"
    );
}

#[tokio::test]
async fn a_cancel_releases_the_rooms_and_cancelling_twice_is_fine() {
    let (sim, pms) = start().await;
    let reservation_id = Uuid::now_v7();
    let stay = stay("2030-05-01", "2030-05-04");
    let created = pms
        .create_booking(&tenant(), &booking(reservation_id, "suite", stay, 2))
        .await
        .expect("a booking");
    assert_eq!(free(&pms, "suite", &stay).await, 1);

    pms.cancel_booking(&tenant(), &created.pms_ref)
        .await
        .expect("cancelled");
    let order = &sim.bookings()[0];
    assert_eq!(order.current_state, 4, "PS_OS_CANCELED");
    assert!(order.cancelled);
    assert_eq!(
        order.lines.len(),
        1,
        "a cancel keeps the lines, it only frees them"
    );
    assert!(sim.active_bookings().is_empty());
    assert_eq!(free(&pms, "suite", &stay).await, 2, "the room is back");

    let found = pms
        .find_booking(&tenant(), reservation_id)
        .await
        .expect("a search")
        .expect("a cancelled booking is still found");
    assert!(found.cancelled);
    assert!(
        pms.get_booking(&tenant(), &created.pms_ref)
            .await
            .expect("the booking")
            .cancelled
    );

    let puts = sim.calls_to("PUT", "/api/bookings");
    pms.cancel_booking(&tenant(), &created.pms_ref)
        .await
        .expect("cancelling twice succeeds");
    assert_eq!(
        sim.calls_to("PUT", "/api/bookings"),
        puts,
        "no second cancel is sent (each one mails the guest)"
    );
    assert_eq!(sim.bookings()[0].current_state, 4);

    let error = pms
        .modify_booking(&tenant(), &created.pms_ref, &room("suite"), &stay, 2)
        .await
        .expect_err("a cancelled booking cannot be changed");
    let PmsError::Refused(fault) = &error else {
        panic!("not refused: {error:?}");
    };
    assert!(fault.message.contains("cancelled"), "{fault}");
    assert_eq!(
        free(&pms, "suite", &stay).await,
        2,
        "the dead order holds nothing"
    );
}

#[tokio::test]
async fn no_room_left_at_create_is_unavailable() {
    let (sim, pms) = start().await;
    let stay = stay("2030-05-01", "2030-05-04");
    sim.book_directly(14, date("2030-04-30"), date("2030-05-03"));
    sim.book_directly(14, date("2030-05-02"), date("2030-05-06"));
    let reservation_id = Uuid::now_v7();
    let error = pms
        .create_booking(&tenant(), &booking(reservation_id, "suite", stay, 2))
        .await
        .expect_err("sold out");
    // QloApps says "Requested room(s) not available." (HTTP 400, code 404): for the guest,
    // that is no room, not a refused request.
    assert_eq!(error, PmsError::Unavailable("suite".into()));
    assert!(!error.is_transient() && !error.outcome_unknown());
    assert_eq!(sim.bookings().len(), 2, "nothing was booked");
    assert_eq!(
        pms.find_booking(&tenant(), reservation_id)
            .await
            .expect("a search"),
        None
    );
}

#[tokio::test]
async fn a_refused_create_carries_qloapps_code_and_message() {
    let (sim, pms) = start().await;
    let mut request = booking(
        Uuid::now_v7(),
        "standard",
        stay("2030-05-01", "2030-05-04"),
        2,
    );
    request.price.currency = "USD".to_owned();
    let error = pms
        .create_booking(&tenant(), &request)
        .await
        .expect_err("the shop sells in EUR");
    assert_eq!(
        error,
        PmsError::Refused(PmsFault {
            status: 400,
            code: Some(404),
            message: "Please provide valid currency.".into(),
        })
    );
    assert!(!error.is_transient() && !error.is_pms_failure());
    assert!(sim.bookings().is_empty());
}

#[tokio::test]
async fn unknown_bookings_are_not_found() {
    let (sim, pms) = start().await;
    let not_found = PmsError::BookingNotFound("999".into());
    assert_eq!(
        pms.get_booking(&tenant(), "999").await,
        Err(not_found.clone())
    );
    assert_eq!(
        pms.modify_booking(
            &tenant(),
            "999",
            &room("standard"),
            &stay("2030-05-01", "2030-05-02"),
            2
        )
        .await,
        Err(not_found.clone())
    );
    assert_eq!(pms.cancel_booking(&tenant(), "999").await, Err(not_found));
    assert!(sim.calls_to("GET", "/api/bookings/999") >= 3);
    assert_eq!(sim.calls_to("PUT", "/api/bookings"), 0);

    let calls = sim.calls();
    assert_eq!(
        pms.get_booking(&tenant(), "AB-12").await,
        Err(PmsError::BookingNotFound("AB-12".into())),
        "a reference that is no order id"
    );
    assert_eq!(sim.calls(), calls, "is not asked for");
}

// ---- error classes ------------------------------------------------------------------------

#[tokio::test]
async fn a_wrong_key_is_unauthorized() {
    let sim = QloAppsSimulator::start(KEY, SimHotel::sample()).await;
    let stay = stay("2030-05-01", "2030-05-04");
    let wrong = QloApps::new(settings(&sim.base_url(), WRONG_KEY), TIMEOUT);
    let error = wrong
        .availability(&tenant(), &room("standard"), &stay, None)
        .await
        .expect_err("a key QloApps does not know");
    let PmsError::Unauthorized(fault) = &error else {
        panic!("not unauthorized: {error:?}");
    };
    assert_eq!((fault.status, fault.code), (401, Some(20)));
    assert!(
        fault.message.contains("not active"),
        "QloApps' words: {fault}"
    );
    assert!(!error.is_transient() && !error.is_pms_failure());
    assert!(
        !error.to_string().contains(WRONG_KEY),
        "the key never shows"
    );
    let error = wrong
        .create_booking(&tenant(), &booking(Uuid::now_v7(), "standard", stay, 2))
        .await
        .expect_err("refused");
    assert_eq!(error.kind(), "unauthorized");
    assert!(sim.bookings().is_empty());

    let short = QloApps::new(settings(&sim.base_url(), "SHORTKEY"), TIMEOUT);
    let error = short.rates(&tenant()).await.expect_err("not 32 characters");
    let PmsError::Unauthorized(fault) = &error else {
        panic!("not unauthorized: {error:?}");
    };
    assert_eq!((fault.status, fault.code), (401, Some(18)));
}

#[tokio::test]
async fn a_switched_off_webservice_is_a_transient_failure() {
    let (sim, pms) = start().await;
    sim.set_webservice_enabled(false);
    let error = pms.rates(&tenant()).await.expect_err("switched off");
    let PmsError::Failed(fault) = &error else {
        panic!("not failed: {error:?}");
    };
    assert_eq!((fault.status, fault.code), (503, Some(22)));
    assert!(fault.message.contains("disabled"), "{fault}");
    assert!(error.is_transient() && error.is_pms_failure());
    sim.set_webservice_enabled(true);
    pms.rates(&tenant()).await.expect("back on");
}

#[tokio::test]
async fn server_error_bursts_fail_transiently_and_pass() {
    let (sim, pms) = start_with(SHORT_TIMEOUT).await;
    let stay = stay("2030-05-01", "2030-05-04");
    for status in [500, 503] {
        sim.fail_next(2, status);
        for _ in 0..2 {
            let error = pms
                .availability(&tenant(), &room("standard"), &stay, None)
                .await
                .expect_err("an injected failure");
            let PmsError::Failed(fault) = &error else {
                panic!("not failed: {error:?}");
            };
            assert_eq!((fault.status, fault.code), (status, Some(46)));
            assert!(error.is_transient() && error.is_pms_failure());
        }
        assert_eq!(free(&pms, "standard", &stay).await, 5, "the burst is over");
    }

    // A failed create did nothing; its outcome is unknown to the caller, who looks it up.
    let reservation_id = Uuid::now_v7();
    sim.fail_next(1, 500);
    let error = pms
        .create_booking(&tenant(), &booking(reservation_id, "standard", stay, 2))
        .await
        .expect_err("failed");
    assert!(matches!(
        error,
        PmsError::Failed(PmsFault { status: 500, .. })
    ));
    assert!(error.outcome_unknown());
    assert_eq!(
        pms.find_booking(&tenant(), reservation_id)
            .await
            .expect("a search"),
        None
    );
    assert!(sim.bookings().is_empty());
}

#[tokio::test]
async fn a_hang_longer_than_the_timeout_times_out() {
    let (sim, pms) = start_with(SHORT_TIMEOUT).await;
    sim.hang_next(1, Duration::from_millis(1_500));
    let started = Instant::now();
    let error = pms
        .availability(
            &tenant(),
            &room("standard"),
            &stay("2030-05-01", "2030-05-04"),
            None,
        )
        .await
        .expect_err("no answer in time");
    assert_eq!(error, PmsError::TimedOut(500));
    assert!(error.is_transient() && error.outcome_unknown());
    assert!(
        started.elapsed() < Duration::from_millis(1_400),
        "gave up at the timeout"
    );
    pms.rates(&tenant())
        .await
        .expect("the next call is answered");
}

#[tokio::test]
async fn latency_under_the_timeout_is_answered_and_a_spike_over_it_times_out() {
    let (sim, pms) = start_with(SHORT_TIMEOUT).await;
    sim.set_latency(Duration::from_millis(100));
    pms.rates(&tenant()).await.expect("slow, but in time");
    // Every other request waits 700 ms more: one of the next two is past the timeout.
    sim.set_spikes(0.5, Duration::from_millis(700));
    let outcomes = [pms.rates(&tenant()).await, pms.rates(&tenant()).await];
    assert!(outcomes.iter().any(Result::is_ok), "{outcomes:?}");
    assert!(
        outcomes.contains(&Err(PmsError::TimedOut(500))),
        "{outcomes:?}"
    );
    sim.clear_faults();
    pms.rates(&tenant()).await.expect("healthy again");
}

#[tokio::test]
async fn a_reset_connection_is_unreachable() {
    let (sim, pms) = start_with(SHORT_TIMEOUT).await;
    pms.rates(&tenant()).await.expect("a kept-alive connection");
    sim.reset_next(1);
    let error = pms.rates(&tenant()).await.expect_err("reset");
    assert!(matches!(error, PmsError::Unreachable(_)), "{error:?}");
    assert!(error.is_transient() && error.is_pms_failure() && error.outcome_unknown());
    pms.rates(&tenant())
        .await
        .expect("the next call is answered");

    sim.set_resetting(true);
    let error = pms
        .get_booking(&tenant(), "1")
        .await
        .expect_err("the host is down");
    assert_eq!(error.kind(), "unreachable");
    sim.set_resetting(false);
}

#[tokio::test]
async fn a_server_not_listening_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    drop(listener);
    let pms = QloApps::new(settings(&base, KEY), SHORT_TIMEOUT);
    let error = pms.rates(&tenant()).await.expect_err("nobody listens");
    let PmsError::Unreachable(detail) = &error else {
        panic!("not unreachable: {error:?}");
    };
    assert!(!detail.contains(KEY));
    assert!(error.is_transient());
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_found_by_its_marker() {
    let (sim, pms) = start_with(SHORT_TIMEOUT).await;
    let reservation_id = Uuid::now_v7();
    let stay = stay("2030-05-01", "2030-05-04");
    sim.commit_then_hang_next(1, Duration::from_millis(1_500));
    let error = pms
        .create_booking(&tenant(), &booking(reservation_id, "king", stay, 2))
        .await
        .expect_err("the answer never came");
    assert_eq!(error, PmsError::TimedOut(500));
    assert!(
        error.outcome_unknown(),
        "the booking process must look it up"
    );
    assert_eq!(sim.bookings().len(), 1, "QloApps committed it");

    let found = pms
        .find_booking(&tenant(), reservation_id)
        .await
        .expect("a search")
        .expect("the committed order");
    assert_eq!(found.pms_ref, sim.bookings()[0].id_order.to_string());
    assert_eq!(
        (found.reservation_id, found.room_type, found.stay),
        (reservation_id, room("king"), stay)
    );
    assert!(!found.cancelled);
}

#[tokio::test]
async fn a_success_whose_body_is_not_the_document_is_malformed() {
    let (sim, pms) = start().await;
    let stay = stay("2030-05-01", "2030-05-04");
    let created = pms
        .create_booking(&tenant(), &booking(Uuid::now_v7(), "standard", stay, 2))
        .await
        .expect("a booking");
    // A 200 carrying an error envelope: whatever answered, it is not QloApps' document.
    sim.fail_next(1, 200);
    let error = pms
        .availability(&tenant(), &room("standard"), &stay, None)
        .await
        .expect_err("no hotel_ari");
    assert!(matches!(error, PmsError::Malformed(_)), "{error:?}");
    assert!(error.is_transient() && error.is_pms_failure());

    sim.fail_next(1, 200);
    let error = pms.calendar(&tenant(), stay.check_in, stay.check_out).await;
    assert!(matches!(error, Err(PmsError::Malformed(_))), "{error:?}");

    sim.fail_next(2, 200);
    let error = pms.get_booking(&tenant(), &created.pms_ref).await;
    assert!(matches!(error, Err(PmsError::Malformed(_))), "{error:?}");

    // The look-up before a retried create: "no such booking" from a foreign body would book
    // the guest twice.
    sim.fail_next(1, 200);
    let error = pms.find_booking(&tenant(), Uuid::now_v7()).await;
    assert!(matches!(error, Err(PmsError::Malformed(_))), "{error:?}");

    sim.fail_next(1, 200);
    let error = pms
        .create_booking(&tenant(), &booking(Uuid::now_v7(), "standard", stay, 2))
        .await
        .expect_err("no booking document");
    assert!(
        matches!(error, PmsError::Malformed(_)) && error.outcome_unknown(),
        "{error:?}"
    );
}

// ---- check() ------------------------------------------------------------------------------

const STEPS: [&str; 5] = ["reach", "key", "permissions", "room types", "availability"];

#[tokio::test]
async fn check_passes_against_a_good_pms() {
    let (_sim, pms) = start().await;
    let report = pms.check().await;
    let names: Vec<&str> = report.steps.iter().map(|s| s.name).collect();
    assert_eq!(names, STEPS);
    assert!(report.ok(), "{report:#?}");
    let room_types = &report.steps[3].detail;
    assert!(
        room_types.contains("standard → 11 (Standard)"),
        "{room_types}"
    );
    assert!(!room_types.contains("Not mapped"), "{room_types}");
    let availability = &report.steps[4].detail;
    assert!(
        availability.contains("standard: 5 free at 110.00 EUR"),
        "{availability}"
    );
}

#[tokio::test]
async fn check_with_a_wrong_key_fails_the_key_step_in_plain_words() {
    let sim = QloAppsSimulator::start(KEY, SimHotel::sample()).await;
    let report = QloApps::new(settings(&sim.base_url(), WRONG_KEY), TIMEOUT)
        .check()
        .await;
    assert!(!report.ok());
    let names: Vec<&str> = report.steps.iter().map(|s| s.name).collect();
    assert_eq!(names, STEPS, "steps that could not run are listed too");
    assert!(report.steps[0].ok, "the PMS answered");
    let key = &report.steps[1];
    assert!(!key.ok);
    assert!(key.detail.contains("refused the key"), "{}", key.detail);
    assert!(
        key.detail.contains("Webservice"),
        "where to fix it: {}",
        key.detail
    );
    assert!(!key.detail.contains(WRONG_KEY));
    for step in &report.steps[2..] {
        assert!(
            !step.ok && step.detail.starts_with("not checked"),
            "{step:?}"
        );
    }

    sim.set_failing(Some(502));
    let report = QloApps::new(settings(&sim.base_url(), KEY), TIMEOUT)
        .check()
        .await;
    assert!(!report.steps[1].ok);
    assert!(
        report.steps[1].detail.contains("answered HTTP 502"),
        "{}",
        report.steps[1].detail
    );
    sim.set_failing(None);

    sim.set_webservice_enabled(false);
    let report = QloApps::new(settings(&sim.base_url(), KEY), TIMEOUT)
        .check()
        .await;
    assert!(!report.steps[1].ok);
    assert!(
        report.steps[1].detail.contains("switched off"),
        "{}",
        report.steps[1].detail
    );
}

#[tokio::test]
async fn check_names_a_room_type_the_pms_lacks() {
    let sim = QloAppsSimulator::start(KEY, SimHotel::sample()).await;
    let mapping = [("standard", 11), ("double", 12), ("loft", 99)];
    let report = QloApps::new(settings_with(&sim.base_url(), KEY, &mapping), TIMEOUT)
        .check()
        .await;
    assert!(!report.ok());
    let room_types = report
        .steps
        .iter()
        .find(|s| s.name == "room types")
        .expect("a room-type step");
    assert!(!room_types.ok);
    assert!(
        room_types.detail.contains("loft → 99"),
        "{}",
        room_types.detail
    );
    assert!(
        room_types.detail.contains("no room type 99"),
        "{}",
        room_types.detail
    );
    assert!(
        room_types.detail.contains("13 (King)") && room_types.detail.contains("14 (Suite)"),
        "the unmapped ones are named: {}",
        room_types.detail
    );
    let others: Vec<bool> = report
        .steps
        .iter()
        .filter(|s| s.name != "room types")
        .map(|s| s.ok)
        .collect();
    assert_eq!(others, [true; 4], "{report:#?}");
}

#[tokio::test]
async fn check_says_when_the_pms_cannot_be_reached() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    drop(listener);
    let report = QloApps::new(settings(&base, KEY), SHORT_TIMEOUT)
        .check()
        .await;
    assert_eq!(report.steps.len(), 5);
    assert!(!report.steps[0].ok);
    assert!(
        report.steps[0].detail.contains("could not connect"),
        "{}",
        report.steps[0].detail
    );
    assert!(report.steps[1..].iter().all(|s| !s.ok));
}
