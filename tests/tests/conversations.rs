//! Guests talking to the hotel end to end: real-shaped WhatsApp and Telegram webhooks in, the
//! language model and the dialogue, the reservation booked in the PMS, and the replies out through
//! local simulators of the WhatsApp Cloud API, the Telegram Bot API and the transcriber.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use conserje_domain::api_key::Role;
use conserje_domain::ports::Clock;
use conserje_domain::reservation::{Reservation, ReservationStatus};
use conserje_domain::session::Session;
use conserje_domain::understanding::Language;
use conserje_gateway::dead_letters;
use conserje_tests::channels::{
    channel_config, post_telegram, post_whatsapp, whatsapp_text, whatsapp_voice,
    DEFAULT_APP_SECRET, DEFAULT_PHONE_NUMBER_ID, DEFAULT_TELEGRAM_SECRET,
};
use conserje_tests::simulators::{TelegramSimulator, TranscriberSimulator, WhatsAppSimulator};
use conserje_tests::{eventually, eventually_within, fresh_store, FixedClock, StoreKind, TestApp};
use cqrs_es::Aggregate;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

const WHATSAPP_TOKEN: &str = "EAAG-test-access-token";
const TELEGRAM_TOKEN: &str = "7000000:AAH-test-bot-token";

/// Sunday 22 November 2026, 12:00 in Madrid: the front desk is open.
fn midday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 11, 0, 0).unwrap()
}

/// The same Sunday at 23:30 in Madrid: the desk is closed until 09:00.
fn late_night() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 22, 30, 0).unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The test configuration with send tokens for the default hotel.
fn config_with_tokens(dir: &Path) -> PathBuf {
    let path = channel_config(dir);
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text
        .replacen(
            &format!("app_secret = \"{DEFAULT_APP_SECRET}\""),
            &format!("app_secret = \"{DEFAULT_APP_SECRET}\"\naccess_token = \"{WHATSAPP_TOKEN}\""),
            1,
        )
        .replacen(
            &format!("secret_token = \"{DEFAULT_TELEGRAM_SECRET}\""),
            &format!(
                "secret_token = \"{DEFAULT_TELEGRAM_SECRET}\"\nbot_token = \"{TELEGRAM_TOKEN}\""
            ),
            1,
        );
    let text = text.replacen(
        "[hotels.hotel-sol]",
        "[hotels.hotel-sol.replies.pt]\ngoodbye = \"Até breve! Um abraço do Hotel Sol.\"\n\n[hotels.hotel-sol]",
        1,
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// conserje with every channel pointed at a simulator.
struct Hotel {
    app: TestApp,
    whatsapp: WhatsAppSimulator,
    telegram: TelegramSimulator,
    transcriber: TranscriberSimulator,
    /// What the app was started with, for [`Hotel::restarted`].
    options: conserje_gateway::settings::StoreOptions,
    _dir: TempDir,
}

impl Hotel {
    async fn open(kind: StoreKind, now: DateTime<Utc>) -> Self {
        Self::open_with(kind, Arc::new(FixedClock(now)), "").await
    }

    /// A hotel on `clock`, with `extra` appended to its configuration (TOML).
    async fn open_with(kind: StoreKind, clock: Arc<dyn Clock>, extra: &str) -> Self {
        Self::open_tuned(kind, clock, extra, |_| {}).await
    }

    /// [`Hotel::open_with`], with `tune` changing the options the app starts with.
    async fn open_tuned(
        kind: StoreKind,
        clock: Arc<dyn Clock>,
        extra: &str,
        tune: impl FnOnce(&mut conserje_gateway::settings::StoreOptions),
    ) -> Self {
        let whatsapp = WhatsAppSimulator::start(WHATSAPP_TOKEN).await;
        let telegram = TelegramSimulator::start(TELEGRAM_TOKEN).await;
        let transcriber = TranscriberSimulator::start(None).await;
        let (mut options, dir) = fresh_store(kind).await;
        let config = config_with_tokens(dir.path());
        if !extra.is_empty() {
            let text = std::fs::read_to_string(&config).unwrap();
            std::fs::write(&config, format!("{text}\n{extra}\n")).unwrap();
        }
        options.config = Some(config);
        options.channels.whatsapp_api_base = Some(whatsapp.base_url());
        options.channels.telegram_api_base = Some(telegram.base_url());
        options.channels.transcriber_url = Some(transcriber.base_url());
        options.channels.transcription_retry_ms = 100;
        options.proactive_poll_ms = 100;
        tune(&mut options);
        let app = TestApp::spawn_with_clock(&options, clock).await;
        Self {
            app,
            whatsapp,
            telegram,
            transcriber,
            options,
            _dir: dir,
        }
    }

    /// The hotel after its process stopped and started again on the same store, on `clock`.
    async fn restarted(self, clock: Arc<dyn Clock>) -> Self {
        let Self {
            app,
            whatsapp,
            telegram,
            transcriber,
            options,
            _dir,
        } = self;
        app.stop().await;
        let app = TestApp::spawn_with_clock(&options, clock).await;
        Self {
            app,
            whatsapp,
            telegram,
            transcriber,
            options,
            _dir,
        }
    }

    /// Waits until the guest has received more than `before` replies, and a moment longer for the
    /// rest of the turn; returns the new ones.
    async fn new_replies(&self, sent: impl Fn() -> Vec<String>, before: usize) -> Vec<String> {
        eventually("the bot's reply reaches the channel", || {
            let count = sent().len();
            async move { count > before }
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        sent()[before..].to_vec()
    }

    /// A WhatsApp guest writes `text`; returns the replies the turn sent back.
    async fn whatsapp_says(&self, wa_id: &str, message_id: &str, text: &str) -> Vec<String> {
        let before = self.whatsapp.sent_to(wa_id).len();
        self.whatsapp_writes(wa_id, message_id, text).await;
        self.new_replies(|| self.whatsapp.sent_to(wa_id), before)
            .await
    }

    /// The WhatsApp simulator posts statuses back to this hotel's webhook, signed, but only those
    /// a test asks for (none on its own after a send).
    fn statuses_on_demand(&self) {
        self.whatsapp.auto_statuses(false);
        self.whatsapp.post_statuses_to(
            self.app.url("/webhooks/whatsapp"),
            conserje_tests::channels::app_secret_for(DEFAULT_PHONE_NUMBER_ID),
        );
    }

    /// A WhatsApp guest writes `text`, and the webhook accepts it (the reply is not awaited).
    async fn whatsapp_writes(&self, wa_id: &str, message_id: &str, text: &str) {
        let payload = whatsapp_text(
            DEFAULT_PHONE_NUMBER_ID,
            wa_id,
            "Ana Pérez",
            message_id,
            text,
        );
        let response = post_whatsapp(&self.app, &payload).await;
        assert_eq!(response.status(), 200, "webhook accepted");
    }

    /// A Telegram guest in private chat `chat_id` writes `text`.
    async fn telegram_says(&self, chat_id: i64, update_id: i64, text: &str) -> Vec<String> {
        let chat = chat_id.to_string();
        let before = self.telegram.sent_to(&chat).len();
        let update = conserje_tests::channels::telegram_text(update_id, chat_id, "Bob", text);
        let response = post_telegram(&self.app, "default", &update).await;
        assert_eq!(response.status(), 200, "webhook accepted");
        self.new_replies(|| self.telegram.sent_to(&chat), before)
            .await
    }

    async fn session(&self, channel: &str, guest: &str) -> Session {
        self.app
            .runtime
            .conversations
            .session(&format!("default/{channel}/{guest}"))
            .await
            .unwrap()
    }

    /// The reservation the conversation last booked or talked about.
    async fn last_booking(&self, channel: &str, guest: &str) -> Reservation {
        let id = self
            .session(channel, guest)
            .await
            .dialogue
            .last_booking
            .expect("the conversation names a booking");
        self.app.runtime.desk.find(id).await.unwrap()
    }

    async fn transcript(&self, channel: &str, guest: &str) -> Value {
        self.app
            .http
            .get(self.app.url(&format!(
                "/api/v1/sessions/default%2F{channel}%2F{guest}/transcript"
            )))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

fn joined(replies: &[String]) -> String {
    replies.join("\n")
}

/// Books a double room for 20–25 December over WhatsApp, in the language of `lines`.
async fn book_over_whatsapp(hotel: &Hotel, wa_id: &str, lines: [&str; 4], expect: [&str; 4]) {
    for (n, (line, expected)) in lines.iter().zip(expect).enumerate() {
        let replies = hotel
            .whatsapp_says(wa_id, &format!("wamid.{wa_id}.{n}"), line)
            .await;
        assert!(
            joined(&replies).contains(expected),
            "to {line:?} the bot answered {replies:?}, expected {expected:?}"
        );
    }
    let reservation = hotel.last_booking("whatsapp", wa_id).await;
    assert_eq!(reservation.status, ReservationStatus::Confirmed);
    let terms = reservation.terms.unwrap();
    assert_eq!(terms.room_type.as_str(), "double");
    assert_eq!(
        (terms.stay.check_in, terms.stay.check_out),
        (day("2026-12-20"), day("2026-12-25"))
    );
    assert_eq!(terms.guests, 2);
    assert_eq!(terms.price.total_minor, 60_000);
    assert!(reservation.pms_ref.is_some(), "booked in the PMS");
}

async fn books_in_three_languages(kind: StoreKind) {
    let hotel = Hotel::open(kind, midday()).await;
    book_over_whatsapp(
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
            "Total: 600,00 EUR. ¿Quieres que la reserve?",
            "correo electrónico",
            "¡Reserva confirmada!",
        ],
    )
    .await;
    book_over_whatsapp(
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
            "Total: EUR 600.00. Shall I book it?",
            "e-mail address",
            "Booking confirmed!",
        ],
    )
    .await;
    book_over_whatsapp(
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
            "Total: 600,00 EUR. Quer que eu reserve?",
            "preciso do seu e-mail",
            "Reserva confirmada!",
        ],
    )
    .await;
    for (guest, language) in [
        ("34600111001", Language::Es),
        ("447911123456", Language::En),
        ("5511912340003", Language::Pt),
    ] {
        let transcript = hotel.transcript("whatsapp", guest).await;
        let turns = transcript["turns"].as_array().unwrap();
        let bot: Vec<&Value> = turns.iter().filter(|t| t["role"] == "bot").collect();
        assert!(bot.len() >= 4);
        for reply in bot {
            assert_eq!(reply["language"], language.code(), "{reply}");
            assert_eq!(reply["delivery"], "sent", "{reply}");
        }
        let guest_turns: Vec<&Value> = turns.iter().filter(|t| t["role"] == "guest").collect();
        assert_eq!(guest_turns.len(), 4);
        assert_eq!(guest_turns[1]["intent"], "make_reservation");
        assert!(guest_turns[1]["model_version"]
            .as_str()
            .is_some_and(|v| v.starts_with("nlu-")));
    }
    hotel.app.stop().await;
}

#[tokio::test]
async fn guests_book_over_whatsapp_in_spanish_english_and_portuguese_embedded() {
    books_in_three_languages(StoreKind::Sqlite).await;
}

#[tokio::test]
async fn guests_book_over_whatsapp_in_spanish_english_and_portuguese_distributed() {
    books_in_three_languages(StoreKind::Postgres).await;
}

#[tokio::test]
async fn a_telegram_guest_books_then_changes_and_cancels_after_confirming() {
    let hotel = Hotel::open(StoreKind::Sqlite, midday()).await;
    let chat = 555_001;
    let steps = [
        (
            "Hello, I want to book a suite from December 20 to 23 for 2 people",
            "Total: EUR 900.00",
        ),
        ("yes", "e-mail address"),
        ("bob@example.com", "contact phone number"),
        ("+44 7911 123457", "Booking confirmed!"),
    ];
    for (n, (text, expected)) in steps.into_iter().enumerate() {
        let replies = hotel.telegram_says(chat, 100 + n as i64, text).await;
        assert!(
            joined(&replies).contains(expected),
            "{text:?} → {replies:?}"
        );
    }
    let booked = hotel.last_booking("telegram", "555001").await;
    assert_eq!(booked.status, ReservationStatus::Confirmed);

    let replies = hotel
        .telegram_says(
            chat,
            110,
            "I need to change my booking to December 21 to 24",
        )
        .await;
    assert!(
        joined(&replies).contains("The price stays the same. Do you confirm the change?"),
        "{replies:?}"
    );
    let unchanged = hotel.last_booking("telegram", "555001").await;
    assert_eq!(
        unchanged.terms.as_ref().unwrap().stay.check_in,
        day("2026-12-20"),
        "nothing changes before the guest confirms"
    );
    let replies = hotel.telegram_says(chat, 111, "yes").await;
    assert!(
        joined(&replies).contains("Done: your booking"),
        "{replies:?}"
    );
    let moved = hotel.last_booking("telegram", "555001").await;
    let stay = moved.terms.unwrap().stay;
    assert_eq!(
        (stay.check_in, stay.check_out),
        (day("2026-12-21"), day("2026-12-24"))
    );

    let replies = hotel
        .telegram_says(chat, 112, "please cancel my reservation")
        .await;
    assert!(
        joined(&replies).contains("Do you confirm you want to cancel booking"),
        "{replies:?}"
    );
    assert_eq!(
        hotel.last_booking("telegram", "555001").await.status,
        ReservationStatus::Confirmed,
        "nothing is cancelled before the guest confirms"
    );
    let replies = hotel.telegram_says(chat, 113, "yes").await;
    assert!(joined(&replies).contains("is cancelled"), "{replies:?}");
    assert_eq!(
        hotel.last_booking("telegram", "555001").await.status,
        ReservationStatus::Cancelled
    );
    hotel.app.stop().await;
}

#[tokio::test]
async fn a_91_night_stay_is_explained_not_booked() {
    let hotel = Hotel::open(StoreKind::Sqlite, midday()).await;
    let replies = hotel
        .whatsapp_says(
            "34600111091",
            "wamid.long",
            "Quiero una habitación estándar del 1 de enero al 2 de abril para 2 personas",
        )
        .await;
    let text = joined(&replies);
    assert!(
        text.contains("90 noches como máximo") && text.contains("91"),
        "{replies:?}"
    );
    let session = hotel.session("whatsapp", "34600111091").await;
    assert_eq!(session.dialogue.pending, None, "nothing is quoted");
    assert_eq!(session.dialogue.last_booking, None, "nothing is booked");
    assert_eq!(
        session.handoff, None,
        "a broken rule is explained, not escalated"
    );
    let replies = hotel
        .whatsapp_says(
            "34600111092",
            "wamid.party",
            "Quiero una habitación doble del 20 al 22 de diciembre para 12 personas",
        )
        .await;
    assert!(
        joined(&replies).contains("como máximo 10 personas"),
        "the limit quoted is the domain's: {replies:?}"
    );
    hotel.app.stop().await;
}

#[tokio::test]
async fn twenty_concurrent_messages_from_one_guest_are_recorded_in_order_and_answered() {
    let hotel = Hotel::open(StoreKind::Sqlite, midday()).await;
    let wa_id = "34600111020";
    let posts = (0..20).map(|n| {
        let payload = whatsapp_text(
            DEFAULT_PHONE_NUMBER_ID,
            wa_id,
            "Ana",
            &format!("wamid.burst.{n}"),
            &format!("¿A qué hora es el desayuno? ({n})"),
        );
        let app = &hotel.app;
        async move { post_whatsapp(app, &payload).await.status() }
    });
    for status in futures::future::join_all(posts).await {
        assert_eq!(status, 200);
    }
    let logged = conserje_tests::channels::inbound_messages(&hotel.app, 20).await;
    let log_order: Vec<String> = logged
        .iter()
        .filter(|m| m.guest_ref.as_str() == wa_id)
        .map(|m| m.provider_message_id.clone())
        .collect();
    assert_eq!(log_order.len(), 20);
    eventually_within("every message is answered", Duration::from_secs(60), || {
        let sent = hotel.whatsapp.sent_to(wa_id).len();
        async move { sent >= 20 }
    })
    .await;
    let transcript = hotel.transcript("whatsapp", wa_id).await;
    let guest_ids: Vec<String> = transcript["turns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["role"] == "guest")
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        guest_ids, log_order,
        "recorded in the order the log took them"
    );
    let session = hotel.session("whatsapp", wa_id).await;
    for id in &log_order {
        assert!(session.answered.contains(id), "{id} answered");
    }
    assert!(hotel
        .whatsapp
        .sent_to(wa_id)
        .iter()
        .all(|reply| reply.contains("7:00 a 10:30")));
    hotel.app.stop().await;
}

#[tokio::test]
async fn a_voice_note_is_transcribed_and_answered_and_a_failed_one_is_retried() {
    let hotel = Hotel::open(StoreKind::Sqlite, midday()).await;
    let wa_id = "34600111077";
    let first = b"OggS voice note one".to_vec();
    hotel
        .whatsapp
        .add_media("1000000000000001", first.clone(), "audio/ogg");
    hotel
        .transcriber
        .add_transcript(first, "Hola, ¿a qué hora es el desayuno?");
    let voice = whatsapp_voice(
        DEFAULT_PHONE_NUMBER_ID,
        wa_id,
        "Ana",
        "wamid.voice.1",
        "1000000000000001",
    );
    assert_eq!(post_whatsapp(&hotel.app, &voice).await.status(), 200);
    let replies = hotel.new_replies(|| hotel.whatsapp.sent_to(wa_id), 0).await;
    assert!(joined(&replies).contains("7:00 a 10:30"), "{replies:?}");

    let second = b"OggS voice note two".to_vec();
    hotel
        .whatsapp
        .add_media("1000000000000002", second.clone(), "audio/ogg");
    hotel.transcriber.add_transcript(second, "¿Tenéis parking?");
    hotel.transcriber.fail_next(1, 503);
    let voice = whatsapp_voice(
        DEFAULT_PHONE_NUMBER_ID,
        wa_id,
        "Ana",
        "wamid.voice.2",
        "1000000000000002",
    );
    assert_eq!(post_whatsapp(&hotel.app, &voice).await.status(), 200);
    eventually("the retried voice note is answered", || {
        let sent = hotel.whatsapp.sent_to(wa_id);
        async move { sent.iter().any(|r| r.contains("parking cubierto")) }
    })
    .await;
    let sent = hotel.whatsapp.sent_to(wa_id);
    let notice = sent
        .iter()
        .position(|r| r.contains("lo estoy procesando"))
        .expect("the guest is told the audio is being processed");
    let answer = sent
        .iter()
        .position(|r| r.contains("parking cubierto"))
        .unwrap();
    assert!(notice < answer);
    assert!(
        hotel.transcriber.calls() >= 3,
        "the failed note was tried again"
    );
    let transcript = hotel.transcript("whatsapp", wa_id).await;
    let voice_turn = transcript["turns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "wamid.voice.2")
        .unwrap()
        .clone();
    assert_eq!(voice_turn["transcribed"], true);
    assert_eq!(voice_turn["text"], "¿Tenéis parking?");
    assert_eq!(voice_turn["media_kind"], "audio");
    hotel.app.stop().await;
}

#[tokio::test]
async fn staff_take_over_on_request_reply_in_person_and_hand_back() {
    let hotel = Hotel::open(StoreKind::Sqlite, midday()).await;
    let wa_id = "34600111055";
    let replies = hotel
        .whatsapp_says(
            wa_id,
            "wamid.h1",
            "Quiero hablar con una persona, por favor",
        )
        .await;
    assert!(
        joined(&replies).contains("Te paso con una persona"),
        "{replies:?}"
    );
    let payload = whatsapp_text(
        DEFAULT_PHONE_NUMBER_ID,
        wa_id,
        "Ana",
        "wamid.h2",
        "¿Hola? ¿Hay alguien?",
    );
    post_whatsapp(&hotel.app, &payload).await;
    eventually("the message is recorded", || async {
        hotel
            .session("whatsapp", wa_id)
            .await
            .seen_message_ids
            .contains("wamid.h2")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        hotel.whatsapp.sent_to(wa_id).len(),
        1,
        "the bot is silent while staff have the conversation"
    );

    let session_path = format!("/api/v1/sessions/default%2Fwhatsapp%2F{wa_id}");
    let lucia = hotel
        .app
        .client_as("lucia", Role::Staff, Some("default"))
        .await;
    let response = lucia
        .post(hotel.app.url(&format!("{session_path}/replies")))
        .json(&serde_json::json!({"text": "Hola Ana, soy Lucía de recepción. ¿En qué te ayudo?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let replies = hotel.new_replies(|| hotel.whatsapp.sent_to(wa_id), 1).await;
    assert_eq!(
        replies,
        vec!["Hola Ana, soy Lucía de recepción. ¿En qué te ayudo?".to_owned()]
    );

    let resolve = || {
        lucia
            .post(hotel.app.url(&format!("{session_path}/handoff/resolve")))
            .send()
    };
    assert_eq!(resolve().await.unwrap().status(), 204);
    let again = resolve().await.unwrap();
    assert_eq!(again.status(), 409);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["error"], "not_handed_off");

    let replies = hotel
        .whatsapp_says(wa_id, "wamid.h3", "¿Tenéis wifi?")
        .await;
    assert!(joined(&replies).contains("wifi es gratuito"), "{replies:?}");
    let transcript = hotel.transcript("whatsapp", wa_id).await;
    let roles: Vec<&str> = transcript["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["guest", "bot", "system", "guest", "staff", "system", "guest", "bot"]
    );
    let resolved = &transcript["turns"][5]["text"];
    assert_eq!(
        resolved, "handoff resolved by staff:lucia",
        "the actor is the key that resolved it"
    );
    hotel.app.stop().await;
}

#[tokio::test]
async fn after_hours_the_guest_is_told_when_staff_are_back_and_urgent_escalates() {
    let hotel = Hotel::open(StoreKind::Sqlite, late_night()).await;
    let replies = hotel.whatsapp_says("34600111066", "wamid.n1", "Hola").await;
    assert!(
        joined(&replies).contains("vuelve mañana a las 09:00"),
        "{replies:?}"
    );
    let replies = hotel
        .whatsapp_says(
            "34600111066",
            "wamid.n2",
            "Quiero reservar una suite del 20 al 22 de diciembre para 2 personas",
        )
        .await;
    assert!(
        joined(&replies).contains("¿Quieres que la reserve?"),
        "bookings work after hours: {replies:?}"
    );
    let replies = hotel
        .whatsapp_says(
            "44770090066",
            "wamid.n3",
            "Urgent: I'm locked out of my room",
        )
        .await;
    assert!(
        joined(&replies).contains("alerting the staff on duty"),
        "{replies:?}"
    );
    assert!(hotel
        .session("whatsapp", "44770090066")
        .await
        .handoff
        .is_some());
    hotel.app.stop().await;
}

#[tokio::test]
async fn a_reply_the_channel_refuses_is_dead_lettered_and_delivered_on_redrive() {
    let hotel = Hotel::open(StoreKind::Sqlite, midday()).await;
    hotel.whatsapp.fail_next(1, 400);
    let wa_id = "34600111044";
    let payload = whatsapp_text(DEFAULT_PHONE_NUMBER_ID, wa_id, "Ana", "wamid.f1", "Hola");
    post_whatsapp(&hotel.app, &payload).await;
    eventually("the failed delivery is recorded", || async {
        let transcript = hotel.transcript("whatsapp", wa_id).await;
        transcript["turns"]
            .as_array()
            .is_some_and(|turns| turns.iter().any(|t| t["delivery"] == "failed"))
    })
    .await;
    let dlq = hotel
        .app
        .runtime
        .log
        .lag("conserje-tests-nobody", &hotel.app.runtime.topics.dlq)
        .await
        .unwrap();
    assert!(dlq.iter().map(|p| p.end).sum::<i64>() >= 1);
    let rt = &hotel.app.runtime;
    let letters = dead_letters::list(rt, Some("send_failed")).await.unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].key, format!("default/whatsapp/{wa_id}"));
    assert!(letters[0].source.contains("outbound"));
    assert_eq!(
        dead_letters::redrive(rt, Some("send_failed"))
            .await
            .unwrap(),
        1
    );
    eventually("the redriven reply is delivered", || async {
        hotel.whatsapp.sent_to(wa_id).len() == 1
    })
    .await;
    // The sender records the delivery once the platform has answered: the simulator sees the
    // message a moment before the conversation does.
    eventually("the delivery is recorded", || async {
        let transcript = hotel.transcript("whatsapp", wa_id).await;
        transcript["turns"]
            .as_array()
            .is_some_and(|turns| turns.iter().any(|t| t["delivery"] == "sent"))
    })
    .await;
    let transcript = hotel.transcript("whatsapp", wa_id).await;
    let reply = transcript["turns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "bot")
        .unwrap()
        .clone();
    assert_eq!(reply["delivery"], "sent");
    assert_eq!(reply["delivered"], true);
    assert_eq!(
        dead_letters::redrive(rt, Some("send_failed"))
            .await
            .unwrap(),
        1,
        "the dead letter stays listed"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        hotel.whatsapp.sent_to(wa_id).len(),
        1,
        "a reply already delivered is not sent twice"
    );
    hotel.app.stop().await;
}

#[tokio::test]
async fn a_declined_quote_offers_other_rooms_and_two_unclear_turns_reach_staff() {
    let hotel = Hotel::open(StoreKind::Sqlite, midday()).await;
    let wa_id = "34600111033";
    let replies = hotel
        .whatsapp_says(
            wa_id,
            "wamid.d1",
            "¿Cuánto cuesta una suite del 10 al 12 de enero para 2 personas?",
        )
        .await;
    assert!(joined(&replies).contains("600,00 EUR"), "{replies:?}");
    let replies = hotel.whatsapp_says(wa_id, "wamid.d2", "no, gracias").await;
    let text = joined(&replies);
    assert!(
        text.contains("habitación doble") && text.contains("120,00 EUR/noche"),
        "the other free rooms with their rates: {replies:?}"
    );
    assert!(
        !text.contains("suite ("),
        "not the one declined: {replies:?}"
    );
    assert_eq!(
        hotel.session("whatsapp", wa_id).await.dialogue.pending,
        None
    );

    let replies = hotel.whatsapp_says(wa_id, "wamid.d3", "asdf jklñ").await;
    assert!(
        joined(&replies).contains("no te he entendido"),
        "{replies:?}"
    );
    assert!(hotel.session("whatsapp", wa_id).await.handoff.is_none());
    let replies = hotel.whatsapp_says(wa_id, "wamid.d4", "blorp fnord").await;
    assert!(
        joined(&replies).contains("Te paso con una persona"),
        "{replies:?}"
    );
    let session = hotel.session("whatsapp", wa_id).await;
    assert_eq!(
        session.handoff,
        Some(conserje_domain::session::HandoffReason::LowConfidence)
    );
    hotel.app.stop().await;
}

#[tokio::test]
async fn a_telegram_voice_note_is_fetched_with_get_file_and_answered_in_portuguese() {
    let hotel = Hotel::open(StoreKind::Sqlite, midday()).await;
    let audio = b"OggS telegram voice".to_vec();
    hotel
        .telegram
        .add_file("AwACAgQAAxkBAAIB", audio.clone(), "voice/file_7.oga");
    hotel
        .transcriber
        .add_transcript(audio, "Olá, vocês aceitam animais de estimação?");
    let update =
        conserje_tests::channels::telegram_voice(900, 555_077, "Maria", "AwACAgQAAxkBAAIB", 4);
    assert_eq!(
        post_telegram(&hotel.app, "default", &update).await.status(),
        200
    );
    let replies = hotel
        .new_replies(|| hotel.telegram.sent_to("555077"), 0)
        .await;
    assert!(
        joined(&replies).contains("Aceitamos animais"),
        "{replies:?}"
    );
    let request = &hotel.transcriber.requests()[0];
    assert_eq!(request.model, "whisper-1");
    hotel.app.stop().await;
}

#[tokio::test]
async fn a_hotel_rewords_a_reply_in_its_own_configuration() {
    let hotel = Hotel::open(StoreKind::Sqlite, midday()).await;
    let payload = whatsapp_text(
        conserje_tests::channels::SOL_PHONE_NUMBER_ID,
        "5511987650001",
        "João",
        "wamid.sol.1",
        "Tchau, obrigado pela ajuda!",
    );
    assert_eq!(post_whatsapp(&hotel.app, &payload).await.status(), 200);
    let bot_text = || async {
        let transcript: Value = hotel
            .app
            .http
            .get(
                hotel
                    .app
                    .url("/api/v1/sessions/hotel-sol%2Fwhatsapp%2F5511987650001/transcript"),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap_or_default();
        transcript["turns"]
            .as_array()
            .and_then(|turns| turns.iter().find(|t| t["role"] == "bot"))
            .map(|t| t["text"].clone())
    };
    eventually("the reply is composed", || async {
        bot_text().await.is_some()
    })
    .await;
    let bot_text = bot_text().await.unwrap();
    assert_eq!(bot_text, "Até breve! Um abraço do Hotel Sol.");
    hotel.app.stop().await;
}

#[tokio::test]
async fn a_booking_asked_twice_under_one_id_books_once() {
    let hotel = Hotel::open(StoreKind::Sqlite, midday()).await;
    let desk = &hotel.app.runtime.desk;
    let request = || conserje_commands::reservation_desk::NewReservation {
        tenant_id: conserje_domain::values::TenantId::parse("default").unwrap(),
        guest_ref: None,
        name: "Ana".into(),
        email: "ana@example.com".into(),
        phone: "+34600111222".into(),
        room_type: "suite".into(),
        check_in: day("2026-12-20"),
        check_out: day("2026-12-22"),
        guests: 2,
        special_requests: None,
        conversation: None,
    };
    let meta = || {
        conserje_domain::EventMetadata::new(
            conserje_domain::values::TenantId::parse("default").unwrap(),
            conserje_domain::metadata::Actor::guest("ana@example.com"),
            "whatsapp",
        )
    };
    let id = uuid::Uuid::now_v7();
    let first = desk.request_as(id, request(), meta()).await.unwrap();
    let again = desk.request_as(id, request(), meta()).await.unwrap();
    assert_eq!(first.status, ReservationStatus::Confirmed);
    assert_eq!(again.pms_ref, first.pms_ref, "one PMS booking");
    let events = hotel
        .app
        .runtime
        .feed
        .stream(Reservation::TYPE, &id.to_string())
        .await
        .unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == "ReservationRequested")
            .count(),
        1
    );
    hotel.app.stop().await;
}

/// The rows analysts query: what was asked, in which language, and why staff took over.
async fn intent_rows(hotel: &Hotel) -> Vec<(String, String, i64)> {
    let sql = "SELECT language, intent, messages FROM intent_mix ORDER BY language, intent";
    match &hotel.app.runtime.db {
        conserje_infra::Database::Postgres(pool) => {
            sqlx::query_as(sql).fetch_all(pool).await.unwrap()
        }
        conserje_infra::Database::Sqlite(pool) => {
            sqlx::query_as(sql).fetch_all(pool).await.unwrap()
        }
    }
}

async fn handoff_rows(hotel: &Hotel) -> Vec<(String, i64)> {
    let sql = "SELECT handoff_reason, handoffs FROM handoff_counts ORDER BY handoff_reason";
    match &hotel.app.runtime.db {
        conserje_infra::Database::Postgres(pool) => {
            sqlx::query_as(sql).fetch_all(pool).await.unwrap()
        }
        conserje_infra::Database::Sqlite(pool) => {
            sqlx::query_as(sql).fetch_all(pool).await.unwrap()
        }
    }
}

async fn analysts_see_what_guests_ask(kind: StoreKind) {
    let hotel = Hotel::open(kind, midday()).await;
    hotel
        .whatsapp_says("34600111088", "wamid.a1", "¿A qué hora es el desayuno?")
        .await;
    hotel
        .whatsapp_says("447911123488", "wamid.a2", "What time is breakfast?")
        .await;
    hotel
        .whatsapp_says("447911123488", "wamid.a3", "I want to talk to a person")
        .await;
    let expected = vec![
        ("en".to_owned(), "hotel_info".to_owned(), 1),
        ("en".to_owned(), "talk_to_human".to_owned(), 1),
        ("es".to_owned(), "hotel_info".to_owned(), 1),
    ];
    eventually("the analytics rows", || async {
        intent_rows(&hotel).await == expected && handoff_rows(&hotel).await.len() == 1
    })
    .await;
    assert_eq!(
        handoff_rows(&hotel).await,
        vec![("guest_asked".to_owned(), 1)]
    );
    let report = conserje_gateway::operations::replay(
        &hotel.app.runtime,
        conserje_projections::conversation_stats::PROJECTION,
        false,
    )
    .await
    .unwrap();
    assert!(report.events > 0);
    assert_eq!(
        intent_rows(&hotel).await,
        expected,
        "replay rebuilds the same rows"
    );
    hotel.app.stop().await;
}

#[tokio::test]
async fn analysts_see_what_guests_ask_embedded() {
    analysts_see_what_guests_ask(StoreKind::Sqlite).await;
}

#[tokio::test]
async fn analysts_see_what_guests_ask_distributed() {
    analysts_see_what_guests_ask(StoreKind::Postgres).await;
}

/// `context_readings`: how many messages were read as the answer to what the bot had asked.
async fn context_rows(hotel: &Hotel) -> Vec<(String, String, i64)> {
    let sql = "SELECT locale, from_context, messages FROM context_readings \
               ORDER BY locale, from_context";
    match &hotel.app.runtime.db {
        conserje_infra::Database::Postgres(pool) => {
            sqlx::query_as(sql).fetch_all(pool).await.unwrap()
        }
        conserje_infra::Database::Sqlite(pool) => {
            sqlx::query_as(sql).fetch_all(pool).await.unwrap()
        }
    }
}

async fn analysts_see_which_turns_context_decided(kind: StoreKind) {
    let hotel = Hotel::open(kind, midday()).await;
    let asked = hotel
        .whatsapp_says(
            "351912345601",
            "wamid.c1",
            "Bom dia, queria reservar um quarto se faz favor",
        )
        .await;
    assert!(!asked.is_empty());
    hotel
        .whatsapp_says("351912345601", "wamid.c2", "de 10 a 12 de janeiro")
        .await;
    let expected = vec![
        ("pt-PT".to_owned(), "dates".to_owned(), 1),
        ("pt-PT".to_owned(), "none".to_owned(), 1),
    ];
    eventually("the context rows", || async {
        context_rows(&hotel).await == expected
    })
    .await;
    hotel.app.stop().await;
}

#[tokio::test]
async fn analysts_see_which_turns_context_decided_embedded() {
    analysts_see_which_turns_context_decided(StoreKind::Sqlite).await;
}

#[tokio::test]
async fn analysts_see_which_turns_context_decided_distributed() {
    analysts_see_which_turns_context_decided(StoreKind::Postgres).await;
}

/// WhatsApp's statuses come late, twice and out of order; the transcript shows what the guest
/// has: `read` stays `read` when its `delivered` comes after it, a `failed` from another device
/// after `delivered` does not undo it, and a reply that only failed shows the failure's code.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delivery_receipts_in_any_order_end_in_the_latest_state() {
    let now = Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap();
    let hotel = Hotel::open(StoreKind::Sqlite, now).await;
    hotel.statuses_on_demand();
    let wa_id = "34600111301";
    hotel.whatsapp_says(wa_id, "wamid.in.1", "hola").await;
    hotel
        .whatsapp_says(wa_id, "wamid.in.2", "¿a qué hora es el desayuno?")
        .await;
    let wamids = hotel.whatsapp.wamids_to(wa_id);
    let (first, last) = (&wamids[0], wamids.last().unwrap());
    assert_ne!(first, last, "two replies at least");
    // Wait until both sends are recorded, so the receipts find their replies on the transcript.
    eventually("the sends are recorded", || async {
        let transcript = hotel.transcript("whatsapp", wa_id).await;
        transcript["turns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["role"] == "bot")
            .all(|t| t["delivery"] == "sent")
    })
    .await;

    let answer = hotel
        .whatsapp
        .post_statuses(vec![
            (first.as_str(), "read", None),
            (first.as_str(), "delivered", None),
            (first.as_str(), "sent", None),
        ])
        .await;
    assert_eq!(answer, StatusCode::OK);
    let answer = hotel
        .whatsapp
        .post_statuses(vec![
            (first.as_str(), "failed", Some(131026)),
            (last.as_str(), "sent", None),
            (last.as_str(), "failed", Some(131026)),
            // The same delivery again (Meta retries): nothing new.
            (last.as_str(), "failed", Some(131026)),
        ])
        .await;
    assert_eq!(answer, StatusCode::OK);

    let receipt_of = |transcript: &Value, wamid: &str| {
        transcript["turns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["delivery_detail"] == wamid)
            .map(|t| (t["receipt"].clone(), t["receipt_detail"].clone()))
    };
    eventually("both receipts are on the transcript", || async {
        let transcript = hotel.transcript("whatsapp", wa_id).await;
        receipt_of(&transcript, last).is_some_and(|(status, _)| status == "failed")
    })
    .await;
    let transcript = hotel.transcript("whatsapp", wa_id).await;
    assert_eq!(
        receipt_of(&transcript, first),
        Some((json!("read"), Value::Null)),
        "read, whatever came after: {transcript:#}"
    );
    let (_, detail) = receipt_of(&transcript, last).unwrap();
    assert!(
        detail.as_str().is_some_and(|d| d.starts_with("131026")),
        "the failure's code: {detail}"
    );
    // Each receipt that told more is one event: read for the first; sent and failed for the last.
    let session = hotel.session("whatsapp", wa_id).await;
    assert_eq!(
        session.receipts.get(first.as_str()),
        Some(&conserje_domain::session::ReceiptStatus::Read)
    );
    let recorded = hotel
        .app
        .runtime
        .feed
        .stream("Session", &format!("default/whatsapp/{wa_id}"))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == "ReceiptRecorded")
        .count();
    assert_eq!(recorded, 3, "read; sent, failed");

    // The analysts' read rate: two replies with receipts, one read, one failed.
    let db = hotel.app.runtime.db.clone();
    let rate = || async {
        conserje_infra::on_pool!(&db, pool => sqlx::query_as::<_, (i64, i64, i64, i64)>(
            "SELECT sum(replies), sum(delivered_replies), sum(read_replies), sum(failed_replies) \
             FROM reply_read_rate WHERE tenant_id = 'default' AND channel = 'whatsapp'"
        )
        .fetch_optional(pool)
        .await)
        .ok()
        .flatten()
    };
    eventually("the read rate counts both replies", || async {
        rate().await.is_some_and(|(replies, ..)| replies == 2)
    })
    .await;
    assert_eq!(
        rate().await,
        Some((2, 1, 1, 1)),
        "replies, delivered, read, failed"
    );
}

#[path = "conversations/reaching_the_guest.rs"]
mod reaching_the_guest;

#[path = "conversations/buttons.rs"]
mod buttons;

#[path = "conversations/reactions.rs"]
mod reactions;

#[path = "conversations/proactive.rs"]
mod proactive;

#[path = "conversations/pacing.rs"]
mod pacing;
