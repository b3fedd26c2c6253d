//! The `Guest` aggregate: the owner of "at most 5 active reservations per guest".
//!
//! Why a stream of its own: the rule spans many `Reservation` streams, and a check against a read
//! model races (two requests both see four and both pass). Every reservation that counts is first
//! *held* on the guest's stream; the event store's optimistic concurrency then lets only one of
//! two concurrent holds commit, and the loser re-reads the stream and sees the new count. The
//! limit is thereby serialised per guest, across processes, without locks, and the stream doubles
//! as the audit trail of what counted when.
//!
//! Who "the guest" is comes from the reservation's own data, never from the caller: a guest is
//! recognised by the mailbox of their e-mail ([`Email::identity`]: `Ana+spam@Example.com` is
//! `ana@example.com`) *and* by their E.164 phone, and every reservation that counts is held on
//! both streams ([`guest_stream_ids`]). The invariant is "no e-mail identity and no phone has more
//! than five active holds", so a sixth booking is refused whether the guest changes the
//! `guest_ref` (which the API caller chooses, and which therefore only labels the reservation), the
//! spelling of the e-mail, or the e-mail altogether while keeping the phone. Keyed by `guest_ref`,
//! as it once was, a new ref escaped the limit and someone else's ref locked its owner out.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ports::{today_for, Clock, HotelDirectory};
use crate::values::{Email, Phone, TenantId};

/// Most reservations one guest may have active at once.
pub const MAX_ACTIVE_RESERVATIONS: usize = 5;

/// The guest stream of an e-mail: `tenant/email:<identity>`, one per mailbox.
pub fn email_stream_id(tenant: &TenantId, email: &Email) -> String {
    format!("{tenant}/email:{}", email.identity())
}

/// The guest stream of a phone: `tenant/phone:<E.164>`.
pub fn phone_stream_id(tenant: &TenantId, phone: &Phone) -> String {
    format!("{tenant}/phone:{}", phone.as_str())
}

/// The streams every reservation of this guest is held on, in the order holds are taken: the
/// e-mail's, then the phone's. The fixed order matters for the guest's last free slot: two
/// requests with the same e-mail and phone contend on the e-mail stream first, so one of them
/// takes both slots; in opposite orders each could take one stream's last slot, be refused on
/// the other's, and both would be turned away. Tenant ids never contain `/`, and the
/// `email:`/`phone:` prefixes keep an address and a number apart, so no two keys collide.
pub fn guest_stream_ids(tenant: &TenantId, email: &Email, phone: &Phone) -> [String; 2] {
    [
        email_stream_id(tenant, email),
        phone_stream_id(tenant, phone),
    ]
}

/// The hotel's date, to decide which holds are still active.
#[derive(Clone)]
pub struct GuestServices {
    pub clock: Arc<dyn Clock>,
    pub hotels: Arc<dyn HotelDirectory>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GuestCommand {
    /// Counts a reservation against the guest's limit; a repeated hold is a no-op.
    HoldReservation {
        tenant_id: TenantId,
        reservation_id: Uuid,
        check_out: NaiveDate,
    },
    /// The reservation no longer counts (cancelled or rejected).
    ReleaseReservation { reservation_id: Uuid },
    /// The reservation's check-out moved.
    RescheduleReservation {
        reservation_id: Uuid,
        check_out: NaiveDate,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GuestEvent {
    ActiveReservationAdded {
        tenant_id: TenantId,
        reservation_id: Uuid,
        check_out: NaiveDate,
    },
    ActiveReservationRemoved {
        reservation_id: Uuid,
    },
    ActiveReservationRescheduled {
        reservation_id: Uuid,
        check_out: NaiveDate,
    },
}

impl DomainEvent for GuestEvent {
    fn event_type(&self) -> String {
        match self {
            Self::ActiveReservationAdded { .. } => "ActiveReservationAdded",
            Self::ActiveReservationRemoved { .. } => "ActiveReservationRemoved",
            Self::ActiveReservationRescheduled { .. } => "ActiveReservationRescheduled",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuestError {
    #[error("the guest already has {max} active reservations")]
    TooManyActiveReservations { max: usize },
}

/// A guest's reservations that count against the limit, with their check-out dates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guest {
    pub tenant_id: Option<TenantId>,
    pub holds: BTreeMap<Uuid, NaiveDate>,
}

impl Guest {
    /// Reservations still active on `today`: a stay that checked out yesterday no longer counts.
    pub fn active_on(&self, today: NaiveDate) -> usize {
        self.holds.values().filter(|out| **out >= today).count()
    }
}

impl Aggregate for Guest {
    const TYPE: &'static str = "Guest";
    type Command = GuestCommand;
    type Event = GuestEvent;
    type Error = GuestError;
    type Services = GuestServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            GuestCommand::HoldReservation {
                tenant_id,
                reservation_id,
                check_out,
            } => {
                if self.holds.contains_key(&reservation_id) {
                    return Ok(());
                }
                let today = today_for(
                    services.clock.as_ref(),
                    services.hotels.as_ref(),
                    &tenant_id,
                );
                if self.active_on(today) >= MAX_ACTIVE_RESERVATIONS {
                    return Err(GuestError::TooManyActiveReservations {
                        max: MAX_ACTIVE_RESERVATIONS,
                    });
                }
                GuestEvent::ActiveReservationAdded {
                    tenant_id,
                    reservation_id,
                    check_out,
                }
            }
            GuestCommand::ReleaseReservation { reservation_id } => {
                if !self.holds.contains_key(&reservation_id) {
                    return Ok(());
                }
                GuestEvent::ActiveReservationRemoved { reservation_id }
            }
            GuestCommand::RescheduleReservation {
                reservation_id,
                check_out,
            } => match self.holds.get(&reservation_id) {
                Some(current) if *current != check_out => {
                    GuestEvent::ActiveReservationRescheduled {
                        reservation_id,
                        check_out,
                    }
                }
                _ => return Ok(()),
            },
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            GuestEvent::ActiveReservationAdded {
                tenant_id,
                reservation_id,
                check_out,
            } => {
                self.tenant_id = Some(tenant_id);
                self.holds.insert(reservation_id, check_out);
            }
            GuestEvent::ActiveReservationRemoved { reservation_id } => {
                self.holds.remove(&reservation_id);
            }
            GuestEvent::ActiveReservationRescheduled {
                reservation_id,
                check_out,
            } => {
                self.holds.insert(reservation_id, check_out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FixedClock, OneZone};
    use chrono::{TimeZone, Utc};
    use cqrs_es::test::TestFramework;

    fn services() -> GuestServices {
        GuestServices {
            clock: Arc::new(FixedClock(
                Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap(),
            )),
            hotels: Arc::new(OneZone(chrono_tz::UTC)),
        }
    }

    fn tenant() -> TenantId {
        TenantId::parse("hotel-sol").unwrap()
    }

    fn added(n: u128, check_out: &str) -> GuestEvent {
        GuestEvent::ActiveReservationAdded {
            tenant_id: tenant(),
            reservation_id: Uuid::from_u128(n),
            check_out: check_out.parse().unwrap(),
        }
    }

    fn hold(n: u128) -> GuestCommand {
        GuestCommand::HoldReservation {
            tenant_id: tenant(),
            reservation_id: Uuid::from_u128(n),
            check_out: "2026-12-10".parse().unwrap(),
        }
    }

    #[test]
    fn a_sixth_active_reservation_is_refused() {
        let five: Vec<_> = (1..=5).map(|n| added(n, "2026-12-10")).collect();
        TestFramework::<Guest>::with(services())
            .given(five)
            .when(hold(6))
            .then_expect_error(GuestError::TooManyActiveReservations { max: 5 });
    }

    #[test]
    fn a_fifth_is_accepted() {
        let four: Vec<_> = (1..=4).map(|n| added(n, "2026-12-10")).collect();
        TestFramework::<Guest>::with(services())
            .given(four)
            .when(hold(5))
            .then_expect_events(vec![added(5, "2026-12-10")]);
    }

    #[test]
    fn past_stays_and_released_reservations_do_not_count() {
        let mut history: Vec<_> = (1..=3).map(|n| added(n, "2026-12-10")).collect();
        history.push(added(4, "2026-11-21"));
        history.push(added(5, "2026-12-10"));
        history.push(GuestEvent::ActiveReservationRemoved {
            reservation_id: Uuid::from_u128(5),
        });
        history.push(added(7, "2026-11-22"));
        TestFramework::<Guest>::with(services())
            .given(history)
            .when(hold(6))
            .then_expect_events(vec![added(6, "2026-12-10")]);
    }

    #[test]
    fn stream_ids_go_by_the_mailbox_and_the_phone() {
        let email = |raw| Email::parse(raw).unwrap();
        let phone = |raw| Phone::parse(raw).unwrap();
        let ids = guest_stream_ids(
            &tenant(),
            &email("Ana+spam@Example.com"),
            &phone("+34 600 123 456"),
        );
        assert_eq!(
            ids,
            [
                "hotel-sol/email:ana@example.com".to_owned(),
                "hotel-sol/phone:+34600123456".to_owned(),
            ]
        );
        assert_eq!(
            email_stream_id(&tenant(), &email("a.n.a@googlemail.com")),
            email_stream_id(&tenant(), &email("ana@gmail.com"))
        );
        let other = TenantId::parse("hotel-luna").unwrap();
        assert_ne!(
            email_stream_id(&other, &email("ana@example.com")),
            ids[0],
            "the limit is per hotel"
        );
    }

    #[test]
    fn releasing_or_rescheduling_what_is_not_held_is_a_no_op() {
        TestFramework::<Guest>::with(services())
            .given(vec![added(1, "2026-12-10")])
            .when(GuestCommand::ReleaseReservation {
                reservation_id: Uuid::from_u128(2),
            })
            .then_expect_events(vec![]);
        TestFramework::<Guest>::with(services())
            .given_no_previous_events()
            .when(GuestCommand::RescheduleReservation {
                reservation_id: Uuid::from_u128(2),
                check_out: "2026-12-12".parse().unwrap(),
            })
            .then_expect_events(vec![]);
    }

    #[test]
    fn holding_the_same_reservation_twice_is_a_no_op() {
        TestFramework::<Guest>::with(services())
            .given(vec![added(1, "2026-12-10")])
            .when(hold(1))
            .then_expect_events(vec![]);
    }
}
