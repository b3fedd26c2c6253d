//! Replay speed of every replayable projection, against the raw read of the same events.
//!
//! Fills a fresh store with `CONSERJE_BENCH_CONVERSATIONS` conversations (default 10,000) of
//! `CONSERJE_BENCH_MESSAGES` answered messages each (default 2): a conversation is started,
//! each message received, understood and answered — six events per conversation at the defaults,
//! written through the worker's batched commit — plus `CONSERJE_BENCH_RESERVATIONS` booking
//! requests (default 500) through the front desk. Then it times:
//! - **raw**: the feed read end to end into a handler that does nothing (the baseline);
//! - **each projection**: `conserje replay <projection>` as the operator runs it (shadow, swap,
//!   final pass);
//!
//! and prints events/s of each with its ratio to raw and the goal (reservations ≥ 100,000
//! events/s, every other ≥ 30,000).
//!
//! `cargo bench -p conserje-tests --bench replay` — the embedded default (SQLite store and
//! key-value file); with `CONSERJE_BENCH_DISTRIBUTED=1` PostgreSQL and Redis at
//! `CONSERJE_TEST_DATABASE_URL` / `CONSERJE_TEST_REDIS_URL`.

use std::time::Instant;

use async_trait::async_trait;
use chrono::{Days, Utc};
use conserje_commands::reservation_desk::NewReservation;
use conserje_domain::journal::{Checkpoint, StoredEvent};
use conserje_domain::metadata::Actor;
use conserje_domain::session::{GuestMessage, Reply, SessionCommand, Turn};
use conserje_domain::understanding::{Entities, Intent, Language, Understood};
use conserje_domain::values::{Channel, GuestRef, TenantId};
use conserje_domain::EventMetadata;
use conserje_gateway::operations::{self, REPLAYABLE};
use conserje_gateway::Runtime;
use conserje_projections::replay::feed_all;
use conserje_projections::{EventHandler, ProjectionError};
use conserje_tests::{fresh_store, StoreKind};
use indicatif::{ProgressBar, ProgressStyle};
use uuid::Uuid;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn bar(len: u64, what: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&format!("{{spinner}} {what} [{{bar:40}}] {{pos}}/{{len}}"))
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar
}

fn meta(guest: &str) -> EventMetadata {
    EventMetadata::new(
        TenantId::parse("default").unwrap(),
        Actor::guest(guest),
        "whatsapp",
    )
}

fn turn(key: &str) -> Turn {
    Turn {
        turn_key: key.to_owned(),
        understood: Some(Understood {
            language: Language::Es,
            intent: Intent::CheckAvailability,
            confidence: 0.92,
            entities: Entities::default(),
            locale: None,
            from_context: None,
            choice: None,
        }),
        model_version: Some("bench".into()),
        dialogue: None,
        replies: vec![Reply {
            reply_id: Uuid::now_v7(),
            text: "Tenemos habitación doble libre esta noche.".into(),
            language: Language::Es,
            locale: None,
            template: "quote".into(),
            message_template: None,
            choices: None,
            proactive: None,
        }],
        handoff: None,
    }
}

/// Writes the conversations in batches of 250, as the worker commits them.
async fn fill_conversations(rt: &Runtime, conversations: u64, messages: u64) {
    let progress = bar(conversations, "conversations");
    let received_at = Utc::now() - chrono::Duration::minutes(5);
    for first in (0..conversations).step_by(250) {
        let batch = rt.conversations.batch();
        for n in first..(first + 250).min(conversations) {
            let guest = format!("5491100{n:06}");
            for m in 0..messages {
                let message = GuestMessage {
                    location: None,
                    guest_name: None,
                    tenant_id: TenantId::parse("default").unwrap(),
                    channel: Channel::WhatsApp,
                    guest_ref: GuestRef::parse(&guest).unwrap(),
                    provider_message_id: format!("wamid.{n}.{m}"),
                    text: Some("¿tienen una habitación doble libre esta noche?".into()),
                    media: None,
                    received_at,
                    choice: None,
                    reaction: None,
                    contacts: None,
                    edit: None,
                };
                let key = message.provider_message_id.clone();
                let command = SessionCommand::RecordAnsweredMessage {
                    message: Box::new(message),
                    turn: Box::new(turn(&key)),
                };
                let stream = format!("default/whatsapp/{guest}");
                batch
                    .execute(&stream, command, &meta(&guest))
                    .await
                    .unwrap();
            }
        }
        batch.commit().await.unwrap();
        progress.set_position((first + 250).min(conversations));
    }
    progress.finish_and_clear();
}

async fn fill_reservations(rt: &Runtime, reservations: u64) {
    let progress = bar(reservations, "reservations");
    let today = Utc::now().date_naive();
    for n in 0..reservations {
        let guest = format!("5491122{n:06}");
        let check_in = today + Days::new(1 + n % 200);
        let request = NewReservation {
            tenant_id: TenantId::parse("default").unwrap(),
            guest_ref: Some(GuestRef::parse(&guest).unwrap()),
            name: format!("Huésped {n}"),
            email: format!("guest{n}@example.com"),
            phone: format!("+{guest}"),
            room_type: "double".into(),
            check_in,
            check_out: check_in + Days::new(2),
            guests: 2,
            special_requests: None,
            conversation: Some(format!("default/whatsapp/{guest}")),
        };
        rt.desk
            .request_as(Uuid::now_v7(), request, meta(&guest))
            .await
            .unwrap();
        progress.inc(1);
    }
    progress.finish_and_clear();
}

/// The baseline: reading and decoding nothing but the feed itself.
struct Nothing;

#[async_trait]
impl EventHandler for Nothing {
    async fn handle(&self, _event: &StoredEvent) -> Result<(), ProjectionError> {
        Ok(())
    }
}

fn goal(projection: &str) -> f64 {
    if projection == conserje_projections::reservations::PROJECTION {
        100_000.0
    } else {
        30_000.0
    }
}

#[tokio::main]
async fn main() {
    let conversations = setting("CONSERJE_BENCH_CONVERSATIONS", 10_000);
    let messages = setting("CONSERJE_BENCH_MESSAGES", 2);
    let reservations = setting("CONSERJE_BENCH_RESERVATIONS", 500);
    let kind = if setting("CONSERJE_BENCH_DISTRIBUTED", 0) == 1 {
        StoreKind::Postgres
    } else {
        StoreKind::Sqlite
    };
    let (options, _dir) = fresh_store(kind).await;
    let rt = Runtime::open(&options).await.unwrap();

    let started = Instant::now();
    fill_conversations(&rt, conversations, messages).await;
    let written = started.elapsed();
    fill_reservations(&rt, reservations).await;
    let total = rt
        .store_feed
        .count_after(Checkpoint::default())
        .await
        .unwrap();
    println!(
        "store: {kind:?}; {total} events ({conversations} conversations × {messages} answered \
         messages written in {:.2} s through the batched commit, {:.0} messages/s; \
         {reservations} booking requests)",
        written.as_secs_f64(),
        (conversations * messages) as f64 / written.as_secs_f64()
    );

    let started = Instant::now();
    let (raw_events, _) = feed_all(
        rt.feed.as_ref(),
        Checkpoint::default(),
        &Nothing,
        &mut |_| {},
    )
    .await
    .unwrap();
    let raw = raw_events as f64 / started.elapsed().as_secs_f64();
    println!(
        "{:<22} {:>10.0} events/s  (baseline: the feed read alone)",
        "raw", raw
    );

    for projection in REPLAYABLE {
        let report = operations::replay(&rt, projection, true).await.unwrap();
        let rate = report.events_per_second();
        println!(
            "{:<22} {:>10.0} events/s  {:>5.1} % of raw  goal ≥ {:.0}: {}",
            projection,
            rate,
            100.0 * rate / raw,
            goal(projection),
            if rate >= goal(projection) {
                "met"
            } else {
                "NOT met"
            }
        );
    }
}
