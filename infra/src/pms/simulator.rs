//! The PMS simulator of the embedded default: room types with rates and inventory from the
//! configuration, bookings that really consume that inventory night by night.
//!
//! Bookings are kept in a JSON file when a path is given, so a restarted `conserje serve` does not
//! forget which rooms are taken and oversell them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use async_trait::async_trait;
use chrono::NaiveDate;
use conserje_domain::ports::{
    Freshness, NightOffer, Pms, PmsBooking, PmsBookingRequest, PmsError, RoomAvailability,
};
use conserje_domain::stay::StayDates;
use conserje_domain::values::{Money, RoomType, TenantId};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::config::SimulatorSettings;
use crate::InfraError;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Ledger {
    next_ref: u64,
    /// `pms_ref` → (tenant, booking).
    bookings: BTreeMap<String, (TenantId, PmsBooking)>,
}

impl Ledger {
    fn by_reservation(&self, tenant: &TenantId, reservation_id: Uuid) -> Option<&PmsBooking> {
        self.bookings
            .values()
            .find(|(t, b)| t == tenant && b.reservation_id == reservation_id)
            .map(|(_, b)| b)
    }

    /// Rooms of `room_type` taken on the busiest night of `stay`.
    fn peak_occupancy(
        &self,
        tenant: &TenantId,
        room_type: &RoomType,
        stay: &StayDates,
        excluding: Option<Uuid>,
    ) -> u32 {
        stay.each_night()
            .map(|night| {
                self.bookings
                    .values()
                    .filter(|(t, b)| {
                        t == tenant
                            && !b.cancelled
                            && &b.room_type == room_type
                            && Some(b.reservation_id) != excluding
                            && b.stay.check_in <= night
                            && night < b.stay.check_out
                    })
                    .count() as u32
            })
            .max()
            .unwrap_or(0)
    }
}

/// An in-process PMS speaking the domain's `Pms` port.
pub struct PmsSimulator {
    settings: SimulatorSettings,
    ledger: Mutex<Ledger>,
    file: Option<PathBuf>,
}

impl PmsSimulator {
    /// A simulator whose bookings live in memory only.
    pub fn in_memory(settings: SimulatorSettings) -> Self {
        Self {
            settings,
            ledger: Mutex::new(Ledger::default()),
            file: None,
        }
    }

    /// A simulator that keeps its bookings in `file` (created when missing).
    pub fn persistent(settings: SimulatorSettings, file: PathBuf) -> Result<Self, InfraError> {
        let ledger = match std::fs::read_to_string(&file) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| InfraError::Config {
                path: file.display().to_string(),
                reason: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ledger::default(),
            Err(e) => return Err(e.into()),
        };
        Ok(Self {
            settings,
            ledger: Mutex::new(ledger),
            file: Some(file),
        })
    }

    fn room(&self, room_type: &RoomType) -> Result<(Money, u32), PmsError> {
        self.settings
            .rooms
            .iter()
            .find(|r| r.code == room_type.as_str())
            .map(|r| {
                (
                    Money::new(r.nightly_rate_minor, &self.settings.currency),
                    r.inventory,
                )
            })
            .ok_or_else(|| PmsError::UnknownRoomType(room_type.to_string()))
    }

    async fn save(&self, ledger: &Ledger) -> Result<(), PmsError> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let text = serde_json::to_string_pretty(ledger)
            .map_err(|e| PmsError::Unreachable(e.to_string()))?;
        let tmp = file.with_extension("tmp");
        tokio::fs::write(&tmp, text)
            .await
            .and(tokio::fs::rename(&tmp, file).await)
            .map_err(|e| PmsError::Unreachable(format!("simulator ledger: {e}")))
    }

    fn check_free(
        &self,
        ledger: &Ledger,
        tenant: &TenantId,
        room_type: &RoomType,
        stay: &StayDates,
        excluding: Option<Uuid>,
    ) -> Result<(), PmsError> {
        let (_, inventory) = self.room(room_type)?;
        if ledger.peak_occupancy(tenant, room_type, stay, excluding) >= inventory {
            return Err(PmsError::Unavailable(room_type.to_string()));
        }
        Ok(())
    }
}

#[async_trait]
impl Pms for PmsSimulator {
    async fn availability(
        &self,
        tenant: &TenantId,
        room_type: &RoomType,
        stay: &StayDates,
        excluding: Option<Uuid>,
    ) -> Result<RoomAvailability, PmsError> {
        let (rate, inventory) = self.room(room_type)?;
        let ledger = self.ledger.lock().await;
        let taken = ledger.peak_occupancy(tenant, room_type, stay, excluding);
        Ok(RoomAvailability {
            room_type: room_type.clone(),
            available_units: inventory.saturating_sub(taken),
            nightly_rate: rate,
            freshness: Freshness::Live,
        })
    }

    async fn calendar(
        &self,
        tenant: &TenantId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<NightOffer>, PmsError> {
        let ledger = self.ledger.lock().await;
        let mut offers = vec![];
        for night in from.iter_days().take_while(|night| *night < to) {
            let one_night = StayDates {
                check_in: night,
                check_out: night + chrono::Days::new(1),
            };
            for room in &self.settings.rooms {
                let Ok(room_type) = RoomType::parse(&room.code) else {
                    continue;
                };
                let taken = ledger.peak_occupancy(tenant, &room_type, &one_night, None);
                offers.push(NightOffer {
                    night,
                    available_units: room.inventory.saturating_sub(taken),
                    rate: Money::new(room.nightly_rate_minor, &self.settings.currency),
                    room_type,
                });
            }
        }
        Ok(offers)
    }

    async fn find_booking(
        &self,
        tenant: &TenantId,
        reservation_id: Uuid,
    ) -> Result<Option<PmsBooking>, PmsError> {
        Ok(self
            .ledger
            .lock()
            .await
            .by_reservation(tenant, reservation_id)
            .cloned())
    }

    async fn rates(&self, _tenant: &TenantId) -> Result<Vec<(RoomType, Money)>, PmsError> {
        self.settings
            .rooms
            .iter()
            .map(|r| {
                let code = RoomType::parse(&r.code)
                    .map_err(|e| PmsError::Unreachable(format!("simulator catalogue: {e}")))?;
                Ok((
                    code,
                    Money::new(r.nightly_rate_minor, &self.settings.currency),
                ))
            })
            .collect()
    }

    async fn create_booking(
        &self,
        tenant: &TenantId,
        request: &PmsBookingRequest,
    ) -> Result<PmsBooking, PmsError> {
        let mut ledger = self.ledger.lock().await;
        if let Some(existing) = ledger.by_reservation(tenant, request.reservation_id) {
            return Ok(existing.clone());
        }
        self.check_free(&ledger, tenant, &request.room_type, &request.stay, None)?;
        ledger.next_ref += 1;
        let booking = PmsBooking {
            pms_ref: format!("SIM-{:06}", ledger.next_ref),
            reservation_id: request.reservation_id,
            room_type: request.room_type.clone(),
            stay: request.stay,
            guests: request.guests,
            cancelled: false,
        };
        ledger
            .bookings
            .insert(booking.pms_ref.clone(), (tenant.clone(), booking.clone()));
        self.save(&ledger).await?;
        Ok(booking)
    }

    async fn modify_booking(
        &self,
        tenant: &TenantId,
        pms_ref: &str,
        room_type: &RoomType,
        stay: &StayDates,
        guests: u8,
    ) -> Result<PmsBooking, PmsError> {
        let mut ledger = self.ledger.lock().await;
        let reservation_id = match ledger.bookings.get(pms_ref) {
            Some((t, b)) if t == tenant && !b.cancelled => b.reservation_id,
            _ => return Err(PmsError::BookingNotFound(pms_ref.to_owned())),
        };
        self.check_free(&ledger, tenant, room_type, stay, Some(reservation_id))?;
        let (_, booking) = ledger
            .bookings
            .get_mut(pms_ref)
            .ok_or_else(|| PmsError::BookingNotFound(pms_ref.to_owned()))?;
        booking.room_type = room_type.clone();
        booking.stay = *stay;
        booking.guests = guests;
        let updated = booking.clone();
        self.save(&ledger).await?;
        Ok(updated)
    }

    async fn cancel_booking(&self, tenant: &TenantId, pms_ref: &str) -> Result<(), PmsError> {
        let mut ledger = self.ledger.lock().await;
        match ledger.bookings.get_mut(pms_ref) {
            Some((t, booking)) if t == tenant => booking.cancelled = true,
            _ => return Err(PmsError::BookingNotFound(pms_ref.to_owned())),
        }
        self.save(&ledger).await
    }

    async fn get_booking(&self, tenant: &TenantId, pms_ref: &str) -> Result<PmsBooking, PmsError> {
        let ledger = self.ledger.lock().await;
        match ledger.bookings.get(pms_ref) {
            Some((t, booking)) if t == tenant => Ok(booking.clone()),
            _ => Err(PmsError::BookingNotFound(pms_ref.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimulatedRoom;
    use conserje_domain::pricing::PriceQuote;
    use conserje_domain::values::{Email, GuestRef, Phone};

    fn simulator() -> PmsSimulator {
        PmsSimulator::in_memory(SimulatorSettings {
            currency: "EUR".into(),
            rooms: vec![SimulatedRoom {
                code: "suite".into(),
                nightly_rate_minor: 30_000,
                inventory: 1,
            }],
        })
    }

    fn stay(a: &str, b: &str) -> StayDates {
        StayDates {
            check_in: a.parse().unwrap(),
            check_out: b.parse().unwrap(),
        }
    }

    fn request(id: u128, s: StayDates) -> PmsBookingRequest {
        PmsBookingRequest {
            reservation_id: Uuid::from_u128(id),
            room_type: RoomType::parse("suite").unwrap(),
            stay: s,
            guests: 2,
            guest_name: "Ana".into(),
            guest_ref: GuestRef::parse("ana@mail.com").unwrap(),
            email: Email::parse("ana@mail.com").unwrap(),
            phone: Phone::parse("+34600111222").unwrap(),
            price: PriceQuote::for_stay(&Money::new(30_000, "EUR"), s.nights()),
            special_requests: String::new(),
        }
    }

    #[tokio::test]
    async fn bookings_consume_inventory_per_night_and_create_is_idempotent() {
        let pms = simulator();
        let tenant = TenantId::parse("t").unwrap();
        let suite = RoomType::parse("suite").unwrap();
        let first = pms
            .create_booking(&tenant, &request(1, stay("2026-12-01", "2026-12-05")))
            .await
            .unwrap();
        let again = pms
            .create_booking(&tenant, &request(1, stay("2026-12-01", "2026-12-05")))
            .await
            .unwrap();
        assert_eq!(first.pms_ref, again.pms_ref);
        let overlapping = pms
            .create_booking(&tenant, &request(2, stay("2026-12-04", "2026-12-06")))
            .await;
        assert_eq!(overlapping, Err(PmsError::Unavailable("suite".into())));
        let back_to_back = pms
            .create_booking(&tenant, &request(3, stay("2026-12-05", "2026-12-06")))
            .await;
        assert!(back_to_back.is_ok(), "check-out day is free again");
        let other_hotel = TenantId::parse("u").unwrap();
        let free_there = pms
            .availability(
                &other_hotel,
                &suite,
                &stay("2026-12-01", "2026-12-05"),
                None,
            )
            .await
            .unwrap();
        assert_eq!(free_there.available_units, 1);
        pms.cancel_booking(&tenant, &first.pms_ref).await.unwrap();
        let freed = pms
            .availability(&tenant, &suite, &stay("2026-12-01", "2026-12-05"), None)
            .await
            .unwrap();
        assert_eq!(freed.available_units, 1);
    }

    #[tokio::test]
    async fn a_persistent_simulator_remembers_bookings_across_restarts() {
        let dir = std::env::temp_dir().join(format!("conserje-pms-{}", Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pms.json");
        let settings = simulator().settings;
        let tenant = TenantId::parse("t").unwrap();
        let pms = PmsSimulator::persistent(settings.clone(), file.clone()).unwrap();
        let booking = pms
            .create_booking(&tenant, &request(1, stay("2026-12-01", "2026-12-05")))
            .await
            .unwrap();
        drop(pms);
        let restarted = PmsSimulator::persistent(settings, file).unwrap();
        assert_eq!(
            restarted
                .get_booking(&tenant, &booking.pms_ref)
                .await
                .unwrap(),
            booking
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
