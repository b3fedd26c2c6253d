//! Tap-to-answer, end to end: the bot offers the room types as a WhatsApp list and a quote with
//! reply buttons (an inline keyboard on Telegram), and a guest books by pressing them — each
//! press read as exactly the choice it stands for, recorded as such, in every language.

use super::*;
use conserje_tests::channels::{post_whatsapp_raw, sign_whatsapp, telegram_text};

/// The last message the WhatsApp simulator accepted for `wa_id`, as sent.
pub(super) fn last_sent(hotel: &Hotel, wa_id: &str) -> Value {
    hotel
        .whatsapp
        .sent()
        .into_iter()
        .rev()
        .find(|m| m.to == wa_id)
        .expect("something was sent")
        .body
}

/// The ids and titles of an interactive message's buttons or list rows.
pub(super) fn offered(body: &Value) -> Vec<(String, String)> {
    let interactive = &body["interactive"];
    let items: Vec<&Value> = match interactive["type"].as_str() {
        Some("button") => interactive["action"]["buttons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| &b["reply"])
            .collect(),
        Some("list") => interactive["action"]["sections"][0]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .collect(),
        _ => panic!("not an interactive message: {body}"),
    };
    items
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_owned(),
                i["title"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The guest presses the button (or list row) `id` of the last message; returns the replies.
pub(super) async fn press(hotel: &Hotel, wa_id: &str, id: &str) -> Vec<String> {
    let body = last_sent(hotel, wa_id);
    let (_, title) = offered(&body)
        .into_iter()
        .find(|(offered_id, _)| offered_id == id)
        .unwrap_or_else(|| panic!("{id} is not offered in {body}"));
    let list = body["interactive"]["type"] == "list";
    let wamid = hotel.whatsapp.wamids_to(wa_id).last().cloned().unwrap();
    let (payload, _) = if list {
        hotel
            .whatsapp
            .inbound_list_reply(DEFAULT_PHONE_NUMBER_ID, wa_id, &wamid, id, &title, None)
    } else {
        hotel
            .whatsapp
            .inbound_button_reply(DEFAULT_PHONE_NUMBER_ID, wa_id, &wamid, id, &title)
    };
    let before = hotel.whatsapp.sent_to(wa_id).len();
    let signature = sign_whatsapp(DEFAULT_APP_SECRET, &payload);
    let response = post_whatsapp_raw(&hotel.app, payload, Some(&signature)).await;
    assert_eq!(response.status(), 200, "webhook accepted");
    hotel
        .new_replies(|| hotel.whatsapp.sent_to(wa_id), before)
        .await
}

/// One guest books by typing the request and their e-mail and pressing the rest.
async fn book_by_pressing(
    hotel: &Hotel,
    wa_id: &str,
    request: &str,
    email: &str,
    words: [&str; 4],
) {
    let [room_title, total, book_title, booked] = words;
    hotel
        .whatsapp_says(wa_id, &format!("wamid.{wa_id}.0"), request)
        .await;
    let rooms = offered(&last_sent(hotel, wa_id));
    assert_eq!(
        last_sent(hotel, wa_id)["interactive"]["type"],
        "list",
        "four room types go as a list"
    );
    assert!(
        rooms.contains(&("room:double".to_owned(), room_title.to_owned())),
        "{rooms:?}"
    );

    let quote = press(hotel, wa_id, "room:double").await;
    assert!(joined(&quote).contains(total), "{quote:?}");
    let buttons = offered(&last_sent(hotel, wa_id));
    let ids: Vec<&str> = buttons.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["book", "other_rooms", "staff"]);
    assert_eq!(buttons[0].1, book_title);

    press(hotel, wa_id, "book").await;
    let replies = hotel
        .whatsapp_says(wa_id, &format!("wamid.{wa_id}.9"), email)
        .await;
    assert!(joined(&replies).contains(booked), "{replies:?}");

    let reservation = hotel.last_booking("whatsapp", wa_id).await;
    assert_eq!(reservation.status, ReservationStatus::Confirmed);
    let terms = reservation.terms.unwrap();
    assert_eq!(terms.room_type.as_str(), "double");
    assert_eq!(
        (terms.stay.check_in, terms.stay.check_out),
        (day("2026-12-20"), day("2026-12-25"))
    );

    // The presses are on the record as presses: full confidence, the choice named.
    let events = hotel
        .app
        .runtime
        .feed
        .stream("Session", &format!("default/whatsapp/{wa_id}"))
        .await
        .unwrap();
    let pressed: Vec<Value> = events
        .iter()
        .filter(|e| e.event_type == "IntentRecognized")
        .map(|e| e.payload["IntentRecognized"].clone())
        .filter(|p| !p["choice"].is_null())
        .collect();
    let choices: Vec<&str> = pressed
        .iter()
        .map(|p| p["choice"].as_str().unwrap())
        .collect();
    assert_eq!(choices, ["room:double", "book"], "{pressed:?}");
    assert!(
        pressed.iter().all(|p| p["confidence"] == 1.0),
        "{pressed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_guest_books_by_pressing_buttons_in_each_language() {
    let hotel = Hotel::open(StoreKind::Sqlite, midday()).await;
    hotel.whatsapp.enforce_window(false);
    book_by_pressing(
        &hotel,
        "34600111401",
        "Hola, quiero reservar del 20 al 25 de diciembre para 2 personas",
        "ana@example.com",
        [
            "Habitación doble",
            "600,00 EUR",
            "Reservar",
            "¡Reserva confirmada!",
        ],
    )
    .await;
    book_by_pressing(
        &hotel,
        "447911123402",
        "Hi, I'd like to book from December 20 to 25 for 2 people",
        "john@example.com",
        ["Double room", "EUR 600.00", "Book it", "Booking confirmed"],
    )
    .await;
    book_by_pressing(
        &hotel,
        "5511900111403",
        "Olá, quero reservar de 20 a 25 de dezembro para 2 pessoas",
        "joao@example.com",
        ["Quarto duplo", "600,00", "Reservar", "Reserva confirmada"],
    )
    .await;
}

/// A press on an old quote's "Book it" after the guest moved on to cancelling is not read as a
/// yes to the cancellation: the stale press is read from its words, and nothing is cancelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stale_press_never_confirms_what_is_pending_now() {
    let hotel = Hotel::open(StoreKind::Sqlite, midday()).await;
    hotel.whatsapp.enforce_window(false);
    let wa_id = "34600111404";
    book_by_pressing(
        &hotel,
        wa_id,
        "Hola, quiero reservar del 20 al 25 de diciembre para 2 personas",
        "ana@example.com",
        [
            "Habitación doble",
            "600,00 EUR",
            "Reservar",
            "¡Reserva confirmada!",
        ],
    )
    .await;
    let booked = hotel.last_booking("whatsapp", wa_id).await;
    hotel
        .whatsapp_says(wa_id, "wamid.s.1", "quiero cancelar mi reserva")
        .await;
    let asks = offered(&last_sent(&hotel, wa_id));
    assert_eq!(
        asks.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
        ["yes", "no"],
        "a cancellation asks with yes/no buttons"
    );
    // The guest scrolls up and presses the old quote's "Book it" (WhatsApp keeps old buttons).
    let (payload, _) = hotel.whatsapp.inbound_button_reply(
        DEFAULT_PHONE_NUMBER_ID,
        wa_id,
        "wamid.old",
        "book",
        "Reservar",
    );
    let signature = sign_whatsapp(DEFAULT_APP_SECRET, &payload);
    let before = hotel.whatsapp.sent_to(wa_id).len();
    post_whatsapp_raw(&hotel.app, payload, Some(&signature)).await;
    hotel
        .new_replies(|| hotel.whatsapp.sent_to(wa_id), before)
        .await;
    let after = hotel
        .app
        .runtime
        .desk
        .find(booked.reservation_id.unwrap())
        .await
        .unwrap();
    assert_eq!(after.status, ReservationStatus::Confirmed, "not cancelled");
}

/// Telegram: the quote comes with an inline keyboard; a press is answered in the webhook's own
/// reply (`answerCallbackQuery`), recorded under its button's label, and books.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_telegram_guest_books_with_the_inline_keyboard() {
    let hotel = Hotel::open(StoreKind::Sqlite, midday()).await;
    let chat = 777401;
    let update = telegram_text(
        1,
        chat,
        "Bob",
        "Hola, quiero una habitación doble del 20 al 25 de diciembre para 2 personas",
    );
    let before = hotel.telegram.sent_to(&chat.to_string()).len();
    post_telegram(&hotel.app, "default", &update).await;
    hotel
        .new_replies(|| hotel.telegram.sent_to(&chat.to_string()), before)
        .await;
    let quote = hotel
        .telegram
        .sent()
        .into_iter()
        .rev()
        .find(|m| m.to == chat.to_string())
        .unwrap();
    let keyboard = &quote.body["reply_markup"]["inline_keyboard"];
    let data: Vec<&str> = keyboard
        .as_array()
        .expect("the quote has an inline keyboard")
        .iter()
        .map(|row| row[0]["callback_data"].as_str().unwrap())
        .collect();
    assert_eq!(data, ["book", "other_rooms", "staff"]);

    let message_id = quote.body["message_id"].as_i64().unwrap_or(0);
    let sent_id = hotel
        .telegram
        .sent()
        .iter()
        .filter(|m| m.to == chat.to_string())
        .count() as i64;
    let (update, callback_id) =
        hotel
            .telegram
            .callback_update(chat, message_id.max(sent_id), "book", "Bob");
    let before = hotel.telegram.sent_to(&chat.to_string()).len();
    let response = post_telegram(&hotel.app, "default", &update).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["method"], "answerCallbackQuery", "{answer}");
    assert_eq!(answer["callback_query_id"], callback_id.as_str());
    let replies = hotel
        .new_replies(|| hotel.telegram.sent_to(&chat.to_string()), before)
        .await;
    assert!(joined(&replies).contains("correo"), "{replies:?}");
    let transcript = hotel.transcript("telegram", &chat.to_string()).await;
    let press = transcript["turns"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|t| t["role"] == "guest")
        .unwrap();
    assert_eq!(
        press["text"], "Reservar",
        "the label the guest pressed: {press}"
    );
    assert_eq!(press["intent"], "affirm", "{press}");
}
