//! Plays one story against the running service, turn by turn, through the real webhook of its
//! channel, and reads back what the bot did from the conversation's own record.
//!
//! A turn is over when the session aggregate has answered the guest's message (or recorded it
//! while staff have the conversation): waiting on that, not on a fixed sleep, keeps the suite
//! both fast and free of races. The replies come from the transcript API, as staff see them.

use std::time::Duration;

use conserje_commands::dialogue::booking_ref;
use conserje_domain::session::Session;
use serde_json::Value;

use super::checks::{self, BotLine, Observed};
use super::dates::{self, Context};
use super::story::{Booking, Channel, Story};
use super::Guest;
use crate::channels::{
    post_telegram, post_whatsapp, telegram_text, whatsapp_text, DEFAULT_PHONE_NUMBER_ID,
};
use crate::TestApp;

/// How long a turn may take before the story fails as unanswered.
const TURN_PATIENCE: Duration = Duration::from_secs(20);
/// How long the reservations read model may take to show the conversation's bookings.
const BOOKINGS_PATIENCE: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(10);
const TENANT: &str = "default";

/// Why a story failed: where, what it expected, and what the bot actually did.
#[derive(Debug, Clone, Default)]
pub struct Failure {
    /// 1-based; `None` for the file itself or its `[final]`.
    pub turn: Option<usize>,
    /// `[final]` when the end state is wrong.
    pub at_final: bool,
    /// The guest's text as sent (placeholders expanded when they could be).
    pub guest: Option<String>,
    pub problems: Vec<String>,
    pub observed: Option<Observed>,
}

impl Failure {
    pub fn of_file(problem: String) -> Self {
        Self {
            problems: vec![problem],
            ..Self::default()
        }
    }

    fn at_turn(turn: usize, guest: &str, problem: String) -> Self {
        Self {
            turn: Some(turn),
            guest: Some(guest.to_owned()),
            problems: vec![problem],
            ..Self::default()
        }
    }
}

/// Plays `story` as `guest`; `Ok` when every turn and the end state are as written.
pub async fn play(
    app: &TestApp,
    story: &Story,
    guest: &Guest,
    today: chrono::NaiveDate,
    turn_times: &mut Vec<Duration>,
) -> Result<(), Failure> {
    let reference = guest.reference(story.channel);
    let session_id = format!("{TENANT}/{}/{reference}", story.channel.as_str());
    let mut booking: Option<String> = None;
    let mut session = None;
    for (index, turn) in story.turns.iter().enumerate() {
        let number = index + 1;
        let before = Context {
            today,
            language: story.locale.language(),
            booking_ref: booking.as_deref(),
        };
        let text = dates::expand(&turn.guest, &before)
            .map_err(|e| Failure::at_turn(number, &turn.guest, format!("guest: {e}")))?;
        let sent = std::time::Instant::now();
        let message_id = send(app, story, guest, number, &text)
            .await
            .map_err(|e| Failure::at_turn(number, &text, e))?;
        let answered = match answered(app, &session_id, &message_id).await {
            Ok(session) => {
                turn_times.push(sent.elapsed());
                session
            }
            Err(last) => {
                let mut failure = Failure::at_turn(
                    number,
                    &text,
                    format!(
                        "no answer to {message_id} within {} s",
                        TURN_PATIENCE.as_secs()
                    ),
                );
                failure.observed = observe(app, &session_id, &message_id, last.as_ref())
                    .await
                    .ok();
                return Err(failure);
            }
        };
        let observed = observe(app, &session_id, &message_id, Some(&answered))
            .await
            .map_err(|e| Failure::at_turn(number, &text, e))?;
        if observed
            .replies
            .iter()
            .any(|r| r.template == "booked" || r.template == "booking_received")
        {
            if let Some(id) = answered.dialogue.last_booking {
                listed(app, &reference, id).await;
            }
            booking = answered.dialogue.last_booking.map(booking_ref);
        }
        // `says` may quote the number this very turn's `booked` reply gave.
        let context = Context {
            today,
            language: story.locale.language(),
            booking_ref: booking.as_deref(),
        };
        let problems = match turn
            .says
            .iter()
            .map(|s| dates::expand(s, &context))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(says) => checks::turn(turn, &says, &observed, story.locale),
            Err(e) => vec![format!("says: {e}")],
        };
        if !problems.is_empty() {
            return Err(Failure {
                turn: Some(number),
                at_final: false,
                guest: Some(text),
                problems,
                observed: Some(observed),
            });
        }
        session = Some(answered);
    }
    let session = match session {
        Some(s) => s,
        None => return Ok(()),
    };
    final_state(app, story, &reference, &session).await
}

/// `text` with every phone number in it made this guest's own: its last four digits replaced by
/// the guest's serial, its formatting kept. Stories written apart often type the same number
/// (`+44 7911 123456`), and the five-active-reservations limit recognises a guest by the phone:
/// in one suite they would all be one guest.
pub fn own_phone_numbers(text: &str, serial: i64) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i] == '+' || chars[i].is_ascii_digit();
        let after_word = i == 0 || !chars[i - 1].is_alphanumeric();
        if !(starts && after_word) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut end = i + 1;
        while end < chars.len() && (chars[end].is_ascii_digit() || matches!(chars[end], ' ' | '-'))
        {
            end += 1;
        }
        // Trailing separators belong to the sentence, not the number.
        while end > i + 1 && matches!(chars[end - 1], ' ' | '-') {
            end -= 1;
        }
        let run: Vec<char> = chars[i..end].to_vec();
        let digits = run.iter().filter(|c| c.is_ascii_digit()).count();
        let next_is_word = chars.get(end).is_some_and(|c| c.is_alphanumeric());
        if digits < 9 || next_is_word {
            out.extend(&run);
            i = end;
            continue;
        }
        let own = format!("{:04}", serial.rem_euclid(10_000));
        let mut replaced = run.clone();
        let mut pending = own.chars().rev();
        for c in replaced.iter_mut().rev() {
            if c.is_ascii_digit() {
                match pending.next() {
                    Some(d) => *c = d,
                    None => break,
                }
            }
        }
        out.extend(replaced);
        i = end;
    }
    out
}

/// Sends turn `number`'s `text` through the story's channel; returns its provider message id.
async fn send(
    app: &TestApp,
    story: &Story,
    guest: &Guest,
    number: usize,
    text: &str,
) -> Result<String, String> {
    let text = &own_phone_numbers(text, guest.serial);
    let (message_id, response) = match story.channel {
        Channel::WhatsApp => {
            let id = format!("wamid.story.{}.{number}", guest.wa_id);
            let name = story.name.as_deref().unwrap_or("Alex Morgan");
            let payload = whatsapp_text(DEFAULT_PHONE_NUMBER_ID, &guest.wa_id, name, &id, text);
            (id, post_whatsapp(app, &payload).await)
        }
        Channel::Telegram => {
            let update_id = guest.serial * 1000 + number as i64;
            let name = story.name.as_deref().unwrap_or("Alex");
            let update = telegram_text(update_id, guest.chat_id, name, text);
            let id = conserje_commands::channels::telegram::provider_message_id(update_id);
            (id, post_telegram(app, TENANT, &update).await)
        }
    };
    let status = response.status();
    if status != 200 {
        let body = response.text().await.unwrap_or_default();
        return Err(format!(
            "the {} webhook answered {status}: {body}",
            story.channel.as_str()
        ));
    }
    Ok(message_id)
}

/// Waits until the session has answered `message_id`, or recorded it while handed off; on
/// timeout returns the last session it saw.
async fn answered(
    app: &TestApp,
    session_id: &str,
    message_id: &str,
) -> Result<Session, Option<Session>> {
    let deadline = tokio::time::Instant::now() + TURN_PATIENCE;
    let mut last = None;
    loop {
        if let Ok(session) = app.runtime.conversations.session(session_id).await {
            let done = session.answered.contains(message_id)
                || (session.handoff.is_some() && session.seen_message_ids.contains(message_id));
            if done {
                return Ok(session);
            }
            last = Some(session);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(last);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The turn as recorded: the bot lines after the guest's line, its intent, the slots after it.
async fn observe(
    app: &TestApp,
    session_id: &str,
    message_id: &str,
    session: Option<&Session>,
) -> Result<Observed, String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let transcript = transcript(app, session_id).await?;
        let turns = transcript["turns"].as_array().cloned().unwrap_or_default();
        let position = turns
            .iter()
            .position(|t| t["role"] == "guest" && t["id"] == message_id);
        if let Some(position) = position {
            let replies = turns[position + 1..]
                .iter()
                .take_while(|t| t["role"] != "guest")
                .filter(|t| t["role"] == "bot")
                .map(BotLine::of)
                .collect();
            return Ok(Observed {
                replies,
                intent: turns[position]["intent"].as_str().map(str::to_owned),
                slots: session.map(|s| s.dialogue.slots.clone()),
            });
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "the transcript of {session_id} has no guest line {message_id}"
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn transcript(app: &TestApp, session_id: &str) -> Result<Value, String> {
    let url = app.url(&format!(
        "/api/v1/sessions/{}/transcript",
        session_id.replace('/', "%2F")
    ));
    let response = app
        .http
        .get(url)
        .send()
        .await
        .map_err(|e| format!("transcript request: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("the transcript answered {}", response.status()));
    }
    response
        .json()
        .await
        .map_err(|e| format!("transcript body: {e}"))
}

/// Waits (at most [`BOOKINGS_PATIENCE`]) until the guest-reservations read model lists booking
/// `id`: the bot finds "cancel booking 1A2B3C4D" there. A guest takes seconds to type the next
/// message, the runner microseconds, and a story tests the dialogue, not that race.
async fn listed(app: &TestApp, guest: &str, id: uuid::Uuid) {
    let deadline = tokio::time::Instant::now() + BOOKINGS_PATIENCE;
    let id = id.to_string();
    while tokio::time::Instant::now() < deadline {
        let ids = app
            .runtime
            .guest_reservations
            .of_guest(TENANT, guest)
            .await
            .unwrap_or_default();
        if ids.contains(&id) {
            return;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// `[final]`: whether staff have the conversation and the guest's reservations.
async fn final_state(
    app: &TestApp,
    story: &Story,
    guest: &str,
    session: &Session,
) -> Result<(), Failure> {
    let mut problems = vec![];
    if let Some(expected) = story.handoff {
        let actual = session.handoff.is_some();
        if actual != expected {
            problems.push(format!(
                "handoff: expected {expected}, got {actual} ({:?})",
                session.handoff
            ));
        }
    }
    if let Some(expected) = &story.bookings {
        let mut expected = expected.clone();
        expected.sort();
        let actual = bookings_of(app, guest, &expected).await;
        match actual {
            Ok(actual) if actual == expected => {}
            Ok(actual) => problems.push(format!(
                "bookings: expected [{}], got [{}]",
                list(&expected),
                list(&actual)
            )),
            Err(e) => problems.push(format!("bookings: {e}")),
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Failure {
        at_final: true,
        problems,
        ..Failure::default()
    })
}

fn list(bookings: &[Booking]) -> String {
    bookings
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The guest's reservations from the `reservations` read model, sorted; polled for a while so
/// a booking the PMS confirms a moment later is seen confirmed.
async fn bookings_of(
    app: &TestApp,
    guest: &str,
    expected: &[Booking],
) -> Result<Vec<Booking>, String> {
    let deadline = tokio::time::Instant::now() + BOOKINGS_PATIENCE;
    loop {
        app.runtime
            .after_write(None)
            .await
            .map_err(|e| format!("the reservations read model: {e}"))?;
        let rows = app
            .runtime
            .reservation_rows
            .by_guest(TENANT, guest)
            .await
            .map_err(|e| format!("the reservations read model: {e}"))?;
        let mut actual: Vec<Booking> = rows
            .into_iter()
            .map(|row| Booking {
                room: row.room_type.unwrap_or_default(),
                check_in: row.check_in.unwrap_or_default(),
                check_out: row.check_out.unwrap_or_default(),
                guests: row.guests.and_then(|g| u32::try_from(g).ok()).unwrap_or(0),
                status: row.status,
            })
            .collect();
        actual.sort();
        if actual == expected || tokio::time::Instant::now() >= deadline {
            return Ok(actual);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
