//! The `guest-reservations` read model: the reservation ids of each guest, as a set in the
//! key-value store, so the hotel can list a guest's bookings without scanning.
//!
//! A set expires `RETENTION` after its last change: longer than any booking can reach ahead
//! (365 days) plus the longest stay (90 nights), so only long-inactive guests drop out.

use std::time::Duration;

use async_trait::async_trait;
use conserje_domain::journal::StoredEvent;
use conserje_domain::reservation::{Reservation, ReservationEvent};
use cqrs_es::Aggregate;

use crate::key_space::KeySpace;
use crate::{EventHandler, ProjectionError};

/// The consumer group of this projection.
pub const PROJECTION: &str = "guest-reservations";

const RETENTION: Duration = Duration::from_secs(500 * 24 * 3600);

pub struct GuestReservations {
    keys: KeySpace,
}

impl GuestReservations {
    pub fn new(keys: KeySpace) -> Self {
        Self { keys }
    }

    /// The same read model written into another key space: what a replay builds.
    pub fn in_space(&self, keys: KeySpace) -> Self {
        Self { keys }
    }

    pub fn keys(&self) -> &KeySpace {
        &self.keys
    }

    fn name(tenant: &str, guest: &str) -> String {
        format!("{tenant}/{guest}")
    }

    /// The guest's reservation ids, sorted (UUIDv7 sort by creation).
    pub async fn of_guest(
        &self,
        tenant: &str,
        guest: &str,
    ) -> Result<Vec<String>, ProjectionError> {
        let key = self.keys.key(&Self::name(tenant, guest)).await?;
        self.keys.store().members(&key).await
    }
}

#[async_trait]
impl EventHandler for GuestReservations {
    async fn handle(&self, stored: &StoredEvent) -> Result<(), ProjectionError> {
        if stored.aggregate_type != Reservation::TYPE {
            return Ok(());
        }
        let (tenant, guest) = match ProjectionError::decode::<Reservation>(stored)? {
            ReservationEvent::ReservationRequested {
                tenant_id, guest, ..
            } => (tenant_id.to_string(), guest.guest_ref.to_string()),
            ReservationEvent::ReservationRejected {
                tenant_id,
                guest_ref,
                ..
            } => (tenant_id.to_string(), guest_ref.to_string()),
            _ => return Ok(()),
        };
        let key = self.keys.key(&Self::name(&tenant, &guest)).await?;
        self.keys
            .store()
            .add_member(&key, &stored.aggregate_id, RETENTION)
            .await
    }
}
