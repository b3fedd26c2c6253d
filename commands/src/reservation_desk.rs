//! The reservation desk: requests, cancellations and modifications as the API receives them.

use std::sync::Arc;

use chrono::NaiveDate;
use conserje_domain::journal::AggregateStore;
use conserje_domain::reservation::{
    ModificationRequest, Reservation, ReservationCommand, ReservationError, ReservationRequest,
    ReservationStatus, StayTerms,
};
use conserje_domain::values::{GuestRef, TenantId};
use conserje_domain::EventMetadata;
use cqrs_es::AggregateError;
use uuid::Uuid;

use crate::retry::{execute_with_retry, MAX_ATTEMPTS};
use crate::{BookingProcess, CommandError};

/// A reservation as the guest asks for it, before the rules are checked.
#[derive(Debug, Clone)]
pub struct NewReservation {
    pub tenant_id: TenantId,
    /// The hotel's label for the guest, stored on the reservation; the e-mail when absent. The
    /// active-reservation limit does not go by it (the caller chooses it) but by the e-mail's
    /// mailbox and the phone, see `conserje_domain::guest`.
    pub guest_ref: Option<GuestRef>,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub room_type: String,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    pub guests: u32,
    pub special_requests: Option<String>,
    /// The conversation (session stream) it is booked in, told of late outcomes.
    pub conversation: Option<String>,
}

/// The outcome of a modification: the reservation under its new terms and what changed in price.
#[derive(Debug, Clone)]
pub struct Modification {
    pub reservation: Reservation,
    /// Positive: the guest pays this much more; negative: the hotel refunds it.
    pub price_difference_minor: i64,
}

pub struct ReservationDesk {
    reservations: Arc<dyn AggregateStore<Reservation>>,
    process: Arc<BookingProcess>,
}

fn refused(err: AggregateError<ReservationError>) -> CommandError {
    match err {
        AggregateError::UserError(ReservationError::NotFound) => {
            CommandError::NotFound("reservation".into())
        }
        AggregateError::UserError(ReservationError::CancellationFeeApplies {
            fee_minor,
            currency,
        }) => CommandError::CancellationFee {
            fee_minor,
            currency,
        },
        AggregateError::AggregateConflict => CommandError::Conflict {
            attempts: MAX_ATTEMPTS,
        },
        other => CommandError::from_aggregate(other, ReservationError::code),
    }
}

impl ReservationDesk {
    pub fn new(
        reservations: Arc<dyn AggregateStore<Reservation>>,
        process: Arc<BookingProcess>,
    ) -> Self {
        Self {
            reservations,
            process,
        }
    }

    /// Requests, holds and books a reservation. A broken rule is `Refused` with its code; a
    /// refusal decided after the request (blacklist, the guest's limit, a room taken meanwhile)
    /// is recorded as `ReservationRejected` and also returned as `Refused`.
    pub async fn request(
        &self,
        input: NewReservation,
        meta: EventMetadata,
    ) -> Result<Reservation, CommandError> {
        self.request_as(Uuid::now_v7(), input, meta).await
    }

    /// [`request`](Self::request) under an id the caller chose. Asking again with the same id
    /// (a guest message delivered twice) books nothing new: the first request is finished if a
    /// crash interrupted it, and returned.
    pub async fn request_as(
        &self,
        id: Uuid,
        input: NewReservation,
        meta: EventMetadata,
    ) -> Result<Reservation, CommandError> {
        let guest_ref = match input.guest_ref {
            Some(guest) => guest,
            None => GuestRef::parse(&input.email).map_err(|e| CommandError::Refused {
                code: "invalid_email",
                message: e.to_string(),
            })?,
        };
        let request = ReservationRequest {
            reservation_id: id,
            tenant_id: input.tenant_id,
            guest_ref,
            name: input.name,
            email: input.email,
            phone: input.phone,
            room_type: input.room_type,
            check_in: input.check_in,
            check_out: input.check_out,
            guests: input.guests,
            special_requests: input.special_requests,
            conversation: input.conversation,
        };
        let requested = self
            .reservations
            .execute(
                &id.to_string(),
                ReservationCommand::Request(request),
                meta.clone(),
            )
            .await
            .map_err(refused);
        match requested {
            Ok(())
            | Err(CommandError::Refused {
                code: "already_exists",
                ..
            }) => {}
            Err(err) => return Err(err),
        }
        self.process.settle(id, &meta).await?;
        let reservation = self.find(id).await?;
        match (reservation.status, reservation.rejection) {
            (ReservationStatus::Rejected, Some(reason)) => Err(CommandError::Refused {
                code: reason.code(),
                message: rejection_message(reason.code()),
            }),
            _ => Ok(reservation),
        }
    }

    /// Cancels; a second cancellation is refused with `already_cancelled`, and one inside the
    /// hotel's free window is refused with `cancellation_fee_applies` (and the fee) unless
    /// `accepted_fee_minor` covers that fee.
    pub async fn cancel(
        &self,
        id: Uuid,
        requested_by: Option<GuestRef>,
        reason: Option<String>,
        accepted_fee_minor: Option<i64>,
        meta: EventMetadata,
    ) -> Result<Reservation, CommandError> {
        let command = ReservationCommand::Cancel {
            requested_by,
            reason,
            accepted_fee_minor,
        };
        execute_with_retry(self.reservations.as_ref(), &id.to_string(), command, &meta)
            .await
            .map_err(refused)?;
        self.process.after_cancellation(id, &meta).await?;
        self.find(id).await
    }

    /// Quotes new terms and applies them (the API call is the guest's confirmation). Every rule
    /// is checked again and the room re-checked in the PMS.
    pub async fn modify(
        &self,
        id: Uuid,
        change: ModificationRequest,
        meta: EventMetadata,
    ) -> Result<Modification, CommandError> {
        let quoted = self.quote_modification(id, change, meta.clone()).await?;
        let applied = self.confirm_modification(id, meta).await?;
        Ok(Modification {
            price_difference_minor: quoted.price_difference_minor,
            reservation: applied.reservation,
        })
    }

    /// Records new terms as quoted, without applying them: a guest in a conversation sees the
    /// price difference and confirms (or not) in a later message.
    pub async fn quote_modification(
        &self,
        id: Uuid,
        change: ModificationRequest,
        meta: EventMetadata,
    ) -> Result<Modification, CommandError> {
        execute_with_retry(
            self.reservations.as_ref(),
            &id.to_string(),
            ReservationCommand::RequestModification(change),
            &meta,
        )
        .await
        .map_err(refused)?;
        let reservation = self.find(id).await?;
        let total = |terms: Option<&StayTerms>| terms.map_or(0, |t| t.price.total_minor);
        Ok(Modification {
            price_difference_minor: total(reservation.pending_modification.as_ref())
                - total(reservation.terms.as_ref()),
            reservation,
        })
    }

    /// Applies the quoted terms and moves the PMS booking.
    pub async fn confirm_modification(
        &self,
        id: Uuid,
        meta: EventMetadata,
    ) -> Result<Modification, CommandError> {
        let before = self.find(id).await?;
        execute_with_retry(
            self.reservations.as_ref(),
            &id.to_string(),
            ReservationCommand::ConfirmModification,
            &meta,
        )
        .await
        .map_err(refused)?;
        self.process.after_modification(id, &meta).await?;
        let reservation = self.find(id).await?;
        let total = |r: &Reservation| r.terms.as_ref().map_or(0, |t| t.price.total_minor);
        Ok(Modification {
            price_difference_minor: total(&reservation) - total(&before),
            reservation,
        })
    }

    /// The reservation's current state, straight from its stream.
    pub async fn find(&self, id: Uuid) -> Result<Reservation, CommandError> {
        let reservation = self
            .reservations
            .load(&id.to_string())
            .await
            .map_err(refused)?;
        if reservation.status == ReservationStatus::Absent {
            return Err(CommandError::NotFound(format!("reservation {id}")));
        }
        Ok(reservation)
    }
}

fn rejection_message(code: &str) -> String {
    match code {
        "guest_blacklisted" => "the hotel cannot accept a reservation for this guest",
        "too_many_active_reservations" => "the guest already has 5 active reservations",
        _ => "no room of that type is free for those dates",
    }
    .to_owned()
}
