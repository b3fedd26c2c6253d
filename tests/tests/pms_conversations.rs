//! Guests booking end to end in a real PMS's wire format: WhatsApp webhooks in, the dialogue,
//! the booking created in QloApps (the local simulator) through the adapter, the breaker and the
//! cache, and the replies out. A reservation is confirmed only once QloApps holds it.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use conserje_domain::reservation::ReservationStatus;
use conserje_tests::pms::QloAppsHotel;
use conserje_tests::StoreKind;

/// Sunday 22 November 2026, 12:00 in Madrid.
fn midday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 11, 0, 0).unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A conversation in one language: the quote carries QloApps' rate with tax (140.00 + 10 % =
/// 154.00 a night, 770.00 for five), the booking lands in QloApps with our marker, the guest's
/// party and dates, and the confirmation gives QloApps' reference.
async fn books_in_qloapps(hotel: &QloAppsHotel, wa_id: &str, lines: [&str; 4], expect: [&str; 4]) {
    for (n, (line, expected)) in lines.iter().zip(expect).enumerate() {
        let replies = hotel.says(wa_id, n, line, Duration::from_secs(10)).await;
        assert!(
            replies.contains(expected),
            "to {line:?} the bot answered {replies:?}, expected {expected:?}"
        );
    }
    let reservation = hotel.last_booking(wa_id).await;
    assert_eq!(reservation.status, ReservationStatus::Confirmed);
    let terms = reservation.terms.clone().unwrap();
    assert_eq!(terms.price.total_minor, 77_000);
    let id = reservation.reservation_id.unwrap();
    let pms_ref = reservation.pms_ref.clone().expect("QloApps' reference");
    let orders: Vec<_> = hotel
        .pms
        .bookings()
        .into_iter()
        .filter(|b| b.source == format!("conserje-{id}"))
        .collect();
    assert_eq!(orders.len(), 1, "one QloApps order for the reservation");
    let order = &orders[0];
    assert_eq!(pms_ref, order.id_order.to_string());
    assert_eq!(order.lines.len(), 1);
    let line = &order.lines[0];
    assert_eq!(
        (line.id_room_type, line.date_from, line.date_to, line.adults),
        (12, day("2026-12-20"), day("2026-12-25"), 2)
    );
    assert!(!order.cancelled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_books_in_qloapps_in_each_language() {
    let hotel = QloAppsHotel::open(StoreKind::Sqlite, midday(), |_| {}).await;
    hotel.cache_warmed().await;
    books_in_qloapps(
        &hotel,
        "34600111001",
        [
            "Hola, buenas tardes",
            "Quiero reservar una habitación doble del 20 al 25 de diciembre para 2 personas",
            "sí",
            "ana@example.com",
        ],
        [
            "¡Hola, Ana Pérez!",
            "Total: 770,00 EUR. ¿Quieres que la reserve?",
            "correo electrónico",
            "¡Reserva confirmada!",
        ],
    )
    .await;
    books_in_qloapps(
        &hotel,
        "447911123456",
        [
            "Hi there",
            "I'd like to book a double room from Dec 20 to 25 for 2 guests",
            "yes please",
            "john.smith@example.com",
        ],
        [
            "Hello, Ana Pérez!",
            "Total: EUR 770.00. Shall I book it?",
            "e-mail address",
            "Booking confirmed!",
        ],
    )
    .await;
    books_in_qloapps(
        &hotel,
        "5511912340003",
        [
            "Olá, bom dia",
            "Quero reservar um quarto duplo de 20 a 25 de dezembro para 2 pessoas",
            "sim",
            "maria.silva@example.com.br",
        ],
        [
            "Olá, Ana Pérez!",
            "Total: 770,00 EUR. Quer que eu reserve?",
            "preciso do seu e-mail",
            "Reserva confirmada!",
        ],
    )
    .await;
    assert_eq!(hotel.pms.active_bookings().len(), 3);
    hotel.app.stop().await;
}
