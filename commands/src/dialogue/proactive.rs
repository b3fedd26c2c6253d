//! The words of the messages the hotel writes first (see `conserje_domain::proactive`): in the
//! language of the guest's conversation when there is one, about the reservation as it stands.

use conserje_domain::hotel::HotelProfile;
use conserje_domain::proactive::ProactiveKind;
use conserje_domain::reservation::Reservation;
use conserje_domain::session::{Reply, Session};
use conserje_domain::understanding::HotelTopic;
use serde_json::json;

use super::conversation_locale;
use super::talk::Talk;
use crate::replies::{ReplyBook, ReplyKind};
use crate::CommandError;

/// The reply book's entry for each kind.
fn reply_kind(kind: ProactiveKind) -> ReplyKind {
    match kind {
        ProactiveKind::Confirmation => ReplyKind::ProactiveConfirmation,
        ProactiveKind::PreArrival => ReplyKind::PreArrival,
        ProactiveKind::ReviewRequest => ReplyKind::ReviewRequest,
        ProactiveKind::ChangeNotice => ReplyKind::ChangeNotice,
        ProactiveKind::CancellationNotice => ReplyKind::CancellationNotice,
    }
}

/// The message of `kind` about `reservation`, for the conversation `session` (new when the
/// guest never wrote: then in the hotel's first language, Spanish).
pub fn proactive_reply(
    book: &ReplyBook,
    profile: &HotelProfile,
    session: &Session,
    reservation: &Reservation,
    kind: ProactiveKind,
) -> Result<Reply, CommandError> {
    let locale = conversation_locale(&session.dialogue);
    let mut talk = Talk::new(book, profile, locale);
    let mut context = talk.reservation(reservation);
    let hotel = profile.name.clone().or_else(|| {
        reservation
            .tenant_id
            .as_ref()
            .map(|tenant| tenant.to_string())
    });
    context["hotel"] = json!(hotel);
    context["guest_name"] = json!(session
        .guest_name
        .clone()
        .or_else(|| reservation.guest.as_ref().map(|g| g.name.clone())));
    context["check_in_time"] = json!(profile.fact(HotelTopic::CheckInTime, locale));
    context["directions"] = json!(profile.fact(HotelTopic::Location, locale));
    context["contact"] = json!(profile.contact);
    talk.say(reply_kind(kind), context)?;
    let mut reply = talk
        .replies
        .pop()
        .ok_or_else(|| CommandError::Model(format!("no words for the {kind} message")))?;
    reply.proactive = Some(kind);
    Ok(reply)
}
