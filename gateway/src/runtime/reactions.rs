//! Small adapters the assembly plugs in: the event feed's handlers that drive the processes,
//! and the read model the dialogue asks for a guest's bookings.

use std::sync::Arc;

use async_trait::async_trait;
use conserje_commands::dialogue::GuestBookings;
use conserje_commands::proactive::ProactiveMessages;
use conserje_commands::{BookingProcess, CommandError};
use conserje_domain::journal::StoredEvent;
use conserje_domain::values::{GuestRef, TenantId};
use conserje_projections::guest_reservations::GuestReservations;
use conserje_projections::{EventHandler, ProjectionError};
use uuid::Uuid;

/// Feeds stored reservation events to the proactive messages: their timers and notices.
pub(super) struct ProactiveReactions(pub(super) Arc<ProactiveMessages>);

#[async_trait]
impl EventHandler for ProactiveReactions {
    async fn handle(&self, event: &StoredEvent) -> Result<(), ProjectionError> {
        self.0
            .react(event)
            .await
            .map_err(|e| ProjectionError::Handler(e.to_string()))
    }
}

/// Feeds stored reservation events to the booking process, finishing what a crash interrupted.
pub(super) struct BookingReactions(pub(super) Arc<BookingProcess>);

#[async_trait]
impl EventHandler for BookingReactions {
    async fn handle(&self, event: &StoredEvent) -> Result<(), ProjectionError> {
        self.0
            .react(event)
            .await
            .map_err(|e| ProjectionError::Handler(e.to_string()))
    }
}

/// The guest-reservations read model, as the dialogue asks it: which reservations a guest has.
pub(super) struct GuestBookingsView(pub(super) Arc<GuestReservations>);

#[async_trait]
impl GuestBookings for GuestBookingsView {
    async fn of_guest(
        &self,
        tenant: &TenantId,
        guest: &GuestRef,
    ) -> Result<Vec<Uuid>, CommandError> {
        let ids = self
            .0
            .of_guest(tenant.as_str(), guest.as_str())
            .await
            .map_err(|e| CommandError::Store(e.to_string()))?;
        Ok(ids
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect())
    }
}
