//! Forgetting a guest: the `GuestForgotten` record, the deletion of their data key, and the
//! read models that held their data rebuilt by replay — where the sealed fields now read as
//! forgotten while the bookings' dates, rooms and prices stay.

use chrono::{DateTime, Utc};
use conserje_domain::erasure::{Erasure, ErasureCommand};
use conserje_domain::journal::AggregateStore;
use conserje_domain::values::{GuestRef, TenantId};
use conserje_domain::EventMetadata;
use conserje_infra::event_store::SqlAggregateStore;
use conserje_infra::shredding::subject;
use conserje_projections::{guest_reservations, inbox, reservations, sessions};
use serde::Serialize;

use crate::error::ApiError;
use crate::operations;
use crate::Runtime;

/// The read models that copy guests' personal data, rebuilt after a forgetting.
pub const PERSONAL_READ_MODELS: [&str; 5] = [
    reservations::PROJECTION,
    inbox::PROJECTION,
    reservations::MIRROR,
    guest_reservations::PROJECTION,
    sessions::PROJECTION,
];

/// What a forgetting did.
#[derive(Debug, Clone, Serialize)]
pub struct Forgetting {
    pub tenant_id: String,
    /// Whether the guest had a data key (false: nothing of theirs was sealed, or they were
    /// already forgotten).
    pub key_deleted: bool,
    /// The read models rebuilt, with how many events each replayed.
    pub rebuilt: Vec<(String, u64)>,
    pub forgotten_at: DateTime<Utc>,
}

/// Forgets `guest` of `tenant` on behalf of `meta`'s actor; `progress` draws replay bars.
pub async fn forget_guest(
    rt: &Runtime,
    tenant: &TenantId,
    guest: &GuestRef,
    reason: Option<String>,
    meta: EventMetadata,
    progress: bool,
) -> Result<Forgetting, ApiError> {
    let stream = format!("{tenant}/{}", subject(tenant.as_str(), guest.as_str()));
    let erasures = SqlAggregateStore::<Erasure>::new(&rt.db, ());
    erasures
        .execute(&stream, ErasureCommand::Forget { reason }, meta)
        .await
        .map_err(|e| ApiError::Unavailable(format!("cannot record the forgetting: {e}")))?;
    let key_deleted = rt
        .shredder
        .forget(tenant.as_str(), guest.as_str())
        .await
        .map_err(|e| ApiError::Unavailable(format!("cannot delete the guest's key: {e}")))?;
    let mut rebuilt = Vec::new();
    for projection in PERSONAL_READ_MODELS {
        let report = operations::replay(rt, projection, progress)
            .await
            .map_err(|e| ApiError::Unavailable(format!("rebuilding {projection}: {e:#}")))?;
        rebuilt.push((projection.to_owned(), report.events));
    }
    Ok(Forgetting {
        tenant_id: tenant.to_string(),
        key_deleted,
        rebuilt,
        forgotten_at: rt.clock.now(),
    })
}
