use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::pricing::PriceQuote;
use crate::stay::StayDates;
use crate::values::{Email, GuestRef, Phone, RoomType, SpecialRequests, TenantId};

/// Who the reservation is for, as validated at request time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestDetails {
    pub guest_ref: GuestRef,
    pub name: String,
    pub email: Email,
    pub phone: Phone,
}

/// What is booked and at what price; changes together on modification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StayTerms {
    pub room_type: RoomType,
    pub stay: StayDates,
    pub guests: u8,
    pub price: PriceQuote,
}

/// Why a reservation was refused after it was asked for. The codes are the API's error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    GuestBlacklisted,
    TooManyActiveReservations,
    RoomUnavailable,
}

impl RejectionReason {
    pub fn code(self) -> &'static str {
        match self {
            Self::GuestBlacklisted => "guest_blacklisted",
            Self::TooManyActiveReservations => "too_many_active_reservations",
            Self::RoomUnavailable => "room_unavailable",
        }
    }
}

/// Everything that can happen to a reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReservationEvent {
    /// A valid request was priced against the PMS; the room is not yet held.
    ReservationRequested {
        reservation_id: Uuid,
        tenant_id: TenantId,
        guest: GuestDetails,
        terms: StayTerms,
        special_requests: SpecialRequests,
        /// The hotel's date when the request was made, for the analysts' lead-time figures.
        requested_on: NaiveDate,
    },
    /// The PMS holds the room.
    ReservationConfirmed {
        pms_ref: String,
    },
    /// The request was refused. Blacklist refusals are recorded here so auditors can see them.
    ReservationRejected {
        reservation_id: Uuid,
        tenant_id: TenantId,
        guest_ref: GuestRef,
        reason: RejectionReason,
    },
    /// New terms were quoted; they apply only once the guest confirms.
    ReservationModificationRequested {
        terms: StayTerms,
        price_difference_minor: i64,
    },
    /// The quoted terms now apply. A positive difference is owed by the guest, negative refunded.
    ReservationModified {
        previous: StayTerms,
        terms: StayTerms,
        price_difference_minor: i64,
    },
    ReservationCancelled {
        reason: Option<String>,
    },
    /// A change could not be pushed to the PMS; the PMS sync retries it.
    PmsSyncFailed {
        operation: String,
        error: String,
    },
}

impl DomainEvent for ReservationEvent {
    fn event_type(&self) -> String {
        let name = match self {
            Self::ReservationRequested { .. } => "ReservationRequested",
            Self::ReservationConfirmed { .. } => "ReservationConfirmed",
            Self::ReservationRejected { .. } => "ReservationRejected",
            Self::ReservationModificationRequested { .. } => "ReservationModificationRequested",
            Self::ReservationModified { .. } => "ReservationModified",
            Self::ReservationCancelled { .. } => "ReservationCancelled",
            Self::PmsSyncFailed { .. } => "PmsSyncFailed",
        };
        name.to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
