//! Which of the guest's reservations a change or a cancellation is about: the one named by its
//! short number or full id, else the one this conversation last booked or talked about — and only
//! ever one of this guest's own, so nobody changes a booking by guessing its number.

use conserje_domain::reservation::Reservation;
use conserje_domain::session::DialogueState;
use conserje_domain::understanding::Understood;
use serde_json::json;
use uuid::Uuid;

use super::talk::Talk;
use super::{Receptionist, Scene};
use crate::replies::ReplyKind;
use crate::CommandError;

/// Whether `id` is the booking a guest means by `given` (a full id, or the short number: the
/// start or the end of its hex digits).
pub(super) fn matches_reference(id: Uuid, given: &str) -> bool {
    let fragment = given.replace('-', "").to_lowercase();
    let hex = id.simple().to_string();
    !fragment.is_empty() && (hex.starts_with(&fragment) || hex.ends_with(&fragment))
}

impl Receptionist {
    /// The reservation in question, remembered as the conversation's last booking; `None` (after
    /// asking for its number) when the guest named none or one that is not theirs.
    pub(super) async fn booking_in_question(
        &self,
        scene: &Scene<'_>,
        understood: &Understood,
        state: &mut DialogueState,
        talk: &mut Talk<'_>,
    ) -> Result<Option<(Uuid, Reservation)>, CommandError> {
        let found = self.find_booking(scene, understood, state).await?;
        let Some((id, reservation)) = found.and_then(|r| r.reservation_id.map(|id| (id, r))) else {
            let kind = if understood.entities.booking_id.is_some() {
                ReplyKind::BookingNotFound
            } else {
                ReplyKind::AskBookingId
            };
            talk.say(kind, json!({}))?;
            return Ok(None);
        };
        state.last_booking = Some(id);
        Ok(Some((id, reservation)))
    }

    async fn find_booking(
        &self,
        scene: &Scene<'_>,
        understood: &Understood,
        state: &DialogueState,
    ) -> Result<Option<Reservation>, CommandError> {
        let id = match understood.entities.booking_id.as_deref() {
            Some(given) => match Uuid::parse_str(given) {
                Ok(id) => Some(id),
                Err(_) => self
                    .bookings
                    .of_guest(&scene.tenant, &scene.guest)
                    .await?
                    .into_iter()
                    .find(|id| matches_reference(*id, given)),
            },
            None => state.last_booking,
        };
        let Some(id) = id else {
            return Ok(None);
        };
        match self.desk.find(id).await {
            Ok(reservation)
                if reservation.tenant_id.as_ref() == Some(&scene.tenant)
                    && reservation
                        .guest
                        .as_ref()
                        .is_some_and(|g| g.guest_ref == scene.guest) =>
            {
                Ok(Some(reservation))
            }
            Ok(_) | Err(CommandError::NotFound(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_booking_is_named_by_its_short_number_or_its_id() {
        let id = Uuid::parse_str("01937c2e-8a4b-7c3d-9e1f-123456789abc").unwrap();
        assert!(matches_reference(id, "56789ABC"));
        assert!(matches_reference(id, "01937c2e-8a4b"));
        assert!(!matches_reference(id, "ABCDEF12"));
        assert!(!matches_reference(id, "-"));
    }
}
