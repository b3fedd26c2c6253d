//! What the domain needs from the world, as traits it owns. Adapters live in `conserje-infra`;
//! tests pass fixed implementations, so every rule runs without I/O.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::stay::{hotel_today, StayDates};
use crate::values::{Email, GuestRef, Money, Phone, RoomType, TenantId};

/// The current instant. Injected so that "today" in tests is whatever the test says.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The clock of the machine, for production.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Per-hotel facts the rules depend on.
pub trait HotelDirectory: Send + Sync {
    /// The hotel's time zone: "today" for booking rules is the hotel's today.
    fn time_zone(&self, tenant: &TenantId) -> Tz;
}

/// The hotel's calendar date right now, from a clock and the hotel's zone.
pub fn today_for(clock: &dyn Clock, hotels: &dyn HotelDirectory, tenant: &TenantId) -> NaiveDate {
    hotel_today(clock.now(), hotels.time_zone(tenant))
}

/// Guests the hotel refuses to book (a list kept by staff).
pub trait GuestScreening: Send + Sync {
    fn is_blacklisted(&self, tenant: &TenantId, email: &Email, phone: &Phone) -> bool;
}

/// The property-management system's answer for a room type over a stay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomAvailability {
    pub room_type: RoomType,
    /// Rooms of this type free on every night of the stay.
    pub available_units: u32,
    pub nightly_rate: Money,
}

/// What the PMS needs to hold a room for a reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PmsBookingRequest {
    /// Our reservation id, sent as the PMS's external reference so a retried create is a no-op.
    pub reservation_id: Uuid,
    pub room_type: RoomType,
    pub stay: StayDates,
    pub guests: u8,
    pub guest_name: String,
    pub guest_ref: GuestRef,
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

/// Why the PMS could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PmsError {
    #[error("the hotel has no room type {0}")]
    UnknownRoomType(String),
    #[error("no {0} room is free for those dates")]
    Unavailable(String),
    #[error("the PMS has no booking {0}")]
    BookingNotFound(String),
    #[error("the PMS cannot be reached: {0}")]
    Unreachable(String),
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

    /// Creates the booking; idempotent on `reservation_id`.
    async fn create_booking(
        &self,
        tenant: &TenantId,
        request: &PmsBookingRequest,
    ) -> Result<PmsBooking, PmsError>;

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
