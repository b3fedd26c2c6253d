//! Several processes on one PostgreSQL store: each store-fed consumer runs in one of them at a
//! time (an advisory-lock lease), and a standby takes over when the holder's session ends.
//! Without this, two `serve` processes would each relay every event to the log and each book
//! every reservation in the PMS.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use conserje_commands::reservation_desk::NewReservation;
use conserje_domain::journal::{EventFeed, Leases, StoredEvent};
use conserje_domain::metadata::Actor;
use conserje_domain::values::TenantId;
use conserje_domain::EventMetadata;
use conserje_gateway::Runtime;
use conserje_infra::feed::{SqlCheckpoints, SqlEventFeed};
use conserje_infra::leases::SqlLeases;
use conserje_infra::Database;
use conserje_projections::{EventHandler, ProjectionError, Subscription};
use conserje_tests::{eventually, fresh_postgres_url, fresh_store, StoreKind};
use tokio::sync::{watch, Notify};

fn tenant() -> TenantId {
    TenantId::parse("hotel-sol").unwrap()
}

fn booking(n: u64) -> NewReservation {
    let check_in = Utc::now().date_naive() + chrono::Days::new(10 + n);
    NewReservation {
        tenant_id: tenant(),
        guest_ref: None,
        name: format!("Guest {n}"),
        email: format!("lease{n}@mail.com"),
        phone: format!("+346001230{n:02}"),
        room_type: "double".into(),
        check_in,
        check_out: check_in + chrono::Days::new(2),
        guests: 2,
        special_requests: None,
        conversation: None,
    }
}

#[tokio::test]
async fn a_lease_has_one_holder_and_passes_to_a_standby_when_the_holder_ends() {
    let url = fresh_postgres_url().await;
    // Two pools: two processes as far as PostgreSQL can tell.
    let first = SqlLeases::new(Database::connect(&url).await.unwrap());
    let second = SqlLeases::new(Database::connect(&url).await.unwrap());
    let mut held = first
        .try_acquire("event-relay")
        .await
        .unwrap()
        .expect("a free lease is granted");
    assert!(held.still_held().await);
    assert!(
        second.try_acquire("event-relay").await.unwrap().is_none(),
        "a held lease is refused to another session"
    );
    let other = second.try_acquire("booking-process").await.unwrap();
    assert!(other.is_some(), "leases of other consumers are independent");
    drop(held);
    eventually("the standby takes the freed lease", || async {
        second.try_acquire("event-relay").await.unwrap().is_some()
    })
    .await;
}

/// Counts the events it handles.
#[derive(Default)]
struct Counter(AtomicU64);

#[async_trait]
impl EventHandler for Counter {
    async fn handle(&self, _event: &StoredEvent) -> Result<(), ProjectionError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn two_processes_running_one_leased_consumer_handle_each_event_once() {
    let (options, _dir) = fresh_store(StoreKind::Postgres).await;
    let url = options.database_url.clone().unwrap();
    let rt = Runtime::open(&options).await.unwrap();
    let meta = EventMetadata::new(tenant(), Actor::staff("test"), "api");
    for n in 0..10 {
        rt.desk.request(booking(n), meta.clone()).await.unwrap();
    }
    let stored = SqlEventFeed::new(rt.db.clone())
        .read_after(Default::default(), 10_000)
        .await
        .unwrap()
        .len() as u64;
    assert!(stored >= 10, "the bookings were stored ({stored} events)");

    let (stop, _) = watch::channel(false);
    let mut counters = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let db = Database::connect(&url).await.unwrap();
        let counter = Arc::new(Counter::default());
        let subscription = Arc::new(
            Subscription::new(
                "counted",
                Arc::new(SqlEventFeed::new(db.clone())),
                Arc::new(SqlCheckpoints::new(db.clone())),
                counter.clone(),
            )
            .with_lease(Arc::new(SqlLeases::new(db))),
        );
        tasks.push(tokio::spawn(subscription.run(
            Arc::new(Notify::new()),
            Duration::from_millis(20),
            stop.subscribe(),
        )));
        counters.push(counter);
    }
    let total = || {
        counters
            .iter()
            .map(|c| c.0.load(Ordering::SeqCst))
            .sum::<u64>()
    };
    eventually("every stored event is handled", || async {
        total() >= stored
    })
    .await;
    // Many rounds of both loops later, still once each, and all in one of the two.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(total(), stored, "each event handled exactly once");
    let handled: BTreeSet<u64> = counters
        .iter()
        .map(|c| c.0.load(Ordering::SeqCst))
        .collect();
    assert_eq!(
        handled,
        BTreeSet::from([0, stored]),
        "one holder did all the work"
    );
    stop.send_replace(true);
    for task in tasks {
        task.await.unwrap();
    }
}

/// The consumers `serve` runs under a lease: the reservations, inbox, API keys and audit
/// projections, the booking process and its PMS retries, the event relay, and the proactive
/// messages and their timers.
const LEASED: usize = 9;

async fn advisory_locks_by_process(db: &Database) -> Vec<(i32, i64)> {
    let Database::Postgres(pool) = db else {
        unreachable!("a PostgreSQL store")
    };
    sqlx::query_as(
        "SELECT pid, count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         GROUP BY pid ORDER BY pid",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn two_runtimes_on_one_store_split_no_leased_consumer_and_the_survivor_takes_all() {
    let (options, _dir) = fresh_store(StoreKind::Postgres).await;
    let first = Runtime::open(&options).await.unwrap();
    let first_tasks = first.start_background();
    eventually("the first runtime holds every lease", || async {
        advisory_locks_by_process(&first.db)
            .await
            .iter()
            .map(|(_, n)| n)
            .sum::<i64>()
            == LEASED as i64
    })
    .await;
    let second = Runtime::open(&options).await.unwrap();
    let second_tasks = second.start_background();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let locks = advisory_locks_by_process(&first.db).await;
    assert_eq!(
        locks.iter().map(|(_, n)| n).sum::<i64>(),
        LEASED as i64,
        "each leased consumer has one holder with two runtimes running: {locks:?}"
    );
    let holders_before: Vec<i32> = locks.iter().map(|(pid, _)| *pid).collect();

    first.shutdown();
    for task in first_tasks {
        task.await.unwrap();
    }
    drop(first);
    eventually("the second runtime takes every lease", || async {
        let locks = advisory_locks_by_process(&second.db).await;
        locks.iter().map(|(_, n)| n).sum::<i64>() == LEASED as i64
            && locks.iter().all(|(pid, _)| !holders_before.contains(pid))
    })
    .await;
    second.shutdown();
    for task in second_tasks {
        task.await.unwrap();
    }
}
