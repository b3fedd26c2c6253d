//! The booking process: the PMS sync as a process manager, fed from the event store.
//!
//! After `ReservationRequested` the reservation is held on the guest's streams (the owners of the
//! five-active limit: one for the e-mail's mailbox, one for the phone, see
//! `conserje_domain::guest`) and booked in the PMS. It is confirmed only once the PMS has
//! confirmed it, carrying the PMS's reference. After `ReservationCancelled` and
//! `ReservationModified` the holds and the PMS booking follow.
//!
//! When the PMS fails, the reservation stays as it was with a `PmsSyncFailed` event saying when
//! the next attempt is due ([`RetrySchedule`]); the due times are kept in a table fed from those
//! events ([`SyncQueue`]), so a restart loses no retry. After the last attempt a request is
//! rejected and a modification or cancellation is handed to staff, and the guest who booked in
//! a conversation is told, in their language ([`GuestNotices`]).
//!
//! QloApps has no idempotency key, so a create whose outcome is unknown (it timed out, the
//! connection broke) may have booked a room. Every create but the very first is therefore
//! preceded by a look-up of the booking by its marker (the reservation id), and a booking found
//! is adopted instead of made again: no retry, recovery or race can book a stay twice. Steps for
//! one reservation are serialised in the process, so the desk's inline attempt and the
//! subscription's replay of the same event never run side by side.
//!
//! The desk runs the first step inline for a prompt answer, and the subscription runs each step
//! again from its checkpoint, so a crash between two steps is finished by replay. Every step is
//! idempotent and works from the reservation's *current* state.

mod schedule;

pub use schedule::RetrySchedule;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use chrono::NaiveDate;
use conserje_domain::guest::{guest_stream_ids, Guest, GuestCommand, GuestError};
use conserje_domain::journal::{AggregateStore, StoredEvent};
use conserje_domain::metadata::{keys, Actor};
use conserje_domain::pms::SyncQueue;
use conserje_domain::ports::{Clock, Pms, PmsBooking, PmsBookingRequest, PmsError};
use conserje_domain::reservation::{
    PmsOperation, RejectionReason, Reservation, ReservationCommand, ReservationEvent,
    ReservationStatus,
};
use conserje_domain::values::TenantId;
use conserje_domain::EventMetadata;
use cqrs_es::{Aggregate, AggregateError};
use uuid::Uuid;

use crate::retry::execute_with_retry;
use crate::CommandError;

/// The actor recorded on the events this process writes.
pub const COMPONENT: &str = "booking-process";

/// What the guest who booked in a conversation is told when the PMS settles their reservation
/// after the conversation moved on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The PMS confirmed a request that had been waiting for it.
    Confirmed,
    /// The request was refused after waiting (the room went, or the PMS never came back).
    Rejected(RejectionReason),
    /// A change could not reach the PMS: staff take over.
    HandedToStaff(PmsOperation),
}

/// Tells a guest, in their conversation and language, what became of their reservation.
#[async_trait]
pub trait GuestNotices: Send + Sync {
    async fn tell(&self, reservation: &Reservation, notice: Notice) -> Result<(), CommandError>;
}

/// Which attempt a step is: the first create goes straight to the PMS; any other looks for a
/// booking the PMS may already hold first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    /// The desk's inline call, right after the request.
    First,
    /// The subscription's run of the stored event (normally after the desk's; after a crash,
    /// the first to run).
    Recovery,
    /// A scheduled retry: the guest is told the outcome.
    Retry,
}

pub struct BookingProcess {
    reservations: Arc<dyn AggregateStore<Reservation>>,
    guests: Arc<dyn AggregateStore<Guest>>,
    pms: Arc<dyn Pms>,
    clock: Arc<dyn Clock>,
    schedule: RetrySchedule,
    queue: Arc<dyn SyncQueue>,
    notices: OnceLock<Arc<dyn GuestNotices>>,
    /// One lock per reservation being worked on: its steps never overlap in this process.
    working: Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>,
}

fn store_error<E: std::error::Error>(err: AggregateError<E>) -> CommandError {
    CommandError::Store(err.to_string())
}

fn queue_error(err: String) -> CommandError {
    CommandError::Store(format!("PMS sync queue: {err}"))
}

/// Worth another attempt: the PMS failed or was not asked, or refused our key (an operator
/// fixes a key in minutes; a refusal of the request itself no retry changes).
fn retryable(err: &PmsError) -> bool {
    err.is_transient() || matches!(err, PmsError::Unauthorized(_))
}

impl BookingProcess {
    pub fn new(
        reservations: Arc<dyn AggregateStore<Reservation>>,
        guests: Arc<dyn AggregateStore<Guest>>,
        pms: Arc<dyn Pms>,
        clock: Arc<dyn Clock>,
        schedule: RetrySchedule,
        queue: Arc<dyn SyncQueue>,
    ) -> Self {
        Self {
            reservations,
            guests,
            pms,
            clock,
            schedule,
            queue,
            notices: OnceLock::new(),
            working: Mutex::new(HashMap::new()),
        }
    }

    /// Who tells guests of late outcomes (set once, after the dialogue is built: it needs the
    /// desk, which needs this process).
    pub fn tell_guests_with(&self, notices: Arc<dyn GuestNotices>) {
        let _ = self.notices.set(notices);
    }

    /// The per-reservation lock, taken for the whole of a step.
    async fn working_on(&self, id: Uuid) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut working = self
                .working
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Locks nobody holds or waits for are dropped as we go, so the map stays small.
            working.retain(|_, lock| Arc::strong_count(lock) > 1);
            working.entry(id).or_default().clone()
        };
        lock.lock_owned().await
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

    /// Tells the guest, unless this is the desk's inline attempt (whose caller answers them).
    async fn notify(&self, attempt: Attempt, id: Uuid, notice: Notice) {
        if attempt == Attempt::First {
            return;
        }
        let Some(notices) = self.notices.get() else {
            return;
        };
        let told = match self.load(id).await {
            Ok(reservation) => notices.tell(&reservation, notice).await,
            Err(err) => Err(err),
        };
        if let Err(err) = told {
            tracing::warn!(reservation = %id, error = %err, "could not tell the guest");
        }
    }

    /// Records a failed PMS operation with when to try again; after the last attempt, gives up.
    /// Returns whether it gave up.
    async fn record_pms_failure(
        &self,
        id: Uuid,
        operation: PmsOperation,
        error: &PmsError,
        meta: &EventMetadata,
    ) -> Result<bool, CommandError> {
        let reservation = self.load(id).await?;
        let attempt = reservation
            .pms_sync
            .as_ref()
            .filter(|p| p.operation == operation)
            .map_or(0, |p| p.attempt)
            + 1;
        let retry_at = if retryable(error) {
            self.schedule.next(attempt, self.clock.now())
        } else {
            None
        };
        tracing::warn!(
            reservation = %id,
            operation = operation.as_str(),
            attempt,
            retry_at = ?retry_at,
            kind = error.kind(),
            %error,
            "PMS sync failed"
        );
        self.reservation_command(
            id,
            ReservationCommand::RecordPmsSyncFailure {
                operation,
                error: error.to_string(),
                attempt,
                retry_at,
            },
            meta,
        )
        .await?;
        // The queue learns of it at once, not only when the event reaches `react`.
        match retry_at {
            Some(due) => self.queue.schedule(id, due).await.map_err(queue_error)?,
            None => self.queue.clear(id).await.map_err(queue_error)?,
        }
        Ok(retry_at.is_none())
    }

    /// Brings a requested reservation to `confirmed` or `rejected`; returns where it ends up.
    /// A PMS that fails leaves it `requested`, with a `PmsSyncFailed` event and a retry due.
    pub async fn settle(
        &self,
        id: Uuid,
        meta: &EventMetadata,
    ) -> Result<ReservationStatus, CommandError> {
        self.book(id, meta, Attempt::First).await
    }

    async fn book(
        &self,
        id: Uuid,
        meta: &EventMetadata,
        attempt: Attempt,
    ) -> Result<ReservationStatus, CommandError> {
        let _working = self.working_on(id).await;
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
        if skip(attempt, &reservation) {
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
                .reject(
                    id,
                    RejectionReason::TooManyActiveReservations,
                    meta,
                    attempt,
                )
                .await;
        }
        // Only the very first create may skip the look-up: any other may follow a lost answer.
        let found = match attempt {
            Attempt::First => Ok(None),
            Attempt::Recovery | Attempt::Retry => self.live_booking(tenant, id).await,
        };
        let created = match found {
            Ok(Some(found)) => {
                tracing::info!(reservation = %id, pms_ref = %found.pms_ref, "adopted the PMS booking a lost answer had made");
                Ok(found)
            }
            Ok(None) => {
                let request = PmsBookingRequest {
                    reservation_id: id,
                    room_type: terms.room_type.clone(),
                    stay: terms.stay,
                    guests: terms.guests,
                    guest_name: guest.name.clone(),
                    guest_ref: guest.guest_ref.clone(),
                    email: guest.email.clone(),
                    phone: guest.phone.clone(),
                    price: terms.price.clone(),
                    special_requests: reservation.special_requests.as_str().to_owned(),
                };
                self.pms.create_booking(tenant, &request).await
            }
            Err(lookup_failed) => Err(lookup_failed),
        };
        match created {
            Ok(booking) => {
                self.reservation_command(
                    id,
                    ReservationCommand::Confirm {
                        pms_ref: booking.pms_ref,
                    },
                    meta,
                )
                .await?;
                self.notify(attempt, id, Notice::Confirmed).await;
                Ok(ReservationStatus::Confirmed)
            }
            Err(PmsError::Unavailable(_) | PmsError::UnknownRoomType(_)) => {
                self.release(&guest_streams, id, meta).await?;
                self.reject(id, RejectionReason::RoomUnavailable, meta, attempt)
                    .await
            }
            Err(err) => {
                let gave_up = self
                    .record_pms_failure(id, PmsOperation::CreateBooking, &err, meta)
                    .await?;
                if !gave_up {
                    return Ok(ReservationStatus::Requested);
                }
                self.release(&guest_streams, id, meta).await?;
                self.reject(id, RejectionReason::PmsUnavailable, meta, attempt)
                    .await
            }
        }
    }

    /// The PMS booking that carries this reservation's marker and still holds its rooms.
    async fn live_booking(
        &self,
        tenant: &TenantId,
        id: Uuid,
    ) -> Result<Option<PmsBooking>, PmsError> {
        let found = self.pms.find_booking(tenant, id).await?;
        Ok(found.filter(|booking| !booking.cancelled))
    }

    async fn reject(
        &self,
        id: Uuid,
        reason: RejectionReason,
        meta: &EventMetadata,
        attempt: Attempt,
    ) -> Result<ReservationStatus, CommandError> {
        self.reservation_command(id, ReservationCommand::Reject { reason }, meta)
            .await?;
        self.notify(attempt, id, Notice::Rejected(reason)).await;
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
        self.cancel_in_pms(id, meta, Attempt::First).await
    }

    async fn cancel_in_pms(
        &self,
        id: Uuid,
        meta: &EventMetadata,
        attempt: Attempt,
    ) -> Result<(), CommandError> {
        let _working = self.working_on(id).await;
        let reservation = self.load(id).await?;
        let (Some(tenant), Some(guest)) = (&reservation.tenant_id, &reservation.guest) else {
            return Ok(());
        };
        if reservation.status != ReservationStatus::Cancelled || skip(attempt, &reservation) {
            return Ok(());
        }
        let guest_streams = guest_stream_ids(tenant, &guest.email, &guest.phone);
        self.release(&guest_streams, id, meta).await?;
        // A request cancelled before the PMS confirmed it may still have been booked there by a
        // create whose answer was lost: look it up by its marker.
        let pms_ref = match &reservation.pms_ref {
            Some(pms_ref) => Ok(Some(pms_ref.clone())),
            None => self
                .live_booking(tenant, id)
                .await
                .map(|found| found.map(|b| b.pms_ref)),
        };
        let cancelled = match pms_ref {
            Ok(Some(pms_ref)) => self.pms.cancel_booking(tenant, &pms_ref).await,
            Ok(None) => Ok(()),
            Err(err) => Err(err),
        };
        self.after_pms_call(id, PmsOperation::CancelBooking, cancelled, meta)
            .await
    }

    /// After a modification: the guest's holds get the new check-out and the PMS the new terms.
    pub async fn after_modification(
        &self,
        id: Uuid,
        meta: &EventMetadata,
    ) -> Result<(), CommandError> {
        self.modify_in_pms(id, meta, Attempt::First).await
    }

    async fn modify_in_pms(
        &self,
        id: Uuid,
        meta: &EventMetadata,
        attempt: Attempt,
    ) -> Result<(), CommandError> {
        let _working = self.working_on(id).await;
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
        ) || skip(attempt, &reservation)
        {
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
        let Some(pms_ref) = &reservation.pms_ref else {
            return Ok(());
        };
        let moved = self
            .pms
            .modify_booking(tenant, pms_ref, &terms.room_type, &terms.stay, terms.guests)
            .await
            .map(|_| ());
        self.after_pms_call(id, PmsOperation::ModifyBooking, moved, meta)
            .await
    }

    /// Records how a modification or cancellation went in the PMS: a success closes an earlier
    /// failure; a failure is scheduled again or, after the last attempt, handed to staff.
    async fn after_pms_call(
        &self,
        id: Uuid,
        operation: PmsOperation,
        outcome: Result<(), PmsError>,
        meta: &EventMetadata,
    ) -> Result<(), CommandError> {
        match outcome {
            Ok(()) => {
                self.reservation_command(
                    id,
                    ReservationCommand::RecordPmsSynced { operation },
                    meta,
                )
                .await
            }
            Err(err) => {
                if self.record_pms_failure(id, operation, &err, meta).await? {
                    // Whoever changed it was told it is done; staff must now make it so.
                    self.notify(Attempt::Retry, id, Notice::HandedToStaff(operation))
                        .await;
                }
                Ok(())
            }
        }
    }

    /// Runs the retry of a reservation whose PMS operation is due (from the [`SyncQueue`]).
    pub async fn retry(&self, id: Uuid) -> Result<(), CommandError> {
        let reservation = self.load(id).await?;
        let Some(tenant) = reservation.tenant_id.clone() else {
            return self.queue.clear(id).await.map_err(queue_error);
        };
        let Some(pending) = reservation
            .pms_sync
            .clone()
            .filter(|p| p.retry_at.is_some())
        else {
            return self.queue.clear(id).await.map_err(queue_error);
        };
        // The queue is fed from the events, a moment behind: a retry that just failed is still
        // listed as due until its new `PmsSyncFailed` reaches it. The stream says when the next
        // attempt is due; running it early would spend the schedule in a few polls.
        if let Some(due) = pending.retry_at.filter(|due| *due > self.clock.now()) {
            return self.queue.schedule(id, due).await.map_err(queue_error);
        }
        let meta = EventMetadata::new(tenant, Actor::system(COMPONENT), "system");
        match pending.operation {
            PmsOperation::CreateBooking => self.book(id, &meta, Attempt::Retry).await.map(|_| ()),
            PmsOperation::ModifyBooking => self.modify_in_pms(id, &meta, Attempt::Retry).await,
            PmsOperation::CancelBooking => self.cancel_in_pms(id, &meta, Attempt::Retry).await,
        }
    }

    /// Retries every operation that is due now: one round of what keeps a reservation moving
    /// while the PMS comes back. The caller runs the rounds (one process at a time among those
    /// on the store: the runtime holds a lease for it).
    pub async fn retry_due(&self) {
        match self.queue.due(self.clock.now(), 100).await {
            Ok(due) => {
                for id in due {
                    if let Err(err) = self.retry(id).await {
                        tracing::warn!(reservation = %id, error = %err, "PMS sync retry failed");
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "cannot read the PMS sync queue"),
        }
    }

    /// Keeps the retry queue in step with the reservation's events, then runs the step that
    /// follows a stored reservation event; other events are ignored.
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
        match event.decode::<Reservation>() {
            Ok(ReservationEvent::PmsSyncFailed {
                retry_at: Some(due),
                ..
            }) => self.queue.schedule(id, due).await.map_err(queue_error)?,
            Ok(
                ReservationEvent::PmsSyncFailed { retry_at: None, .. }
                | ReservationEvent::PmsSynced { .. }
                | ReservationEvent::ReservationConfirmed { .. }
                | ReservationEvent::ReservationRejected { .. }
                | ReservationEvent::ReservationCancelled { .. },
            ) => self.queue.clear(id).await.map_err(queue_error)?,
            _ => {}
        }
        match event.event_type.as_str() {
            "ReservationRequested" => self.book(id, &meta, Attempt::Recovery).await.map(|_| ()),
            "ReservationCancelled" => self.cancel_in_pms(id, &meta, Attempt::Recovery).await,
            "ReservationModified" => self.modify_in_pms(id, &meta, Attempt::Recovery).await,
            _ => Ok(()),
        }
    }
}

/// An operation that already failed is retried on its schedule, not by every replay.
fn skip(attempt: Attempt, reservation: &Reservation) -> bool {
    attempt == Attempt::Recovery && reservation.pms_sync.is_some()
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
