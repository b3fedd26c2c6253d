//! The cqrs-es event store over PostgreSQL (postgres-es) or SQLite (sqlite-es).
//!
//! Commands on one aggregate go through cqrs-es (one commit per command); a batch of commands on
//! many aggregates goes through a [`unit_of_work`] (one commit for all).
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
use tracing::Instrument;
use uuid::Uuid;

use crate::shredding::Shredder;
use crate::Database;

mod commit_span;
mod unit_of_work;

/// The event repository of whichever store is configured, stamping each event's identity and
/// sealing guests' personal fields on the way in (opening them on the way out, see
/// [`crate::shredding`]).
pub struct EventRepository {
    inner: Repository,
    db: Database,
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
        Self {
            inner,
            db: db.clone(),
            shredder,
        }
    }

    /// `events` stamped with their identity and with guests' personal fields sealed: what the
    /// events table holds.
    async fn sealed(
        &self,
        events: &[SerializedEvent],
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
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
        Ok(stamped)
    }

    /// Writes `events` — of any aggregates of any types — in one transaction: all or none. An
    /// event whose (aggregate, sequence) is taken fails it with `OptimisticLockError`, as a
    /// single commit does.
    async fn persist_all(&self, events: &[SerializedEvent]) -> Result<(), PersistenceError> {
        let sealed = self.sealed(events).await?;
        match &self.db {
            Database::Postgres(pool) => {
                let mut tx = pool.begin().await.map_err(persistence_error)?;
                for rows in sealed.chunks(ROWS_PER_INSERT) {
                    insert_query(rows)
                        .build()
                        .execute(&mut *tx)
                        .await
                        .map_err(persistence_error)?;
                }
                tx.commit().await.map_err(persistence_error)
            }
            Database::Sqlite(pool) => {
                let mut tx = pool.begin().await.map_err(persistence_error)?;
                for rows in sealed.chunks(ROWS_PER_INSERT) {
                    insert_query(rows)
                        .build()
                        .execute(&mut *tx)
                        .await
                        .map_err(persistence_error)?;
                }
                tx.commit().await.map_err(persistence_error)
            }
        }
    }

    /// The last stored sequence of each of `aggregate_ids` (of `aggregate_type`) that has
    /// events, in one query per [`IDS_PER_QUERY`]: how a unit of work that lost a race finds the
    /// aggregates another writer moved.
    async fn last_sequences(
        &self,
        aggregate_type: &str,
        aggregate_ids: &[String],
    ) -> Result<HashMap<String, usize>, PersistenceError> {
        let mut last = HashMap::new();
        for ids in aggregate_ids.chunks(IDS_PER_QUERY) {
            let rows: Vec<(String, i64)> = match &self.db {
                Database::Postgres(pool) => {
                    last_sequence_query(aggregate_type, ids)
                        .build_query_as()
                        .fetch_all(pool)
                        .await
                }
                Database::Sqlite(pool) => {
                    last_sequence_query(aggregate_type, ids)
                        .build_query_as()
                        .fetch_all(pool)
                        .await
                }
            }
            .map_err(persistence_error)?;
            last.extend(
                rows.into_iter()
                    .map(|(id, sequence)| (id, usize::try_from(sequence).unwrap_or(0))),
            );
        }
        Ok(last)
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

/// Rows per multi-row INSERT: 7 parameters each stays far below PostgreSQL's 65,535 and SQLite's
/// 32,766 bound parameters per statement.
const ROWS_PER_INSERT: usize = 1000;

/// One INSERT of `rows` into the events table — the columns postgres-es and sqlite-es write; the
/// store fills position, transaction id and recorded_at itself.
fn insert_query<DB>(rows: &[SerializedEvent]) -> sqlx::QueryBuilder<'_, DB>
where
    DB: sqlx::Database,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q Value: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let mut query = sqlx::QueryBuilder::new(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
         payload, metadata) ",
    );
    query.push_values(rows, |mut row, event| {
        row.push_bind(event.aggregate_type.as_str())
            .push_bind(event.aggregate_id.as_str())
            .push_bind(i64::try_from(event.sequence).unwrap_or(i64::MAX))
            .push_bind(event.event_type.as_str())
            .push_bind(event.event_version.as_str())
            .push_bind(&event.payload)
            .push_bind(&event.metadata);
    });
    query
}

/// Aggregate ids per `IN (…)` of [`last_sequence_query`].
const IDS_PER_QUERY: usize = 500;

/// `SELECT aggregate_id, MAX(sequence)` of the given aggregates of one type.
fn last_sequence_query<'a, DB>(
    aggregate_type: &'a str,
    aggregate_ids: &'a [String],
) -> sqlx::QueryBuilder<'a, DB>
where
    DB: sqlx::Database,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let mut query = sqlx::QueryBuilder::new(
        "SELECT aggregate_id, MAX(sequence) FROM events WHERE aggregate_type = ",
    );
    query.push_bind(aggregate_type);
    query.push(" AND aggregate_id IN (");
    let mut ids = query.separated(", ");
    for id in aggregate_ids {
        ids.push_bind(id.as_str());
    }
    query.push(") GROUP BY aggregate_id");
    query
}

/// A database error as the event store reports it: a taken (aggregate, sequence) is the
/// optimistic-concurrency conflict its callers retry.
fn persistence_error(err: sqlx::Error) -> PersistenceError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            PersistenceError::OptimisticLockError
        }
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
            PersistenceError::ConnectionError(Box::new(err))
        }
        _ => PersistenceError::UnknownError(Box::new(err)),
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
        let stamped = self.sealed(events).await?;
        let span = commit_span::commit_span(events);
        match &self.inner {
            Repository::Postgres(r) => {
                r.persist::<A>(&stamped, snapshot_update)
                    .instrument(span)
                    .await
            }
            Repository::Sqlite(r) => {
                r.persist::<A>(&stamped, snapshot_update)
                    .instrument(span)
                    .await
            }
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

    /// Keeps `aggregate` as the state its events up to `sequence` leave, for the next load.
    fn remember(&self, aggregate_id: &str, aggregate: A, sequence: usize) {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .put(aggregate_id.to_owned(), (aggregate, sequence));
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
        self.remember(aggregate_id, aggregate.clone(), sequence);
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
    services: A::Services,
}

impl<A: Aggregate + Clone> SqlAggregateStore<A>
where
    A::Services: Clone,
{
    pub fn new(db: &Database, services: A::Services) -> Self {
        let store = SharedStore(Arc::new(CachedEventStore::new(db)));
        Self {
            cqrs: CqrsFramework::new(store.clone(), vec![], services.clone()),
            store,
            services,
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
    A::Services: Clone,
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

    fn unit_of_work(&self) -> Box<dyn conserje_domain::journal::UnitOfWork<A>> {
        Box::new(unit_of_work::SqlUnitOfWork::new(
            self.store.0.clone(),
            self.services.clone(),
        ))
    }
}
