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
        if reservation.status == ReservationStatus::Cancelled {
            state.flow = None;
            talk.say(ReplyKind::RuleAlreadyCancelled, json!({}))?;
            return Ok(None);
        }
        talk.say(ReplyKind::CancelConfirm, talk.reservation(&reservation))?;
        state.pending = Some(Pending::CancellationConfirmation { reservation_id: id });
        Ok(None)
    }

    /// The guest answered "cancel it?": yes cancels, anything else keeps the booking.
    pub(super) async fn settle_cancellation(
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
            talk.say(ReplyKind::CancelKept, json!({}))?;
            return Ok(None);
        }
        match self
            .desk
            .cancel(
                reservation_id,
                Some(scene.guest.clone()),
                Some("cancelled by the guest in conversation".into()),
                scene.meta.clone(),
            )
            .await
        {
            Ok(reservation) => {
                talk.say(ReplyKind::Cancelled, talk.reservation(&reservation))?;
                Ok(None)
            }
            Err(err) => explanations::refusal(scene, err, state, talk),
        }
    }
}
