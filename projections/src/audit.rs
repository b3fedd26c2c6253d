//! The audit trail: who did what, when and through which channel, for every stored event, and
//! a hash chain per hotel that makes a changed, removed or reordered event evident.
//!
//! Why a chain built by a subscription rather than at insert: cqrs-es writes the events, many
//! aggregates of one hotel commit concurrently, and a "previous event of the hotel" chosen at
//! insert would need every write of a hotel serialised behind one lock. The catch-up reader's
//! global order is final once it hands an event out (see `Checkpoint`), so the chain built from
//! it is the same on every rebuild, and [`verify`] can recompute it from the events alone.
//!
//! What it proves: an event edited or deleted in the store after it was sealed no longer
//! matches its link. What it cannot prove alone: someone able to rewrite both the events and
//! this table could re-seal; the chain head ([`ChainReport::head`]) is what to copy elsewhere.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use conserje_domain::journal::{Checkpoint, EventFeed, StoredEvent};
use conserje_domain::metadata::keys;
use conserje_domain::values::TenantId;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{EventHandler, ProjectionError};

/// The name of this projection's consumer and checkpoint.
pub const PROJECTION: &str = "audit-trail";

/// The `prev_hash` of a hotel's first link.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One event as the audit trail shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// The event's place in the store's global order.
    pub position: i64,
    pub tenant_id: String,
    /// Its place in its hotel's chain, from 1.
    pub link: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    /// `guest:<ref>`, `<role>:<key name>` or `system:<component>`.
    pub actor: String,
    /// `whatsapp`, `telegram`, `api` or `system`.
    pub channel: String,
    pub correlation_id: Option<String>,
    pub source_ip: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub prev_hash: String,
    pub hash: String,
}

/// Which rows an audit query wants; every field narrows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub tenant: Option<TenantId>,
    pub aggregate_id: Option<String>,
    pub actor: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: usize,
}

/// Where the rows live.
#[async_trait]
pub trait AuditRows: Send + Sync {
    /// The last link of `tenant`'s chain: its number and hash.
    async fn head(&self, tenant: &str) -> Result<Option<(i64, String)>, ProjectionError>;
    async fn get(&self, position: i64) -> Result<Option<AuditRow>, ProjectionError>;
    async fn insert(&self, row: &AuditRow) -> Result<(), ProjectionError>;
    /// Rows matching `filter`, oldest first.
    async fn query(&self, filter: &AuditFilter) -> Result<Vec<AuditRow>, ProjectionError>;
    /// Every row of `tenant` (all tenants when `None`), by position.
    async fn chain(&self, tenant: Option<&str>) -> Result<Vec<AuditRow>, ProjectionError>;
}

/// The hotel an event belongs to: its metadata's tenant, or the operators' own.
pub fn tenant_of(event: &StoredEvent) -> String {
    event
        .meta(keys::TENANT_ID)
        .map(str::to_owned)
        .unwrap_or_else(|| TenantId::operations().to_string())
}

/// JSON with every object's keys sorted and no whitespace: the same bytes for the same event
/// whatever order a database or a serializer keeps keys in.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, &Value> = map.iter().collect();
            out.push('{');
            for (n, (key, value)) in sorted.into_iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The link's hash: SHA-256 over the previous link's hash and the canonical stored event
/// (identity, type, version, payload, metadata — everything but its storage position).
pub fn seal(prev_hash: &str, event: &StoredEvent) -> String {
    let canonical = canonical_json(&serde_json::json!({
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "sequence": event.sequence,
        "event_type": event.event_type,
        "event_version": event.event_version,
        "payload": event.payload,
        "metadata": event.metadata,
    }));
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(canonical.as_bytes());
    hex::encode(hasher.finalize())
}

pub struct AuditProjection {
    rows: Arc<dyn AuditRows>,
}

impl AuditProjection {
    pub fn new(rows: Arc<dyn AuditRows>) -> Self {
        Self { rows }
    }
}

#[async_trait]
impl EventHandler for AuditProjection {
    async fn handle(&self, event: &StoredEvent) -> Result<(), ProjectionError> {
        // Redelivered after a crash: the link exists, and sealing it again would fork the chain.
        if self.rows.get(event.position).await?.is_some() {
            return Ok(());
        }
        let tenant = tenant_of(event);
        let (link, prev_hash) = match self.rows.head(&tenant).await? {
            Some((link, hash)) => (link + 1, hash),
            None => (1, GENESIS.to_owned()),
        };
        let meta = |key| event.meta(key).map(str::to_owned);
        let row = AuditRow {
            position: event.position,
            tenant_id: tenant,
            link,
            aggregate_type: event.aggregate_type.clone(),
            aggregate_id: event.aggregate_id.clone(),
            sequence: event.sequence,
            event_type: event.event_type.clone(),
            actor: meta(keys::ACTOR).unwrap_or_else(|| "unknown".to_owned()),
            channel: meta(keys::CHANNEL).unwrap_or_else(|| "unknown".to_owned()),
            correlation_id: meta(keys::CORRELATION_ID),
            source_ip: meta(keys::SOURCE_IP),
            recorded_at: event.recorded_at,
            hash: seal(&prev_hash, event),
            prev_hash,
        };
        self.rows.insert(&row).await
    }
}

/// What `verify` found for one hotel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    pub tenant_id: String,
    /// Links recomputed and found equal.
    pub verified: u64,
    /// The hash of the last verified link: copy it somewhere else to detect a re-sealed chain.
    pub head: String,
    /// Events stored after the last sealed link (the subscription has not reached them yet).
    pub unsealed: u64,
    /// The first link that does not hold, when one does not.
    pub broken: Option<BrokenLink>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenLink {
    pub link: i64,
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub reason: String,
}

/// Recomputes every hotel's chain (or `tenant`'s) from the events in the store and compares it
/// with the sealed links; `progress` is told how many events were read so far.
pub async fn verify(
    feed: &dyn EventFeed,
    rows: &dyn AuditRows,
    tenant: Option<&str>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<ChainReport>, ProjectionError> {
    let mut sealed: BTreeMap<String, Vec<AuditRow>> = BTreeMap::new();
    for row in rows.chain(tenant).await? {
        sealed.entry(row.tenant_id.clone()).or_default().push(row);
    }
    struct Walk {
        next: usize,
        prev: String,
        report: ChainReport,
    }
    let mut walks: BTreeMap<String, Walk> = BTreeMap::new();
    let mut checkpoint = Checkpoint::default();
    let mut read = 0;
    loop {
        let batch = feed.read_after(checkpoint, 1000).await?;
        let Some(last) = batch.last() else { break };
        checkpoint = Checkpoint::after(last);
        read += batch.len() as u64;
        progress(read);
        for event in &batch {
            let hotel = tenant_of(event);
            if tenant.is_some_and(|t| t != hotel) {
                continue;
            }
            let walk = walks.entry(hotel.clone()).or_insert_with(|| Walk {
                next: 0,
                prev: GENESIS.to_owned(),
                report: ChainReport {
                    tenant_id: hotel.clone(),
                    verified: 0,
                    head: GENESIS.to_owned(),
                    unsealed: 0,
                    broken: None,
                },
            });
            if walk.report.broken.is_some() {
                continue;
            }
            let links = sealed.get(&hotel).map(Vec::as_slice).unwrap_or_default();
            let Some(row) = links.get(walk.next) else {
                walk.report.unsealed += 1;
                continue;
            };
            let broken = |reason: String| BrokenLink {
                link: row.link,
                position: row.position,
                aggregate_type: row.aggregate_type.clone(),
                aggregate_id: row.aggregate_id.clone(),
                sequence: row.sequence,
                reason,
            };
            let expected = seal(&walk.prev, event);
            walk.report.broken = if row.position != event.position {
                Some(broken(format!(
                    "link {} seals position {} but the store's next event of the hotel is at \
                     position {} ({}/{} #{}): an event was removed or inserted",
                    row.link,
                    row.position,
                    event.position,
                    event.aggregate_type,
                    event.aggregate_id,
                    event.sequence
                )))
            } else if row.prev_hash != walk.prev {
                Some(broken(
                    "its prev_hash is not the previous link's hash".into(),
                ))
            } else if row.hash != expected {
                Some(broken(
                    "the stored event no longer matches its seal: it was changed after it was \
                     recorded"
                        .into(),
                ))
            } else {
                None
            };
            if walk.report.broken.is_none() {
                walk.next += 1;
                walk.prev = expected;
                walk.report.verified += 1;
                walk.report.head = walk.prev.clone();
            }
        }
    }
    // Links whose events are gone from the store altogether.
    for (hotel, links) in &sealed {
        let walk = walks.entry(hotel.clone()).or_insert_with(|| Walk {
            next: 0,
            prev: GENESIS.to_owned(),
            report: ChainReport {
                tenant_id: hotel.clone(),
                verified: 0,
                head: GENESIS.to_owned(),
                unsealed: 0,
                broken: None,
            },
        });
        if walk.report.broken.is_none() {
            if let Some(row) = links.get(walk.next) {
                walk.report.broken = Some(BrokenLink {
                    link: row.link,
                    position: row.position,
                    aggregate_type: row.aggregate_type.clone(),
                    aggregate_id: row.aggregate_id.clone(),
                    sequence: row.sequence,
                    reason: "the sealed event is missing from the store".into(),
                });
            }
        }
    }
    Ok(walks.into_values().map(|w| w.report).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(position: i64, tenant: &str, payload: Value) -> StoredEvent {
        StoredEvent {
            position,
            transaction_id: 0,
            aggregate_type: "Reservation".into(),
            aggregate_id: format!("r{position}"),
            sequence: 1,
            event_type: "ReservationRequested".into(),
            event_version: "1".into(),
            payload,
            metadata: serde_json::json!({ "tenant_id": tenant, "actor": "staff:ana", "channel": "api" }),
            recorded_at: Utc::now(),
        }
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let a: Value =
            serde_json::from_str(r#"{"b":1,"a":{"d":[{"y":2,"x":1}],"c":"é"}}"#).unwrap();
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"c":"é","d":[{"x":1,"y":2}]},"b":1}"#
        );
    }

    #[test]
    fn a_seal_depends_on_the_previous_link_and_on_every_byte_of_the_event() {
        let e = event(1, "hotel-sol", serde_json::json!({"guests": 2}));
        let first = seal(GENESIS, &e);
        assert_eq!(first, seal(GENESIS, &e), "deterministic");
        assert_ne!(first, seal(&first, &e), "chained");
        let changed = event(1, "hotel-sol", serde_json::json!({"guests": 3}));
        assert_ne!(first, seal(GENESIS, &changed));
        assert_eq!(first.len(), 64);
    }
}
