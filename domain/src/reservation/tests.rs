use chrono::{NaiveDate, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::testing::{services, services_at};
use crate::values::TenantId;

type Framework = TestFramework<Reservation>;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn request(check_in: &str, check_out: &str, guests: u32) -> ReservationRequest {
    ReservationRequest {
        reservation_id: Uuid::nil(),
        tenant_id: TenantId::parse("hotel-sol").unwrap(),
        guest_ref: crate::values::GuestRef::parse("ana@mail.com").unwrap(),
        name: "Ana Pérez".into(),
        email: "ana@mail.com".into(),
        phone: "+34 600 123 456".into(),
        room_type: "standard".into(),
        check_in: d(check_in),
        check_out: d(check_out),
        guests,
        special_requests: Some("<i>quiet</i> room".into()),
        conversation: None,
    }
}

async fn outcome(req: ReservationRequest) -> Result<Vec<ReservationEvent>, ReservationError> {
    Framework::with(services())
        .given_no_previous_events()
        .when_async(ReservationCommand::Request(req))
        .await
        .inspect_result()
}

async fn error_code(req: ReservationRequest) -> &'static str {
    outcome(req).await.expect_err("should be refused").code()
}

fn requested_terms(events: &[ReservationEvent]) -> StayTerms {
    match &events[0] {
        ReservationEvent::ReservationRequested { terms, .. } => terms.clone(),
        other => panic!("expected ReservationRequested, got {other:?}"),
    }
}

#[tokio::test]
async fn guests_edges_zero_one_ten_eleven() {
    assert_eq!(
        error_code(request("2026-12-01", "2026-12-03", 0)).await,
        "no_guests"
    );
    assert!(outcome(request("2026-12-01", "2026-12-03", 1))
        .await
        .is_ok());
    assert!(outcome(request("2026-12-01", "2026-12-03", 10))
        .await
        .is_ok());
    assert_eq!(
        error_code(request("2026-12-01", "2026-12-03", 11)).await,
        "too_many_guests"
    );
}

#[tokio::test]
async fn nights_edges_zero_one_ninety_ninety_one() {
    assert_eq!(
        error_code(request("2026-12-01", "2026-12-01", 2)).await,
        "check_out_not_after_check_in"
    );
    assert!(outcome(request("2026-12-01", "2026-12-02", 2))
        .await
        .is_ok());
    assert!(outcome(request("2026-12-01", "2027-03-01", 2))
        .await
        .is_ok());
    assert_eq!(
        error_code(request("2026-12-01", "2027-03-02", 2)).await,
        "stay_too_long"
    );
}

#[tokio::test]
async fn check_in_yesterday_refused_today_accepted() {
    assert_eq!(
        error_code(request("2026-11-21", "2026-11-23", 2)).await,
        "check_in_in_past"
    );
    assert!(outcome(request("2026-11-22", "2026-11-23", 2))
        .await
        .is_ok());
}

#[tokio::test]
async fn check_in_on_the_hotels_today_in_buenos_aires_at_0130_utc() {
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 1, 30, 0).unwrap();
    let ba = "America/Argentina/Buenos_Aires".parse().unwrap();
    let events = Framework::with(services_at(now, ba))
        .given_no_previous_events()
        .when_async(ReservationCommand::Request(request(
            "2026-11-22",
            "2026-11-24",
            2,
        )))
        .await
        .inspect_result()
        .expect("the 22nd is still today in Buenos Aires");
    assert_eq!(requested_terms(&events).stay.check_in, d("2026-11-22"));

    let in_utc = Framework::with(services_at(now, chrono_tz::UTC))
        .given_no_previous_events()
        .when_async(ReservationCommand::Request(request(
            "2026-11-22",
            "2026-11-24",
            2,
        )))
        .await
        .inspect_result();
    assert_eq!(in_utc.unwrap_err().code(), "check_in_in_past");
}

#[tokio::test]
async fn check_in_365_days_ahead_accepted_366_refused() {
    assert!(outcome(request("2027-11-22", "2027-11-23", 2))
        .await
        .is_ok());
    assert_eq!(
        error_code(request("2027-11-23", "2027-11-24", 2)).await,
        "booking_too_far_ahead"
    );
}

#[tokio::test]
async fn long_stay_discount_at_6_7_29_30_nights() {
    let cases = [
        ("2026-12-07", 0, 60_000),
        ("2026-12-08", 10, 63_000),
        ("2026-12-30", 10, 261_000),
        ("2026-12-31", 20, 240_000),
    ];
    for (check_out, percent, total) in cases {
        let events = outcome(request("2026-12-01", check_out, 2)).await.unwrap();
        let price = requested_terms(&events).price;
        assert_eq!(price.discount_percent, percent, "checking out {check_out}");
        assert_eq!(price.total_minor, total, "checking out {check_out}");
    }
}

#[tokio::test]
async fn invalid_email_and_phone_are_refused() {
    let mut bad_email = request("2026-12-01", "2026-12-03", 2);
    bad_email.email = "ana@localhost".into();
    assert_eq!(error_code(bad_email).await, "invalid_email");
    let mut bad_phone = request("2026-12-01", "2026-12-03", 2);
    bad_phone.phone = "600 123 456".into();
    assert_eq!(error_code(bad_phone).await, "invalid_phone");
}

#[tokio::test]
async fn blacklisted_guest_is_refused_and_the_refusal_is_an_event() {
    let mut req = request("2026-12-01", "2026-12-03", 2);
    req.email = "Banned@Hotel.com".into();
    let events = outcome(req.clone()).await.unwrap();
    assert_eq!(
        events,
        vec![ReservationEvent::ReservationRejected {
            reservation_id: req.reservation_id,
            tenant_id: req.tenant_id,
            guest_ref: req.guest_ref,
            reason: RejectionReason::GuestBlacklisted,
        }]
    );
}

#[tokio::test]
async fn full_or_unknown_room_type_is_unavailable() {
    let mut suite = request("2026-12-01", "2026-12-03", 2);
    suite.room_type = "suite".into();
    assert_eq!(error_code(suite).await, "room_unavailable");
    let mut unknown = request("2026-12-01", "2026-12-03", 2);
    unknown.room_type = "penthouse".into();
    assert_eq!(error_code(unknown).await, "room_unavailable");
}

#[tokio::test]
async fn special_requests_are_sanitised_in_the_event() {
    let events = outcome(request("2026-12-01", "2026-12-03", 2))
        .await
        .unwrap();
    match &events[0] {
        ReservationEvent::ReservationRequested {
            special_requests, ..
        } => assert_eq!(special_requests.as_str(), "quiet room"),
        other => panic!("unexpected {other:?}"),
    }
}

async fn requested_history() -> Vec<ReservationEvent> {
    outcome(request("2026-12-01", "2026-12-03", 2))
        .await
        .unwrap()
}

#[tokio::test]
async fn cancelling_twice_is_refused() {
    let mut history = requested_history().await;
    history.push(ReservationEvent::ReservationCancelled {
        reason: None,
        fee_minor: 0,
    });
    let err = Framework::with(services())
        .given(history)
        .when_async(ReservationCommand::Cancel {
            requested_by: None,
            reason: None,
            accepted_fee_minor: None,
        })
        .await
        .inspect_result()
        .unwrap_err();
    assert_eq!(err, ReservationError::AlreadyCancelled);
}

#[tokio::test]
async fn modification_states_the_difference_and_applies_only_when_confirmed() {
    let history = requested_history().await;
    let change = ModificationRequest {
        check_out: Some(d("2026-12-08")),
        room_type: Some("double".into()),
        ..Default::default()
    };
    let quoted = Framework::with(services())
        .given(history.clone())
        .when_async(ReservationCommand::RequestModification(change))
        .await
        .inspect_result()
        .unwrap();
    let ReservationEvent::ReservationModificationRequested {
        terms,
        price_difference_minor,
    } = &quoted[0]
    else {
        panic!("expected a quote, got {quoted:?}")
    };
    assert_eq!(terms.price.nights, 7);
    assert_eq!(terms.price.total_minor, 88_200);
    assert_eq!(*price_difference_minor, 88_200 - 20_000);

    let not_yet = Framework::with(services())
        .given(history.clone())
        .when_async(ReservationCommand::ConfirmModification)
        .await
        .inspect_result();
    assert_eq!(
        not_yet.unwrap_err(),
        ReservationError::NoPendingModification
    );

    let mut quoted_history = history;
    quoted_history.extend(quoted);
    let applied = Framework::with(services())
        .given(quoted_history)
        .when_async(ReservationCommand::ConfirmModification)
        .await
        .inspect_result()
        .unwrap();
    assert!(matches!(
        applied[0],
        ReservationEvent::ReservationModified {
            price_difference_minor: 68_200,
            ..
        }
    ));
}

#[tokio::test]
async fn modification_rechecks_the_rules() {
    let too_long = ModificationRequest {
        check_out: Some(d("2027-03-02")),
        ..Default::default()
    };
    let err = Framework::with(services())
        .given(requested_history().await)
        .when_async(ReservationCommand::RequestModification(too_long))
        .await
        .inspect_result()
        .unwrap_err();
    assert_eq!(err.code(), "stay_too_long");
}

#[tokio::test]
async fn another_guest_cannot_cancel() {
    let err = Framework::with(services())
        .given(requested_history().await)
        .when_async(ReservationCommand::Cancel {
            requested_by: Some(crate::values::GuestRef::parse("eve@mail.com").unwrap()),
            reason: None,
            accepted_fee_minor: None,
        })
        .await
        .inspect_result()
        .unwrap_err();
    assert_eq!(err, ReservationError::NotYourReservation);
}

#[tokio::test]
async fn confirming_twice_with_the_same_booking_is_a_no_op() {
    let mut history = requested_history().await;
    history.push(ReservationEvent::ReservationConfirmed {
        pms_ref: "PMS-1".into(),
    });
    Framework::with(services())
        .given(history)
        .when_async(ReservationCommand::Confirm {
            pms_ref: "PMS-1".into(),
        })
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn a_late_cancellation_states_its_fee_and_needs_it_accepted() {
    let mut history = requested_history().await;
    history.push(ReservationEvent::ReservationConfirmed {
        pms_ref: "PMS-1".into(),
    });
    // Check-in 2026-12-01 at 15:00 UTC; 30 hours before is inside the free 48.
    let late = services_at(
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 30, 9, 0, 0).unwrap(),
        chrono_tz::UTC,
    );
    let cancel = |accepted| ReservationCommand::Cancel {
        requested_by: None,
        reason: None,
        accepted_fee_minor: accepted,
    };
    let err = Framework::with(late.clone())
        .given(history.clone())
        .when_async(cancel(None))
        .await
        .inspect_result()
        .unwrap_err();
    assert_eq!(
        err,
        ReservationError::CancellationFeeApplies {
            fee_minor: 10_000,
            currency: "EUR".into()
        }
    );
    assert_eq!(err.code(), "cancellation_fee_applies");
    let too_little = Framework::with(late.clone())
        .given(history.clone())
        .when_async(cancel(Some(5_000)))
        .await
        .inspect_result();
    assert!(too_little.is_err());
    Framework::with(late)
        .given(history)
        .when_async(cancel(Some(10_000)))
        .await
        .then_expect_events(vec![ReservationEvent::ReservationCancelled {
            reason: None,
            fee_minor: 10_000,
        }]);
}

#[tokio::test]
async fn a_request_the_pms_has_not_confirmed_cancels_for_free() {
    let late = services_at(
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 30, 9, 0, 0).unwrap(),
        chrono_tz::UTC,
    );
    Framework::with(late)
        .given(requested_history().await)
        .when_async(ReservationCommand::Cancel {
            requested_by: None,
            reason: None,
            accepted_fee_minor: None,
        })
        .await
        .then_expect_events(vec![ReservationEvent::ReservationCancelled {
            reason: None,
            fee_minor: 0,
        }]);
}
