//! What guests send besides words, end to end: a reaction to the question the bot asked is its
//! answer (👍 on a quote books it, 👎 on "cancel it?" keeps the booking), a reaction to anything
//! else is recorded and left unanswered, and files, stickers and contact cards are recorded and
//! answered with words that fit them. A Telegram edit is recorded as an edit.

use super::buttons::{last_sent, offered, press};
use super::*;
use conserje_tests::channels::{post_whatsapp_raw, sign_whatsapp};

/// The guest reacts with `emoji` to the message `wamid`; returns the replies, waiting at most
/// until the turn's replies arrive when `answered`, else a moment to be sure none comes.
async fn react(
    hotel: &Hotel,
    wa_id: &str,
    wamid: &str,
    emoji: &str,
    answered: bool,
) -> Vec<String> {
    let (payload, reaction) =
        hotel
            .whatsapp
            .inbound_reaction(DEFAULT_PHONE_NUMBER_ID, wa_id, wamid, emoji);
    let before = hotel.whatsapp.sent_to(wa_id).len();
    let signature = sign_whatsapp(DEFAULT_APP_SECRET, &payload);
    let response = post_whatsapp_raw(&hotel.app, payload, Some(&signature)).await;
    assert_eq!(response.status(), 200, "webhook accepted");
    if answered {
        return hotel
            .new_replies(|| hotel.whatsapp.sent_to(wa_id), before)
            .await;
    }
    // Recorded (the transcript shows it), then a moment in which nothing may be sent.
    eventually("the reaction is on the transcript", || async {
        let transcript = hotel.transcript("whatsapp", wa_id).await;
        transcript["turns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == reaction.as_str())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    hotel.whatsapp.sent_to(wa_id)[before..].to_vec()
}

/// The guest sends one message of another `type`; returns the replies.
async fn sends(hotel: &Hotel, wa_id: &str, content: Value) -> Vec<String> {
    let (payload, _) = hotel
        .whatsapp
        .inbound_content(DEFAULT_PHONE_NUMBER_ID, wa_id, content);
    let before = hotel.whatsapp.sent_to(wa_id).len();
    let signature = sign_whatsapp(DEFAULT_APP_SECRET, &payload);
    let response = post_whatsapp_raw(&hotel.app, payload, Some(&signature)).await;
    assert_eq!(response.status(), 200, "webhook accepted");
    hotel
        .new_replies(|| hotel.whatsapp.sent_to(wa_id), before)
        .await
}

/// The guest's turns of the transcript.
async fn guest_turns(hotel: &Hotel, wa_id: &str) -> Vec<Value> {
    hotel.transcript("whatsapp", wa_id).await["turns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["role"] == "guest")
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thumbs_up_on_the_quote_books_it_and_one_on_an_older_message_does_nothing() {
    let hotel = Hotel::open(StoreKind::Sqlite, midday()).await;
    hotel.whatsapp.enforce_window(false);
    let wa_id = "34600111501";
    hotel
        .whatsapp_says(
            wa_id,
            "wamid.r.0",
            "Hola, quiero reservar del 20 al 25 de diciembre para 2 personas",
        )
        .await;
    let rooms_wamid = hotel.whatsapp.wamids_to(wa_id).last().cloned().unwrap();
    let quote = press(&hotel, wa_id, "room:double").await;
    assert!(joined(&quote).contains("600,00 EUR"), "{quote:?}");
    let quote_wamid = hotel.whatsapp.wamids_to(wa_id).last().cloned().unwrap();
    assert_eq!(
        offered(&last_sent(&hotel, wa_id))[0].0,
        "book",
        "the quote offers Book it"
    );

    // A 👍 on the room list (an older message) is not a yes to the quote.
    let silent = react(&hotel, wa_id, &rooms_wamid, "👍", false).await;
    assert!(
        silent.is_empty(),
        "no answer to a stale reaction: {silent:?}"
    );
    assert!(
        hotel
            .session("whatsapp", wa_id)
            .await
            .dialogue
            .last_booking
            .is_none(),
        "nothing booked"
    );

    // A 👍 (in a skin tone) on the quote is "Book it".
    let asks = react(&hotel, wa_id, &quote_wamid, "👍🏽", true).await;
    assert!(
        joined(&asks).contains("correo electrónico"),
        "booking goes on to the e-mail: {asks:?}"
    );
    let booked = hotel
        .whatsapp_says(wa_id, "wamid.r.9", "ana@example.com")
        .await;
    assert!(
        joined(&booked).contains("¡Reserva confirmada!"),
        "{booked:?}"
    );
    let reservation = hotel.last_booking("whatsapp", wa_id).await;
    assert_eq!(reservation.status, ReservationStatus::Confirmed);
    assert_eq!(reservation.terms.unwrap().room_type.as_str(), "double");

    // On the record: both reactions, each naming the reply it was on; only the second was read,
    // as exactly "book".
    let turns = guest_turns(&hotel, wa_id).await;
    let reactions: Vec<&Value> = turns.iter().filter(|t| t["reaction"].is_string()).collect();
    assert_eq!(reactions.len(), 2, "{turns:?}");
    assert!(reactions[0]["intent"].is_null(), "{:?}", reactions[0]);
    assert_eq!(reactions[1]["reaction"], "👍🏽");
    assert_eq!(reactions[1]["intent"], "affirm");
    assert_eq!(reactions[1]["confidence"], 1.0);
    let transcript = hotel.transcript("whatsapp", wa_id).await;
    let quote_line = transcript["turns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["delivery_detail"] == quote_wamid.as_str())
        .expect("the quote is on the transcript")
        .clone();
    assert_eq!(
        reactions[1]["reacted_to"], quote_line["id"],
        "the reaction names our reply, not the platform's id"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thumbs_down_keeps_the_booking_and_a_heart_cancels_it() {
    let hotel = Hotel::open(StoreKind::Sqlite, midday()).await;
    hotel.whatsapp.enforce_window(false);
    let wa_id = "34600111502";
    hotel
        .whatsapp_says(
            wa_id,
            "wamid.c.0",
            "Hola, quiero reservar del 20 al 25 de diciembre para 2 personas",
        )
        .await;
    press(&hotel, wa_id, "room:double").await;
    press(&hotel, wa_id, "book").await;
    hotel
        .whatsapp_says(wa_id, "wamid.c.1", "ana@example.com")
        .await;
    let booking = hotel.last_booking("whatsapp", wa_id).await;
    assert_eq!(booking.status, ReservationStatus::Confirmed);

    hotel
        .whatsapp_says(wa_id, "wamid.c.2", "quiero cancelar mi reserva")
        .await;
    let question = hotel.whatsapp.wamids_to(wa_id).last().cloned().unwrap();
    let kept = react(&hotel, wa_id, &question, "👎", true).await;
    assert!(joined(&kept).contains("no cancelo nada"), "{kept:?}");
    let id = booking.reservation_id.unwrap();
    assert_eq!(
        hotel.app.runtime.desk.find(id).await.unwrap().status,
        ReservationStatus::Confirmed
    );

    hotel
        .whatsapp_says(wa_id, "wamid.c.3", "quiero cancelar mi reserva")
        .await;
    let question = hotel.whatsapp.wamids_to(wa_id).last().cloned().unwrap();
    let cancelled = react(&hotel, wa_id, &question, "❤️", true).await;
    assert!(
        joined(&cancelled).contains("está cancelada"),
        "{cancelled:?}"
    );
    assert_eq!(
        hotel.app.runtime.desk.find(id).await.unwrap().status,
        ReservationStatus::Cancelled
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn files_stickers_and_contact_cards_are_recorded_and_answered_as_what_they_are() {
    let hotel = Hotel::open(StoreKind::Sqlite, midday()).await;
    let wa_id = "34600111503";
    hotel.whatsapp_says(wa_id, "wamid.f.0", "Hola").await;

    let document = sends(
        &hotel,
        wa_id,
        json!({ "type": "document", "document": {
            "id": "2734113906927201", "mime_type": "application/pdf", "sha256": "abc=",
            "filename": "reserva.pdf"
        }}),
    )
    .await;
    assert!(
        joined(&document).contains("no puedo abrir archivos"),
        "a file is not thanked for: {document:?}"
    );
    let video = sends(
        &hotel,
        wa_id,
        json!({ "type": "video", "video": { "id": "1061410", "mime_type": "video/mp4" } }),
    )
    .await;
    assert!(
        joined(&video).contains("no puedo abrir archivos"),
        "{video:?}"
    );
    let sticker = sends(
        &hotel,
        wa_id,
        json!({ "type": "sticker", "sticker": {
            "id": "1309", "mime_type": "image/webp", "animated": false
        }}),
    )
    .await;
    assert!(joined(&sticker).contains('😊'), "{sticker:?}");
    let contact = sends(
        &hotel,
        wa_id,
        json!({ "type": "contacts", "contacts": [{
            "name": { "formatted_name": "Marta Ruiz", "first_name": "Marta" },
            "phones": [{ "phone": "+34 600 222 333", "wa_id": "34600222333", "type": "CELL" }]
        }]}),
    )
    .await;
    assert!(
        joined(&contact).contains("tarjetas de contacto"),
        "{contact:?}"
    );

    let turns = guest_turns(&hotel, wa_id).await;
    let kinds: Vec<&str> = turns
        .iter()
        .filter_map(|t| t["media_kind"].as_str())
        .collect();
    assert_eq!(kinds, ["document", "video", "sticker"], "{turns:?}");
    assert_eq!(turns[1]["media_kind"], "document");
    let card = turns.last().unwrap();
    assert_eq!(card["contacts"][0]["name"], "Marta Ruiz", "{card}");
    assert_eq!(card["contacts"][0]["phones"][0], "+34 600 222 333");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_telegram_edit_is_recorded_as_an_edit_and_not_answered_again() {
    let hotel = Hotel::open(StoreKind::Sqlite, midday()).await;
    let chat = 777501_i64;
    let said = hotel
        .telegram_says(chat, 9100, "Hola, tienen parking?")
        .await;
    assert!(!said.is_empty());
    let sent_date = midday().timestamp() - 60;
    let edit = json!({
        "update_id": 9101,
        "edited_message": {
            "message_id": 41,
            "from": { "id": chat, "is_bot": false, "first_name": "Bob" },
            "chat": { "id": chat, "type": "private", "first_name": "Bob" },
            "date": sent_date,
            "edit_date": sent_date + 30,
            "text": "Hola, ¿tienen parking para una moto?"
        }
    });
    let before = hotel.telegram.sent_to(&chat.to_string()).len();
    let response = post_telegram(&hotel.app, "default", &edit).await;
    assert_eq!(response.status(), 200);
    let chat_id = chat.to_string();
    let edited = || async {
        let transcript = hotel.transcript("telegram", &chat_id).await;
        transcript["turns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == "tg-9101")
            .cloned()
    };
    eventually("the edit is on the transcript", || async {
        edited().await.is_some()
    })
    .await;
    let transcript = edited().await.unwrap();
    assert_eq!(transcript["text"], "Hola, ¿tienen parking para una moto?");
    assert_eq!(transcript["edit"]["message_ref"], "41");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        hotel.telegram.sent_to(&chat.to_string()).len(),
        before,
        "the bot does not answer an edit a second time"
    );
}
