//! The cqrs-es event store over PostgreSQL (postgres-es) or SQLite (sqlite-es).
//!
//! Every event gets its own `event_id` (UUIDv7) and `recorded_at` here, at persistence time:
//! cqrs-es hands one metadata map to all the events of a command, and an audit trail needs each
//! event to be addressable on its own.

use async_trait::async_trait;
use chrono::{SecondsFormat, Utc};
use conserje_domain::journal::AggregateStore;
use conserje_domain::metadata::keys;
use conserje_domain::EventMetadata;
use cqrs_es::persist::{
    PersistedEventRepository, PersistedEventStore, PersistenceError, ReplayStream, SerializedEvent,
    SerializedSnapshot,
};
use cqrs_es::{Aggregate, AggregateContext, AggregateError, CqrsFramework, EventStore};
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use sqlite_es::SqliteEventRepository;
use uuid::Uuid;

use crate::Database;

/// The event repository of whichever store is configured, stamping each event's identity.
pub enum EventRepository {
    Postgres(PostgresEventRepository),
    Sqlite(SqliteEventRepository),
}

impl EventRepository {
    pub fn new(db: &Database) -> Self {
        match db {
            Database::Postgres(pool) => Self::Postgres(PostgresEventRepository::new(pool.clone())),
            Database::Sqlite(pool) => Self::Sqlite(SqliteEventRepository::new(pool.clone())),
        }
    }
}

fn stamp(events: &[SerializedEvent]) -> Vec<SerializedEvent> {
    let recorded_at = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    events
        .iter()
        .cloned()
        .map(|mut event| {
            if let Value::Object(map) = &mut event.metadata {
                map.insert(keys::EVENT_ID.into(), Uuid::now_v7().to_string().into());
                map.insert(keys::RECORDED_AT.into(), recorded_at.clone().into());
            }
            event
        })
        .collect()
}

impl PersistedEventRepository for EventRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        match self {
            Self::Postgres(r) => r.get_events::<A>(aggregate_id).await,
            Self::Sqlite(r) => r.get_events::<A>(aggregate_id).await,
        }
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        match self {
            Self::Postgres(r) => r.get_last_events::<A>(aggregate_id, last_sequence).await,
            Self::Sqlite(r) => r.get_last_events::<A>(aggregate_id, last_sequence).await,
        }
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        match self {
            Self::Postgres(r) => r.get_snapshot::<A>(aggregate_id).await,
            Self::Sqlite(r) => r.get_snapshot::<A>(aggregate_id).await,
        }
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        let stamped = stamp(events);
        match self {
            Self::Postgres(r) => r.persist::<A>(&stamped, snapshot_update).await,
            Self::Sqlite(r) => r.persist::<A>(&stamped, snapshot_update).await,
        }
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        match self {
            Self::Postgres(r) => r.stream_events::<A>(aggregate_id).await,
            Self::Sqlite(r) => r.stream_events::<A>(aggregate_id).await,
        }
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        match self {
            Self::Postgres(r) => r.stream_all_events::<A>().await,
            Self::Sqlite(r) => r.stream_all_events::<A>().await,
        }
    }
}

/// Commands and loads for aggregate `A` on the configured store.
///
/// No cqrs-es `Query` is attached: inline queries run after commit and are lost on a crash, so
/// every read model is fed from the global order instead (see `feed`).
pub struct SqlAggregateStore<A: Aggregate> {
    cqrs: CqrsFramework<A, PersistedEventStore<EventRepository, A>>,
    store: PersistedEventStore<EventRepository, A>,
}

impl<A: Aggregate> SqlAggregateStore<A> {
    /// Every load replays the aggregate's whole stream: right for short streams (a reservation).
    pub fn new(db: &Database, services: A::Services) -> Self {
        Self {
            cqrs: CqrsFramework::new(
                PersistedEventStore::new_event_store(EventRepository::new(db)),
                vec![],
                services,
            ),
            store: PersistedEventStore::new_event_store(EventRepository::new(db)),
        }
    }

    /// Loads start from a snapshot of the aggregate, rewritten with every commit, instead of
    /// replaying the whole stream: a conversation is loaded several times per guest message, and
    /// replaying its hundreds of events each time made the worker quadratic in its length. The
    /// events stay the source of truth (the snapshot is only a shortcut, and a snapshot that no
    /// longer deserializes falls back to them).
    ///
    /// The snapshot is written with every commit because cqrs-es 0.5 mis-records a snapshot whose
    /// boundary falls inside a multi-event commit (it stores the commit's last sequence but only
    /// the events up to the boundary), which loses the commit's later events on load.
    pub fn with_snapshots(db: &Database, services: A::Services) -> Self {
        Self {
            cqrs: CqrsFramework::new(
                PersistedEventStore::new_snapshot_store(EventRepository::new(db), 1),
                vec![],
                services,
            ),
            store: PersistedEventStore::new_snapshot_store(EventRepository::new(db), 1),
        }
    }
}

#[async_trait]
impl<A> AggregateStore<A> for SqlAggregateStore<A>
where
    A: Aggregate + 'static,
    A::Command: Send + 'static,
{
    async fn execute(
        &self,
        aggregate_id: &str,
        command: A::Command,
        metadata: EventMetadata,
    ) -> Result<(), AggregateError<A::Error>> {
        self.cqrs
            .execute_with_metadata(aggregate_id, command, metadata.into_map())
            .await
    }

    async fn load(&self, aggregate_id: &str) -> Result<A, AggregateError<A::Error>> {
        let mut context = self.store.load_aggregate(aggregate_id).await?;
        Ok(std::mem::take(context.aggregate()))
    }
}
