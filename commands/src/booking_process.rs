//! The booking process: what must follow a reservation event, across aggregates and the PMS.
//!
//! After `ReservationRequested` the reservation is held on the guest's streams (the owners of the
//! five-active limit: one for the e-mail's mailbox, one for the phone, see
//! `conserje_domain::guest`) and booked in the PMS, then confirmed or rejected. After
//! `ReservationCancelled` and `ReservationModified` the holds and the PMS booking follow. The
//! desk runs these steps inline for a prompt answer, and a subscription on the event feed runs
//! them again from its checkpoint, so a crash between two steps is finished by replay, not by
//! hand. Every step is idempotent and works from the reservation's *current* state, so
//! running one twice, or late, converges to the same result.

use std::sync::Arc;

use chrono::NaiveDate;
use conserje_domain::guest::{guest_stream_ids, Guest, GuestCommand, GuestError};
use conserje_domain::journal::{AggregateStore, StoredEvent};
use conserje_domain::metadata::{keys, Actor};
use conserje_domain::ports::{Pms, PmsBookingRequest, PmsError};
use conserje_domain::reservation::{
    RejectionReason, Reservation, ReservationCommand, ReservationStatus,
};
use conserje_domain::values::TenantId;
use conserje_domain::EventMetadata;
use cqrs_es::{Aggregate, AggregateError};
use uuid::Uuid;

use crate::retry::execute_with_retry;
use crate::CommandError;

/// The actor recorded on the events this process writes.
pub const COMPONENT: &str = "booking-process";

pub struct BookingProcess {
    reservations: Arc<dyn AggregateStore<Reservation>>,
    guests: Arc<dyn AggregateStore<Guest>>,
    pms: Arc<dyn Pms>,
}

fn store_error<E: std::error::Error>(err: AggregateError<E>) -> CommandError {
    CommandError::Store(err.to_string())
}

impl BookingProcess {
    pub fn new(
        reservations: Arc<dyn AggregateStore<Reservation>>,
        guests: Arc<dyn AggregateStore<Guest>>,
        pms: Arc<dyn Pms>,
    ) -> Self {
        Self {
            reservations,
            guests,
            pms,
        }
    }

    async fn load(&self, id: Uuid) -> Result<Reservation, CommandError> {
        self.reservations
            .load(&id.to_string())
            .await
            .map_err(store_error)
    }

    async fn reservation_command(
        &self,
        id: Uuid,
        command: ReservationCommand,
        meta: &EventMetadata,
    ) -> Result<(), CommandError> {
        execute_with_retry(self.reservations.as_ref(), &id.to_string(), command, meta)
            .await
            .map_err(store_error)
    }

    async fn record_pms_failure(
        &self,
        id: Uuid,
        operation: &str,
        error: PmsError,
        meta: &EventMetadata,
    ) -> Result<(), CommandError> {
        tracing::warn!(reservation = %id, operation, %error, "PMS sync failed");
        self.reservation_command(
            id,
            ReservationCommand::RecordPmsSyncFailure {
                operation: operation.to_owned(),
                error: error.to_string(),
            },
            meta,
        )
        .await
    }

    /// Brings a requested reservation to `confirmed` or `rejected`; returns where it ends up.
    /// A PMS that cannot be reached leaves it `requested`, with a `PmsSyncFailed` event.
    pub async fn settle(
        &self,
        id: Uuid,
        meta: &EventMetadata,
    ) -> Result<ReservationStatus, CommandError> {
        let reservation = self.load(id).await?;
        let (Some(tenant), Some(guest), Some(terms)) = (
            &reservation.tenant_id,
            &reservation.guest,
            &reservation.terms,
        ) else {
            return Ok(reservation.status);
        };
        if reservation.status != ReservationStatus::Requested {
            return Ok(reservation.status);
        }
        // Who the guest is comes from the validated e-mail and phone, not from `guest_ref`,
        // which the caller chooses (see `conserje_domain::guest`).
        let guest_streams = guest_stream_ids(tenant, &guest.email, &guest.phone);
        if !self
            .hold(&guest_streams, tenant, id, terms.stay.check_out, meta)
            .await?
        {
            return self
                .reject(id, RejectionReason::TooManyActiveReservations, meta)
                .await;
        }
        let request = PmsBookingRequest {
            reservation_id: id,
            room_type: terms.room_type.clone(),
            stay: terms.stay,
            guests: terms.guests,
            guest_name: guest.name.clone(),
            guest_ref: guest.guest_ref.clone(),
        };
        match self.pms.create_booking(tenant, &request).await {
            Ok(booking) => {
                self.reservation_command(
                    id,
                    ReservationCommand::Confirm {
                        pms_ref: booking.pms_ref,
                    },
                    meta,
                )
                .await?;
                Ok(ReservationStatus::Confirmed)
            }
            Err(PmsError::Unavailable(_) | PmsError::UnknownRoomType(_)) => {
                self.release(&guest_streams, id, meta).await?;
                self.reject(id, RejectionReason::RoomUnavailable, meta)
                    .await
            }
            Err(err) => {
                self.record_pms_failure(id, "create_booking", err, meta)
                    .await?;
                Ok(ReservationStatus::Requested)
            }
        }
    }

    async fn reject(
        &self,
        id: Uuid,
        reason: RejectionReason,
        meta: &EventMetadata,
    ) -> Result<ReservationStatus, CommandError> {
        self.reservation_command(id, ReservationCommand::Reject { reason }, meta)
            .await?;
        Ok(ReservationStatus::Rejected)
    }

    /// Holds the reservation on each of the guest's streams in turn; `false` when one of them
    /// already has five active reservations. The reservation counts only if *every* stream
    /// takes it, so on a refusal the holds already taken (the e-mail's, when the phone's
    /// refuses) are released before answering: otherwise a rejected reservation would keep
    /// occupying one of the guest's five slots until its check-out.
    ///
    /// Crash safety is replay's, as for every step: the holds are released *before* the
    /// reservation is rejected, so a crash in between leaves it `requested`, and the next
    /// `settle` takes the same path again (a repeated hold is a no-op, the refusing stream still
    /// refuses, the release follows). A hold that is released again may, for those few
    /// milliseconds, make another request of the same guest see five and be refused: the limit
    /// errs on the side of refusing, never of a sixth.
    async fn hold(
        &self,
        streams: &[String],
        tenant: &TenantId,
        id: Uuid,
        check_out: NaiveDate,
        meta: &EventMetadata,
    ) -> Result<bool, CommandError> {
        for (taken, stream) in streams.iter().enumerate() {
            let hold = GuestCommand::HoldReservation {
                tenant_id: tenant.clone(),
                reservation_id: id,
                check_out,
            };
            match execute_with_retry(self.guests.as_ref(), stream, hold, meta).await {
                Ok(()) => {}
                Err(AggregateError::UserError(GuestError::TooManyActiveReservations {
                    ..
                })) => {
                    self.release(&streams[..taken], id, meta).await?;
                    return Ok(false);
                }
                Err(err) => return Err(store_error(err)),
            }
        }
        Ok(true)
    }

    /// The reservation stops counting on each of `streams`; releasing what is not held is a
    /// no-op, so a repeated or late release converges.
    async fn release(
        &self,
        streams: &[String],
        id: Uuid,
        meta: &EventMetadata,
    ) -> Result<(), CommandError> {
        for stream in streams {
            execute_with_retry(
                self.guests.as_ref(),
                stream,
                GuestCommand::ReleaseReservation { reservation_id: id },
                meta,
            )
            .await
            .map_err(store_error)?;
        }
        Ok(())
    }

    /// After a cancellation: the reservation stops counting for the guest and the PMS frees the room.
    pub async fn after_cancellation(
        &self,
        id: Uuid,
        meta: &EventMetadata,
    ) -> Result<(), CommandError> {
        let reservation = self.load(id).await?;
        let (Some(tenant), Some(guest)) = (&reservation.tenant_id, &reservation.guest) else {
            return Ok(());
        };
        if reservation.status != ReservationStatus::Cancelled {
            return Ok(());
        }
        let guest_streams = guest_stream_ids(tenant, &guest.email, &guest.phone);
        self.release(&guest_streams, id, meta).await?;
        if let Some(pms_ref) = &reservation.pms_ref {
            if let Err(err) = self.pms.cancel_booking(tenant, pms_ref).await {
                self.record_pms_failure(id, "cancel_booking", err, meta)
                    .await?;
            }
        }
        Ok(())
    }

    /// After a modification: the guest's holds get the new check-out and the PMS the new terms.
    pub async fn after_modification(
        &self,
        id: Uuid,
        meta: &EventMetadata,
    ) -> Result<(), CommandError> {
        let reservation = self.load(id).await?;
        let (Some(tenant), Some(guest), Some(terms)) = (
            &reservation.tenant_id,
            &reservation.guest,
            &reservation.terms,
        ) else {
            return Ok(());
        };
        if !matches!(
            reservation.status,
            ReservationStatus::Requested | ReservationStatus::Confirmed
        ) {
            return Ok(());
        }
        // Both streams, or a stay that moved would still be counted (or no longer counted) as
        // active until its old check-out on one of them.
        for stream in guest_stream_ids(tenant, &guest.email, &guest.phone) {
            execute_with_retry(
                self.guests.as_ref(),
                &stream,
                GuestCommand::RescheduleReservation {
                    reservation_id: id,
                    check_out: terms.stay.check_out,
                },
                meta,
            )
            .await
            .map_err(store_error)?;
        }
        if let Some(pms_ref) = &reservation.pms_ref {
            let outcome = self
                .pms
                .modify_booking(tenant, pms_ref, &terms.room_type, &terms.stay, terms.guests)
                .await;
            if let Err(err) = outcome {
                self.record_pms_failure(id, "modify_booking", err, meta)
                    .await?;
            }
        }
        Ok(())
    }

    /// Runs the step that follows a stored reservation event; other events are ignored.
    pub async fn react(&self, event: &StoredEvent) -> Result<(), CommandError> {
        if event.aggregate_type != Reservation::TYPE {
            return Ok(());
        }
        let Ok(id) = Uuid::parse_str(&event.aggregate_id) else {
            return Ok(());
        };
        let Some(meta) = reaction_metadata(event) else {
            return Ok(());
        };
        match event.event_type.as_str() {
            "ReservationRequested" => self.settle(id, &meta).await.map(|_| ()),
            "ReservationCancelled" => self.after_cancellation(id, &meta).await,
            "ReservationModified" => self.after_modification(id, &meta).await,
            _ => Ok(()),
        }
    }
}

/// Metadata for a step caused by `event`: same tenant and correlation, the event as cause.
fn reaction_metadata(event: &StoredEvent) -> Option<EventMetadata> {
    let tenant = TenantId::parse(event.meta(keys::TENANT_ID)?).ok()?;
    let parse = |key| event.meta(key).and_then(|v| Uuid::parse_str(v).ok());
    let correlation = parse(keys::CORRELATION_ID).unwrap_or_else(Uuid::now_v7);
    let cause = parse(keys::EVENT_ID).unwrap_or(correlation);
    let mut meta = EventMetadata::new(tenant, Actor::system(COMPONENT), "system");
    meta.correlation_id = correlation;
    meta.causation_id = cause;
    meta.traceparent = event.meta(keys::TRACEPARENT).map(str::to_owned);
    Some(meta)
}
