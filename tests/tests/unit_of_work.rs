//! A unit of work on the real stores (PostgreSQL and SQLite): the conversation worker writes a
//! polled batch of many conversations in one transaction. These tests pin what that must keep of
//! the one-commit-per-command store — all or nothing, later commands seeing earlier ones, a
//! concurrent writer detected — and that the batch's fallback loses no message when it races.

use chrono::{TimeZone, Utc};
use conserje_domain::journal::AggregateStore;
use conserje_domain::metadata::Actor;
use conserje_domain::session::{GuestMessage, Reply, Session, SessionCommand, Turn};
use conserje_domain::understanding::Language;
use conserje_domain::values::{Channel, GuestRef, TenantId};
use conserje_domain::EventMetadata;
use conserje_gateway::Runtime;
use conserje_infra::event_store::SqlAggregateStore;
use conserje_tests::{fresh_store, StoreKind};
use cqrs_es::{Aggregate, AggregateError};
use uuid::Uuid;

fn metadata() -> EventMetadata {
    EventMetadata::new(
        TenantId::parse("hotel-sol").unwrap(),
        Actor::guest("5491155550000"),
        "whatsapp",
    )
}

fn message(guest: u32, n: u32) -> GuestMessage {
    GuestMessage {
        location: None,
        guest_name: None,
        tenant_id: TenantId::parse("hotel-sol").unwrap(),
        channel: Channel::WhatsApp,
        guest_ref: GuestRef::parse(&format!("54911555{guest:05}")).unwrap(),
        provider_message_id: format!("wamid.{guest}.{n}"),
        text: Some(format!("message {n}")),
        media: None,
        received_at: Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap(),
        choice: None,
        reaction: None,
        contacts: None,
        edit: None,
    }
}

fn stream_of(guest: u32) -> String {
    format!("hotel-sol/whatsapp/54911555{guest:05}")
}

fn turn(key: &str) -> Turn {
    Turn {
        turn_key: key.into(),
        understood: None,
        model_version: None,
        dialogue: None,
        replies: vec![Reply {
            reply_id: Uuid::now_v7(),
            text: "¡Hola!".into(),
            language: Language::Es,
            locale: None,
            template: "greeting".into(),
            message_template: None,
            choices: None,
            proactive: None,
        }],
        handoff: None,
    }
}

async fn stored(runtime: &Runtime, stream: &str) -> usize {
    runtime
        .feed
        .stream(Session::TYPE, stream)
        .await
        .unwrap()
        .len()
}

async fn a_batch_is_written_whole_and_only_at_commit(kind: StoreKind) {
    let (options, _dir) = fresh_store(kind).await;
    let runtime = Runtime::open(&options).await.unwrap();
    let batch = runtime.conversations.batch();
    for guest in 0..3 {
        for n in 0..2 {
            batch.record(message(guest, n), metadata()).await.unwrap();
        }
    }
    let turn_meta = metadata();
    batch
        .execute(
            &stream_of(0),
            SessionCommand::RecordTurn(turn("wamid.0.1")),
            &turn_meta,
        )
        .await
        .unwrap();
    let seen = batch.session(&stream_of(0)).await.unwrap();
    assert_eq!(
        seen.message_count, 2,
        "a later command sees the earlier ones"
    );
    assert!(seen.answered.contains("wamid.0.1"));
    for guest in 0..3 {
        assert_eq!(
            stored(&runtime, &stream_of(guest)).await,
            0,
            "nothing before commit"
        );
    }
    let written = batch.commit().await.unwrap();
    // Per conversation: started + 2 received; plus the turn's reply on the first.
    assert_eq!(written, 3 * 3 + 1);
    assert_eq!(stored(&runtime, &stream_of(0)).await, 4);
    for guest in 1..3 {
        assert_eq!(stored(&runtime, &stream_of(guest)).await, 3);
    }
    let session = runtime.conversations.session(&stream_of(0)).await.unwrap();
    assert_eq!(session.message_count, 2);
    assert!(session.answered.contains("wamid.0.1"));
}

#[tokio::test]
async fn a_batch_is_written_whole_and_only_at_commit_sqlite() {
    a_batch_is_written_whole_and_only_at_commit(StoreKind::Sqlite).await;
}

#[tokio::test]
async fn a_batch_is_written_whole_and_only_at_commit_postgres() {
    a_batch_is_written_whole_and_only_at_commit(StoreKind::Postgres).await;
}

async fn a_concurrent_writer_fails_the_unit_and_nothing_is_written_until_its_moved_aggregate_is_decided_again(
    kind: StoreKind,
) {
    let (options, _dir) = fresh_store(kind).await;
    let runtime = Runtime::open(&options).await.unwrap();
    let store = SqlAggregateStore::<Session>::new(&runtime.db, ());
    store
        .execute(
            &stream_of(1),
            SessionCommand::RecordGuestMessage(message(1, 0)),
            metadata(),
        )
        .await
        .unwrap();
    let unit = store.unit_of_work();
    unit.execute(
        &stream_of(1),
        SessionCommand::RecordGuestMessage(message(1, 1)),
        metadata(),
    )
    .await
    .unwrap();
    unit.execute(
        &stream_of(2),
        SessionCommand::RecordGuestMessage(message(2, 0)),
        metadata(),
    )
    .await
    .unwrap();
    // Another writer moves conversation 1 after the unit loaded it.
    runtime
        .conversations
        .record(message(1, 9), metadata())
        .await
        .unwrap();
    let outcome = unit.commit().await;
    assert!(
        matches!(outcome, Err(AggregateError::AggregateConflict)),
        "the unit must see the other writer: {outcome:?}"
    );
    assert_eq!(
        stored(&runtime, &stream_of(1)).await,
        3,
        "only the other writer's"
    );
    assert_eq!(
        stored(&runtime, &stream_of(2)).await,
        0,
        "nothing of the unit"
    );
    // The unit names what moved (conversation 1 only), forgets it, and commits the rest once
    // its commands are decided again on fresh state.
    assert_eq!(unit.take_moved().await.unwrap(), vec![stream_of(1)]);
    unit.execute(
        &stream_of(1),
        SessionCommand::RecordGuestMessage(message(1, 1)),
        metadata(),
    )
    .await
    .unwrap();
    assert_eq!(
        unit.commit().await.unwrap(),
        3,
        "1's message, 2's start and message"
    );
    assert_eq!(stored(&runtime, &stream_of(1)).await, 4);
    assert_eq!(stored(&runtime, &stream_of(2)).await, 2);
    assert!(unit.commit().await.is_err(), "a unit is committed once");
}

#[tokio::test]
async fn a_concurrent_writer_fails_the_unit_and_nothing_is_written_sqlite() {
    a_concurrent_writer_fails_the_unit_and_nothing_is_written_until_its_moved_aggregate_is_decided_again(StoreKind::Sqlite).await;
}

#[tokio::test]
async fn a_concurrent_writer_fails_the_unit_and_nothing_is_written_postgres() {
    a_concurrent_writer_fails_the_unit_and_nothing_is_written_until_its_moved_aggregate_is_decided_again(StoreKind::Postgres).await;
}

async fn a_batch_that_lost_a_race_loses_no_message(kind: StoreKind) {
    let (options, _dir) = fresh_store(kind).await;
    let runtime = Runtime::open(&options).await.unwrap();
    runtime
        .conversations
        .record(message(1, 0), metadata())
        .await
        .unwrap();
    let batch = runtime.conversations.batch();
    batch.record(message(1, 1), metadata()).await.unwrap();
    batch.record(message(2, 0), metadata()).await.unwrap();
    runtime
        .conversations
        .record(message(1, 9), metadata())
        .await
        .unwrap();
    batch
        .commit()
        .await
        .expect("the moved conversation is decided again and the batch committed");
    let first = runtime.conversations.session(&stream_of(1)).await.unwrap();
    assert_eq!(first.message_count, 3, "0, 9 and the batch's 1");
    let second = runtime.conversations.session(&stream_of(2)).await.unwrap();
    assert_eq!(second.message_count, 1);
}

#[tokio::test]
async fn a_batch_that_lost_a_race_loses_no_message_sqlite() {
    a_batch_that_lost_a_race_loses_no_message(StoreKind::Sqlite).await;
}

#[tokio::test]
async fn a_batch_that_lost_a_race_loses_no_message_postgres() {
    a_batch_that_lost_a_race_loses_no_message(StoreKind::Postgres).await;
}

async fn a_refused_command_leaves_the_units_state_as_it_was(kind: StoreKind) {
    let (options, _dir) = fresh_store(kind).await;
    let runtime = Runtime::open(&options).await.unwrap();
    let batch = runtime.conversations.batch();
    let meta = metadata();
    let refused = batch
        .execute(
            &stream_of(3),
            SessionCommand::RecordTurn(turn("wamid.3.0")),
            &meta,
        )
        .await;
    assert!(refused.is_err(), "no session yet: {refused:?}");
    batch.record(message(3, 0), metadata()).await.unwrap();
    assert_eq!(batch.commit().await.unwrap(), 2, "started + received only");
    let session = runtime.conversations.session(&stream_of(3)).await.unwrap();
    assert!(session.answered.is_empty());
}

#[tokio::test]
async fn a_refused_command_leaves_the_units_state_as_it_was_sqlite() {
    a_refused_command_leaves_the_units_state_as_it_was(StoreKind::Sqlite).await;
}

#[tokio::test]
async fn a_refused_command_leaves_the_units_state_as_it_was_postgres() {
    a_refused_command_leaves_the_units_state_as_it_was(StoreKind::Postgres).await;
}
