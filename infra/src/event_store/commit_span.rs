//! The `store.commit` span of a write to the events table: one per transaction, whether it holds
//! one command's events (cqrs-es) or a whole batch's (a unit of work). What it says and whom it
//! continues is decided by `conserje_trace::commit_span`; this reads it off the rows.

use conserje_domain::metadata::keys;
use conserje_trace::Committed;
use cqrs_es::persist::SerializedEvent;
use tracing::Span;

fn meta<'a>(event: &'a SerializedEvent, key: &str) -> Option<&'a str> {
    event.metadata.get(key).and_then(|v| v.as_str())
}

/// The span to instrument the transaction writing `events` with.
pub(super) fn commit_span(events: &[SerializedEvent]) -> Span {
    let committed: Vec<Committed<'_>> = events
        .iter()
        .map(|event| Committed {
            aggregate_type: &event.aggregate_type,
            aggregate_id: &event.aggregate_id,
            tenant: meta(event, keys::TENANT_ID),
            traceparent: meta(event, keys::TRACEPARENT),
        })
        .collect();
    conserje_trace::commit_span(&committed)
}
