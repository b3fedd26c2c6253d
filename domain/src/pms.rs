//! The hotel's property-management system, as the domain needs it: rooms, rates and bookings.
//!
//! The PMS is the source of truth for inventory. conserje never confirms a stay the PMS has not
//! confirmed, and it never books one twice: the PMS (QloApps) has no idempotency key, so a
//! booking carries our reservation id as a marker and [`Pms::find_booking`] looks it up before a
//! create whose outcome is unknown (a timeout) is tried again.
//!
//! Errors say *which* failure it was, because each is handled differently: a refusal is final
//! (the guest is told), a failure of the PMS is retried and counts against its circuit breaker,
//! and a call the breaker or the bulkhead did not let through never reached the PMS at all.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::pricing::PriceQuote;
use crate::stay::StayDates;
use crate::values::{Email, GuestRef, Money, Phone, RoomType, TenantId};

/// Where an availability answer comes from, so the guest is never told a stale figure as if it
/// were live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "source")]
pub enum Freshness {
    /// The PMS answered this call.
    #[default]
    Live,
    /// The availability cache, refreshed in the background; recent enough to quote from.
    Cached { as_of: DateTime<Utc> },
    /// The PMS could not be asked (its breaker is open, it failed): the last figure it gave, at
    /// `as_of`. The guest is told how old it is and the booking is confirmed only by the PMS.
    Stale { as_of: DateTime<Utc> },
}

impl Freshness {
    /// When the figure is from an answer the PMS could not give now.
    pub fn stale_since(&self) -> Option<DateTime<Utc>> {
        match self {
            Self::Stale { as_of } => Some(*as_of),
            Self::Live | Self::Cached { .. } => None,
        }
    }
}

/// The PMS's answer for a room type over a stay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomAvailability {
    pub room_type: RoomType,
    /// Rooms of this type free on every night of the stay.
    pub available_units: u32,
    /// The nightly rate, tax included (the average over the stay when nights differ).
    pub nightly_rate: Money,
    #[serde(default)]
    pub freshness: Freshness,
}

/// One room type on one night, as the availability cache keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NightOffer {
    pub night: NaiveDate,
    pub room_type: RoomType,
    pub available_units: u32,
    /// That night's rate, tax included.
    pub rate: Money,
}

/// What the PMS needs to hold a room for a reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PmsBookingRequest {
    /// Our reservation id: written into the booking as its marker, so that a create whose answer
    /// was lost can be found ([`Pms::find_booking`]) instead of booked again.
    pub reservation_id: Uuid,
    pub room_type: RoomType,
    pub stay: StayDates,
    pub guests: u8,
    pub guest_name: String,
    pub guest_ref: GuestRef,
    pub email: Email,
    pub phone: Phone,
    /// The price the guest was quoted (long-stay discount included); the PMS records this one.
    pub price: PriceQuote,
    /// The guest's sanitised special requests, for the hotel's staff.
    pub special_requests: String,
}

/// A booking as the PMS holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PmsBooking {
    pub pms_ref: String,
    pub reservation_id: Uuid,
    pub room_type: RoomType,
    pub stay: StayDates,
    pub guests: u8,
    pub cancelled: bool,
}

/// What a PMS answered when it refused or failed: its HTTP status, its own error code and its
/// own message, so staff and operators read the PMS's words, not ours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PmsFault {
    pub status: u16,
    /// The PMS's internal error code (QloApps: the `<code>` of its error envelope).
    pub code: Option<u32>,
    pub message: String,
}

impl std::fmt::Display for PmsFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code {
            Some(code) => write!(f, "HTTP {} (code {code}): {}", self.status, self.message),
            None => write!(f, "HTTP {}: {}", self.status, self.message),
        }
    }
}

/// Why the PMS could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PmsError {
    #[error("the hotel has no room type {0}")]
    UnknownRoomType(String),
    #[error("no {0} room is free for those dates")]
    Unavailable(String),
    #[error("the PMS has no booking {0}")]
    BookingNotFound(String),
    /// The PMS refused our credentials: the hotel's key is wrong, inactive or lacks a permission.
    #[error("the PMS refused the key: {0}")]
    Unauthorized(PmsFault),
    /// The PMS understood the request and refused it; the same request will be refused again.
    #[error("the PMS refused the request: {0}")]
    Refused(PmsFault),
    /// The PMS failed while handling the request (a 5xx); it may succeed later.
    #[error("the PMS failed: {0}")]
    Failed(PmsFault),
    /// No answer in time. The call may or may not have taken effect.
    #[error("the PMS did not answer within {0} ms")]
    TimedOut(u64),
    /// No connection, or the connection broke before an answer.
    #[error("the PMS cannot be reached: {0}")]
    Unreachable(String),
    /// The PMS answered something that is not its protocol.
    #[error("the PMS answered something unreadable: {0}")]
    Malformed(String),
    /// Not called: the PMS's circuit breaker is open after repeated failures.
    #[error("the PMS is not being called for {retry_in_secs} s after repeated failures")]
    CircuitOpen { retry_in_secs: u64 },
    /// Not called: too many calls to this PMS are already waiting.
    #[error("too many calls to the PMS are waiting")]
    Busy,
}

impl PmsError {
    /// The stable name of the failure, for logs, metrics and the API.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::UnknownRoomType(_) => "unknown_room_type",
            Self::Unavailable(_) => "unavailable",
            Self::BookingNotFound(_) => "booking_not_found",
            Self::Unauthorized(_) => "unauthorized",
            Self::Refused(_) => "refused",
            Self::Failed(_) => "failed",
            Self::TimedOut(_) => "timed_out",
            Self::Unreachable(_) => "unreachable",
            Self::Malformed(_) => "malformed",
            Self::CircuitOpen { .. } => "circuit_open",
            Self::Busy => "busy",
        }
    }

    /// A failure of the PMS (not of the request): the circuit breaker counts these. A refusal is
    /// the PMS working correctly, so it never opens the breaker.
    pub fn is_pms_failure(&self) -> bool {
        matches!(
            self,
            Self::Failed(_) | Self::TimedOut(_) | Self::Unreachable(_) | Self::Malformed(_)
        )
    }

    /// Worth trying again later: the PMS failed or was not asked. A refusal, a missing room or a
    /// wrong key stays so until someone changes something.
    pub fn is_transient(&self) -> bool {
        self.is_pms_failure() || matches!(self, Self::CircuitOpen { .. } | Self::Busy)
    }

    /// The call may have changed the PMS although no answer came back: a create that ended so is
    /// looked up by its marker before it is tried again.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            Self::TimedOut(_) | Self::Unreachable(_) | Self::Failed(_) | Self::Malformed(_)
        )
    }
}

/// The hotel's property-management system: the source of truth for rooms, rates and bookings.
#[async_trait]
pub trait Pms: Send + Sync {
    /// Free rooms and the nightly rate for `room_type` over `stay`. `excluding` leaves one of our own
    /// reservations out of the count, so a modification does not compete with itself.
    async fn availability(
        &self,
        tenant: &TenantId,
        room_type: &RoomType,
        stay: &StayDates,
        excluding: Option<Uuid>,
    ) -> Result<RoomAvailability, PmsError>;

    /// The room types the hotel sells, with their nightly rates.
    async fn rates(&self, tenant: &TenantId) -> Result<Vec<(RoomType, Money)>, PmsError>;

    /// Every room type's free rooms and rate on each night from `from` to `to` (exclusive): what
    /// the availability cache is warmed and refreshed from.
    async fn calendar(
        &self,
        tenant: &TenantId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<NightOffer>, PmsError>;

    /// Creates the booking, marked with `request.reservation_id`.
    async fn create_booking(
        &self,
        tenant: &TenantId,
        request: &PmsBookingRequest,
    ) -> Result<PmsBooking, PmsError>;

    /// The booking marked with `reservation_id`, if the PMS holds one (cancelled or not).
    async fn find_booking(
        &self,
        tenant: &TenantId,
        reservation_id: Uuid,
    ) -> Result<Option<PmsBooking>, PmsError>;

    /// Moves an existing booking to new dates, room type or party size.
    async fn modify_booking(
        &self,
        tenant: &TenantId,
        pms_ref: &str,
        room_type: &RoomType,
        stay: &StayDates,
        guests: u8,
    ) -> Result<PmsBooking, PmsError>;

    /// Cancels a booking; cancelling a cancelled booking succeeds.
    async fn cancel_booking(&self, tenant: &TenantId, pms_ref: &str) -> Result<(), PmsError>;

    async fn get_booking(&self, tenant: &TenantId, pms_ref: &str) -> Result<PmsBooking, PmsError>;
}

/// When the PMS sync tries each failed operation again: a schedule that survives a restart.
/// Rows are keyed by reservation, so scheduling again moves the due time.
#[async_trait]
pub trait SyncQueue: Send + Sync {
    async fn schedule(&self, reservation_id: Uuid, due: DateTime<Utc>) -> Result<(), String>;
    async fn clear(&self, reservation_id: Uuid) -> Result<(), String>;
    /// The reservations due at `now`, earliest first.
    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Uuid>, String>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_final_and_failures_are_retried() {
        let fault = PmsFault {
            status: 400,
            code: Some(404),
            message: "Requested room(s) not available.".into(),
        };
        let refused = PmsError::Refused(fault.clone());
        assert!(!refused.is_transient() && !refused.is_pms_failure());
        assert_eq!(
            refused.to_string(),
            "the PMS refused the request: HTTP 400 (code 404): Requested room(s) not available."
        );
        let failed = PmsError::Failed(PmsFault {
            status: 503,
            ..fault
        });
        assert!(failed.is_transient() && failed.is_pms_failure() && failed.outcome_unknown());
        let open = PmsError::CircuitOpen { retry_in_secs: 30 };
        assert!(open.is_transient() && !open.is_pms_failure() && !open.outcome_unknown());
        assert!(PmsError::TimedOut(5000).outcome_unknown());
        assert!(!PmsError::Busy.outcome_unknown());
    }
}
