//! What the domain needs from the world, as traits it owns. Adapters live in `conserje-infra`;
//! tests pass fixed implementations, so every rule runs without I/O.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::cancellation::CancellationPolicy;
use crate::stay::hotel_today;
use crate::values::{Email, Phone, TenantId};

pub use crate::pms::{
    Freshness, NightOffer, Pms, PmsBooking, PmsBookingRequest, PmsError, PmsFault, RoomAvailability,
};

/// The current instant. Injected so that "today" in tests is whatever the test says; production
/// passes `conserje_infra::clock::SystemClock`.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Per-hotel facts the rules depend on.
pub trait HotelDirectory: Send + Sync {
    /// The hotel's time zone: "today" for booking rules is the hotel's today.
    fn time_zone(&self, tenant: &TenantId) -> Tz;

    /// The hotel's free-cancellation window and the fee after it.
    fn cancellation_policy(&self, _tenant: &TenantId) -> CancellationPolicy {
        CancellationPolicy::default()
    }
}

/// The hotel's calendar date right now, from a clock and the hotel's zone.
pub fn today_for(clock: &dyn Clock, hotels: &dyn HotelDirectory, tenant: &TenantId) -> NaiveDate {
    hotel_today(clock.now(), hotels.time_zone(tenant))
}

/// Guests the hotel refuses to book (a list kept by staff).
pub trait GuestScreening: Send + Sync {
    fn is_blacklisted(&self, tenant: &TenantId, email: &Email, phone: &Phone) -> bool;
}
