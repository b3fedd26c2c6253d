//! What the bot tells a guest when the PMS settles their reservation after the conversation
//! moved on: confirmed at last, refused, or handed to staff. Said in the conversation the guest
//! booked in, in the language they were speaking, as a turn of its own keyed by the reservation
//! and the outcome, so a replayed notice is said once.

use std::sync::Arc;

use async_trait::async_trait;
use conserje_domain::hotel::HotelProfiles;
use conserje_domain::metadata::Actor;
use conserje_domain::reservation::Reservation;
use conserje_domain::session::{HandoffReason, SessionCommand, Turn};
use conserje_domain::EventMetadata;
use serde_json::json;

use super::conversation_locale;
use super::talk::Talk;
use crate::booking_process::{GuestNotices, Notice, COMPONENT};
use crate::replies::{ReplyBook, ReplyKind};
use crate::{CommandError, Conversations};

pub struct ReservationNotices {
    book: ReplyBook,
    profiles: Arc<dyn HotelProfiles>,
    conversations: Arc<Conversations>,
}

impl ReservationNotices {
    pub fn new(
        book: ReplyBook,
        profiles: Arc<dyn HotelProfiles>,
        conversations: Arc<Conversations>,
    ) -> Self {
        Self {
            book,
            profiles,
            conversations,
        }
    }
}

#[async_trait]
impl GuestNotices for ReservationNotices {
    async fn tell(&self, reservation: &Reservation, notice: Notice) -> Result<(), CommandError> {
        let (Some(conversation), Some(tenant), Some(id)) = (
            &reservation.conversation,
            &reservation.tenant_id,
            reservation.reservation_id,
        ) else {
            return Ok(());
        };
        let session = self.conversations.session(conversation).await?;
        let profile = self.profiles.profile(tenant);
        let mut talk = Talk::new(&self.book, &profile, conversation_locale(&session.dialogue));
        let mut context = talk.reservation(reservation);
        context["contact"] = json!(profile.contact);
        let (kind, key, handoff) = match notice {
            Notice::Confirmed => (ReplyKind::LateConfirmed, "confirmed".to_owned(), None),
            Notice::Rejected(reason) => {
                context["reason"] = json!(reason.code());
                (
                    ReplyKind::LateRejected,
                    "rejected".to_owned(),
                    Some(HandoffReason::Error),
                )
            }
            Notice::HandedToStaff(operation) => (
                ReplyKind::LateHandedToStaff,
                format!("{}-abandoned", operation.as_str()),
                Some(HandoffReason::Error),
            ),
        };
        talk.say(kind, context)?;
        let turn = Turn {
            turn_key: format!("reservation:{id}:{key}"),
            understood: None,
            model_version: None,
            dialogue: None,
            replies: talk.replies,
            handoff,
        };
        let channel = session.channel.map_or("system", |c| c.as_str());
        let meta = EventMetadata::new(tenant.clone(), Actor::system(COMPONENT), channel);
        self.conversations
            .execute(conversation, SessionCommand::RecordTurn(turn), &meta)
            .await
    }
}
