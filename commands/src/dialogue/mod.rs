//! The receptionist: one guest message in, one turn out — what was understood, the dialogue state
//! after it, the replies in the guest's language, and whether staff must take over.
//!
//! The dialogue fills the slots of a stay, quotes from the PMS, books through the `Reservation`
//! aggregate (so every booking rule applies, and a broken one is explained to the guest), changes
//! and cancels only after the guest confirms, answers questions from the hotel's facts, and hands
//! the conversation to a person when asked, when it keeps not understanding, or when something
//! fails that the guest would otherwise see.

mod booking;
mod cancellation;
mod explanations;
mod format;
mod handoff;
mod hotel_info;
mod lookup;
mod modification;
mod notices;
mod proactive;
mod slots;
mod talk;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use conserje_domain::choice::Choice;
use conserje_domain::hotel::{DeskStatus, HotelProfile, HotelProfiles};
use conserje_domain::ports::{Clock, HotelDirectory, Pms, PmsError};
use conserje_domain::session::{
    DialogueState, Flow, GuestMessage, HandoffReason, Pending, Reaction, ReactionMeaning, Session,
    Slots, Turn,
};
use conserje_domain::understanding::{
    Entities, Expectation, HotelTopic, Intent, Language, Locale, Understood,
};
use conserje_domain::values::{Channel, GuestRef, TenantId};
use conserje_domain::EventMetadata;
use serde_json::json;
use uuid::Uuid;

pub use format::booking_ref;
pub use notices::ReservationNotices;
pub use proactive::proactive_reply;

use self::booking::Quoted;
use self::talk::Talk;
use crate::replies::{ReplyBook, ReplyKind};
use crate::understanding::{DialogueContext, ParseContext, Understanding};
use crate::{CommandError, ReservationDesk};

/// Finds a guest's reservations, so "cancel 56789ABC" can name one by its short number.
#[async_trait]
pub trait GuestBookings: Send + Sync {
    async fn of_guest(
        &self,
        tenant: &TenantId,
        guest: &GuestRef,
    ) -> Result<Vec<Uuid>, CommandError>;
}

/// Tunables of the dialogue.
#[derive(Debug, Clone, Copy)]
pub struct DialogueSettings {
    /// Turns understood with less confidence count towards a handoff; two in a row hand off.
    pub low_confidence_threshold: f32,
}

impl Default for DialogueSettings {
    fn default() -> Self {
        Self {
            low_confidence_threshold: 0.45,
        }
    }
}

/// What the receptionist needs from the rest of conserje.
pub struct Receptionist {
    understanding: Arc<Understanding>,
    replies: ReplyBook,
    pms: Arc<dyn Pms>,
    hotels: Arc<dyn HotelDirectory>,
    profiles: Arc<dyn HotelProfiles>,
    clock: Arc<dyn Clock>,
    desk: Arc<ReservationDesk>,
    bookings: Arc<dyn GuestBookings>,
    settings: DialogueSettings,
}

/// One guest message as the turn reads it: what was understood, its text, and the hotel topics
/// it asks about (read once for every move that needs them).
struct Heard<'a> {
    understood: &'a Understood,
    text: &'a str,
    topics: Vec<HotelTopic>,
}

/// The conversation's fixed facts during one turn.
struct Scene<'a> {
    session: &'a Session,
    tenant: TenantId,
    guest: GuestRef,
    channel: Channel,
    profile: HotelProfile,
    zone: Tz,
    now: DateTime<Utc>,
    today: NaiveDate,
    meta: EventMetadata,
    /// The turn being answered and when its message arrived: together they name the reservation
    /// the turn may book.
    turn_key: String,
    received_at: DateTime<Utc>,
}

impl Receptionist {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        understanding: Arc<Understanding>,
        replies: ReplyBook,
        pms: Arc<dyn Pms>,
        hotels: Arc<dyn HotelDirectory>,
        profiles: Arc<dyn HotelProfiles>,
        clock: Arc<dyn Clock>,
        desk: Arc<ReservationDesk>,
        bookings: Arc<dyn GuestBookings>,
        settings: DialogueSettings,
    ) -> Self {
        Self {
            understanding,
            replies,
            pms,
            hotels,
            profiles,
            clock,
            desk,
            bookings,
            settings,
        }
    }

    /// The version of the language model, recorded with every intent.
    pub fn model_version(&self) -> &str {
        self.understanding.model_version()
    }

    fn scene<'a>(
        &self,
        session: &'a Session,
        turn_key: &str,
        received_at: Option<DateTime<Utc>>,
        meta: &EventMetadata,
    ) -> Result<Scene<'a>, CommandError> {
        let (Some(tenant), Some(guest), Some(channel)) =
            (&session.tenant_id, &session.guest_ref, &session.channel)
        else {
            return Err(CommandError::NotFound("session".into()));
        };
        let zone = self.hotels.time_zone(tenant);
        let now = self.clock.now();
        let mut meta = meta.clone();
        meta.model_version = Some(self.model_version().to_owned());
        Ok(Scene {
            session,
            tenant: tenant.clone(),
            guest: guest.clone(),
            channel: *channel,
            profile: self.profiles.profile(tenant),
            zone,
            now,
            today: now.with_timezone(&zone).date_naive(),
            meta,
            turn_key: turn_key.to_owned(),
            received_at: received_at.unwrap_or(now),
        })
    }

    /// A turn that only tells the guest something (a voice note is being transcribed, a picture
    /// arrived), in the conversation's locale.
    pub fn notice(
        &self,
        session: &Session,
        turn_key: &str,
        kind: ReplyKind,
        meta: &EventMetadata,
    ) -> Result<Turn, CommandError> {
        let scene = self.scene(session, turn_key, None, meta)?;
        let mut talk = self.talk(&scene, conversation_locale(&session.dialogue));
        if session.handoff.is_none() {
            talk.say(kind, json!({}))?;
        }
        Ok(Turn {
            turn_key: turn_key.to_owned(),
            understood: None,
            model_version: None,
            dialogue: None,
            replies: talk.replies,
            handoff: None,
        })
    }

    /// The turn for an apology and a handoff, when answering failed in a way the guest would
    /// otherwise see as silence.
    pub fn apology(
        &self,
        session: &Session,
        turn_key: &str,
        meta: &EventMetadata,
    ) -> Result<Turn, CommandError> {
        let scene = self.scene(session, turn_key, None, meta)?;
        let mut talk = self.talk(&scene, conversation_locale(&session.dialogue));
        talk.say(
            ReplyKind::HandoffError,
            json!({ "contact": scene.profile.contact }),
        )?;
        Ok(Turn {
            turn_key: turn_key.to_owned(),
            understood: None,
            model_version: None,
            dialogue: None,
            replies: talk.replies,
            handoff: Some(HandoffReason::Error),
        })
    }

    fn talk<'a>(&'a self, scene: &'a Scene<'_>, locale: Locale) -> Talk<'a> {
        Talk::new(&self.replies, &scene.profile, locale)
    }

    /// What `text` says, read as the answer to what the bot last asked: CPU work only, no I/O,
    /// so a caller can run it on a blocking thread under a time budget.
    pub fn understand(&self, session: &Session, text: &str) -> Understood {
        let zone = session
            .tenant_id
            .as_ref()
            .map_or(chrono_tz::UTC, |t| self.hotels.time_zone(t));
        let today = self.clock.now().with_timezone(&zone).date_naive();
        let state = &session.dialogue;
        let expecting = state
            .asked
            .or(state.pending.as_ref().map(|_| Expectation::Confirmation));
        self.understanding.understand_in_dialogue(
            text,
            &ParseContext {
                today,
                prior_language: state.language,
                anchor: booking::anchor(state),
            },
            &DialogueContext {
                expecting,
                flow_intent: state.flow.map(flow_intent),
                prior_locale: state.locale,
            },
        )
    }

    /// A button press read as exactly the choice it stands for, when it answers what the
    /// conversation waits on; `None` for a press on an older message (a quote since replaced,
    /// a question already answered), which is then read from its title like typed words — a
    /// stale "Yes" must never confirm whatever happens to be pending now.
    pub fn understand_choice(&self, session: &Session, choice: &Choice) -> Option<Understood> {
        let state = &session.dialogue;
        let fits = match choice {
            Choice::BookIt | Choice::OtherRooms => {
                matches!(state.pending, Some(Pending::BookingConfirmation { .. }))
            }
            Choice::Yes | Choice::No => matches!(
                state.pending,
                Some(
                    Pending::ModificationConfirmation { .. }
                        | Pending::CancellationConfirmation { .. }
                )
            ),
            Choice::TalkToStaff => true,
            Choice::Room(_) => state.asked == Some(Expectation::RoomType),
        };
        if !fits {
            return None;
        }
        let mut entities = Entities::default();
        if let Choice::Room(code) = choice {
            entities.room_type = Some(code.clone());
        }
        let language = state
            .language
            .or(state.locale.map(Locale::language))
            .unwrap_or(Language::Es);
        Some(Understood {
            language,
            intent: choice
                .intent()
                .unwrap_or_else(|| state.flow.map_or(Intent::MakeReservation, flow_intent)),
            confidence: 1.0,
            entities,
            locale: Some(state.locale.unwrap_or(Locale::of(language))),
            from_context: state
                .asked
                .or(state.pending.as_ref().map(|_| Expectation::Confirmation)),
            choice: Some(choice.clone()),
        })
    }

    /// A press on an older message's button, read from its title by the model alone: never as
    /// the answer to what the conversation waits on now, so a stale "Book it" or "Yes" cannot
    /// confirm a cancellation that came after it (a yes or no it reads is out of scope, and the
    /// bot asks again).
    pub fn understand_stale_press(&self, session: &Session, title: &str) -> Understood {
        let zone = session
            .tenant_id
            .as_ref()
            .map_or(chrono_tz::UTC, |t| self.hotels.time_zone(t));
        let state = &session.dialogue;
        let mut understood = self.understanding.understand(
            title,
            &ParseContext {
                today: self.clock.now().with_timezone(&zone).date_naive(),
                prior_language: state.language,
                anchor: booking::anchor(state),
            },
        );
        if matches!(understood.intent, Intent::Affirm | Intent::Deny) {
            understood.intent = Intent::OutOfScope;
        }
        understood.locale = state.locale.or(understood.locale);
        understood
    }

    /// What a reaction answers: a 👍 (❤️, 👌…) on the question still pending is its yes — "Book
    /// it" for a quote — and a 👎 its no; `None` for a reaction to any other message or one that
    /// says neither, which is recorded and needs no answer.
    pub fn understand_reaction(
        &self,
        session: &Session,
        reaction: &Reaction,
    ) -> Option<Understood> {
        let meaning = reaction.meaning()?;
        if !session.reacts_to_open_question(reaction) {
            return None;
        }
        let quote = matches!(
            session.dialogue.pending,
            Some(Pending::BookingConfirmation { .. })
        );
        let choice = match (meaning, quote) {
            (ReactionMeaning::Yes, true) => Choice::BookIt,
            (ReactionMeaning::No, true) => Choice::OtherRooms,
            (ReactionMeaning::Yes, false) => Choice::Yes,
            (ReactionMeaning::No, false) => Choice::No,
        };
        self.understand_choice(session, &choice)
    }

    /// The turn that answers `message`, once understood.
    pub async fn reply(
        &self,
        session: &Session,
        message: &GuestMessage,
        text: &str,
        understood: Understood,
        meta: &EventMetadata,
    ) -> Result<Turn, CommandError> {
        let turn_key = message.provider_message_id.as_str();
        let scene = self.scene(session, turn_key, Some(message.received_at), meta)?;
        let mut state = session.dialogue.clone();
        let locale = understood.locale();
        state.language = Some(understood.language);
        state.locale = Some(locale);
        let mut talk = self.talk(&scene, locale);
        let handoff = if session.handoff.is_some() {
            None
        } else {
            let handoff = self
                .converse(&scene, &understood, text, &mut state, &mut talk)
                .await?;
            state.asked = talk.asked();
            handoff
        };
        Ok(Turn {
            turn_key: turn_key.to_owned(),
            understood: Some(understood),
            model_version: Some(self.model_version().to_owned()),
            dialogue: Some(state),
            replies: talk.replies,
            handoff,
        })
    }

    /// Decides the turn: a handoff, the answer to the question the bot was waiting on, or the
    /// next step of the flow the message starts or continues.
    async fn converse(
        &self,
        scene: &Scene<'_>,
        understood: &Understood,
        text: &str,
        state: &mut DialogueState,
        talk: &mut Talk<'_>,
    ) -> Result<Option<HandoffReason>, CommandError> {
        let desk = scene.profile.business_hours.status(scene.now, scene.zone);
        let threshold = self.settings.low_confidence_threshold;
        if let Some(reason) = handoff::reason(understood, text, desk, threshold, state) {
            return handoff::hand_off(scene, reason, desk, state, talk);
        }
        let intent = understood.intent;
        let answers = matches!(intent, Intent::Affirm | Intent::Deny);
        // What the message asks about the hotel, read once for the whole turn.
        let heard = Heard {
            understood,
            text,
            topics: self
                .understanding
                .hotel_topics(text, talk.locale.language()),
        };
        match state.pending.clone() {
            Some(pending @ Pending::BookingConfirmation { .. }) => {
                if let Some(quoted) = Quoted::of(&pending) {
                    if let Some(outcome) = self.on_quote(scene, &heard, quoted, state, talk).await?
                    {
                        return Ok(outcome);
                    }
                }
            }
            Some(Pending::ModificationConfirmation { reservation_id, .. }) if answers => {
                return self
                    .settle_modification(scene, intent, reservation_id, state, talk)
                    .await;
            }
            Some(Pending::CancellationConfirmation {
                reservation_id,
                fee_minor,
            }) if answers => {
                return self
                    .settle_cancellation(scene, intent, reservation_id, fee_minor, state, talk)
                    .await;
            }
            _ => {}
        }

        let entities = &understood.entities;
        let flow = next_flow(state.flow, understood, !heard.topics.is_empty());
        if flow.is_some() && flow != state.flow {
            state.flow = flow;
            state.slots = Slots {
                email: state.slots.email.take(),
                phone: state.slots.phone.take(),
                ..Slots::default()
            };
            state.pending = None;
        }
        slots::merge(&mut state.slots, entities);
        if state.flow == Some(Flow::Booking) && state.slots.guests.is_none() {
            state.slots.guests = slots::bare_count(text);
        }

        match (flow, intent) {
            (Some(Flow::Booking), _) => self.booking_step(scene, state, talk).await,
            (Some(Flow::Modification), _) => {
                self.modification_step(scene, understood, state, talk).await
            }
            (Some(Flow::Cancellation), _) => {
                self.cancellation_step(scene, understood, state, talk).await
            }
            (None, Intent::Greeting) => {
                talk.say(
                    ReplyKind::Greeting,
                    json!({
                        "name": scene.session.guest_name,
                        "hotel": scene.profile.name.clone().unwrap_or_else(|| scene.tenant.to_string()),
                    }),
                )?;
                if let DeskStatus::Closed { back_at } = desk {
                    talk.say(
                        ReplyKind::DeskClosed,
                        json!({ "back_at": format::back_at(back_at, scene.now.with_timezone(&scene.zone), talk.locale.language()) }),
                    )?;
                }
                Ok(None)
            }
            (None, Intent::Goodbye) => {
                *state = DialogueState {
                    language: state.language,
                    locale: state.locale,
                    last_booking: state.last_booking,
                    slots: Slots {
                        email: state.slots.email.take(),
                        phone: state.slots.phone.take(),
                        ..Slots::default()
                    },
                    ..DialogueState::default()
                };
                talk.say(ReplyKind::Goodbye, json!({}))?;
                Ok(None)
            }
            (None, Intent::HotelInfo) => {
                hotel_info::answer(&scene.profile, &heard.topics, talk)?;
                Ok(None)
            }
            (None, Intent::Affirm | Intent::Deny) => {
                talk.say(ReplyKind::AnythingElse, json!({}))?;
                Ok(None)
            }
            (None, _) => {
                talk.say(ReplyKind::Fallback, json!({}))?;
                Ok(None)
            }
        }
    }

    /// The PMS cannot answer: the guest gets the hotel's contact and staff get the request.
    fn pms_down(
        &self,
        scene: &Scene<'_>,
        err: PmsError,
        state: &mut DialogueState,
        talk: &mut Talk<'_>,
    ) -> Result<Option<HandoffReason>, CommandError> {
        tracing::warn!(error = %err, tenant = %scene.tenant, "PMS unavailable during a conversation");
        state.pending = None;
        talk.say(
            ReplyKind::PmsUnavailable,
            json!({ "contact": scene.profile.contact }),
        )?;
        Ok(Some(HandoffReason::Error))
    }
}

/// The locale replies take when no message of this turn tells it (notices, apologies).
fn conversation_locale(state: &DialogueState) -> Locale {
    state
        .locale
        .or(state.language.map(Locale::of))
        .unwrap_or(Locale::Es)
}

/// The intent a flow stands for: what a message that answers its question continues.
fn flow_intent(flow: Flow) -> Intent {
    match flow {
        Flow::Booking => Intent::MakeReservation,
        Flow::Modification => Intent::ModifyReservation,
        Flow::Cancellation => Intent::CancelReservation,
    }
}

/// The flow a message starts or continues: a booking, a change or a cancellation; `None` for a
/// message outside them (a greeting, a question, a thank-you).
fn next_flow(current: Option<Flow>, understood: &Understood, asks_a_fact: bool) -> Option<Flow> {
    let named_something = !understood.entities.is_empty();
    if understood.from_context.is_some() && current.is_some() {
        return current;
    }
    match understood.intent {
        Intent::CheckAvailability | Intent::MakeReservation | Intent::AskPrice
            if current == Some(Flow::Modification) && named_something =>
        {
            Some(Flow::Modification)
        }
        Intent::CheckAvailability | Intent::MakeReservation | Intent::AskPrice => {
            Some(Flow::Booking)
        }
        Intent::ModifyReservation => Some(Flow::Modification),
        Intent::CancelReservation => Some(Flow::Cancellation),
        // "vale pues me interesa del 10 al 12 de enero": a stay named outside any flow is a
        // booking enquiry, whatever the model made of the words around it.
        Intent::OutOfScope | Intent::Greeting | Intent::Affirm | Intent::Deny
            if understood.entities.names_a_stay_term() =>
        {
            current.or(Some(Flow::Booking))
        }
        // "che, ¿tienen lugar en la suite?": no fact asked about, a room named — a booking.
        Intent::HotelInfo if !asks_a_fact && understood.entities.names_a_stay_term() => {
            current.or(Some(Flow::Booking))
        }
        // A question about the hotel is answered, even when it names a party or a date.
        Intent::HotelInfo | Intent::TalkToHuman | Intent::Goodbye => None,
        _ if named_something => current,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conserje_domain::understanding::{Entities, Language};

    fn understood(intent: Intent) -> Understood {
        Understood {
            language: Language::En,
            intent,
            confidence: 0.9,
            entities: Entities::default(),
            locale: None,
            from_context: None,
            choice: None,
        }
    }

    #[test]
    fn an_answer_to_the_bots_question_continues_the_flow_it_belongs_to() {
        let mut answer = understood(Intent::MakeReservation);
        answer.from_context = Some(Expectation::Change);
        assert_eq!(
            next_flow(Some(Flow::Modification), &answer, false),
            Some(Flow::Modification)
        );
    }

    #[test]
    fn a_request_starts_its_flow_and_small_talk_starts_none() {
        assert_eq!(
            next_flow(None, &understood(Intent::CancelReservation), false),
            Some(Flow::Cancellation)
        );
        assert_eq!(
            next_flow(
                Some(Flow::Booking),
                &understood(Intent::ModifyReservation),
                false
            ),
            Some(Flow::Modification)
        );
        assert_eq!(
            next_flow(Some(Flow::Booking), &understood(Intent::Greeting), false),
            None
        );
        let mut dates = understood(Intent::OutOfScope);
        dates.entities.guests = Some(2);
        assert_eq!(
            next_flow(Some(Flow::Booking), &dates, false),
            Some(Flow::Booking)
        );
    }

    #[test]
    fn a_notice_is_in_the_conversations_variant() {
        let state = DialogueState {
            language: Some(Language::Pt),
            locale: Some(Locale::PtPt),
            ..DialogueState::default()
        };
        assert_eq!(conversation_locale(&state), Locale::PtPt);
        assert_eq!(conversation_locale(&DialogueState::default()), Locale::Es);
    }
}
