//! The `reservations` projection and the booking process's recovery, fed from the global order.

use std::sync::Arc;

use chrono::{Days, NaiveDate, TimeZone, Utc};
use conserje_commands::reservation_desk::NewReservation;
use conserje_domain::journal::{Checkpoint, CheckpointStore};
use conserje_domain::metadata::Actor;
use conserje_domain::reservation::{ReservationCommand, ReservationRequest, ReservationStatus};
use conserje_domain::values::{GuestRef, TenantId};
use conserje_domain::EventMetadata;
use conserje_gateway::runtime::BOOKING_PROCESS;
use conserje_gateway::Runtime;
use conserje_infra::feed::SqlCheckpoints;
use conserje_projections::reservations::{ReservationRow, PROJECTION};
use conserje_tests::{catch_up_at_least, eventually, fresh_store, FixedClock, StoreKind};
use uuid::Uuid;

fn day(offset: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap() + Days::new(offset)
}

fn tenant() -> TenantId {
    TenantId::parse("hotel-sol").unwrap()
}

fn meta() -> EventMetadata {
    EventMetadata::new(tenant(), Actor::staff("test"), "api")
}

fn booking(email: &str, room: &str, from: u64, nights: u64) -> NewReservation {
    NewReservation {
        tenant_id: tenant(),
        guest_ref: None,
        name: "Ana Pérez".into(),
        email: email.into(),
        phone: "+34600123456".into(),
        room_type: room.into(),
        check_in: day(from),
        check_out: day(from + nights),
        guests: 2,
        special_requests: None,
        conversation: None,
    }
}

async fn open(kind: StoreKind) -> (Runtime, tempfile::TempDir) {
    let (options, dir) = fresh_store(kind).await;
    let runtime = Runtime::open_with_clock(
        &options,
        Arc::new(FixedClock(
            Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap(),
        )),
    )
    .await
    .unwrap();
    (runtime, dir)
}

async fn rows(runtime: &Runtime, ids: &[Uuid]) -> Vec<ReservationRow> {
    let mut out = Vec::new();
    for id in ids {
        out.push(runtime.reservation_rows.get(*id).await.unwrap().unwrap());
    }
    out
}

async fn the_projection_is_idempotent_under_redelivery(kind: StoreKind) {
    let (runtime, _dir) = open(kind).await;
    let desk = &runtime.desk;
    let a = desk
        .request(booking("ana@mail.com", "double", 3, 7), meta())
        .await
        .unwrap();
    let b = desk
        .request(booking("bob@mail.com", "suite", 5, 2), meta())
        .await
        .unwrap();
    let ids = [a.reservation_id.unwrap(), b.reservation_id.unwrap()];
    desk.cancel(ids[1], None, Some("plans changed".into()), None, meta())
        .await
        .unwrap();
    // Reservation: requested ×2, confirmed ×2, cancelled; Guest: each reservation held on the
    // e-mail's and the phone's stream (four holds) and the cancelled one released on both.
    let applied = catch_up_at_least(&runtime.reservations_projection, 11).await;
    assert_eq!(applied, 11, "each event handled once");
    let live = rows(&runtime, &ids).await;
    assert_eq!(live[0].status, "confirmed");
    assert_eq!(live[0].discount_percent, Some(10));
    assert_eq!(live[1].status, "cancelled");

    // Redeliver everything, as after a crash before the checkpoint was stored.
    let checkpoints = SqlCheckpoints::new(runtime.db.clone());
    checkpoints
        .save(PROJECTION, Checkpoint::default())
        .await
        .unwrap();
    catch_up_at_least(&runtime.reservations_projection, applied).await;
    assert_eq!(rows(&runtime, &ids).await, live, "and nothing changed");
    assert_eq!(runtime.reservations_projection.catch_up().await.unwrap(), 0);
}

#[tokio::test]
async fn the_projection_is_idempotent_under_redelivery_postgres() {
    the_projection_is_idempotent_under_redelivery(StoreKind::Postgres).await;
}

#[tokio::test]
async fn the_projection_is_idempotent_under_redelivery_sqlite() {
    the_projection_is_idempotent_under_redelivery(StoreKind::Sqlite).await;
}

/// The desk crashed right after `ReservationRequested` was stored: no hold, no PMS booking. The
/// booking process's subscription, reading from its checkpoint, finishes the job.
async fn a_crash_after_the_request_is_finished_by_replay(kind: StoreKind) {
    let (runtime, _dir) = open(kind).await;
    let id = Uuid::now_v7();
    let request = ReservationRequest {
        reservation_id: id,
        tenant_id: tenant(),
        guest_ref: GuestRef::parse("ana@mail.com").unwrap(),
        name: "Ana".into(),
        email: "ana@mail.com".into(),
        phone: "+34600123456".into(),
        room_type: "king".into(),
        check_in: day(10),
        check_out: day(12),
        guests: 2,
        special_requests: None,
        conversation: None,
    };
    runtime
        .reservations
        .execute(
            &id.to_string(),
            ReservationCommand::Request(request),
            meta(),
        )
        .await
        .unwrap();
    let stranded = runtime.desk.find(id).await.unwrap();
    assert_eq!(stranded.status, ReservationStatus::Requested);

    eventually(
        "the booking process to confirm the stranded request",
        || async {
            runtime.booking_subscription.catch_up().await.unwrap();
            runtime.desk.find(id).await.unwrap().status == ReservationStatus::Confirmed
        },
    )
    .await;
    let finished = runtime.desk.find(id).await.unwrap();
    assert!(finished.pms_ref.is_some());

    // Replaying the whole history again changes nothing: every step is idempotent.
    let checkpoints = SqlCheckpoints::new(runtime.db.clone());
    checkpoints
        .save(BOOKING_PROCESS, Checkpoint::default())
        .await
        .unwrap();
    catch_up_at_least(&runtime.booking_subscription, 2).await;
    let replayed = runtime.desk.find(id).await.unwrap();
    assert_eq!(replayed, finished);
    let trail = runtime
        .feed
        .stream("Reservation", &id.to_string())
        .await
        .unwrap();
    let types: Vec<&str> = trail.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["ReservationRequested", "ReservationConfirmed"]);
    assert_eq!(
        trail[1].meta("actor"),
        Some("system:booking-process"),
        "the recovery is attributed to the process that did it"
    );
}

#[tokio::test]
async fn a_crash_after_the_request_is_finished_by_replay_postgres() {
    a_crash_after_the_request_is_finished_by_replay(StoreKind::Postgres).await;
}

#[tokio::test]
async fn a_crash_after_the_request_is_finished_by_replay_sqlite() {
    a_crash_after_the_request_is_finished_by_replay(StoreKind::Sqlite).await;
}

/// Ten concurrent requests for one guest who already has four active reservations: the guest's
/// stream lets exactly one more through.
async fn the_five_active_limit_holds_under_concurrency(kind: StoreKind) {
    let (runtime, _dir) = open(kind).await;
    let runtime = Arc::new(runtime);
    for n in 0..4 {
        runtime
            .desk
            .request(booking("ana@mail.com", "standard", 1 + n * 3, 2), meta())
            .await
            .unwrap();
    }
    let attempts = (0..10).map(|n| {
        let runtime = runtime.clone();
        tokio::spawn(async move {
            runtime
                .desk
                .request(booking("Ana@Mail.com", "standard", 20 + n, 1), meta())
                .await
        })
    });
    let outcomes = futures::future::join_all(attempts).await;
    let mut accepted = 0;
    for outcome in outcomes {
        match outcome.unwrap() {
            Ok(_) => accepted += 1,
            Err(conserje_commands::CommandError::Refused { code, .. }) => {
                assert_eq!(code, "too_many_active_reservations")
            }
            Err(other) => panic!("unexpected failure: {other}"),
        }
    }
    assert_eq!(accepted, 1, "4 active + 1 = the limit of 5");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_five_active_limit_holds_under_concurrency_postgres() {
    the_five_active_limit_holds_under_concurrency(StoreKind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_five_active_limit_holds_under_concurrency_sqlite() {
    the_five_active_limit_holds_under_concurrency(StoreKind::Sqlite).await;
}
