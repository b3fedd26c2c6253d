//! A unit of work over the cached event store: commands on many aggregates, decided in memory and
//! written in one transaction.
//!
//! Each aggregate the unit touches is loaded once (through the store's cache) and kept here with
//! the events decided on it since; a command sees the state its predecessors in the unit left. The
//! events get the sequences after the one loaded, so a writer that committed to the same aggregate
//! meanwhile makes the unit's INSERT collide on (aggregate, sequence): the whole transaction fails
//! as a conflict and nothing of the unit is written — never half of a batch. The unit keeps its
//! decisions then: `take_moved` asks the store which of its aggregates moved (one query), drops
//! those, and the caller decides their commands again before committing the rest once more.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use conserje_domain::journal::UnitOfWork;
use conserje_domain::EventMetadata;
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::SerializedEvent;
use cqrs_es::{Aggregate, AggregateError, EventEnvelope, EventStore};
use tracing::Instrument;

use super::CachedEventStore;

/// One aggregate as the unit holds it.
struct Stream<A: Aggregate> {
    /// The state after the stored events and the unit's own.
    aggregate: A,
    /// Sequence of the last stored event when the unit loaded it.
    loaded_sequence: usize,
    /// Events decided through the unit, in order, each with its command's metadata.
    pending: Vec<(A::Event, HashMap<String, String>)>,
}

/// One aggregate's place in the unit: an async lock, so two commands on one aggregate (which the
/// worker never sends at once, but a caller could) decide one after the other, not on one state.
type Slot<A> = Arc<tokio::sync::Mutex<Option<Stream<A>>>>;

pub(super) struct SqlUnitOfWork<A: Aggregate> {
    store: Arc<CachedEventStore<A>>,
    services: A::Services,
    streams: Mutex<BTreeMap<String, Slot<A>>>,
    committed: AtomicBool,
}

impl<A: Aggregate + Clone> SqlUnitOfWork<A> {
    pub(super) fn new(store: Arc<CachedEventStore<A>>, services: A::Services) -> Self {
        Self {
            store,
            services,
            streams: Mutex::new(BTreeMap::new()),
            committed: AtomicBool::new(false),
        }
    }

    fn slot(&self, aggregate_id: &str) -> Slot<A> {
        self.streams
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(aggregate_id.to_owned())
            .or_default()
            .clone()
    }

    /// Every aggregate the unit holds, with its slot (locked one at a time by the caller).
    fn slots(&self) -> Vec<(String, Slot<A>)> {
        self.streams
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .map(|(id, slot)| (id.clone(), slot.clone()))
            .collect()
    }

    async fn loaded(&self, aggregate_id: &str) -> Result<Stream<A>, AggregateError<A::Error>> {
        let context = self.store.load_aggregate(aggregate_id).await?;
        Ok(Stream {
            aggregate: context.aggregate,
            loaded_sequence: context.current_sequence,
            pending: Vec::new(),
        })
    }
}

#[async_trait]
impl<A> UnitOfWork<A> for SqlUnitOfWork<A>
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
        let slot = self.slot(aggregate_id);
        let mut guard = slot.lock().await;
        if guard.is_none() {
            *guard = Some(self.loaded(aggregate_id).await?);
        }
        let stream = guard.as_mut().expect("loaded just above");
        // cqrs-es applies each event to the aggregate as the command writes it: a command refused
        // half-way would leave its first events applied. It decides on a copy instead.
        let mut decided = stream.aggregate.clone();
        let sink = EventSink::default();
        decided
            .handle(command, &self.services, &sink)
            .await
            .map_err(AggregateError::UserError)?;
        let metadata = metadata.into_map();
        stream.aggregate = decided;
        stream.pending.extend(
            sink.collect()
                .await
                .into_iter()
                .map(|event| (event, metadata.clone())),
        );
        Ok(())
    }

    async fn load(&self, aggregate_id: &str) -> Result<A, AggregateError<A::Error>> {
        let slot = self.slot(aggregate_id);
        let mut guard = slot.lock().await;
        if guard.is_none() {
            *guard = Some(self.loaded(aggregate_id).await?);
        }
        Ok(guard.as_ref().expect("loaded just above").aggregate.clone())
    }

    async fn commit(&self) -> Result<usize, AggregateError<A::Error>> {
        if self.committed.load(Ordering::SeqCst) {
            return Err(AggregateError::UnexpectedError(
                "a unit of work is committed once".into(),
            ));
        }
        // The slots stay in the unit until the commit holds: a commit that lost its race is
        // followed by `take_moved` and another commit of the rest.
        let slots = self.slots();
        let mut rows: Vec<SerializedEvent> = Vec::new();
        let mut after: Vec<(String, A, usize)> = Vec::new();
        for (aggregate_id, slot) in slots {
            let guard = slot.lock().await;
            let Some(stream) = guard.as_ref().filter(|s| !s.pending.is_empty()) else {
                continue;
            };
            for ((payload, metadata), sequence) in
                stream.pending.iter().zip(stream.loaded_sequence + 1..)
            {
                let envelope = EventEnvelope::<A> {
                    aggregate_id: aggregate_id.clone(),
                    sequence,
                    payload: payload.clone(),
                    metadata: metadata.clone(),
                };
                rows.push(SerializedEvent::try_from(&envelope)?);
            }
            let last = stream.loaded_sequence + stream.pending.len();
            after.push((aggregate_id, stream.aggregate.clone(), last));
        }
        if rows.is_empty() {
            self.committed.store(true, Ordering::SeqCst);
            return Ok(0);
        }
        let span = super::commit_span::commit_span(&rows);
        self.store.repo.persist_all(&rows).instrument(span).await?;
        self.committed.store(true, Ordering::SeqCst);
        self.streams
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
        for (aggregate_id, aggregate, sequence) in after {
            self.store.remember(&aggregate_id, aggregate, sequence);
        }
        Ok(rows.len())
    }

    async fn take_moved(&self) -> Result<Vec<String>, AggregateError<A::Error>> {
        let slots = self.slots();
        let mut loaded = HashMap::new();
        for (aggregate_id, slot) in &slots {
            if let Some(stream) = slot.lock().await.as_ref() {
                loaded.insert(aggregate_id.clone(), stream.loaded_sequence);
            }
        }
        let ids: Vec<String> = loaded.keys().cloned().collect();
        let stored = self.store.repo.last_sequences(A::TYPE, &ids).await?;
        let moved: Vec<String> = loaded
            .into_iter()
            .filter(|(id, sequence)| stored.get(id).copied().unwrap_or(0) != *sequence)
            .map(|(id, _)| id)
            .collect();
        let mut streams = self
            .streams
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for id in &moved {
            streams.remove(id);
        }
        Ok(moved)
    }
}
