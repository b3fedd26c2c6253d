//! Each hotel's own PMS, chosen by its configuration: a QloApps shop behind its guard (breaker,
//! bulkhead, cache), or the built-in simulator shared by every hotel that has no PMS of its own.
//!
//! The rest of conserje holds one `Pms` and names the hotel on every call; this router is the
//! only place that knows which hotel books where, so a hotel can move to its real PMS by
//! configuration alone.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::NaiveDate;
use conserje_domain::ports::{
    Clock, NightOffer, Pms, PmsBooking, PmsBookingRequest, PmsError, RoomAvailability,
};
use conserje_domain::stay::StayDates;
use conserje_domain::values::{Money, RoomType, TenantId};
use tokio::sync::watch;
use uuid::Uuid;

use super::guarded::{GuardSettings, GuardedPms};
use super::qloapps::QloApps;
use crate::config::{HotelSettings, DEFAULT_HOTEL};

/// How the router builds and guards the hotels' PMSs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PmsOptions {
    /// How long one PMS request may take before it counts as timed out.
    pub timeout: Duration,
    pub guard: GuardSettings,
}

impl Default for PmsOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            guard: GuardSettings::default(),
        }
    }
}

pub struct PmsRouter {
    /// The hotels with a PMS of their own, guarded.
    own: BTreeMap<String, Arc<GuardedPms>>,
    /// Everyone else's: the simulator.
    shared: Arc<dyn Pms>,
    /// Every configured hotel: a tenant the file does not name is served as `default` is.
    named: BTreeSet<String>,
}

impl PmsRouter {
    /// The PMS of every hotel in `hotels` (already checked by `ConfigFile::parse`), with
    /// `shared` for those configured as `simulator`.
    pub fn new(
        hotels: &BTreeMap<String, HotelSettings>,
        shared: Arc<dyn Pms>,
        options: PmsOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, String> {
        let mut own = BTreeMap::new();
        for (hotel, settings) in hotels {
            let Some(qloapps) = settings.pms.qloapps()? else {
                continue;
            };
            let tenant = TenantId::parse(hotel).map_err(|e| e.to_string())?;
            let adapter: Arc<dyn Pms> = Arc::new(QloApps::new(qloapps, options.timeout));
            own.insert(
                hotel.clone(),
                Arc::new(GuardedPms::new(
                    tenant,
                    adapter,
                    options.guard,
                    clock.clone(),
                )),
            );
        }
        Ok(Self {
            own,
            shared,
            named: hotels.keys().cloned().collect(),
        })
    }

    /// The guarded PMS of each hotel that has its own, for the cache refresh and the metrics.
    pub fn guarded(&self) -> impl Iterator<Item = (&str, &Arc<GuardedPms>)> {
        self.own.iter().map(|(hotel, pms)| (hotel.as_str(), pms))
    }

    fn of(&self, tenant: &TenantId) -> &dyn Pms {
        let entry = if self.named.contains(tenant.as_str()) {
            tenant.as_str()
        } else {
            DEFAULT_HOTEL
        };
        match self.own.get(entry) {
            Some(pms) => pms.as_ref(),
            None => self.shared.as_ref(),
        }
    }

    /// Warms every hotel's availability cache now, then refreshes it on its schedule until
    /// `shutdown`. A refresh that fails is logged and tried at the next tick; the cache keeps
    /// its older figures meanwhile, marked with their age when used.
    pub async fn keep_caches_warm(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        if self.own.is_empty() {
            return;
        }
        let every = self
            .own
            .values()
            .map(|pms| pms.settings().cache.refresh_every)
            .min()
            .unwrap_or(Duration::from_secs(120));
        loop {
            for (hotel, pms) in &self.own {
                match pms.refresh().await {
                    Ok(nights) => {
                        tracing::debug!(hotel, nights, "PMS availability cache refreshed")
                    }
                    Err(err) => {
                        tracing::warn!(hotel, error = %err, kind = err.kind(), "PMS availability cache refresh failed")
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => {
                    if *shutdown.borrow() {
                        return;
                    }
                }
            }
        }
    }
}

#[async_trait]
impl Pms for PmsRouter {
    async fn availability(
        &self,
        tenant: &TenantId,
        room_type: &RoomType,
        stay: &StayDates,
        excluding: Option<Uuid>,
    ) -> Result<RoomAvailability, PmsError> {
        self.of(tenant)
            .availability(tenant, room_type, stay, excluding)
            .await
    }

    async fn rates(&self, tenant: &TenantId) -> Result<Vec<(RoomType, Money)>, PmsError> {
        self.of(tenant).rates(tenant).await
    }

    async fn calendar(
        &self,
        tenant: &TenantId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<NightOffer>, PmsError> {
        self.of(tenant).calendar(tenant, from, to).await
    }

    async fn create_booking(
        &self,
        tenant: &TenantId,
        request: &PmsBookingRequest,
    ) -> Result<PmsBooking, PmsError> {
        self.of(tenant).create_booking(tenant, request).await
    }

    async fn find_booking(
        &self,
        tenant: &TenantId,
        reservation_id: Uuid,
    ) -> Result<Option<PmsBooking>, PmsError> {
        self.of(tenant).find_booking(tenant, reservation_id).await
    }

    async fn modify_booking(
        &self,
        tenant: &TenantId,
        pms_ref: &str,
        room_type: &RoomType,
        stay: &StayDates,
        guests: u8,
    ) -> Result<PmsBooking, PmsError> {
        self.of(tenant)
            .modify_booking(tenant, pms_ref, room_type, stay, guests)
            .await
    }

    async fn cancel_booking(&self, tenant: &TenantId, pms_ref: &str) -> Result<(), PmsError> {
        self.of(tenant).cancel_booking(tenant, pms_ref).await
    }

    async fn get_booking(&self, tenant: &TenantId, pms_ref: &str) -> Result<PmsBooking, PmsError> {
        self.of(tenant).get_booking(tenant, pms_ref).await
    }
}
