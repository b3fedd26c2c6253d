//! The event store against real PostgreSQL and SQLite: global order, late commits, metadata,
//! projections with checkpoints, and concurrent writers on one stream.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use conserje_domain::journal::{Checkpoint, CheckpointStore, EventFeed, StoredEvent};
use conserje_domain::metadata::{keys, Actor};
use conserje_domain::session::{GuestMessage, Reply, Session, SessionCommand, Turn};
use conserje_domain::understanding::Language;
use conserje_domain::values::{Channel, GuestRef, TenantId};
use conserje_domain::EventMetadata;
use conserje_gateway::Runtime;
use conserje_infra::feed::{SqlCheckpoints, SqlEventFeed};
use conserje_infra::Database;
use conserje_tests::{eventually, fresh_postgres_url, fresh_store, StoreKind};
use cqrs_es::Aggregate;
use sqlx::{PgPool, Row};
use uuid::Uuid;

async fn migrated_postgres() -> (Database, PgPool) {
    let db = Database::connect(&fresh_postgres_url().await)
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let Database::Postgres(pool) = db.clone() else {
        unreachable!()
    };
    (db, pool)
}

/// Inserts one event the way postgres-es does (its seven columns; the rest are defaults).
async fn insert_event(tx: &mut sqlx::PgConnection, aggregate_id: &str) -> i64 {
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
         payload, metadata) VALUES ('Probe', $1, 1, 'Probed', '1', '{}', '{}') RETURNING position",
    )
    .bind(aggregate_id)
    .fetch_one(tx)
    .await
    .unwrap()
    .get("position")
}

/// A reader under test: reads what it can after its own checkpoint, returns the positions.
trait Reader {
    async fn read(&mut self) -> Vec<i64>;
}

/// The production catch-up reader with its checkpoint.
struct CatchUpReader {
    feed: SqlEventFeed,
    checkpoint: Checkpoint,
}

impl Reader for CatchUpReader {
    async fn read(&mut self) -> Vec<i64> {
        let events = self.feed.read_after(self.checkpoint, 100).await.unwrap();
        if let Some(last) = events.last() {
            self.checkpoint = Checkpoint::after(last);
        }
        events.iter().map(|e| e.position).collect()
    }
}

/// The naive reader this design must not be: `position > last`, blind to commits in flight.
struct NaivePositionReader {
    pool: PgPool,
    last: i64,
}

impl Reader for NaivePositionReader {
    async fn read(&mut self) -> Vec<i64> {
        let positions: Vec<i64> =
            sqlx::query_scalar("SELECT position FROM events WHERE position > $1 ORDER BY position")
                .bind(self.last)
                .fetch_all(&self.pool)
                .await
                .unwrap();
        if let Some(last) = positions.last() {
            self.last = *last;
        }
        positions
    }
}

/// Transaction A takes the lower position and stays open while B takes the higher one and
/// commits; the reader runs; then A commits and the reader runs again. Returns what the reader
/// delivered in total, in order, and A's and B's positions.
async fn late_commit_scenario(pool: &PgPool, reader: &mut impl Reader) -> (Vec<i64>, i64, i64) {
    let mut a = pool.begin().await.unwrap();
    let position_a = insert_event(&mut a, "late").await;
    let mut b = pool.begin().await.unwrap();
    let position_b = insert_event(&mut b, "early").await;
    b.commit().await.unwrap();
    assert!(position_a < position_b, "A holds the lower position");

    let mut delivered = reader.read().await;
    a.commit().await.unwrap();
    // Other suites share the cluster and its oldest open transaction holds every reader back
    // for a moment: keep reading for a bounded while, and once more after both arrived, so a
    // reader that delivers late, twice, or never is what the assertions see.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(3);
    while delivered.len() < 2 && tokio::time::Instant::now() < deadline {
        delivered.extend(reader.read().await);
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    delivered.extend(reader.read().await);
    (delivered, position_a, position_b)
}

#[tokio::test]
async fn catch_up_reader_delivers_a_late_commit_once_and_in_order() {
    let (db, pool) = migrated_postgres().await;
    let mut reader = CatchUpReader {
        feed: SqlEventFeed::new(db),
        checkpoint: Checkpoint::default(),
    };
    let (delivered, a, b) = late_commit_scenario(&pool, &mut reader).await;
    assert_eq!(delivered, vec![a, b]);
}

#[tokio::test]
async fn naive_position_reader_skips_the_late_commit() {
    let (_db, pool) = migrated_postgres().await;
    let mut reader = NaivePositionReader {
        pool: pool.clone(),
        last: 0,
    };
    let (delivered, a, b) = late_commit_scenario(&pool, &mut reader).await;
    assert_ne!(
        delivered,
        vec![a, b],
        "the naive reader was expected to lose event {a}: this negative test guards the scenario"
    );
    assert_eq!(delivered, vec![b], "it delivers B and never A");
}

fn metadata(tenant: &str) -> EventMetadata {
    EventMetadata::new(
        TenantId::parse(tenant).unwrap(),
        Actor::guest("5491155551234"),
        "whatsapp",
    )
}

fn message(n: usize) -> GuestMessage {
    GuestMessage {
        location: None,
        guest_name: None,
        tenant_id: TenantId::parse("hotel-sol").unwrap(),
        channel: Channel::WhatsApp,
        guest_ref: GuestRef::parse("5491155551234").unwrap(),
        provider_message_id: format!("wamid.{n:03}"),
        text: Some(format!("message {n}")),
        media: None,
        received_at: Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap(),
        choice: None,
        reaction: None,
        contacts: None,
        edit: None,
    }
}

async fn session_stream(runtime: &Runtime, stream: &str) -> Vec<StoredEvent> {
    runtime.feed.stream(Session::TYPE, stream).await.unwrap()
}

async fn fifty_concurrent_messages_are_all_recorded(kind: StoreKind) {
    let (options, _dir) = fresh_store(kind).await;
    let runtime = Arc::new(Runtime::open(&options).await.unwrap());
    let writers = (0..50).map(|n| {
        let runtime = runtime.clone();
        tokio::spawn(async move {
            runtime
                .conversations
                .record(message(n), metadata("hotel-sol"))
                .await
        })
    });
    let streams: BTreeSet<String> = futures::future::join_all(writers)
        .await
        .into_iter()
        .map(|joined| joined.unwrap().expect("every message is recorded"))
        .collect();
    assert_eq!(streams.len(), 1, "one conversation");
    let stream = streams.into_iter().next().unwrap();

    let session = runtime.conversations.session(&stream).await.unwrap();
    assert_eq!(session.message_count, 50, "no lost update");
    let events = session_stream(&runtime, &stream).await;
    let received: BTreeSet<_> = events
        .iter()
        .filter(|e| e.event_type == "GuestMessageReceived")
        .map(|e| e.payload["GuestMessageReceived"]["provider_message_id"].to_string())
        .collect();
    assert_eq!(received.len(), 50);
    let sequences: Vec<i64> = events.iter().map(|e| e.sequence).collect();
    assert_eq!(
        sequences,
        (1..=51).collect::<Vec<_>>(),
        "started + 50, no gaps"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_messages_are_all_recorded_postgres() {
    fifty_concurrent_messages_are_all_recorded(StoreKind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_messages_are_all_recorded_sqlite() {
    fifty_concurrent_messages_are_all_recorded(StoreKind::Sqlite).await;
}

/// The conversation as loaded (its cached state plus the events after it) is exactly its events
/// folded from the start, with commits of several events each, and it includes what another
/// process wrote since this one cached it.
async fn a_cached_conversation_loads_as_its_events_replayed(kind: StoreKind) {
    let (options, _dir) = fresh_store(kind).await;
    let runtime = Runtime::open(&options).await.unwrap();
    let conversations = &runtime.conversations;
    let mut stream = String::new();
    for n in 0..40 {
        stream = conversations
            .record(message(n), metadata("hotel-sol"))
            .await
            .unwrap();
        let reply = |k: u128| Reply {
            reply_id: Uuid::from_u128((n as u128) * 10 + k),
            text: format!("reply {n}.{k}"),
            language: Language::Es,
            locale: None,
            template: "fallback".into(),
            message_template: None,
            choices: None,
            proactive: None,
        };
        let turn = Turn {
            turn_key: format!("wamid.{n:03}"),
            understood: None,
            model_version: None,
            dialogue: None,
            replies: vec![reply(1), reply(2), reply(3)],
            handoff: None,
        };
        conversations
            .execute(
                &stream,
                SessionCommand::RecordTurn(turn),
                &metadata("hotel-sol"),
            )
            .await
            .unwrap();
    }
    let other_process = Runtime::open(&options).await.unwrap();
    other_process
        .conversations
        .record(message(99), metadata("hotel-sol"))
        .await
        .unwrap();
    let loaded = conversations.session(&stream).await.unwrap();
    assert_eq!(
        loaded.message_count, 41,
        "the other process's message is seen"
    );
    let mut replayed = Session::default();
    for event in session_stream(&runtime, &stream).await {
        replayed.apply(event.decode::<Session>().unwrap());
    }
    assert_eq!(loaded.replies.len(), 120);
    assert_eq!(loaded, replayed);
}

#[tokio::test]
async fn a_cached_conversation_loads_as_its_events_replayed_sqlite() {
    a_cached_conversation_loads_as_its_events_replayed(StoreKind::Sqlite).await;
}

#[tokio::test]
async fn a_cached_conversation_loads_as_its_events_replayed_postgres() {
    a_cached_conversation_loads_as_its_events_replayed(StoreKind::Postgres).await;
}

async fn a_redelivered_webhook_is_recorded_once(kind: StoreKind) {
    let (options, _dir) = fresh_store(kind).await;
    let runtime = Runtime::open(&options).await.unwrap();
    let conversations = &runtime.conversations;
    let stream = conversations
        .record(message(1), metadata("hotel-sol"))
        .await
        .unwrap();
    conversations
        .record(message(1), metadata("hotel-sol"))
        .await
        .unwrap();
    conversations
        .record(message(2), metadata("hotel-sol"))
        .await
        .unwrap();
    let session = conversations.session(&stream).await.unwrap();
    assert_eq!(session.message_count, 2);
    assert_eq!(session_stream(&runtime, &stream).await.len(), 3);
}

#[tokio::test]
async fn a_redelivered_webhook_is_recorded_once_postgres() {
    a_redelivered_webhook_is_recorded_once(StoreKind::Postgres).await;
}

#[tokio::test]
async fn a_redelivered_webhook_is_recorded_once_sqlite() {
    a_redelivered_webhook_is_recorded_once(StoreKind::Sqlite).await;
}

async fn every_event_carries_its_own_id_and_the_audit_metadata(kind: StoreKind) {
    let (options, _dir) = fresh_store(kind).await;
    let runtime = Runtime::open(&options).await.unwrap();
    let meta = metadata("hotel-sol").with_source_ip(Some("10.1.2.3".into()));
    let correlation = meta.correlation_id.to_string();
    let stream = runtime
        .conversations
        .record(message(1), meta)
        .await
        .unwrap();
    let events = session_stream(&runtime, &stream).await;
    assert_eq!(events.len(), 2, "SessionStarted and GuestMessageReceived");
    let ids: BTreeSet<_> = events
        .iter()
        .map(|e| {
            let id = uuid::Uuid::parse_str(e.meta(keys::EVENT_ID).expect("event_id")).unwrap();
            assert_eq!(id.get_version_num(), 7, "event ids are UUIDv7");
            id
        })
        .collect();
    assert_eq!(ids.len(), 2, "one id per event, not per command");
    for event in &events {
        assert_eq!(event.meta(keys::TENANT_ID), Some("hotel-sol"));
        assert_eq!(event.meta(keys::CORRELATION_ID), Some(correlation.as_str()));
        assert_eq!(event.meta(keys::ACTOR), Some("guest:5491155551234"));
        assert_eq!(event.meta(keys::CHANNEL), Some("whatsapp"));
        assert_eq!(event.meta(keys::SOURCE_IP), Some("10.1.2.3"));
        assert!(event.meta(keys::RECORDED_AT).is_some());
    }
    let positions: Vec<i64> = events.iter().map(|e| e.position).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
    if let Database::Postgres(pool) = &runtime.db {
        let column_ids: Vec<uuid::Uuid> =
            sqlx::query_scalar("SELECT event_id FROM events WHERE aggregate_id = $1")
                .bind(&stream)
                .fetch_all(pool)
                .await
                .unwrap();
        let column_ids: BTreeSet<uuid::Uuid> = column_ids.into_iter().collect();
        assert_eq!(column_ids, ids, "the event_id column mirrors the metadata");
    }
}

#[tokio::test]
async fn every_event_carries_its_own_id_and_the_audit_metadata_postgres() {
    every_event_carries_its_own_id_and_the_audit_metadata(StoreKind::Postgres).await;
}

#[tokio::test]
async fn every_event_carries_its_own_id_and_the_audit_metadata_sqlite() {
    every_event_carries_its_own_id_and_the_audit_metadata(StoreKind::Sqlite).await;
}

async fn checkpoints_survive_and_resume(kind: StoreKind) {
    let (options, _dir) = fresh_store(kind).await;
    let runtime = Runtime::open(&options).await.unwrap();
    for n in 0..5 {
        runtime
            .conversations
            .record(message(n), metadata("hotel-sol"))
            .await
            .unwrap();
    }
    let feed = SqlEventFeed::new(runtime.db.clone());
    let checkpoints = SqlCheckpoints::new(runtime.db.clone());
    eventually("the six events to be readable", || async {
        feed.read_after(Checkpoint::default(), 100)
            .await
            .unwrap()
            .len()
            == 6
    })
    .await;
    assert_eq!(
        checkpoints.load("probe").await.unwrap(),
        Checkpoint::default()
    );
    let first = feed.read_after(Checkpoint::default(), 3).await.unwrap();
    assert_eq!(first.len(), 3);
    checkpoints
        .save("probe", Checkpoint::after(first.last().unwrap()))
        .await
        .unwrap();
    let resumed_from = checkpoints.load("probe").await.unwrap();
    let rest = feed.read_after(resumed_from, 100).await.unwrap();
    assert_eq!(rest.len(), 3, "6 events in all: started + 5 messages");
    let all: Vec<i64> = first.iter().chain(&rest).map(|e| e.position).collect();
    let everything: Vec<i64> = feed
        .read_after(Checkpoint::default(), 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.position)
        .collect();
    assert_eq!(all, everything, "resuming neither skips nor repeats");
}

#[tokio::test]
async fn checkpoints_survive_and_resume_postgres() {
    checkpoints_survive_and_resume(StoreKind::Postgres).await;
}

#[tokio::test]
async fn checkpoints_survive_and_resume_sqlite() {
    checkpoints_survive_and_resume(StoreKind::Sqlite).await;
}

async fn migrating_twice_applies_nothing_the_second_time(kind: StoreKind) {
    let (options, _dir) = fresh_store(kind).await;
    std::fs::create_dir_all(&options.data_dir).unwrap();
    let db = Database::connect(&options.store_url()).await.unwrap();
    let known = db.known_migrations().len();
    assert_eq!(db.migrate().await.unwrap(), known);
    assert_eq!(db.migrate().await.unwrap(), 0);
}

#[tokio::test]
async fn migrating_twice_applies_nothing_the_second_time_postgres() {
    migrating_twice_applies_nothing_the_second_time(StoreKind::Postgres).await;
}

#[tokio::test]
async fn migrating_twice_applies_nothing_the_second_time_sqlite() {
    migrating_twice_applies_nothing_the_second_time(StoreKind::Sqlite).await;
}
