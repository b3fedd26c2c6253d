//! Fixed stand-ins for the outside world, so the aggregates' rules are tested without I/O.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::ports::{
    Clock, GuestScreening, HotelDirectory, Pms, PmsBooking, PmsBookingRequest, PmsError,
    RoomAvailability,
};
use crate::reservation::ReservationServices;
use crate::stay::StayDates;
use crate::values::{Email, Money, Phone, RoomType, TenantId};

pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

pub struct OneZone(pub Tz);

impl HotelDirectory for OneZone {
    fn time_zone(&self, _tenant: &TenantId) -> Tz {
        self.0
    }
}

pub struct Blacklist(pub Vec<String>);

impl GuestScreening for Blacklist {
    fn is_blacklisted(&self, _tenant: &TenantId, email: &Email, phone: &Phone) -> bool {
        self.0
            .iter()
            .any(|b| b == email.as_str() || b == phone.as_str())
    }
}

/// A PMS with fixed rates and free units per room type.
pub struct FixedPms {
    pub rooms: HashMap<String, (i64, u32)>,
}

#[async_trait]
impl Pms for FixedPms {
    async fn availability(
        &self,
        _tenant: &TenantId,
        room_type: &RoomType,
        _stay: &StayDates,
        _excluding: Option<Uuid>,
    ) -> Result<RoomAvailability, PmsError> {
        let (rate, units) = self
            .rooms
            .get(room_type.as_str())
            .ok_or_else(|| PmsError::UnknownRoomType(room_type.to_string()))?;
        Ok(RoomAvailability {
            room_type: room_type.clone(),
            available_units: *units,
            nightly_rate: Money::new(*rate, "EUR"),
            freshness: Default::default(),
        })
    }

    async fn rates(&self, _tenant: &TenantId) -> Result<Vec<(RoomType, Money)>, PmsError> {
        Ok(self
            .rooms
            .iter()
            .map(|(code, (rate, _))| (RoomType::parse(code).unwrap(), Money::new(*rate, "EUR")))
            .collect())
    }

    async fn calendar(
        &self,
        _tenant: &TenantId,
        _from: chrono::NaiveDate,
        _to: chrono::NaiveDate,
    ) -> Result<Vec<crate::ports::NightOffer>, PmsError> {
        Ok(vec![])
    }

    async fn find_booking(
        &self,
        _tenant: &TenantId,
        _reservation_id: Uuid,
    ) -> Result<Option<PmsBooking>, PmsError> {
        Ok(None)
    }

    async fn create_booking(
        &self,
        _tenant: &TenantId,
        _request: &PmsBookingRequest,
    ) -> Result<PmsBooking, PmsError> {
        Err(PmsError::Unreachable("not used by aggregate tests".into()))
    }

    async fn modify_booking(
        &self,
        _tenant: &TenantId,
        pms_ref: &str,
        _room_type: &RoomType,
        _stay: &StayDates,
        _guests: u8,
    ) -> Result<PmsBooking, PmsError> {
        Err(PmsError::BookingNotFound(pms_ref.into()))
    }

    async fn cancel_booking(&self, _tenant: &TenantId, pms_ref: &str) -> Result<(), PmsError> {
        Err(PmsError::BookingNotFound(pms_ref.into()))
    }

    async fn get_booking(&self, _tenant: &TenantId, pms_ref: &str) -> Result<PmsBooking, PmsError> {
        Err(PmsError::BookingNotFound(pms_ref.into()))
    }
}

/// 2026-11-22 12:00 UTC in a UTC hotel; `standard` at 100.00 EUR with rooms free, `suite` full.
pub fn services() -> ReservationServices {
    services_at(
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap(),
        chrono_tz::UTC,
    )
}

pub fn services_at(now: DateTime<Utc>, zone: Tz) -> ReservationServices {
    ReservationServices {
        clock: Arc::new(FixedClock(now)),
        hotels: Arc::new(OneZone(zone)),
        pms: Arc::new(FixedPms {
            rooms: HashMap::from([
                ("standard".to_owned(), (10_000, 3)),
                ("double".to_owned(), (14_000, 2)),
                ("suite".to_owned(), (40_000, 0)),
            ]),
        }),
        screening: Arc::new(Blacklist(vec!["banned@hotel.com".into()])),
    }
}
