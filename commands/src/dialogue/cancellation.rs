//! Cancelling a reservation: the guest names it, the bot reads it back and asks, and only a yes
//! to that question cancels it.

use conserje_domain::reservation::ReservationStatus;
use conserje_domain::session::{DialogueState, HandoffReason, Pending};
use conserje_domain::understanding::{Intent, Understood};
use serde_json::json;
use uuid::Uuid;

use super::explanations;
use super::talk::Talk;
use super::{Receptionist, Scene};
use crate::replies::ReplyKind;
use crate::CommandError;

/// What the bot says when asked to cancel a booking in `status`: it reads a live booking back
/// and asks, and says so when it is cancelled already (a second "yes" must not look like it
/// did something).
pub(super) fn reply_to_cancel(status: ReservationStatus) -> ReplyKind {
    match status {
        ReservationStatus::Cancelled => ReplyKind::RuleAlreadyCancelled,
        _ => ReplyKind::CancelConfirm,
    }
}

/// Only a yes to "cancel it?" cancels.
pub(super) fn cancels(answer: Intent) -> bool {
    answer == Intent::Affirm
}

impl Receptionist {
    /// Reads the booking back and asks whether to cancel it.
    pub(super) async fn cancellation_step(
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
        let kind = reply_to_cancel(reservation.status);
        if kind == ReplyKind::RuleAlreadyCancelled {
            state.flow = None;
            talk.say(kind, json!({}))?;
            return Ok(None);
        }
        // Past the free window the read-back states the fee, so the guest's yes accepts it.
        let fee_minor = reservation.cancellation_fee_at(self.hotels.as_ref(), self.clock.now());
        let mut context = talk.reservation(&reservation);
        let (kind, accepted) = match (&reservation.terms, fee_minor) {
            (Some(terms), fee) if fee > 0 => {
                context["fee"] = json!(talk.money(fee, &terms.price.currency));
                (ReplyKind::CancelFee, Some(fee))
            }
            _ => (kind, None),
        };
        talk.say(kind, context)?;
        state.pending = Some(Pending::CancellationConfirmation {
            reservation_id: id,
            fee_minor: accepted,
        });
        Ok(None)
    }

    /// The guest answered "cancel it?": yes cancels, anything else keeps the booking. A
    /// cancellation that costs something is not made on the first yes: the bot states the fee
    /// and asks again, and only a yes to that question (accepting that fee) cancels.
    pub(super) async fn settle_cancellation(
        &self,
        scene: &Scene<'_>,
        intent: Intent,
        reservation_id: Uuid,
        accepted_fee_minor: Option<i64>,
        state: &mut DialogueState,
        talk: &mut Talk<'_>,
    ) -> Result<Option<HandoffReason>, CommandError> {
        state.pending = None;
        state.flow = None;
        if !cancels(intent) {
            talk.say(ReplyKind::CancelKept, json!({}))?;
            return Ok(None);
        }
        match self
            .desk
            .cancel(
                reservation_id,
                Some(scene.guest.clone()),
                Some("cancelled by the guest in conversation".into()),
                accepted_fee_minor,
                scene.meta.clone(),
            )
            .await
        {
            Ok(reservation) => {
                talk.say(ReplyKind::Cancelled, talk.reservation(&reservation))?;
                Ok(None)
            }
            Err(CommandError::CancellationFee {
                fee_minor,
                currency,
            }) => {
                let reservation = self.desk.find(reservation_id).await?;
                let mut context = talk.reservation(&reservation);
                context["fee"] = json!(talk.money(fee_minor, &currency));
                talk.say(ReplyKind::CancelFee, context)?;
                state.flow = Some(conserje_domain::session::Flow::Cancellation);
                state.pending = Some(Pending::CancellationConfirmation {
                    reservation_id,
                    fee_minor: Some(fee_minor),
                });
                Ok(None)
            }
            Err(err) => explanations::refusal(scene, err, state, talk),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_booking_is_read_back_and_a_cancelled_one_said_so() {
        assert_eq!(
            reply_to_cancel(ReservationStatus::Confirmed),
            ReplyKind::CancelConfirm
        );
        assert_eq!(
            reply_to_cancel(ReservationStatus::Cancelled),
            ReplyKind::RuleAlreadyCancelled
        );
    }

    #[test]
    fn only_a_yes_cancels() {
        assert!(cancels(Intent::Affirm));
        for other in [Intent::Deny, Intent::OutOfScope, Intent::CancelReservation] {
            assert!(!cancels(other), "{other}");
        }
    }
}
