//! The event store as seen by the code above the domain: execute a command on an aggregate, read
//! events back in their global order, and remember how far each consumer has read.
//!
//! These are ports: `conserje-infra` implements them for PostgreSQL and SQLite. The global order
//! is what lets projections and the relay be rebuilt by replay instead of by hand.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::{Aggregate, AggregateError};
use serde::{Deserialize, Serialize};

use crate::metadata::EventMetadata;

/// Executes commands on one aggregate type and loads its current state.
#[async_trait]
pub trait AggregateStore<A>: Send + Sync
where
    A: Aggregate + 'static,
    A::Command: Send + 'static,
{
    /// Loads the aggregate, runs the command and commits its events atomically. A concurrent
    /// writer to the same stream makes this fail with `AggregateConflict`; callers retry.
    async fn execute(
        &self,
        aggregate_id: &str,
        command: A::Command,
        metadata: EventMetadata,
    ) -> Result<(), AggregateError<A::Error>>;

    /// The aggregate as its events leave it (the default state when the stream is empty).
    async fn load(&self, aggregate_id: &str) -> Result<A, AggregateError<A::Error>>;

    /// A unit of work on this store: commands are decided on its own copy of each aggregate and
    /// all their events are committed together by [`UnitOfWork::commit`].
    fn unit_of_work(&self) -> Box<dyn UnitOfWork<A>>;
}

/// Commands on many aggregates of one type, committed in one transaction.
///
/// The conversation worker handles a polled batch of many conversations; one store commit per
/// message was what bounded its rate. Through a unit of work each command is decided at once on
/// the unit's copy of its aggregate (a later command on the same aggregate sees the events of the
/// earlier one), and nothing reaches the store until `commit`, which writes every event or none.
/// Readers of the store see nothing of the unit before that.
#[async_trait]
pub trait UnitOfWork<A>: Send + Sync
where
    A: Aggregate + 'static,
    A::Command: Send + 'static,
{
    /// Decides `command` on the unit's state of the aggregate (loaded from the store the first
    /// time the unit touches it). A refused command leaves that state as it was.
    async fn execute(
        &self,
        aggregate_id: &str,
        command: A::Command,
        metadata: EventMetadata,
    ) -> Result<(), AggregateError<A::Error>>;

    /// The aggregate as the store and the commands decided so far leave it.
    async fn load(&self, aggregate_id: &str) -> Result<A, AggregateError<A::Error>>;

    /// Writes the events of every command decided, in one transaction, and returns how many.
    /// When another writer committed to one of the unit's aggregates meanwhile this fails with
    /// `AggregateConflict` and nothing is written (see [`UnitOfWork::take_moved`]); a unit that
    /// committed cannot be committed again.
    async fn commit(&self) -> Result<usize, AggregateError<A::Error>>;

    /// After a commit lost its race: the aggregates another writer moved since the unit loaded
    /// them, dropped from the unit together with the events decided on them. Their commands are
    /// then decided again through [`UnitOfWork::execute`] (which loads them afresh) and the unit
    /// committed again — the rest of the unit keeps its decisions, so one moved conversation
    /// costs its own commands, not the whole batch's.
    async fn take_moved(&self) -> Result<Vec<String>, AggregateError<A::Error>>;
}

/// How far a consumer has read: the last (transaction id, position) it processed.
///
/// Events are delivered in (transaction id, position) order because a `BIGSERIAL` position alone
/// is handed out before commit: a transaction that commits late can make a lower position appear
/// after a higher one was read. Ordering by the writing transaction first, and only reading
/// transactions older than every one still in flight, means nothing can appear behind the
/// checkpoint. On SQLite, where writers are serialised, the transaction id is always 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Checkpoint {
    pub transaction_id: i64,
    pub position: i64,
}

impl Checkpoint {
    /// The checkpoint just past `event`.
    pub fn after(event: &StoredEvent) -> Self {
        Self {
            transaction_id: event.transaction_id,
            position: event.position,
        }
    }
}

/// One event as the store holds it, with its place in the global order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub position: i64,
    pub transaction_id: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: serde_json::Value,
    pub metadata: serde_json::Value,
    pub recorded_at: DateTime<Utc>,
}

impl StoredEvent {
    /// Decodes the payload as an event of aggregate `A`.
    pub fn decode<A: Aggregate>(&self) -> Result<A::Event, serde_json::Error> {
        serde_json::from_value(self.payload.clone())
    }

    /// A metadata value by key (see [`crate::metadata::keys`]).
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).and_then(|v| v.as_str())
    }
}

/// Reading from the event store failed.
#[derive(Debug, thiserror::Error)]
#[error("event store: {0}")]
pub struct JournalError(pub String);

/// Events in global order, for projections, process managers and the audit trail.
#[async_trait]
pub trait EventFeed: Send + Sync {
    /// Up to `limit` events after `after`, only ever returning events that can no longer be
    /// preceded by a later commit (see [`Checkpoint`]).
    async fn read_after(
        &self,
        after: Checkpoint,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, JournalError>;

    /// Every event of one aggregate, by sequence.
    async fn stream(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<StoredEvent>, JournalError>;
}

/// Opens the sealed personal fields of stored events (crypto-shredding: a forgotten guest's
/// fields read as placeholders). Stored events travel sealed — in the store, on the events
/// topic — and are opened only by the reader that needs their content.
#[async_trait]
pub trait Opener: Send + Sync {
    async fn open(&self, events: &mut [StoredEvent]) -> Result<(), JournalError>;
}

/// Who runs a named consumer of the store: with several conserje processes on one store, each
/// store-fed consumer (the relay, the booking process, the SQL read models) must have one runner
/// at a time, or the relay would publish every event twice and the booking process would book
/// twice. A lease is held while its [`Lease`] lives and the process that took it is alive: a
/// process killed with `kill -9` frees its leases with its connection, and a standby takes over.
#[async_trait]
pub trait Leases: Send + Sync {
    /// Takes the lease on `name` if no other process holds it; `None` when one does.
    async fn try_acquire(&self, name: &str) -> Result<Option<Box<dyn Lease>>, JournalError>;
}

/// One held lease; dropping it gives it back.
#[async_trait]
pub trait Lease: Send + Sync {
    /// Whether the lease is still held (the connection that holds it may have been cut).
    async fn still_held(&mut self) -> bool;
}

/// Per-consumer checkpoints, stored beside the events so they survive restarts.
#[async_trait]
pub trait CheckpointStore: Send + Sync {
    async fn load(&self, consumer: &str) -> Result<Checkpoint, JournalError>;
    async fn save(&self, consumer: &str, checkpoint: Checkpoint) -> Result<(), JournalError>;
}
