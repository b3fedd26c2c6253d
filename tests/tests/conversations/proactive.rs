//! The messages the hotel writes first, end to end: a booking made over the API is confirmed to
//! the guest's WhatsApp — as the hotel's template, since a guest who never wrote has no open
//! window — a pre-arrival note waits on a durable timer that a restart in the middle of the
//! wait does not lose, and fires once, as does the review request after the stay; staff changes
//! and cancellations are told, and a cancellation drops the pending note.

use super::*;
use conserje_tests::MovingClock;

/// The hotel sends confirmations and pre-arrival notes (two days ahead, at 10:00 in Madrid),
/// with a template for each.
const PROACTIVE: &str = r#"
[hotels.default.proactive]
confirmation = true
pre_arrival = true
pre_arrival_days = 2
review_request = true
change_notice = true

[[hotels.default.templates]]
name = "reserva_confirmada"
purpose = "confirmation"
languages = ["es"]
parameters = ["reply"]

[[hotels.default.templates]]
name = "antes_de_llegar"
purpose = "pre_arrival"
languages = ["es"]
parameters = ["reply"]

[[hotels.default.templates]]
name = "que_tal_la_estancia"
purpose = "review_request"
languages = ["es"]
parameters = ["reply"]

[[hotels.default.templates]]
name = "cambio_reserva"
purpose = "booking_update"
languages = ["es"]
parameters = ["reply"]
"#;

/// Books over the API, as the front desk would for a guest on the phone; returns its id.
async fn book_over_the_api(hotel: &Hotel, phone: &str, check_in: &str, check_out: &str) -> String {
    let desk = hotel
        .app
        .client_as("front-desk", Role::Staff, Some("default"))
        .await;
    let response = desk
        .post(hotel.app.url("/api/v1/reservations"))
        .json(&json!({
            "tenant_id": "default",
            "guest": { "name": "Marta Ruiz", "email": "marta@example.com", "phone": phone },
            "room_type": "double",
            "check_in": check_in,
            "check_out": check_out,
            "guests": 2,
        }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "confirmed", "{body}");
    body["reservation_id"].as_str().unwrap().to_owned()
}

/// The templates the WhatsApp simulator accepted for `wa_id` named `name`.
fn templates_named(hotel: &Hotel, wa_id: &str, name: &str) -> Vec<String> {
    hotel
        .whatsapp
        .sent_to(wa_id)
        .into_iter()
        .filter(|t| t.starts_with(&format!("template:{name}:")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_booking_made_over_the_api_is_confirmed_to_a_guest_whose_window_is_closed_as_a_template()
{
    let clock = Arc::new(MovingClock::at(midday()));
    let hotel = Hotel::open_with(StoreKind::Sqlite, clock.clone(), PROACTIVE).await;
    hotel
        .whatsapp
        .approve_template("reserva_confirmada", "es", 1);
    hotel.whatsapp.enforce_window(true);
    let wa_id = "34600111601";
    book_over_the_api(&hotel, "+34 600 111 601", "2026-12-20", "2026-12-25").await;

    eventually("the confirmation reaches the guest", || async {
        !templates_named(&hotel, wa_id, "reserva_confirmada").is_empty()
    })
    .await;
    let sent = templates_named(&hotel, wa_id, "reserva_confirmada");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].contains("está confirmada") && sent[0].contains("Marta Ruiz"),
        "the words of the confirmation, with the guest's name from the booking: {sent:?}"
    );
    assert!(
        hotel
            .whatsapp
            .sent_to(wa_id)
            .iter()
            .all(|t| t.starts_with("template:")),
        "no free text to a guest who never wrote"
    );
    // On the transcript of the conversation it started: a proactive confirmation, sent as the
    // template.
    let transcript = hotel.transcript("whatsapp", wa_id).await;
    let line = transcript["turns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["proactive"] == "confirmation")
        .cloned()
        .unwrap_or_else(|| panic!("{transcript}"));
    assert_eq!(line["delivery"], "sent", "{line}");
    assert_eq!(
        line["message_template"], "reserva_confirmada (es)",
        "{line}"
    );
    assert_eq!(transcript["handed_off"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pre_arrival_note_fires_once_across_a_restart_in_the_middle_of_its_wait() {
    // 15 December at noon in Madrid; the stay starts on the 20th, so the note is due on the
    // 18th at 10:00 in Madrid (09:00 UTC).
    let start = Utc.with_ymd_and_hms(2026, 12, 15, 11, 0, 0).unwrap();
    let clock = Arc::new(MovingClock::at(start));
    let hotel = Hotel::open_with(StoreKind::Sqlite, clock.clone(), PROACTIVE).await;
    hotel
        .whatsapp
        .approve_template("reserva_confirmada", "es", 1);
    hotel.whatsapp.approve_template("antes_de_llegar", "es", 1);
    let wa_id = "34600111602";
    book_over_the_api(&hotel, "+34600111602", "2026-12-20", "2026-12-23").await;
    eventually("the confirmation goes first", || async {
        !templates_named(&hotel, wa_id, "reserva_confirmada").is_empty()
    })
    .await;

    // A day passes; nothing is due yet.
    clock.advance(Duration::from_secs(24 * 3600));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(templates_named(&hotel, wa_id, "antes_de_llegar").is_empty());

    // The process stops in the middle of the wait and starts again.
    let hotel = hotel.restarted(clock.clone()).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        templates_named(&hotel, wa_id, "antes_de_llegar").is_empty(),
        "the restart does not fire it early"
    );

    // Past 09:00 UTC on the 18th, it goes.
    clock.advance(Duration::from_secs(2 * 24 * 3600));
    eventually("the pre-arrival note reaches the guest", || async {
        !templates_named(&hotel, wa_id, "antes_de_llegar").is_empty()
    })
    .await;
    let notes = templates_named(&hotel, wa_id, "antes_de_llegar");
    assert!(notes[0].contains("Te esperamos"), "{notes:?}");

    // Once: more rounds, and another restart, say nothing again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let hotel = hotel.restarted(clock.clone()).await;
    clock.advance(Duration::from_secs(3600));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(templates_named(&hotel, wa_id, "antes_de_llegar").len(), 1);
    assert!(
        templates_named(&hotel, wa_id, "que_tal_la_estancia").is_empty(),
        "the review request waits for the day after check-out"
    );

    // The day after check-out (the 24th), the review request goes, once.
    hotel
        .whatsapp
        .approve_template("que_tal_la_estancia", "es", 1);
    clock.advance(Duration::from_secs(6 * 24 * 3600));
    eventually("the review request reaches the guest", || async {
        !templates_named(&hotel, wa_id, "que_tal_la_estancia").is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let reviews = templates_named(&hotel, wa_id, "que_tal_la_estancia");
    assert_eq!(reviews.len(), 1, "{reviews:?}");
    assert!(reviews[0].contains("¿Qué tal tu estancia?"), "{reviews:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn staff_changes_and_cancellations_are_told_and_cancel_the_pending_note() {
    let start = Utc.with_ymd_and_hms(2026, 12, 15, 11, 0, 0).unwrap();
    let clock = Arc::new(MovingClock::at(start));
    let hotel = Hotel::open_with(StoreKind::Sqlite, clock.clone(), PROACTIVE).await;
    for name in ["reserva_confirmada", "antes_de_llegar", "cambio_reserva"] {
        hotel.whatsapp.approve_template(name, "es", 1);
    }
    let wa_id = "34600111603";
    let id = book_over_the_api(&hotel, "+34600111603", "2026-12-20", "2026-12-23").await;
    eventually("the confirmation goes first", || async {
        !templates_named(&hotel, wa_id, "reserva_confirmada").is_empty()
    })
    .await;
    let desk = hotel
        .app
        .client_as("front-desk", Role::Staff, Some("default"))
        .await;
    // Staff move the check-out: the guest is told the booking changed.
    let response = desk
        .post(hotel.app.url(&format!("/api/v1/reservations/{id}/modify")))
        .json(&json!({ "check_out": "2026-12-24" }))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
    eventually("the guest is told of the change", || async {
        templates_named(&hotel, wa_id, "cambio_reserva")
            .iter()
            .any(|t| t.contains("ha cambiado"))
    })
    .await;
    let response = desk
        .post(hotel.app.url(&format!("/api/v1/reservations/{id}/cancel")))
        .json(&json!({ "reason": "the guest called" }))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
    eventually("the guest is told of the cancellation", || async {
        templates_named(&hotel, wa_id, "cambio_reserva").len() >= 2
    })
    .await;
    let updates = templates_named(&hotel, wa_id, "cambio_reserva");
    assert_eq!(
        updates.len(),
        2,
        "the change, then the cancellation: {updates:?}"
    );
    assert!(updates[1].contains("cancelada"), "{updates:?}");

    clock.advance(Duration::from_secs(4 * 24 * 3600));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        templates_named(&hotel, wa_id, "antes_de_llegar").is_empty(),
        "no pre-arrival note for a cancelled booking"
    );
}
