//! A guest's very long message against the embedded default: it is recorded and understood
//! from its first 4,096 characters (the channels' own limit, kept on every way in), and does not hold up anyone else's conversation; a message
//! whose understanding overruns its budget is dead-lettered and the conversation goes on.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use conserje_commands::inbound::{UNDERSTANDING_TIMEOUT, WORKER_GROUP};
use conserje_domain::session::{Session, SessionEvent};
use conserje_domain::understanding::Understood;
use conserje_gateway::dead_letters;
use conserje_gateway::routes::webhooks::BODY_LIMIT;
use conserje_tests::channels::{
    channel_config, post_whatsapp, whatsapp_text, DEFAULT_PHONE_NUMBER_ID,
};
use conserje_tests::{eventually, eventually_within, fresh_store, FixedClock, StoreKind, TestApp};
use cqrs_es::Aggregate;
use tokio::time::Instant;

const BOOKING: &str = "hola, quiero reservar una habitación";

/// What the long message says after its first 4,096 characters: a party size and dates.
const STAY: &str = "somos 3 personas, del 10 al 12 de diciembre. ";

/// The channels' limit: what a message is understood from.
const UNDERSTOOD_CHARS: usize = 4096;

/// Sunday 22 November 2026, 12:00 in Madrid.
fn midday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 11, 0, 0).unwrap()
}

fn stream_of(wa_id: &str) -> String {
    format!("default/whatsapp/{wa_id}")
}

async fn open(
    budget_ms: Option<u64>,
) -> (
    TestApp,
    conserje_gateway::settings::StoreOptions,
    tempfile::TempDir,
) {
    let (mut options, dir) = fresh_store(StoreKind::Sqlite).await;
    options.config = Some(channel_config(dir.path()));
    if let Some(budget_ms) = budget_ms {
        options.channels.understanding_budget_ms = budget_ms;
    }
    let app = TestApp::spawn_with_clock(&options, Arc::new(FixedClock(midday()))).await;
    (app, options, dir)
}

async fn session(app: &TestApp, wa_id: &str) -> Session {
    app.runtime
        .conversations
        .session(&stream_of(wa_id))
        .await
        .expect("the session loads")
}

async fn answered(app: &TestApp, wa_id: &str, message_id: &str) -> bool {
    session(app, wa_id).await.answered.contains(message_id)
}

/// The guest's session events, decoded.
async fn events_of(app: &TestApp, wa_id: &str) -> Vec<SessionEvent> {
    app.runtime
        .feed
        .stream(Session::TYPE, &stream_of(wa_id))
        .await
        .expect("the session's events load")
        .iter()
        .map(|event| event.decode::<Session>().expect("a session event"))
        .collect()
}

/// A WhatsApp text whose delivery is as large as the webhook accepts (just under its 1 MiB
/// body limit): a booking request for the first 4,096 characters and more, then a stay the
/// guest describes (party size and dates) that only understanding the whole text would see.
fn longest_text(wa_id: &str, message_id: &str) -> String {
    let envelope = whatsapp_text(DEFAULT_PHONE_NUMBER_ID, wa_id, "Ana", message_id, "")
        .to_string()
        .len();
    let room = BODY_LIMIT - envelope - 64;
    let mut text = String::with_capacity(room);
    while text.chars().count() < UNDERSTOOD_CHARS + 100 {
        text.push_str(BOOKING);
        text.push_str(". ");
    }
    while text.len() + STAY.len() <= room {
        text.push_str(STAY);
    }
    text.trim_end().to_owned()
}

/// What the worker understood of `message_id`: its `IntentRecognized`.
fn understood_of(events: &[SessionEvent], message_id: &str) -> Option<Understood> {
    events.iter().find_map(|event| match event {
        SessionEvent::IntentRecognized {
            turn_key,
            understood,
            ..
        } if turn_key == message_id => Some(understood.clone()),
        _ => None,
    })
}

/// Posts `text` from `wa_id` and waits (at most `patience`) until its turn is answered; returns
/// how long that took from the post.
async fn answered_after(
    app: &TestApp,
    wa_id: &str,
    message_id: &str,
    text: &str,
    patience: Duration,
) -> Duration {
    let payload = whatsapp_text(DEFAULT_PHONE_NUMBER_ID, wa_id, "Guest", message_id, text);
    let posted = Instant::now();
    let response = post_whatsapp(app, &payload).await;
    assert_eq!(response.status(), 200, "the webhook accepts {message_id}");
    while !answered(app, wa_id, message_id).await {
        assert!(
            posted.elapsed() < patience,
            "{message_id} was not answered within {patience:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    posted.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_megabyte_message_is_understood_from_its_first_4096_chars_and_stalls_nobody() {
    let (app, _options, _dir) = open(None).await;
    let long_guest = "34600999000";
    let long_id = "wamid.long";
    let text = longest_text(long_guest, long_id);
    let payload = whatsapp_text(DEFAULT_PHONE_NUMBER_ID, long_guest, "Ana", long_id, &text);
    let body = payload.to_string().len();
    assert!(
        body > BODY_LIMIT - 1024 && body <= BODY_LIMIT,
        "the delivery is just under the webhook's limit ({body} bytes)"
    );
    let response = post_whatsapp(&app, &payload).await;
    assert_eq!(
        response.status(),
        200,
        "the webhook accepts the long message"
    );

    // Right after, five other guests ask for a room: each is answered within a second.
    let others = (1..=5).map(|n| {
        let app = &app;
        async move {
            let wa_id = format!("3460099900{n}");
            let message_id = format!("wamid.other{n}");
            let took =
                answered_after(app, &wa_id, &message_id, BOOKING, Duration::from_secs(10)).await;
            (message_id, took)
        }
    });
    let latencies = futures::future::join_all(others).await;
    eprintln!("other guests answered after {latencies:?}");
    for (message_id, took) in &latencies {
        assert!(
            *took < Duration::from_secs(1),
            "{message_id} waited {took:?} behind the long message"
        );
    }

    // The long message itself is answered, from its first 4,096 characters.
    eventually_within(
        "the long message is answered",
        Duration::from_secs(30),
        || answered(&app, long_guest, long_id),
    )
    .await;
    let events = events_of(&app, long_guest).await;
    let recorded = events
        .iter()
        .find_map(|event| match event {
            SessionEvent::GuestMessageReceived {
                provider_message_id,
                text,
                ..
            } if provider_message_id == long_id => Some(text.clone()),
            _ => None,
        })
        .expect("the long message is recorded");
    assert_eq!(
        recorded.as_deref().map(|t| t.chars().count()),
        Some(conserje_domain::session::MAX_TEXT_CHARS),
        "the webhook keeps the channels' 4,096 characters of it"
    );
    assert!(
        text.starts_with(recorded.as_deref().unwrap()),
        "its first characters"
    );
    let understood =
        understood_of(&events, long_id).expect("the long message's turn is understood");
    let booking = understood_of(&events_of(&app, "34600999001").await, "wamid.other1")
        .expect("another guest's booking request is understood");

    // What the text says past its 4,096th character, sent on its own, is understood.
    let stay_guest = "34600999009";
    answered_after(
        &app,
        stay_guest,
        "wamid.stay",
        STAY.trim(),
        Duration::from_secs(10),
    )
    .await;
    let stay = understood_of(&events_of(&app, stay_guest).await, "wamid.stay")
        .expect("the stay is understood");
    assert_eq!(stay.entities.guests, Some(3), "{stay:?}");
    assert!(stay.entities.check_in.is_some(), "{stay:?}");

    // The long message was understood from its start only: a booking request, without the
    // party size or the dates that come later.
    assert_eq!(understood.intent, booking.intent, "{understood:?}");
    assert_eq!(understood.entities.guests, None, "{understood:?}");
    assert_eq!(understood.entities.check_in, None, "{understood:?}");
    assert_eq!(understood.entities.check_out, None, "{understood:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn understanding_over_budget_is_dead_lettered_and_the_conversation_goes_on() {
    let (app, mut options, _dir) = open(Some(0)).await;
    let wa_id = "34600999100";
    let slow_id = "wamid.slow";
    let payload = whatsapp_text(DEFAULT_PHONE_NUMBER_ID, wa_id, "Ana", slow_id, BOOKING);
    assert_eq!(post_whatsapp(&app, &payload).await.status(), 200);

    eventually("the message is dead-lettered", || async {
        !dead_letters::list(&app.runtime, Some(UNDERSTANDING_TIMEOUT))
            .await
            .expect("the dead-letter queue lists")
            .is_empty()
    })
    .await;
    let letters = dead_letters::list(&app.runtime, Some(UNDERSTANDING_TIMEOUT))
        .await
        .unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].key, stream_of(wa_id));
    assert_eq!(letters[0].detail, "understanding took longer than 0 ms");
    assert_eq!(letters[0].consumer, WORKER_GROUP);
    assert!(letters[0].source.contains("inbound"), "{letters:?}");
    let kept = session(&app, wa_id).await;
    assert!(
        kept.seen_message_ids.contains(slow_id),
        "the message is recorded"
    );
    assert!(!kept.answered.contains(slow_id), "but not answered");
    app.stop().await;

    // With a budget the model meets, the guest's next message is answered as usual.
    options.channels.understanding_budget_ms = 2000;
    let app = TestApp::spawn_with_clock(&options, Arc::new(FixedClock(midday()))).await;
    let took = answered_after(
        &app,
        wa_id,
        "wamid.next",
        "somos 2 personas",
        Duration::from_secs(10),
    )
    .await;
    eprintln!("the next message was answered after {took:?}");
    assert!(
        !answered(&app, wa_id, slow_id).await,
        "the dead-lettered record is not taken again by itself"
    );

    // It waits for an operator in the queue's depth (`conserje_dead_letters{reason}`) …
    let waiting = || async {
        app.runtime
            .dead_letter_index
            .waiting_by_reason()
            .await
            .expect("the dead-letter index reads")
            .into_iter()
            .find(|(reason, _)| reason.as_str() == UNDERSTANDING_TIMEOUT)
            .map(|(_, n)| n)
    };
    eventually("the dead letter is indexed", || async {
        waiting().await == Some(1)
    })
    .await;
    // … until a redrive answers it, and the depth drops at once.
    assert_eq!(
        dead_letters::redrive(&app.runtime, Some(UNDERSTANDING_TIMEOUT))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        waiting().await,
        None,
        "a redriven dead letter no longer waits"
    );
    eventually("the redriven message is answered", || {
        answered(&app, wa_id, slow_id)
    })
    .await;
    app.stop().await;
}
