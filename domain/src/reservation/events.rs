use chrono::{DateTime, NaiveDate, Utc};
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
    /// The PMS could not take the booking: it kept failing through every retry, or refused it
    /// for a reason no retry changes.
    PmsUnavailable,
}

impl RejectionReason {
    pub fn code(self) -> &'static str {
        match self {
            Self::GuestBlacklisted => "guest_blacklisted",
            Self::TooManyActiveReservations => "too_many_active_reservations",
            Self::RoomUnavailable => "room_unavailable",
            Self::PmsUnavailable => "pms_unavailable",
        }
    }
}

/// What conserje asks of the PMS for a reservation. The names are those stored in events since
/// the first `PmsSyncFailed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PmsOperation {
    CreateBooking,
    ModifyBooking,
    CancelBooking,
}

impl PmsOperation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateBooking => "create_booking",
            Self::ModifyBooking => "modify_booking",
            Self::CancelBooking => "cancel_booking",
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
        /// The conversation it was booked in (its session stream), told when the PMS confirms
        /// or refuses later; absent for API bookings and events before it was recorded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conversation: Option<String>,
    },
    /// The PMS holds the room.
    ReservationConfirmed { pms_ref: String },
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
        /// What the cancellation costs the guest under the hotel's policy (0 when free); it was
        /// stated to and accepted by whoever cancelled.
        #[serde(default)]
        fee_minor: i64,
    },
    /// A change could not be pushed to the PMS. `retry_at` is when the PMS sync tries again;
    /// absent once it has given up (the reservation is then rejected or handed to staff).
    PmsSyncFailed {
        operation: PmsOperation,
        error: String,
        /// 1 for the first failure of this operation.
        #[serde(default)]
        attempt: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_at: Option<DateTime<Utc>>,
    },
    /// A change that had failed reached the PMS on a retry.
    PmsSynced { operation: PmsOperation },
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
            Self::PmsSynced { .. } => "PmsSynced",
        };
        name.to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
