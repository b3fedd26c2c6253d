//! Replays rebuild exactly what the live projections built, and a projection killed mid-stream
//! recovers to the same state: on both profiles.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use conserje_commands::reservation_desk::NewReservation;
use conserje_domain::metadata::Actor;
use conserje_domain::reservation::ModificationRequest;
use conserje_domain::session::GuestMessage;
use conserje_domain::values::{Channel, GuestRef, TenantId};
use conserje_domain::EventMetadata;
use conserje_gateway::operations;
use conserje_gateway::Runtime;
use conserje_infra::Database;
use conserje_projections::message_stats;
use conserje_projections::sessions::SessionView;
use conserje_tests::{eventually, eventually_within, fresh_store, StoreKind};
use tokio::sync::{watch, Notify};

fn tenant() -> TenantId {
    TenantId::parse("hotel-sol").unwrap()
}

fn message(guest: usize, n: usize) -> GuestMessage {
    GuestMessage {
        location: None,
        guest_name: None,
        tenant_id: tenant(),
        channel: Channel::WhatsApp,
        guest_ref: GuestRef::parse(&format!("54911{guest:06}")).unwrap(),
        provider_message_id: format!("wamid.{guest}.{n}"),
        text: Some(format!("mensaje {n}")),
        media: None,
        received_at: Utc::now(),
        choice: None,
        reaction: None,
        contacts: None,
        edit: None,
    }
}

fn meta() -> EventMetadata {
    EventMetadata::new(tenant(), Actor::staff("test"), "api")
}

fn booking(n: u64) -> NewReservation {
    let check_in = Utc::now().date_naive() + chrono::Days::new(10 + n);
    NewReservation {
        tenant_id: tenant(),
        guest_ref: None,
        name: format!("Guest {n}"),
        email: format!("guest{}@mail.com", n % 3),
        // Each of the three guests has a phone of their own: the limit also goes by the phone.
        phone: format!("+3460012345{}", n % 3),
        room_type: ["standard", "double", "king"][(n % 3) as usize].into(),
        check_in,
        check_out: check_in + chrono::Days::new(1 + n % 9),
        guests: 2,
        special_requests: None,
        conversation: None,
    }
}

/// Every row of a projection table, as text, in a stable order.
async fn table_rows(db: &Database, sql: &str) -> Vec<String> {
    let rows: Vec<(String,)> = match db {
        Database::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
        Database::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
    };
    rows.into_iter().map(|(row,)| row).collect()
}

const RESERVATION_ROWS: &str = "SELECT reservation_id || '|' || status || '|' || coalesce(room_type, '') \
     || '|' || coalesce(CAST(check_out AS text), '') || '|' || coalesce(CAST(total_minor AS text), '') \
     || '|' || CAST(last_sequence AS text) FROM reservations ORDER BY 1";

/// The console's inbox: who, whether with staff, how many messages, and the last event applied.
const INBOX_ROWS: &str = "SELECT session_id || '|' || coalesce(language, '') || '|' \
     || CASE WHEN handed_off THEN 'staff' ELSE 'bot' END || '|' || CAST(message_count AS text) \
     || '|' || CAST(last_sequence AS text) FROM inbox ORDER BY 1";

const MESSAGE_ROWS: &str = "SELECT session_id || '|' || CAST(sequence AS text) || '|' || channel \
     FROM analytics_messages ORDER BY 1";

async fn session_views(rt: &Runtime, guests: usize) -> Vec<Option<SessionView>> {
    let mut out = Vec::new();
    for guest in 0..guests {
        let id = format!("hotel-sol/whatsapp/54911{guest:06}");
        out.push(rt.session_views.get(&id).await.unwrap());
    }
    out
}

async fn total_lag(rt: &Runtime) -> i64 {
    operations::projections(rt)
        .await
        .unwrap()
        .iter()
        .map(|p| p.lag)
        .sum()
}

async fn replay_rebuilds_exactly_what_the_live_projections_built(kind: StoreKind) {
    let (options, _dir) = fresh_store(kind).await;
    let rt = Runtime::open(&options).await.unwrap();
    let background = rt.start_background();
    let mut ids = Vec::new();
    for n in 0..12 {
        ids.push(
            rt.desk
                .request(booking(n), meta())
                .await
                .unwrap()
                .reservation_id
                .unwrap(),
        );
    }
    rt.desk
        .cancel(ids[0], None, None, None, meta())
        .await
        .unwrap();
    let change = ModificationRequest {
        room_type: Some("suite".into()),
        ..Default::default()
    };
    rt.desk.modify(ids[1], change, meta()).await.unwrap();
    for n in 0..40 {
        rt.conversations
            .record(message(n % 4, n), meta())
            .await
            .unwrap();
    }
    eventually_within(
        "every projection to catch up",
        // The distributed run's consumer groups form slowly on a busy fresh broker (a CI run
        // timed out at 60 s with the whole suite sharing it).
        Duration::from_secs(150),
        || async { total_lag(&rt).await == 0 },
    )
    .await;
    eventually("the message facts to be written", || async {
        table_rows(&rt.db, MESSAGE_ROWS).await.len() == 40
    })
    .await;

    let mut live_mirror = Vec::new();
    for id in &ids {
        let mirrored = rt.reservation_views.get(*id).await.unwrap();
        assert_eq!(
            mirrored,
            rt.reservation_rows.get(*id).await.unwrap(),
            "the key-value mirror equals the SQL row"
        );
        live_mirror.push(mirrored);
    }
    let live_reservations = table_rows(&rt.db, RESERVATION_ROWS).await;
    let live_messages = table_rows(&rt.db, MESSAGE_ROWS).await;
    let live_inbox = table_rows(&rt.db, INBOX_ROWS).await;
    let live_sessions = session_views(&rt, 4).await;
    let live_guest = rt
        .guest_reservations
        .of_guest("hotel-sol", "guest0@mail.com")
        .await
        .unwrap();
    assert_eq!(live_reservations.len(), 12);
    assert!(live_sessions.iter().all(Option::is_some));
    assert_eq!(live_guest.len(), 4, "guests 0, 3, 6 and 9 share an e-mail");

    for projection in operations::REPLAYABLE {
        let report = operations::replay(&rt, projection, false).await.unwrap();
        assert!(report.events > 60, "{projection} replayed every event");
    }
    assert_eq!(
        table_rows(&rt.db, RESERVATION_ROWS).await,
        live_reservations
    );
    assert_eq!(table_rows(&rt.db, MESSAGE_ROWS).await, live_messages);
    assert!(!live_inbox.is_empty(), "the inbox lists the conversations");
    assert_eq!(table_rows(&rt.db, INBOX_ROWS).await, live_inbox);
    assert_eq!(session_views(&rt, 4).await, live_sessions);
    for (id, before) in ids.iter().zip(&live_mirror) {
        assert_eq!(&rt.reservation_views.get(*id).await.unwrap(), before);
    }
    assert_eq!(
        rt.guest_reservations
            .of_guest("hotel-sol", "guest0@mail.com")
            .await
            .unwrap(),
        live_guest
    );
    rt.shutdown();
    for task in background {
        task.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replay_rebuilds_exactly_what_the_live_projections_built_sqlite() {
    replay_rebuilds_exactly_what_the_live_projections_built(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replay_rebuilds_exactly_what_the_live_projections_built_postgres() {
    replay_rebuilds_exactly_what_the_live_projections_built(StoreKind::Postgres).await;
}

/// The message-stats consumer is aborted mid-stream, then restarted: its table ends equal to a
/// from-scratch replay, with one row per message and no duplicate.
async fn a_projection_killed_mid_stream_recovers_without_duplicates(kind: StoreKind) {
    let (options, _dir) = fresh_store(kind).await;
    let rt = Arc::new(Runtime::open(&options).await.unwrap());
    let (stop, stopped) = watch::channel(false);
    let relay = tokio::spawn(rt.relay.clone().run(
        Arc::new(Notify::new()),
        Duration::from_millis(20),
        stopped.clone(),
    ));
    let stats = rt
        .log_projections
        .iter()
        .find(|p| p.group() == message_stats::PROJECTION)
        .unwrap()
        .clone();

    // Enough batches (of 500) that the abort lands mid-stream: with two, a fast machine applied
    // both between two looks at the table and the "kill" came after the end.
    let messages = 3000;
    for n in 0..messages {
        rt.conversations
            .record(message(n % 7, n), meta())
            .await
            .unwrap();
    }
    let first = tokio::spawn(stats.clone().run(stopped.clone()));
    eventually("the projection to be mid-stream", || async {
        table_rows(&rt.db, MESSAGE_ROWS).await.len() >= 30
    })
    .await;
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    let at_crash = table_rows(&rt.db, MESSAGE_ROWS).await.len();
    assert!(at_crash < messages, "aborted before the end ({at_crash})");

    let second = tokio::spawn(stats.clone().run(stopped.clone()));
    eventually("the restarted projection to finish", || async {
        table_rows(&rt.db, MESSAGE_ROWS).await.len() >= messages
            && rt
                .log
                .lag(message_stats::PROJECTION, &rt.topics.events)
                .await
                .unwrap()
                .iter()
                .all(|p| p.lag() == 0)
    })
    .await;
    let recovered = table_rows(&rt.db, MESSAGE_ROWS).await;
    assert_eq!(recovered.len(), messages, "one row per message, none twice");
    operations::replay(&rt, message_stats::PROJECTION, false)
        .await
        .unwrap();
    assert_eq!(
        table_rows(&rt.db, MESSAGE_ROWS).await,
        recovered,
        "equal to a replay"
    );

    stop.send_replace(true);
    second.await.unwrap();
    relay.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_projection_killed_mid_stream_recovers_without_duplicates_sqlite() {
    a_projection_killed_mid_stream_recovers_without_duplicates(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_projection_killed_mid_stream_recovers_without_duplicates_postgres() {
    a_projection_killed_mid_stream_recovers_without_duplicates(StoreKind::Postgres).await;
}
