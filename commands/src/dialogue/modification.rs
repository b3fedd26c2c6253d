//! Changing a reservation: what the guest names changes, the rest of the booking stays; the
//! change is quoted on the reservation itself (with the price difference) and applied only when
//! the guest says yes to that quote.

use chrono::Days;
use conserje_domain::reservation::{ModificationRequest, StayTerms};
use conserje_domain::session::{DialogueState, HandoffReason, Pending, Slots};
use conserje_domain::understanding::{Intent, Understood};
use conserje_domain::values::GuestRef;
use serde_json::json;
use uuid::Uuid;

use super::explanations;
use super::format::booking_ref;
use super::talk::{merged, Talk};
use super::{Receptionist, Scene};
use crate::replies::ReplyKind;
use crate::CommandError;

/// The change the slots ask of a booking with `current` terms: a new check-in alone moves the
/// stay keeping its length; a number of nights alone keeps the check-in. `None` when nothing
/// would change.
pub(super) fn change_from(
    slots: &Slots,
    current: Option<&StayTerms>,
    requested_by: GuestRef,
) -> Option<ModificationRequest> {
    let mut check_in = slots.check_in;
    let mut check_out = slots.check_out;
    if let (Some(terms), Some(new_in), None) = (current, check_in, check_out) {
        check_out = new_in.checked_add_days(Days::new(terms.stay.nights() as u64));
    }
    if let (Some(terms), None, Some(nights)) = (current, check_in, slots.nights) {
        check_in = Some(terms.stay.check_in);
        check_out = terms
            .stay
            .check_in
            .checked_add_days(Days::new(u64::from(nights)));
    }
    let change = ModificationRequest {
        requested_by: Some(requested_by),
        room_type: slots.room_type.clone(),
        check_in,
        check_out,
        guests: slots.guests,
    };
    let nothing = change.room_type.is_none()
        && change.check_in.is_none()
        && change.check_out.is_none()
        && change.guests.is_none();
    (!nothing).then_some(change)
}

impl Receptionist {
    /// Asks what to change, or quotes the change.
    pub(super) async fn modification_step(
        &self,
        scene: &Scene<'_>,
        understood: &Understood,
        state: &mut DialogueState,
        talk: &mut Talk<'_>,
    ) -> Result<Option<HandoffReason>, CommandError> {
        let Some((id, reservation)) = self
            .booking_in_question(scene, understood, state, talk)
            .await?
        else {
            return Ok(None);
        };
        // "could we add one more person?": the booking's party plus that many.
        let mut slots = state.slots.clone();
        if let (None, Some(extra), Some(terms)) = (
            slots.guests,
            understood.entities.extra_guests,
            reservation.terms.as_ref(),
        ) {
            slots.guests = Some(u32::from(terms.guests) + extra);
        }
        let Some(change) = change_from(&slots, reservation.terms.as_ref(), scene.guest.clone())
        else {
            talk.say(ReplyKind::AskModification, talk.reservation(&reservation))?;
            return Ok(None);
        };
        match self
            .desk
            .quote_modification(id, change, scene.meta.clone())
            .await
        {
            Ok(quoted) => {
                let Some(terms) = &quoted.reservation.pending_modification else {
                    return Err(CommandError::Store(
                        "a quoted modification left no pending terms".into(),
                    ));
                };
                let difference = quoted.price_difference_minor;
                let context = merged(
                    talk.stay(
                        terms.room_type.as_str(),
                        &terms.stay,
                        u32::from(terms.guests),
                        &terms.price,
                    ),
                    json!({
                        "booking_ref": booking_ref(id),
                        "difference": difference,
                        "difference_abs": talk.money(difference.abs(), &terms.price.currency),
                    }),
                );
                talk.say(ReplyKind::ModificationQuote, context)?;
                state.pending = Some(Pending::ModificationConfirmation {
                    reservation_id: id,
                    price_difference_minor: difference,
                    currency: terms.price.currency.clone(),
                });
                Ok(None)
            }
            Err(err) => {
                state.slots = Slots {
                    email: state.slots.email.take(),
                    phone: state.slots.phone.take(),
                    ..Slots::default()
                };
                explanations::refusal(scene, err, state, talk)
            }
        }
    }

    /// The guest answered "confirm the change?": yes applies the quoted change, anything else
    /// keeps the booking as it was.
    pub(super) async fn settle_modification(
        &self,
        scene: &Scene<'_>,
        intent: Intent,
        reservation_id: Uuid,
        state: &mut DialogueState,
        talk: &mut Talk<'_>,
    ) -> Result<Option<HandoffReason>, CommandError> {
        state.pending = None;
        state.flow = None;
        if intent != Intent::Affirm {
            talk.say(ReplyKind::ModificationKept, json!({}))?;
            return Ok(None);
        }
        match self
            .desk
            .confirm_modification(reservation_id, scene.meta.clone())
            .await
        {
            Ok(done) => {
                let context = talk.reservation(&done.reservation);
                talk.say(ReplyKind::Modified, context)?;
                Ok(None)
            }
            Err(err) => explanations::refusal(scene, err, state, talk),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use conserje_domain::pricing::PriceQuote;
    use conserje_domain::stay::StayDates;
    use conserje_domain::values::{Money, RoomType};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn terms() -> StayTerms {
        let stay = StayDates {
            check_in: d("2027-03-04"),
            check_out: d("2027-03-08"),
        };
        StayTerms {
            room_type: RoomType::parse("double").unwrap(),
            stay,
            guests: 2,
            price: PriceQuote::for_stay(&Money::new(12_000, "EUR"), 4),
        }
    }

    fn guest() -> GuestRef {
        GuestRef::parse("34600111222").unwrap()
    }

    #[test]
    fn a_new_check_in_alone_moves_the_stay_keeping_its_length() {
        let slots = Slots {
            check_in: Some(d("2027-03-10")),
            ..Slots::default()
        };
        let change = change_from(&slots, Some(&terms()), guest()).unwrap();
        assert_eq!(change.check_out, Some(d("2027-03-14")));
    }

    #[test]
    fn nights_alone_keep_the_check_in() {
        let slots = Slots {
            nights: Some(2),
            ..Slots::default()
        };
        let change = change_from(&slots, Some(&terms()), guest()).unwrap();
        assert_eq!(
            (change.check_in, change.check_out),
            (Some(d("2027-03-04")), Some(d("2027-03-06")))
        );
    }

    #[test]
    fn nothing_named_is_no_change() {
        assert!(change_from(&Slots::default(), Some(&terms()), guest()).is_none());
        let slots = Slots {
            room_type: Some("suite".into()),
            ..Slots::default()
        };
        let change = change_from(&slots, Some(&terms()), guest()).unwrap();
        assert_eq!(change.room_type.as_deref(), Some("suite"));
        assert_eq!(change.check_in, None);
    }
}
