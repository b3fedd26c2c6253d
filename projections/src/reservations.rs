//! The `reservations` read model: one row per reservation in its current state, for the API and
//! for analysts.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use conserje_domain::journal::StoredEvent;
use conserje_domain::reservation::{Reservation, ReservationEvent, StayTerms};
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{EventHandler, ProjectionError};

/// The name of this projection's consumer and checkpoint.
pub const PROJECTION: &str = "reservations";

/// A reservation as the read model shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationRow {
    pub reservation_id: Uuid,
    pub tenant_id: String,
    pub guest_ref: String,
    pub guest_name: Option<String>,
    pub guest_email: Option<String>,
    pub guest_phone: Option<String>,
    pub status: String,
    pub room_type: Option<String>,
    pub check_in: Option<NaiveDate>,
    pub check_out: Option<NaiveDate>,
    pub nights: Option<i64>,
    pub guests: Option<i64>,
    pub nightly_rate_minor: Option<i64>,
    pub subtotal_minor: Option<i64>,
    pub discount_percent: Option<i64>,
    pub discount_minor: Option<i64>,
    pub total_minor: Option<i64>,
    pub currency: Option<String>,
    pub special_requests: Option<String>,
    pub pms_ref: Option<String>,
    pub rejection_reason: Option<String>,
    /// What the cancellation cost under the hotel's policy; `None` until cancelled.
    #[serde(default)]
    pub cancellation_fee_minor: Option<i64>,
    pub requested_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The last event applied: an event at or below it was already applied and is skipped.
    pub last_sequence: i64,
}

impl ReservationRow {
    fn set_terms(&mut self, terms: &StayTerms) {
        self.room_type = Some(terms.room_type.to_string());
        self.check_in = Some(terms.stay.check_in);
        self.check_out = Some(terms.stay.check_out);
        self.nights = Some(terms.price.nights);
        self.guests = Some(i64::from(terms.guests));
        self.nightly_rate_minor = Some(terms.price.nightly_rate_minor);
        self.subtotal_minor = Some(terms.price.subtotal_minor);
        self.discount_percent = Some(i64::from(terms.price.discount_percent));
        self.discount_minor = Some(terms.price.discount_minor);
        self.total_minor = Some(terms.price.total_minor);
        self.currency = Some(terms.price.currency.clone());
    }

    fn opened(reservation_id: Uuid, tenant: String, guest: String, at: DateTime<Utc>) -> Self {
        Self {
            reservation_id,
            tenant_id: tenant,
            guest_ref: guest,
            guest_name: None,
            guest_email: None,
            guest_phone: None,
            status: String::new(),
            room_type: None,
            check_in: None,
            check_out: None,
            nights: None,
            guests: None,
            nightly_rate_minor: None,
            subtotal_minor: None,
            discount_percent: None,
            discount_minor: None,
            total_minor: None,
            currency: None,
            special_requests: None,
            pms_ref: None,
            rejection_reason: None,
            cancellation_fee_minor: None,
            requested_on: None,
            created_at: at,
            updated_at: at,
            last_sequence: 0,
        }
    }
}

/// Applies one reservation event to the row it concerns (`None` before the first event).
/// Pure, so replay and live projection cannot disagree.
pub fn apply(
    row: Option<ReservationRow>,
    event: &ReservationEvent,
    sequence: i64,
    at: DateTime<Utc>,
) -> Option<ReservationRow> {
    if row.as_ref().is_some_and(|r| sequence <= r.last_sequence) {
        return row;
    }
    let mut row = match (row, event) {
        (Some(row), _) => row,
        (
            None,
            ReservationEvent::ReservationRequested {
                reservation_id,
                tenant_id,
                guest,
                ..
            },
        ) => ReservationRow::opened(
            *reservation_id,
            tenant_id.to_string(),
            guest.guest_ref.to_string(),
            at,
        ),
        (
            None,
            ReservationEvent::ReservationRejected {
                reservation_id,
                tenant_id,
                guest_ref,
                ..
            },
        ) => ReservationRow::opened(
            *reservation_id,
            tenant_id.to_string(),
            guest_ref.to_string(),
            at,
        ),
        (None, _) => return None,
    };
    match event {
        ReservationEvent::ReservationRequested {
            guest,
            terms,
            special_requests,
            requested_on,
            ..
        } => {
            row.guest_name = Some(guest.name.clone());
            row.guest_email = Some(guest.email.as_str().to_owned());
            row.guest_phone = Some(guest.phone.as_str().to_owned());
            row.set_terms(terms);
            row.special_requests =
                (!special_requests.is_empty()).then(|| special_requests.as_str().to_owned());
            row.requested_on = Some(*requested_on);
            row.status = "requested".into();
        }
        ReservationEvent::ReservationConfirmed { pms_ref } => {
            row.pms_ref = Some(pms_ref.clone());
            row.status = "confirmed".into();
        }
        ReservationEvent::ReservationRejected { reason, .. } => {
            row.rejection_reason = Some(reason.code().to_owned());
            row.status = "rejected".into();
        }
        ReservationEvent::ReservationModified { terms, .. } => row.set_terms(terms),
        ReservationEvent::ReservationCancelled { fee_minor, .. } => {
            row.status = "cancelled".into();
            row.cancellation_fee_minor = Some(*fee_minor);
        }
        ReservationEvent::ReservationModificationRequested { .. }
        | ReservationEvent::PmsSyncFailed { .. }
        | ReservationEvent::PmsSynced { .. } => {}
    }
    row.last_sequence = sequence;
    row.updated_at = at;
    Some(row)
}

/// Where the rows live (PostgreSQL or SQLite table `reservations`, implemented in infra).
#[async_trait]
pub trait ReservationRows: Send + Sync {
    async fn get(&self, reservation_id: Uuid) -> Result<Option<ReservationRow>, ProjectionError>;
    async fn upsert(&self, row: &ReservationRow) -> Result<(), ProjectionError>;
    /// A guest's reservations, newest first.
    async fn by_guest(
        &self,
        tenant_id: &str,
        guest_ref: &str,
    ) -> Result<Vec<ReservationRow>, ProjectionError>;
    /// A hotel's reservations (of one status when `status` is given), the latest change first;
    /// at most `limit`.
    async fn of_hotel(
        &self,
        tenant_id: &str,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ReservationRow>, ProjectionError>;
}

/// The projection: reservation events in, rows out.
pub struct ReservationsProjection {
    rows: Arc<dyn ReservationRows>,
}

impl ReservationsProjection {
    pub fn new(rows: Arc<dyn ReservationRows>) -> Self {
        Self { rows }
    }
}

#[async_trait]
impl EventHandler for ReservationsProjection {
    async fn handle(&self, stored: &StoredEvent) -> Result<(), ProjectionError> {
        if stored.aggregate_type != Reservation::TYPE {
            return Ok(());
        }
        let event = ProjectionError::decode::<Reservation>(stored)?;
        let id = Uuid::parse_str(&stored.aggregate_id)
            .map_err(|e| ProjectionError::Handler(format!("reservation id: {e}")))?;
        let current = self.rows.get(id).await?;
        let unchanged = current.clone();
        let next = apply(current, &event, stored.sequence, stored.recorded_at);
        match next {
            Some(row) if Some(&row) != unchanged.as_ref() => self.rows.upsert(&row).await,
            _ => Ok(()),
        }
    }
}

/// The consumer group of the key-value mirror of the reservations read model.
pub const MIRROR: &str = "reservation-view";

/// How long a mirrored reservation stays after its last change: past any stay it can describe
/// (booked at most 365 days ahead, at most 90 nights long), so only long-finished stays expire.
const MIRROR_RETENTION: std::time::Duration = std::time::Duration::from_secs(500 * 24 * 3600);

/// The reservations read model mirrored into the key-value store (Redis), fed from the events
/// topic, for readers that want a reservation by id without touching the SQL store.
pub struct ReservationViews {
    keys: crate::key_space::KeySpace,
    /// Rows the batch being applied changed, written at its flush.
    batch: crate::write_behind::WriteBehind<ReservationRow>,
}

impl ReservationViews {
    pub fn new(keys: crate::key_space::KeySpace) -> Self {
        Self {
            keys,
            batch: Default::default(),
        }
    }

    /// The same mirror written into another key space: what a replay builds.
    pub fn in_space(&self, keys: crate::key_space::KeySpace) -> Self {
        Self::new(keys)
    }

    pub fn keys(&self) -> &crate::key_space::KeySpace {
        &self.keys
    }

    pub async fn get(
        &self,
        reservation_id: Uuid,
    ) -> Result<Option<ReservationRow>, ProjectionError> {
        let key = self.keys.key(&reservation_id.to_string()).await?;
        match self.keys.store().get(&key).await? {
            Some(json) => serde_json::from_str(&json)
                .map(Some)
                .map_err(|e| ProjectionError::Storage(format!("reservation view: {e}"))),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl EventHandler for ReservationViews {
    async fn handle(&self, stored: &StoredEvent) -> Result<(), ProjectionError> {
        if stored.aggregate_type != Reservation::TYPE {
            return Ok(());
        }
        let event = ProjectionError::decode::<Reservation>(stored)?;
        let id = Uuid::parse_str(&stored.aggregate_id)
            .map_err(|e| ProjectionError::Handler(format!("reservation id: {e}")))?;
        let key = self.keys.key(&stored.aggregate_id).await?;
        let current = match self.batch.get(&key) {
            Some(row) => Some(row),
            None => self.get(id).await?,
        };
        if let Some(row) = apply(current.clone(), &event, stored.sequence, stored.recorded_at)
            .filter(|row| Some(row) != current.as_ref())
        {
            self.batch.put(key, row, MIRROR_RETENTION);
        }
        Ok(())
    }

    async fn flush(&self) -> Result<(), ProjectionError> {
        self.batch.flush(self.keys.store().as_ref()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conserje_domain::pricing::PriceQuote;
    use conserje_domain::reservation::{GuestDetails, RejectionReason};
    use conserje_domain::stay::StayDates;
    use conserje_domain::values::{
        Email, GuestRef, Money, Phone, RoomType, SpecialRequests, TenantId,
    };

    fn terms(nights: u64) -> StayTerms {
        let check_in: NaiveDate = "2026-12-01".parse().unwrap();
        StayTerms {
            room_type: RoomType::parse("double").unwrap(),
            stay: StayDates {
                check_in,
                check_out: check_in + chrono::Days::new(nights),
            },
            guests: 2,
            price: PriceQuote::for_stay(&Money::new(12_000, "EUR"), nights as i64),
        }
    }

    fn requested() -> ReservationEvent {
        ReservationEvent::ReservationRequested {
            reservation_id: Uuid::from_u128(7),
            tenant_id: TenantId::parse("hotel-sol").unwrap(),
            guest: GuestDetails {
                guest_ref: GuestRef::parse("ana@mail.com").unwrap(),
                name: "Ana".into(),
                email: Email::parse("ana@mail.com").unwrap(),
                phone: Phone::parse("+34600123456").unwrap(),
            },
            terms: terms(2),
            special_requests: SpecialRequests::sanitise("late arrival"),
            requested_on: "2026-11-22".parse().unwrap(),
            conversation: None,
        }
    }

    #[test]
    fn the_row_follows_the_reservation_through_its_life() {
        let at = Utc::now();
        let row = apply(None, &requested(), 1, at).unwrap();
        assert_eq!(row.status, "requested");
        assert_eq!(row.total_minor, Some(24_000));
        let row = apply(
            Some(row),
            &ReservationEvent::ReservationConfirmed {
                pms_ref: "SIM-1".into(),
            },
            2,
            at,
        )
        .unwrap();
        assert_eq!(
            (row.status.as_str(), row.pms_ref.as_deref()),
            ("confirmed", Some("SIM-1"))
        );
        let row = apply(
            Some(row),
            &ReservationEvent::ReservationModified {
                previous: terms(2),
                terms: terms(7),
                price_difference_minor: 51_600,
            },
            3,
            at,
        )
        .unwrap();
        assert_eq!((row.nights, row.discount_percent), (Some(7), Some(10)));
        let row = apply(
            Some(row),
            &ReservationEvent::ReservationCancelled {
                reason: None,
                fee_minor: 0,
            },
            4,
            at,
        )
        .unwrap();
        assert_eq!(row.status, "cancelled");
        assert_eq!(row.cancellation_fee_minor, Some(0));
    }

    #[test]
    fn applying_an_event_twice_changes_nothing() {
        let at = Utc::now();
        let once = apply(None, &requested(), 1, at);
        let confirmed = ReservationEvent::ReservationConfirmed {
            pms_ref: "SIM-1".into(),
        };
        let twice = apply(
            once.clone(),
            &requested(),
            1,
            at + chrono::Duration::seconds(5),
        );
        assert_eq!(once, twice);
        let after_confirm = apply(once, &confirmed, 2, at);
        let again = apply(
            after_confirm.clone(),
            &confirmed,
            2,
            at + chrono::Duration::seconds(5),
        );
        assert_eq!(after_confirm, again);
    }

    #[test]
    fn a_blacklist_refusal_opens_a_rejected_row() {
        let rejected = ReservationEvent::ReservationRejected {
            reservation_id: Uuid::from_u128(9),
            tenant_id: TenantId::parse("hotel-sol").unwrap(),
            guest_ref: GuestRef::parse("eve@mail.com").unwrap(),
            reason: RejectionReason::GuestBlacklisted,
        };
        let row = apply(None, &rejected, 1, Utc::now()).unwrap();
        assert_eq!(row.status, "rejected");
        assert_eq!(row.rejection_reason.as_deref(), Some("guest_blacklisted"));
        assert_eq!(row.guest_ref, "eve@mail.com");
    }
}
