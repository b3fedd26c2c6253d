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
use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use cqrs_es::persist::{
    EventStoreAggregateContext, PersistedEventRepository, PersistedEventStore, PersistenceError,
    ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::{
    Aggregate, AggregateContext, AggregateError, CqrsFramework, EventEnvelope, EventStore,
};
use lru::LruCache;
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use sqlite_es::SqliteEventRepository;
use uuid::Uuid;

use crate::shredding::Shredder;
use crate::Database;

/// The event repository of whichever store is configured, stamping each event's identity and
/// sealing guests' personal fields on the way in (opening them on the way out, see
/// [`crate::shredding`]).
pub struct EventRepository {
    inner: Repository,
    shredder: Arc<Shredder>,
}

enum Repository {
    Postgres(PostgresEventRepository),
    Sqlite(SqliteEventRepository),
}

impl EventRepository {
    pub fn new(db: &Database, shredder: Arc<Shredder>) -> Self {
        let inner = match db {
            Database::Postgres(pool) => {
                Repository::Postgres(PostgresEventRepository::new(pool.clone()))
            }
            Database::Sqlite(pool) => Repository::Sqlite(SqliteEventRepository::new(pool.clone())),
        };
        Self { inner, shredder }
    }

    async fn opened(
        &self,
        events: Result<Vec<SerializedEvent>, PersistenceError>,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let mut events = events?;
        self.shredder
            .open_all(events.iter_mut().map(|e| &mut e.payload))
            .await
            .map_err(|e| PersistenceError::UnknownError(Box::new(e)))?;
        Ok(events)
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
        let events = match &self.inner {
            Repository::Postgres(r) => r.get_events::<A>(aggregate_id).await,
            Repository::Sqlite(r) => r.get_events::<A>(aggregate_id).await,
        };
        self.opened(events).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let events = match &self.inner {
            Repository::Postgres(r) => r.get_last_events::<A>(aggregate_id, last_sequence).await,
            Repository::Sqlite(r) => r.get_last_events::<A>(aggregate_id, last_sequence).await,
        };
        self.opened(events).await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        match &self.inner {
            Repository::Postgres(r) => r.get_snapshot::<A>(aggregate_id).await,
            Repository::Sqlite(r) => r.get_snapshot::<A>(aggregate_id).await,
        }
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        let mut stamped = stamp(events);
        for event in &mut stamped {
            self.shredder
                .seal(
                    &event.aggregate_type,
                    &event.aggregate_id,
                    &event.event_type,
                    &mut event.payload,
                )
                .await
                .map_err(|e| PersistenceError::UnknownError(Box::new(e)))?;
        }
        match &self.inner {
            Repository::Postgres(r) => r.persist::<A>(&stamped, snapshot_update).await,
            Repository::Sqlite(r) => r.persist::<A>(&stamped, snapshot_update).await,
        }
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        // Streams hand out sealed payloads: nothing here replays through them.
        match &self.inner {
            Repository::Postgres(r) => r.stream_events::<A>(aggregate_id).await,
            Repository::Sqlite(r) => r.stream_events::<A>(aggregate_id).await,
        }
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        match &self.inner {
            Repository::Postgres(r) => r.stream_all_events::<A>().await,
            Repository::Sqlite(r) => r.stream_all_events::<A>().await,
        }
    }
}

/// How many aggregates each store keeps in memory between loads.
const CACHED_AGGREGATES: usize = 4096;

/// The event store with the aggregates it last loaded kept in memory: a load applies only the
/// events recorded after the cached state, instead of the whole stream. A conversation is loaded
/// several times per guest message, and replaying all of its events each time made the worker
/// quadratic in its length.
///
/// Events stay the only source of truth: they are append-only and numbered per aggregate, so a
/// cached state plus the events after its sequence is the current state, whoever wrote them (this
/// process or another). cqrs-es's own snapshot store is not used: in 0.5 it records a snapshot's
/// sequence wrongly when a commit of several events crosses a snapshot boundary, and postgres-es
/// keys snapshots by sequence, so racing first snapshots can leave two rows that block every
/// later commit.
pub struct CachedEventStore<A: Aggregate> {
    repo: EventRepository,
    store: PersistedEventStore<EventRepository, A>,
    cache: Mutex<LruCache<String, (A, usize)>>,
}

impl<A: Aggregate + Clone> CachedEventStore<A> {
    fn new(db: &Database) -> Self {
        let shredder = Arc::new(Shredder::new(db.clone()));
        Self {
            repo: EventRepository::new(db, shredder.clone()),
            store: PersistedEventStore::new_event_store(EventRepository::new(db, shredder)),
            cache: Mutex::new(LruCache::new(
                NonZeroUsize::new(CACHED_AGGREGATES).expect("a positive capacity"),
            )),
        }
    }

    fn cached(&self, aggregate_id: &str) -> Option<(A, usize)> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(aggregate_id)
            .cloned()
    }
}

impl<A: Aggregate + Clone> EventStore<A> for CachedEventStore<A> {
    type AC = EventStoreAggregateContext<A>;

    async fn load_events(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        self.store.load_events(aggregate_id).await
    }

    async fn load_aggregate(
        &self,
        aggregate_id: &str,
    ) -> Result<Self::AC, AggregateError<A::Error>> {
        let (mut aggregate, mut sequence) = self.cached(aggregate_id).unwrap_or_default();
        for serialized in self
            .repo
            .get_last_events::<A>(aggregate_id, sequence)
            .await?
        {
            let envelope = EventEnvelope::<A>::try_from(serialized)?;
            sequence = envelope.sequence;
            aggregate.apply(envelope.payload);
        }
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .put(aggregate_id.to_owned(), (aggregate.clone(), sequence));
        Ok(EventStoreAggregateContext {
            aggregate_id: aggregate_id.to_owned(),
            aggregate,
            current_sequence: sequence,
            current_snapshot: None,
        })
    }

    async fn commit(
        &self,
        events: Vec<A::Event>,
        context: Self::AC,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        self.store.commit(events, context, metadata).await
    }
}

/// Commands and loads for aggregate `A` on the configured store.
///
/// No cqrs-es `Query` is attached: inline queries run after commit and are lost on a crash, so
/// every read model is fed from the global order instead (see `feed`).
pub struct SqlAggregateStore<A: Aggregate + Clone> {
    cqrs: CqrsFramework<A, SharedStore<A>>,
    store: SharedStore<A>,
}

impl<A: Aggregate + Clone> SqlAggregateStore<A> {
    pub fn new(db: &Database, services: A::Services) -> Self {
        let store = SharedStore(Arc::new(CachedEventStore::new(db)));
        Self {
            cqrs: CqrsFramework::new(store.clone(), vec![], services),
            store,
        }
    }
}

/// One cached store shared by the command framework and direct loads, so both see one cache.
pub struct SharedStore<A: Aggregate + Clone>(Arc<CachedEventStore<A>>);

impl<A: Aggregate + Clone> Clone for SharedStore<A> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<A: Aggregate + Clone> EventStore<A> for SharedStore<A> {
    type AC = EventStoreAggregateContext<A>;

    async fn load_events(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        self.0.load_events(aggregate_id).await
    }

    async fn load_aggregate(
        &self,
        aggregate_id: &str,
    ) -> Result<Self::AC, AggregateError<A::Error>> {
        self.0.load_aggregate(aggregate_id).await
    }

    async fn commit(
        &self,
        events: Vec<A::Event>,
        context: Self::AC,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        self.0.commit(events, context, metadata).await
    }
}

#[async_trait]
impl<A> AggregateStore<A> for SqlAggregateStore<A>
where
    A: Aggregate + Clone + 'static,
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
