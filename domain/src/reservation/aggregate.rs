use std::sync::Arc;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::commands::{ModificationRequest, ReservationCommand, ReservationRequest};
use super::error::ReservationError;
use super::events::{GuestDetails, PmsOperation, RejectionReason, ReservationEvent, StayTerms};
use crate::ports::{today_for, Clock, GuestScreening, HotelDirectory, Pms};
use crate::pricing::PriceQuote;
use crate::stay::StayDates;
use crate::values::{Email, GuestRef, Phone, RoomType, SpecialRequests, TenantId};

/// Largest party one reservation may hold.
pub const MAX_GUESTS: u32 = 10;

/// What a reservation needs from outside to decide: the hotel's date, the PMS's rooms and rates,
/// and the blacklist.
#[derive(Clone)]
pub struct ReservationServices {
    pub clock: Arc<dyn Clock>,
    pub hotels: Arc<dyn HotelDirectory>,
    pub pms: Arc<dyn Pms>,
    pub screening: Arc<dyn GuestScreening>,
}

/// Where a reservation stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    /// No event yet: the stream does not exist.
    #[default]
    Absent,
    /// Priced and waiting for the guest's hold and the PMS booking.
    Requested,
    Confirmed,
    Rejected,
    Cancelled,
}

impl ReservationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Absent => "absent",
            Self::Requested => "requested",
            Self::Confirmed => "confirmed",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
        }
    }
}

/// A PMS operation that failed and is waiting for its next attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSync {
    pub operation: PmsOperation,
    /// Failed attempts so far.
    pub attempt: u32,
    /// When the next one is due; `None` once the PMS sync has given up.
    pub retry_at: Option<DateTime<Utc>>,
    pub error: String,
}

/// One reservation, rebuilt from its events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reservation {
    pub reservation_id: Option<Uuid>,
    pub tenant_id: Option<TenantId>,
    pub status: ReservationStatus,
    pub guest: Option<GuestDetails>,
    pub terms: Option<StayTerms>,
    pub pms_ref: Option<String>,
    pub rejection: Option<RejectionReason>,
    /// Terms quoted to the guest and not yet confirmed.
    pub pending_modification: Option<StayTerms>,
    pub special_requests: SpecialRequests,
    /// The conversation it was booked in, if a guest booked it by chat.
    pub conversation: Option<String>,
    /// A PMS operation still to be retried (or given up on).
    pub pms_sync: Option<PendingSync>,
    /// What the cancellation cost, once cancelled.
    pub cancellation_fee_minor: i64,
}

impl Reservation {
    fn tenant(&self) -> Result<&TenantId, ReservationError> {
        self.tenant_id.as_ref().ok_or(ReservationError::NotFound)
    }

    fn owned_by(&self, who: Option<&GuestRef>) -> Result<(), ReservationError> {
        match (who, &self.guest) {
            (Some(who), Some(guest)) if &guest.guest_ref != who => {
                Err(ReservationError::NotYourReservation)
            }
            _ => Ok(()),
        }
    }

    async fn request(
        &self,
        request: ReservationRequest,
        services: &ReservationServices,
    ) -> Result<ReservationEvent, ReservationError> {
        if self.status != ReservationStatus::Absent {
            return Err(ReservationError::AlreadyExists);
        }
        let name = request.name.trim();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            return Err(ReservationError::InvalidName);
        }
        let email = Email::parse(&request.email).map_err(ReservationError::InvalidEmail)?;
        let phone = Phone::parse(&request.phone).map_err(ReservationError::InvalidPhone)?;
        let guests = party_size(request.guests)?;
        let room_type =
            RoomType::parse(&request.room_type).map_err(ReservationError::InvalidRoomType)?;
        let today = today_for(
            services.clock.as_ref(),
            services.hotels.as_ref(),
            &request.tenant_id,
        );
        let stay = StayDates::for_booking(request.check_in, request.check_out, today)?;

        if services
            .screening
            .is_blacklisted(&request.tenant_id, &email, &phone)
        {
            return Ok(ReservationEvent::ReservationRejected {
                reservation_id: request.reservation_id,
                tenant_id: request.tenant_id,
                guest_ref: request.guest_ref,
                reason: RejectionReason::GuestBlacklisted,
            });
        }

        let terms = quote(services, &request.tenant_id, room_type, stay, guests, None).await?;
        Ok(ReservationEvent::ReservationRequested {
            reservation_id: request.reservation_id,
            tenant_id: request.tenant_id,
            guest: GuestDetails {
                guest_ref: request.guest_ref,
                name: name.to_owned(),
                email,
                phone,
            },
            terms,
            special_requests: SpecialRequests::sanitise(
                request.special_requests.as_deref().unwrap_or_default(),
            ),
            requested_on: today,
            conversation: request.conversation,
        })
    }

    async fn request_modification(
        &self,
        change: ModificationRequest,
        services: &ReservationServices,
    ) -> Result<ReservationEvent, ReservationError> {
        let current = self.modifiable_terms()?;
        self.owned_by(change.requested_by.as_ref())?;
        let tenant = self.tenant()?;
        let room_type = match change.room_type {
            Some(raw) => RoomType::parse(&raw).map_err(ReservationError::InvalidRoomType)?,
            None => current.room_type.clone(),
        };
        let guests = match change.guests {
            Some(n) => party_size(n)?,
            None => current.guests,
        };
        let today = today_for(services.clock.as_ref(), services.hotels.as_ref(), tenant);
        let stay = StayDates::for_booking(
            change.check_in.unwrap_or(current.stay.check_in),
            change.check_out.unwrap_or(current.stay.check_out),
            today,
        )?;
        let terms = quote(
            services,
            tenant,
            room_type,
            stay,
            guests,
            self.reservation_id,
        )
        .await?;
        let price_difference_minor = terms.price.total_minor - current.price.total_minor;
        Ok(ReservationEvent::ReservationModificationRequested {
            terms,
            price_difference_minor,
        })
    }

    /// What cancelling at `now` costs under the hotel's policy: only a stay the PMS confirmed
    /// has anything to charge for (a request still waiting for the PMS holds no room yet). The
    /// dialogue states it before asking; the `Cancel` command checks it again.
    pub fn cancellation_fee_at(&self, hotels: &dyn HotelDirectory, now: DateTime<Utc>) -> i64 {
        let (Some(terms), Some(tenant)) = (&self.terms, &self.tenant_id) else {
            return 0;
        };
        if self.status != ReservationStatus::Confirmed {
            return 0;
        }
        hotels
            .cancellation_policy(tenant)
            .charge(&terms.stay, &terms.price, now, hotels.time_zone(tenant))
            .fee_minor
    }

    fn modifiable_terms(&self) -> Result<&StayTerms, ReservationError> {
        match self.status {
            ReservationStatus::Absent => Err(ReservationError::NotFound),
            ReservationStatus::Cancelled => Err(ReservationError::AlreadyCancelled),
            ReservationStatus::Rejected => Err(ReservationError::NotModifiable("rejected")),
            ReservationStatus::Requested | ReservationStatus::Confirmed => {
                self.terms.as_ref().ok_or(ReservationError::NotFound)
            }
        }
    }
}

fn party_size(requested: u32) -> Result<u8, ReservationError> {
    match requested {
        0 => Err(ReservationError::NoGuests),
        n if n > MAX_GUESTS => Err(ReservationError::TooManyGuests {
            requested: n,
            max: MAX_GUESTS,
        }),
        n => Ok(n as u8),
    }
}

/// Prices a stay from the PMS's live availability and rate.
async fn quote(
    services: &ReservationServices,
    tenant: &TenantId,
    room_type: RoomType,
    stay: StayDates,
    guests: u8,
    excluding: Option<Uuid>,
) -> Result<StayTerms, ReservationError> {
    let offer = services
        .pms
        .availability(tenant, &room_type, &stay, excluding)
        .await
        .map_err(ReservationError::from_pms)?;
    if offer.available_units == 0 {
        return Err(ReservationError::RoomUnavailable(format!(
            "no {room_type} room is free from {} to {}",
            stay.check_in, stay.check_out
        )));
    }
    Ok(StayTerms {
        price: PriceQuote::for_stay(&offer.nightly_rate, stay.nights()),
        room_type,
        stay,
        guests,
    })
}

impl Aggregate for Reservation {
    const TYPE: &'static str = "Reservation";
    type Command = ReservationCommand;
    type Event = ReservationEvent;
    type Error = ReservationError;
    type Services = ReservationServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        use ReservationStatus as S;
        let event = match command {
            ReservationCommand::Request(request) => self.request(request, services).await?,
            ReservationCommand::Confirm { pms_ref } => match (self.status, &self.pms_ref) {
                (S::Requested, _) => ReservationEvent::ReservationConfirmed { pms_ref },
                (S::Confirmed, Some(existing)) if *existing == pms_ref => return Ok(()),
                (S::Confirmed, Some(existing)) => {
                    return Err(ReservationError::AlreadyConfirmed(existing.clone()))
                }
                (S::Absent, _) => return Err(ReservationError::NotFound),
                (S::Cancelled, _) => return Err(ReservationError::AlreadyCancelled),
                (S::Confirmed | S::Rejected, _) => {
                    return Err(ReservationError::NotModifiable(self.status.as_str()))
                }
            },
            ReservationCommand::Reject { reason } => match self.status {
                S::Requested => ReservationEvent::ReservationRejected {
                    reservation_id: self.reservation_id.ok_or(ReservationError::NotFound)?,
                    tenant_id: self.tenant()?.clone(),
                    guest_ref: self
                        .guest
                        .as_ref()
                        .map(|g| g.guest_ref.clone())
                        .ok_or(ReservationError::NotFound)?,
                    reason,
                },
                S::Rejected => return Ok(()),
                S::Absent => return Err(ReservationError::NotFound),
                S::Cancelled => return Err(ReservationError::AlreadyCancelled),
                S::Confirmed => return Err(ReservationError::NotModifiable("confirmed")),
            },
            ReservationCommand::RequestModification(change) => {
                self.request_modification(change, services).await?
            }
            ReservationCommand::ConfirmModification => {
                let previous = self.modifiable_terms()?.clone();
                let terms = self
                    .pending_modification
                    .clone()
                    .ok_or(ReservationError::NoPendingModification)?;
                ReservationEvent::ReservationModified {
                    price_difference_minor: terms.price.total_minor - previous.price.total_minor,
                    previous,
                    terms,
                }
            }
            ReservationCommand::Cancel {
                requested_by,
                reason,
                accepted_fee_minor,
            } => {
                let terms = self.modifiable_terms()?;
                self.owned_by(requested_by.as_ref())?;
                let fee_minor =
                    self.cancellation_fee_at(services.hotels.as_ref(), services.clock.now());
                if fee_minor > 0 && accepted_fee_minor.is_none_or(|accepted| accepted < fee_minor) {
                    return Err(ReservationError::CancellationFeeApplies {
                        fee_minor,
                        currency: terms.price.currency.clone(),
                    });
                }
                ReservationEvent::ReservationCancelled { reason, fee_minor }
            }
            ReservationCommand::RecordPmsSyncFailure {
                operation,
                error,
                attempt,
                retry_at,
            } => {
                if self.status == S::Absent {
                    return Err(ReservationError::NotFound);
                }
                ReservationEvent::PmsSyncFailed {
                    operation,
                    error,
                    attempt,
                    retry_at,
                }
            }
            ReservationCommand::RecordPmsSynced { operation } => {
                match &self.pms_sync {
                    Some(pending) if pending.operation == operation => {}
                    // Nothing was waiting: a repeated or late success.
                    _ => return Ok(()),
                }
                ReservationEvent::PmsSynced { operation }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            ReservationEvent::ReservationRequested {
                reservation_id,
                tenant_id,
                guest,
                terms,
                special_requests,
                conversation,
                ..
            } => {
                self.reservation_id = Some(reservation_id);
                self.tenant_id = Some(tenant_id);
                self.guest = Some(guest);
                self.terms = Some(terms);
                self.special_requests = special_requests;
                self.conversation = conversation;
                self.status = ReservationStatus::Requested;
            }
            ReservationEvent::ReservationConfirmed { pms_ref } => {
                self.pms_ref = Some(pms_ref);
                self.status = ReservationStatus::Confirmed;
                self.pms_sync = None;
            }
            ReservationEvent::ReservationRejected {
                reservation_id,
                tenant_id,
                reason,
                ..
            } => {
                self.reservation_id = Some(reservation_id);
                self.tenant_id = Some(tenant_id);
                self.rejection = Some(reason);
                self.status = ReservationStatus::Rejected;
                self.pms_sync = None;
            }
            ReservationEvent::ReservationModificationRequested { terms, .. } => {
                self.pending_modification = Some(terms);
            }
            ReservationEvent::ReservationModified { terms, .. } => {
                self.terms = Some(terms);
                self.pending_modification = None;
            }
            ReservationEvent::ReservationCancelled { fee_minor, .. } => {
                self.status = ReservationStatus::Cancelled;
                self.pending_modification = None;
                self.cancellation_fee_minor = fee_minor;
                // A create still waiting for the PMS is moot now; what is left is to cancel.
                if self
                    .pms_sync
                    .as_ref()
                    .is_some_and(|p| p.operation != PmsOperation::CancelBooking)
                {
                    self.pms_sync = None;
                }
            }
            ReservationEvent::PmsSyncFailed {
                operation,
                error,
                attempt,
                retry_at,
            } => {
                self.pms_sync = Some(PendingSync {
                    operation,
                    attempt,
                    retry_at,
                    error,
                });
            }
            ReservationEvent::PmsSynced { operation } => {
                if self
                    .pms_sync
                    .as_ref()
                    .is_some_and(|p| p.operation == operation)
                {
                    self.pms_sync = None;
                }
            }
        }
    }
}
