//! One hotel's PMS behind its circuit breaker, its bulkhead and its availability cache: what
//! every other part of conserje calls.
//!
//! - Every call asks the breaker first (an open breaker answers `CircuitOpen` without a call),
//!   then takes a bulkhead slot (`Busy` when 5 are out and 50 wait), then calls; the outcome and
//!   latency go back to the breaker. Refusals are the PMS working and count as successes.
//! - Availability is answered from the cache while its figures are fresh (a quote without a
//!   round trip), live otherwise, and from the cache *marked stale with its age* when the live
//!   call cannot be made or fails. With nothing cached the error stands, and the dialogue gives
//!   the hotel's contact.
//! - Bookings always go to the PMS; the cache follows our own bookings at once.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use conserje_domain::ports::{
    Clock, Freshness, NightOffer, Pms, PmsBooking, PmsBookingRequest, PmsError, RoomAvailability,
};
use conserje_domain::stay::StayDates;
use conserje_domain::values::{Money, RoomType, TenantId};
use uuid::Uuid;

use super::breaker::{Admission, Breaker, BreakerSettings, BreakerState, Transition};
use super::bulkhead::{Bulkhead, BulkheadSettings};
use super::cache::{AvailabilityCache, CachedStay};

/// How the availability cache is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheSettings {
    /// Nights ahead the background refresh covers.
    pub days: u32,
    /// How often it refreshes.
    pub refresh_every: Duration,
    /// Figures younger than this are quoted without asking the PMS.
    pub fresh_for: Duration,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            days: 60,
            refresh_every: Duration::from_secs(120),
            fresh_for: Duration::from_secs(300),
        }
    }
}

/// Everything the guard of one PMS is tuned by.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GuardSettings {
    pub breaker: BreakerSettings,
    pub bulkhead: BulkheadSettings,
    pub cache: CacheSettings,
}

/// Counters of one guarded PMS, for `/metrics` and the tests' figures.
#[derive(Debug, Default)]
pub struct GuardCounters {
    pub calls: AtomicU64,
    pub failures: AtomicU64,
    pub refused_open: AtomicU64,
    pub refused_busy: AtomicU64,
    pub answered_from_cache: AtomicU64,
    pub answered_stale: AtomicU64,
    pub opened: AtomicU64,
    pub half_opened: AtomicU64,
    pub closed: AtomicU64,
}

impl GuardCounters {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Breaker transitions so far.
    pub fn transitions(&self) -> u64 {
        Self::get(&self.opened) + Self::get(&self.half_opened) + Self::get(&self.closed)
    }
}

pub struct GuardedPms {
    /// The hotel this PMS serves: the background refresh asks for it, logs name it.
    hotel: TenantId,
    inner: Arc<dyn Pms>,
    breaker: Mutex<Breaker>,
    bulkhead: Bulkhead,
    cache: AvailabilityCache,
    settings: GuardSettings,
    clock: Arc<dyn Clock>,
    pub counters: GuardCounters,
}

impl GuardedPms {
    pub fn new(
        hotel: TenantId,
        inner: Arc<dyn Pms>,
        settings: GuardSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        // The breaker starts closed; said at once, so a healthy hotel has a state on /metrics
        // before its first transition (and a dashboard shows 0, not "no data").
        metrics::gauge!("conserje_pms_breaker_state", "hotel" => hotel.to_string()).set(0.0);
        Self {
            hotel,
            inner,
            breaker: Mutex::new(Breaker::new(settings.breaker)),
            bulkhead: Bulkhead::new(settings.bulkhead),
            cache: AvailabilityCache::default(),
            settings,
            clock,
            counters: GuardCounters::default(),
        }
    }

    fn breaker(&self) -> std::sync::MutexGuard<'_, Breaker> {
        self.breaker
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn breaker_state(&self) -> BreakerState {
        self.breaker().state()
    }

    pub fn settings(&self) -> &GuardSettings {
        &self.settings
    }

    fn note(&self, transition: Option<Transition>) {
        let Some(t) = transition else { return };
        let counter = match t.to {
            BreakerState::Open => &self.counters.opened,
            BreakerState::HalfOpen => &self.counters.half_opened,
            BreakerState::Closed => &self.counters.closed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(
            "conserje_pms_breaker_transitions_total",
            "hotel" => self.hotel.to_string(),
            "from" => t.from.as_str(),
            "to" => t.to.as_str(),
            "reason" => t.reason.as_str(),
        )
        .increment(1);
        metrics::gauge!("conserje_pms_breaker_state", "hotel" => self.hotel.to_string()).set(
            match t.to {
                BreakerState::Closed => 0.0,
                BreakerState::HalfOpen => 1.0,
                BreakerState::Open => 2.0,
            },
        );
        tracing::warn!(
            hotel = %self.hotel,
            from = t.from.as_str(),
            to = t.to.as_str(),
            reason = t.reason.as_str(),
            "PMS circuit breaker moved"
        );
    }

    /// One PMS call's outcome, for `/metrics`: `ok`, `refused` (the PMS said no), the failure's
    /// kind, or `circuit_open` / `busy` when it was not made.
    fn count_call(&self, operation: &'static str, result: &'static str) {
        metrics::counter!(
            "conserje_pms_calls_total",
            "hotel" => self.hotel.to_string(),
            "operation" => operation,
            "result" => result,
        )
        .increment(1);
    }

    /// One call through the breaker and the bulkhead.
    async fn guarded<T, F>(&self, operation: &'static str, call: F) -> Result<T, PmsError>
    where
        F: Future<Output = Result<T, PmsError>>,
    {
        let (admission, transition) = self.breaker().admit(Instant::now());
        self.note(transition);
        if let Admission::Refuse { retry_in } = admission {
            self.counters.refused_open.fetch_add(1, Ordering::Relaxed);
            self.count_call(operation, "circuit_open");
            return Err(PmsError::CircuitOpen {
                retry_in_secs: retry_in.as_secs().max(1),
            });
        }
        let Ok(_slot) = self.bulkhead.enter().await else {
            self.counters.refused_busy.fetch_add(1, Ordering::Relaxed);
            self.count_call(operation, "busy");
            // A probe that never went out must not hold its place.
            if admission == Admission::Probe {
                let transition =
                    self.breaker()
                        .record(Instant::now(), admission, false, Duration::ZERO);
                self.note(transition);
            }
            return Err(PmsError::Busy);
        };
        self.counters.calls.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let outcome = call.await;
        let failed = outcome.as_ref().err().is_some_and(PmsError::is_pms_failure);
        if failed {
            self.counters.failures.fetch_add(1, Ordering::Relaxed);
        }
        let took = started.elapsed();
        let transition = self
            .breaker()
            .record(Instant::now(), admission, !failed, took);
        self.note(transition);
        let result = match &outcome {
            Ok(_) => "ok",
            Err(err) if failed => err.kind(),
            Err(_) => "refused",
        };
        self.count_call(operation, result);
        metrics::histogram!(
            "conserje_pms_call_seconds",
            "hotel" => self.hotel.to_string(),
            "operation" => operation,
        )
        .record(took.as_secs_f64());
        outcome
    }

    fn age(&self, as_of: DateTime<Utc>) -> Duration {
        (self.clock.now() - as_of).to_std().unwrap_or_default()
    }

    fn today(&self) -> NaiveDate {
        self.clock.now().date_naive()
    }

    /// Reads the next nights from the PMS into the cache; what the background task runs.
    pub async fn refresh(&self) -> Result<usize, PmsError> {
        let from = self.today();
        let to = from + chrono::Days::new(u64::from(self.settings.cache.days));
        let as_of = self.clock.now();
        let offers = self
            .guarded("calendar", self.inner.calendar(&self.hotel, from, to))
            .await?;
        self.cache.forget_before(from);
        self.cache.store(&offers, as_of);
        Ok(offers.len())
    }

    /// Room-type nights in the cache.
    pub fn cached_nights(&self) -> usize {
        self.cache.len()
    }

    /// The cache's figures for a stay as an answer, marked with their age.
    fn cached_answer(
        &self,
        room_type: &RoomType,
        cached: CachedStay,
        stale: bool,
    ) -> RoomAvailability {
        metrics::counter!(
            "conserje_pms_cached_answers_total",
            "hotel" => self.hotel.to_string(),
            "freshness" => if stale { "stale" } else { "fresh" },
        )
        .increment(1);
        let freshness = if stale {
            self.counters.answered_stale.fetch_add(1, Ordering::Relaxed);
            Freshness::Stale {
                as_of: cached.as_of,
            }
        } else {
            self.counters
                .answered_from_cache
                .fetch_add(1, Ordering::Relaxed);
            Freshness::Cached {
                as_of: cached.as_of,
            }
        };
        RoomAvailability {
            room_type: room_type.clone(),
            available_units: cached.units,
            nightly_rate: cached.nightly_rate,
            freshness,
        }
    }
}

#[async_trait]
impl Pms for GuardedPms {
    async fn availability(
        &self,
        tenant: &TenantId,
        room_type: &RoomType,
        stay: &StayDates,
        excluding: Option<Uuid>,
    ) -> Result<RoomAvailability, PmsError> {
        // A modification's own booking is counted by the PMS only: always live.
        if excluding.is_none() {
            let fresh = self
                .cache
                .stay(room_type, stay)
                .filter(|cached| self.age(cached.as_of) < self.settings.cache.fresh_for);
            if let Some(cached) = fresh {
                return Ok(self.cached_answer(room_type, cached, false));
            }
        }
        match self
            .guarded(
                "availability",
                self.inner.availability(tenant, room_type, stay, excluding),
            )
            .await
        {
            Err(err) if err.is_transient() => self
                .cache
                .stay(room_type, stay)
                .map(|cached| self.cached_answer(room_type, cached, true))
                .ok_or(err),
            other => other,
        }
    }

    async fn rates(&self, tenant: &TenantId) -> Result<Vec<(RoomType, Money)>, PmsError> {
        let cached = self.cache.rates_on(self.today());
        if let Some((rates, as_of)) = &cached {
            if !rates.is_empty() && self.age(*as_of) < self.settings.cache.fresh_for {
                return Ok(rates.clone());
            }
        }
        match self.guarded("rates", self.inner.rates(tenant)).await {
            Err(err) if err.is_transient() => match cached {
                Some((rates, _)) if !rates.is_empty() => Ok(rates),
                _ => Err(err),
            },
            other => other,
        }
    }

    async fn calendar(
        &self,
        tenant: &TenantId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<NightOffer>, PmsError> {
        self.guarded("calendar", self.inner.calendar(tenant, from, to))
            .await
    }

    async fn create_booking(
        &self,
        tenant: &TenantId,
        request: &PmsBookingRequest,
    ) -> Result<PmsBooking, PmsError> {
        let booking = self
            .guarded("create_booking", self.inner.create_booking(tenant, request))
            .await?;
        self.cache.took(&booking.room_type, &booking.stay);
        Ok(booking)
    }

    async fn find_booking(
        &self,
        tenant: &TenantId,
        reservation_id: Uuid,
    ) -> Result<Option<PmsBooking>, PmsError> {
        self.guarded(
            "find_booking",
            self.inner.find_booking(tenant, reservation_id),
        )
        .await
    }

    async fn modify_booking(
        &self,
        tenant: &TenantId,
        pms_ref: &str,
        room_type: &RoomType,
        stay: &StayDates,
        guests: u8,
    ) -> Result<PmsBooking, PmsError> {
        let before = self
            .guarded("get_booking", self.inner.get_booking(tenant, pms_ref))
            .await
            .ok();
        let booking = self
            .guarded(
                "modify_booking",
                self.inner
                    .modify_booking(tenant, pms_ref, room_type, stay, guests),
            )
            .await?;
        if let Some(before) = before.filter(|b| !b.cancelled) {
            self.cache.released(&before.room_type, &before.stay);
        }
        self.cache.took(&booking.room_type, &booking.stay);
        Ok(booking)
    }

    async fn cancel_booking(&self, tenant: &TenantId, pms_ref: &str) -> Result<(), PmsError> {
        let before = self
            .guarded("get_booking", self.inner.get_booking(tenant, pms_ref))
            .await
            .ok();
        self.guarded("cancel_booking", self.inner.cancel_booking(tenant, pms_ref))
            .await?;
        if let Some(before) = before.filter(|b| !b.cancelled) {
            self.cache.released(&before.room_type, &before.stay);
        }
        Ok(())
    }

    async fn get_booking(&self, tenant: &TenantId, pms_ref: &str) -> Result<PmsBooking, PmsError> {
        self.guarded("get_booking", self.inner.get_booking(tenant, pms_ref))
            .await
    }
}
