//! The PMS misbehaving under load, with the `default` hotel booking in QloApps (the local
//! simulator) through the adapter, the breaker, the bulkhead and the cache, on the embedded
//! default. Every run ends with no double booking, no lost request and read models equal to a
//! replay.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use conserje_commands::booking_process::RetrySchedule;
use conserje_commands::reservation_desk::NewReservation;
use conserje_domain::metadata::Actor;
use conserje_domain::reservation::{Reservation, ReservationStatus};
use conserje_domain::values::TenantId;
use conserje_domain::EventMetadata;
use conserje_tests::pms::QloAppsHotel;
use conserje_tests::{eventually_within, StoreKind};
use cqrs_es::Aggregate;
use futures::StreamExt;
use uuid::Uuid;

/// Sunday 22 November 2026, 12:00 in Madrid.
fn midday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 11, 0, 0).unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn meta() -> EventMetadata {
    EventMetadata::new(
        TenantId::parse("default").unwrap(),
        Actor::staff("desk"),
        "api",
    )
}

/// Guest `n`'s request: a room type and one or two nights in the next month, each guest with
/// their own e-mail and phone.
fn request(n: usize) -> NewReservation {
    let check_in = day("2026-12-01") + chrono::Days::new((n % 30) as u64);
    NewReservation {
        tenant_id: TenantId::parse("default").unwrap(),
        guest_ref: None,
        name: format!("Guest {n}"),
        email: format!("guest{n}@example.com"),
        phone: format!("+34600{n:06}"),
        room_type: ["standard", "double", "king", "suite"][n % 4].into(),
        check_in,
        check_out: check_in + chrono::Days::new(1 + (n % 2) as u64),
        guests: 2,
        special_requests: None,
        conversation: None,
    }
}

/// How many of the stream's events are of `event_type`.
async fn events_of(hotel: &QloAppsHotel, id: Uuid, event_type: &str) -> usize {
    hotel
        .app
        .runtime
        .feed
        .stream(Reservation::TYPE, &id.to_string())
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event_type == event_type)
        .count()
}

/// Every reservation settled in QloApps exactly once: one active order per confirmed
/// reservation, found by its marker and matching its reference, and no order for anyone else.
async fn no_double_booking(hotel: &QloAppsHotel, ids: &[Uuid]) {
    let orders = hotel.pms.active_bookings();
    let markers: Vec<&str> = orders.iter().map(|o| o.source.as_str()).collect();
    let distinct: BTreeSet<&str> = markers.iter().copied().collect();
    assert_eq!(
        markers.len(),
        distinct.len(),
        "two orders carry one reservation's marker"
    );
    for id in ids {
        let reservation = hotel.app.runtime.desk.find(*id).await.unwrap();
        let marker = format!("conserje-{id}");
        let held: Vec<_> = orders.iter().filter(|o| o.source == marker).collect();
        match reservation.status {
            ReservationStatus::Confirmed => {
                assert_eq!(held.len(), 1, "{id} is confirmed with one QloApps order");
                assert_eq!(
                    reservation.pms_ref.as_deref(),
                    Some(held[0].id_order.to_string().as_str())
                );
            }
            other => assert!(held.is_empty(), "{id} is {other:?} but holds an order"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_bookings_whose_answer_never_came_are_each_booked_once() {
    let hotel = QloAppsHotel::open(StoreKind::Sqlite, midday(), |o| {
        o.pms.pms_timeout_ms = 300;
        // This run is about reconciliation: the breaker would only space the retries out.
        o.pms.pms_breaker_consecutive_failures = u32::MAX;
        o.pms.pms_breaker_error_rate = 1.0;
        o.pms.pms_breaker_p95_ms = 600_000;
        o.pms.pms_queue = 1000;
        o.pms.pms_retry_delays_seconds = RetrySchedule::parse("1,1,2,2,5,5,10,10").unwrap();
    })
    .await;
    for room_type in [11, 12, 13, 14] {
        hotel.pms.set_rooms(room_type, 60);
    }
    for (_, pms) in hotel.app.runtime.pms.guarded() {
        pms.refresh().await.expect("the cache refreshes");
    }
    // Every create is committed by QloApps, whose answer then never arrives.
    hotel.pms.commit_then_hang_next(200, Duration::from_secs(3));

    let desk = hotel.app.runtime.desk.clone();
    let ids: Vec<Uuid> = futures::stream::iter(0..200)
        .map(|n| {
            let desk = desk.clone();
            async move {
                let reservation = desk.request(request(n), meta()).await.expect("recorded");
                assert_eq!(
                    reservation.status,
                    ReservationStatus::Requested,
                    "the timed-out create leaves it pending"
                );
                reservation.reservation_id.unwrap()
            }
        })
        .buffer_unordered(20)
        .collect()
        .await;

    eventually_within(
        "all 200 reservations are confirmed",
        Duration::from_secs(120),
        || {
            let desk = desk.clone();
            let ids = ids.clone();
            async move {
                for id in ids {
                    if desk.find(id).await.unwrap().status != ReservationStatus::Confirmed {
                        return false;
                    }
                }
                true
            }
        },
    )
    .await;
    assert_eq!(
        hotel.pms.active_bookings().len(),
        200,
        "exactly 200 QloApps orders"
    );
    assert_eq!(
        hotel.pms.calls_to("POST", "/api/bookings"),
        200,
        "each booking was sent once: the retries found and adopted it"
    );
    for id in &ids {
        assert!(
            events_of(&hotel, *id, "PmsSyncFailed").await >= 1,
            "{id} timed out first"
        );
    }
    no_double_booking(&hotel, &ids).await;
    hotel.app.stop().await;
}
