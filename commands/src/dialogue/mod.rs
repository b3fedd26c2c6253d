//! The receptionist: one guest message in, one turn out — what was understood, the dialogue state
//! after it, the replies in the guest's language, and whether staff must take over.
//!
//! The dialogue fills the slots of a stay, quotes from the PMS, books through the `Reservation`
//! aggregate (so every booking rule applies, and a broken one is explained to the guest), changes
//! and cancels only after the guest confirms, answers questions from the hotel's facts, and hands
//! the conversation to a person when asked, when it keeps not understanding, or when something
//! fails that the guest would otherwise see.

mod format;
mod slots;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use conserje_domain::guest::MAX_ACTIVE_RESERVATIONS;
use conserje_domain::hotel::{DeskStatus, HotelProfile, HotelProfiles};
use conserje_domain::ports::{Clock, HotelDirectory, Pms, PmsError};
use conserje_domain::pricing::PriceQuote;
use conserje_domain::reservation::{
    ModificationRequest, Reservation, ReservationStatus, MAX_GUESTS,
};
use conserje_domain::session::{
    session_stream_id, DialogueState, Flow, GuestMessage, HandoffReason, Pending, Reply, Session,
    Slots, Turn,
};
use conserje_domain::stay::{StayDates, StayError, MAX_NIGHTS};
use conserje_domain::understanding::{HotelTopic, Intent, Language, Understood};
use conserje_domain::values::{GuestRef, TenantId};
use conserje_domain::EventMetadata;
use serde_json::{json, Value};
use uuid::Uuid;

pub use format::booking_ref;

use crate::replies::ReplyBook;
use crate::reservation_desk::NewReservation;
use crate::understanding::{ParseContext, Understanding};
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

/// The conversation's fixed facts during one turn.
struct Scene<'a> {
    session: &'a Session,
    tenant: TenantId,
    guest: GuestRef,
    channel: String,
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

/// The replies of one turn, rendered in the guest's language as they are decided.
struct Talk<'a> {
    book: &'a ReplyBook,
    profile: &'a HotelProfile,
    language: Language,
    replies: Vec<Reply>,
}

impl Talk<'_> {
    fn say(&mut self, template: &str, context: Value) -> Result<(), CommandError> {
        let text = self
            .book
            .render(self.profile, self.language, template, &context)?;
        self.replies.push(Reply {
            reply_id: Uuid::now_v7(),
            text,
            language: self.language,
            template: template.to_owned(),
        });
        Ok(())
    }

    fn word(&self, template: &str, context: Value) -> Result<String, CommandError> {
        self.book
            .render(self.profile, self.language, template, &context)
    }

    fn room(&self, code: &str) -> String {
        self.word(&format!("room_{code}"), json!({}))
            .unwrap_or_else(|_| code.to_owned())
    }

    fn money(&self, minor: i64, currency: &str) -> String {
        format::money(minor, currency, self.language)
    }

    fn date(&self, day: NaiveDate) -> String {
        format::date(day, self.language)
    }

    /// The context every reply about a stay shares.
    fn stay(&self, room: &str, stay: &StayDates, guests: u32, quote: &PriceQuote) -> Value {
        json!({
            "room": self.room(room),
            "check_in": self.date(stay.check_in),
            "check_out": self.date(stay.check_out),
            "nights": stay.nights(),
            "guests": guests,
            "nightly": self.money(quote.nightly_rate_minor, &quote.currency),
            "discount_percent": quote.discount_percent,
            "discount": self.money(quote.discount_minor, &quote.currency),
            "total": self.money(quote.total_minor, &quote.currency),
        })
    }

    fn reservation(&self, reservation: &Reservation) -> Value {
        let mut context = match &reservation.terms {
            Some(terms) => self.stay(
                terms.room_type.as_str(),
                &terms.stay,
                u32::from(terms.guests),
                &terms.price,
            ),
            None => json!({}),
        };
        if let (Some(id), Value::Object(map)) = (reservation.reservation_id, &mut context) {
            map.insert("booking_ref".into(), json!(booking_ref(id)));
        }
        context
    }
}

fn merged(mut base: Value, extra: Value) -> Value {
    if let (Value::Object(base), Value::Object(extra)) = (&mut base, extra) {
        base.extend(extra);
    }
    base
}

/// The reservation a turn books: laid out as a UUIDv7 (the message's time first), with a hash of
/// the conversation and the message where v7 has random bits, so a message delivered twice books
/// one reservation, not two.
fn reservation_id(session_id: &str, turn_key: &str, at: DateTime<Utc>) -> Uuid {
    let digest = Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("conserje:{session_id}#{turn_key}").as_bytes(),
    );
    let mut bytes = *digest.as_bytes();
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or_default();
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    bytes[6] = (bytes[6] & 0x0f) | 0x70;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes)
}

/// The limits the booking rules set, as the replies that explain them quote them: the numbers
/// come from the domain, so a reply can never state a different rule than the one enforced.
fn rule_limits() -> Value {
    json!({
        "max": MAX_NIGHTS,
        "max_guests": MAX_GUESTS,
        "max_active": MAX_ACTIVE_RESERVATIONS,
    })
}

/// Words that make a request urgent, in the three languages ("urgente" covers es and pt).
fn is_urgent(text: &str) -> bool {
    let lower = text.to_lowercase();
    ["urgente", "urgent", "emergencia", "emergência", "emergency"]
        .iter()
        .any(|w| lower.contains(w))
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
            channel: channel.clone(),
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
    /// arrived), in the conversation's language.
    pub fn notice(
        &self,
        session: &Session,
        turn_key: &str,
        template: &str,
        meta: &EventMetadata,
    ) -> Result<Turn, CommandError> {
        let scene = self.scene(session, turn_key, None, meta)?;
        let mut talk = self.talk(&scene, session.dialogue.language.unwrap_or(Language::Es));
        if session.handoff.is_none() {
            talk.say(template, json!({}))?;
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
        let mut talk = self.talk(&scene, session.dialogue.language.unwrap_or(Language::Es));
        talk.say("handoff_error", json!({ "contact": scene.profile.contact }))?;
        Ok(Turn {
            turn_key: turn_key.to_owned(),
            understood: None,
            model_version: None,
            dialogue: None,
            replies: talk.replies,
            handoff: Some(HandoffReason::Error),
        })
    }

    fn talk<'a>(&'a self, scene: &'a Scene<'_>, language: Language) -> Talk<'a> {
        Talk {
            book: &self.replies,
            profile: &scene.profile,
            language,
            replies: vec![],
        }
    }

    /// Understands `text` (what `message` says, typed or transcribed) and answers it.
    pub async fn answer(
        &self,
        session: &Session,
        message: &GuestMessage,
        text: &str,
        meta: &EventMetadata,
    ) -> Result<Turn, CommandError> {
        let turn_key = message.provider_message_id.as_str();
        let scene = self.scene(session, turn_key, Some(message.received_at), meta)?;
        let understood = self.understanding.understand(
            text,
            &ParseContext {
                today: scene.today,
                prior_language: session.dialogue.language,
            },
        );
        let mut state = session.dialogue.clone();
        state.language = Some(understood.language);
        let mut talk = self.talk(&scene, understood.language);
        let handoff = if session.handoff.is_some() {
            None
        } else {
            self.converse(&scene, &understood, text, &mut state, &mut talk)
                .await?
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

    async fn converse(
        &self,
        scene: &Scene<'_>,
        understood: &Understood,
        text: &str,
        state: &mut DialogueState,
        talk: &mut Talk<'_>,
    ) -> Result<Option<HandoffReason>, CommandError> {
        let confident = understood.confidence >= self.settings.low_confidence_threshold;
        state.low_confidence_streak = if confident {
            0
        } else {
            state.low_confidence_streak.saturating_add(1)
        };
        let desk = scene.profile.business_hours.status(scene.now, scene.zone);
        let urgent = is_urgent(text);
        let reason = match understood.intent {
            Intent::TalkToHuman => Some(HandoffReason::GuestAsked),
            _ if urgent && desk != DeskStatus::Open => Some(HandoffReason::Urgent),
            _ if state.low_confidence_streak >= 2 => Some(HandoffReason::LowConfidence),
            _ => None,
        };
        if let Some(reason) = reason {
            state.pending = None;
            state.low_confidence_streak = 0;
            match (desk, reason) {
                (_, HandoffReason::Urgent) => talk.say("handoff_urgent", json!({}))?,
                (DeskStatus::Closed { back_at }, _) => talk.say(
                    "handoff_after_hours",
                    json!({ "back_at": format::back_at(back_at, scene.now.with_timezone(&scene.zone), talk.language) }),
                )?,
                (DeskStatus::Open, _) => talk.say("handoff", json!({}))?,
            }
            return Ok(Some(reason));
        }

        let entities = &understood.entities;
        let flow = match (state.flow, understood.intent) {
            (_, Intent::CheckAvailability | Intent::MakeReservation | Intent::AskPrice)
                if state.flow == Some(Flow::Modification) && !entities.is_empty() =>
            {
                Some(Flow::Modification)
            }
            (_, Intent::CheckAvailability | Intent::MakeReservation | Intent::AskPrice) => {
                Some(Flow::Booking)
            }
            (_, Intent::ModifyReservation) => Some(Flow::Modification),
            (_, Intent::CancelReservation) => Some(Flow::Cancellation),
            (Some(flow), _) if !entities.is_empty() => Some(flow),
            _ => None,
        };
        if flow.is_some() && flow != state.flow {
            state.flow = flow;
            state.slots = Slots {
                email: state.slots.email.take(),
                phone: state.slots.phone.take(),
                ..Slots::default()
            };
            if flow != Some(Flow::Booking) {
                state.pending = None;
            }
        }
        slots::merge(&mut state.slots, entities);
        if state.flow == Some(Flow::Booking) && state.slots.guests.is_none() {
            state.slots.guests = slots::bare_count(text);
        }

        if let Some(pending) = state.pending.clone() {
            let answered = match (&pending, understood.intent) {
                (Pending::BookingConfirmation { .. }, Intent::Affirm) => true,
                (Pending::BookingConfirmation { .. }, _) => {
                    entities.email.is_some() || entities.phone.is_some()
                }
                (_, Intent::Affirm | Intent::Deny) => true,
                _ => false,
            };
            if answered || understood.intent == Intent::Deny {
                return self
                    .settle(scene, understood.intent, pending, state, talk)
                    .await;
            }
        }

        match (flow, understood.intent) {
            (Some(Flow::Booking), _) => self.booking_step(scene, state, talk).await,
            (Some(Flow::Modification), _) => {
                self.modification_step(scene, understood, state, talk).await
            }
            (Some(Flow::Cancellation), _) => {
                self.cancellation_step(scene, understood, state, talk).await
            }
            (None, Intent::Greeting) => {
                talk.say(
                    "greeting",
                    json!({
                        "name": scene.session.guest_name,
                        "hotel": scene.profile.name.clone().unwrap_or_else(|| scene.tenant.to_string()),
                    }),
                )?;
                if let DeskStatus::Closed { back_at } = desk {
                    talk.say(
                        "desk_closed",
                        json!({ "back_at": format::back_at(back_at, scene.now.with_timezone(&scene.zone), talk.language) }),
                    )?;
                }
                Ok(None)
            }
            (None, Intent::Goodbye) => {
                *state = DialogueState {
                    language: state.language,
                    last_booking: state.last_booking,
                    slots: Slots {
                        email: state.slots.email.take(),
                        phone: state.slots.phone.take(),
                        ..Slots::default()
                    },
                    ..DialogueState::default()
                };
                talk.say("goodbye", json!({}))?;
                Ok(None)
            }
            (None, Intent::HotelInfo) => {
                let topic = self.understanding.hotel_topic(text, talk.language);
                match topic.and_then(|t| scene.profile.fact(t, talk.language)) {
                    Some(fact) => talk.say("hotel_fact", json!({ "fact": fact }))?,
                    None => {
                        let topics = HotelTopic::ALL
                            .into_iter()
                            .filter(|t| scene.profile.fact(*t, talk.language).is_some())
                            .map(|t| talk.word(&format!("topic_{}", t.name()), json!({})))
                            .collect::<Result<Vec<_>, _>>()?;
                        if topics.is_empty() {
                            talk.say("no_facts", json!({ "contact": scene.profile.contact }))?;
                        } else {
                            talk.say("hotel_info_menu", json!({ "topics": topics.join(", ") }))?;
                        }
                    }
                }
                Ok(None)
            }
            (None, Intent::Affirm | Intent::Deny) => {
                talk.say("anything_else", json!({}))?;
                Ok(None)
            }
            (None, _) => {
                talk.say("fallback", json!({}))?;
                Ok(None)
            }
        }
    }

    /// The guest answered the question the bot was waiting on.
    async fn settle(
        &self,
        scene: &Scene<'_>,
        intent: Intent,
        pending: Pending,
        state: &mut DialogueState,
        talk: &mut Talk<'_>,
    ) -> Result<Option<HandoffReason>, CommandError> {
        match pending {
            Pending::BookingConfirmation { .. } if intent == Intent::Deny => {
                state.pending = None;
                let alternatives = match (state.slots.check_in, state.slots.check_out) {
                    (Some(check_in), Some(check_out)) => {
                        let stay = StayDates {
                            check_in,
                            check_out,
                        };
                        self.alternatives(scene, &stay, state.slots.room_type.as_deref(), talk)
                            .await
                    }
                    _ => String::new(),
                };
                talk.say("alternatives", json!({ "alternatives": alternatives }))?;
                Ok(None)
            }
            Pending::BookingConfirmation { room_type, .. } => {
                self.book(scene, &room_type, state, talk).await
            }
            Pending::ModificationConfirmation { reservation_id, .. } => {
                state.pending = None;
                state.flow = None;
                if intent != Intent::Affirm {
                    talk.say("modification_kept", json!({}))?;
                    return Ok(None);
                }
                match self
                    .desk
                    .confirm_modification(reservation_id, scene.meta.clone())
                    .await
                {
                    Ok(done) => {
                        let context = talk.reservation(&done.reservation);
                        talk.say("modified", context)?;
                        Ok(None)
                    }
                    Err(err) => self.explain(scene, err, state, talk),
                }
            }
            Pending::CancellationConfirmation { reservation_id } => {
                state.pending = None;
                state.flow = None;
                if intent != Intent::Affirm {
                    talk.say("cancel_kept", json!({}))?;
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
                        talk.say("cancelled", talk.reservation(&reservation))?;
                        Ok(None)
                    }
                    Err(err) => self.explain(scene, err, state, talk),
                }
            }
        }
    }

    /// Asks for the next missing detail of a stay, or quotes it.
    async fn booking_step(
        &self,
        scene: &Scene<'_>,
        state: &mut DialogueState,
        talk: &mut Talk<'_>,
    ) -> Result<Option<HandoffReason>, CommandError> {
        state.pending = None;
        let slots = state.slots.clone();
        let (Some(check_in), Some(check_out)) = (slots.check_in, slots.check_out) else {
            let template = if slots.check_in.is_some() {
                "ask_check_out"
            } else {
                "ask_dates"
            };
            talk.say(template, json!({}))?;
            return Ok(None);
        };
        let stay = match StayDates::for_availability(check_in, check_out, scene.today) {
            Ok(stay) => stay,
            Err(err) => {
                state.slots.check_in = None;
                state.slots.check_out = None;
                state.slots.nights = None;
                return self.explain_stay(err, talk).map(|_| None);
            }
        };
        let Some(guests) = slots.guests else {
            talk.say("ask_guests", json!({}))?;
            return Ok(None);
        };
        if guests == 0 || guests > MAX_GUESTS {
            state.slots.guests = None;
            talk.say("rule_too_many_guests", rule_limits())?;
            return Ok(None);
        }
        let rates = match self.pms.rates(&scene.tenant).await {
            Ok(rates) => rates,
            Err(err) => return self.pms_down(scene, err, state, talk),
        };
        let room_type = slots
            .room_type
            .as_deref()
            .and_then(|code| rates.iter().find(|(room, _)| room.as_str() == code));
        let Some((room_type, _)) = room_type else {
            state.slots.room_type = None;
            let rooms = rates
                .iter()
                .map(|(room, rate)| {
                    Ok(format!(
                        "{} ({})",
                        talk.room(room.as_str()),
                        talk.word(
                            "per_night",
                            json!({ "price": talk.money(rate.minor, &rate.currency) })
                        )?
                    ))
                })
                .collect::<Result<Vec<_>, CommandError>>()?;
            talk.say("ask_room_type", json!({ "rooms": rooms.join(", ") }))?;
            return Ok(None);
        };
        match self
            .pms
            .availability(&scene.tenant, room_type, &stay, None)
            .await
        {
            Ok(room) if room.available_units > 0 => {
                let quote = PriceQuote::for_stay(&room.nightly_rate, stay.nights());
                talk.say(
                    "quote",
                    talk.stay(room_type.as_str(), &stay, guests, &quote),
                )?;
                state.pending = Some(Pending::BookingConfirmation {
                    room_type: room_type.to_string(),
                    quote,
                });
                Ok(None)
            }
            Ok(_) | Err(PmsError::Unavailable(_)) => {
                let alternatives = self
                    .alternatives(scene, &stay, Some(room_type.as_str()), talk)
                    .await;
                talk.say(
                    "unavailable",
                    json!({ "room": talk.room(room_type.as_str()), "alternatives": alternatives }),
                )?;
                Ok(None)
            }
            Err(err) => self.pms_down(scene, err, state, talk),
        }
    }

    /// Other room types free for `stay`, with their nightly rates, as one line.
    async fn alternatives(
        &self,
        scene: &Scene<'_>,
        stay: &StayDates,
        except: Option<&str>,
        talk: &Talk<'_>,
    ) -> String {
        let Ok(rates) = self.pms.rates(&scene.tenant).await else {
            return String::new();
        };
        let mut free = vec![];
        for (room, _) in rates.iter().filter(|(r, _)| Some(r.as_str()) != except) {
            if let Ok(available) = self.pms.availability(&scene.tenant, room, stay, None).await {
                if available.available_units > 0 {
                    let price = talk.money(
                        available.nightly_rate.minor,
                        &available.nightly_rate.currency,
                    );
                    let per_night = talk
                        .word("per_night", json!({ "price": price }))
                        .unwrap_or(price);
                    free.push(format!("{} ({per_night})", talk.room(room.as_str())));
                }
            }
        }
        free.join(", ")
    }

    /// Books the quoted stay once the guest has confirmed and given what a booking needs.
    async fn book(
        &self,
        scene: &Scene<'_>,
        room_type: &str,
        state: &mut DialogueState,
        talk: &mut Talk<'_>,
    ) -> Result<Option<HandoffReason>, CommandError> {
        let slots = state.slots.clone();
        let Some(email) = slots.email.clone() else {
            talk.say("ask_email", json!({}))?;
            return Ok(None);
        };
        let phone = match (&slots.phone, scene.channel.as_str()) {
            (Some(phone), _) => phone.clone(),
            (None, "whatsapp") => format!("+{}", scene.guest),
            (None, _) => {
                talk.say("ask_phone", json!({}))?;
                return Ok(None);
            }
        };
        let (Some(check_in), Some(check_out), Some(guests)) =
            (slots.check_in, slots.check_out, slots.guests)
        else {
            state.pending = None;
            return self.booking_step(scene, state, talk).await;
        };
        let name = scene
            .session
            .guest_name
            .clone()
            .or_else(|| email.split('@').next().map(str::to_owned))
            .unwrap_or_else(|| scene.guest.to_string());
        let request = NewReservation {
            tenant_id: scene.tenant.clone(),
            guest_ref: Some(scene.guest.clone()),
            name,
            email,
            phone,
            room_type: room_type.to_owned(),
            check_in,
            check_out,
            guests,
            special_requests: None,
        };
        let id = reservation_id(
            &session_stream_id(&scene.tenant, &scene.channel, &scene.guest),
            &scene.turn_key,
            scene.received_at,
        );
        match self.desk.request_as(id, request, scene.meta.clone()).await {
            Ok(reservation) => {
                state.pending = None;
                state.flow = None;
                state.last_booking = reservation.reservation_id;
                state.slots = Slots {
                    email: slots.email,
                    phone: slots.phone,
                    ..Slots::default()
                };
                let template = if reservation.status == ReservationStatus::Confirmed {
                    "booked"
                } else {
                    "booking_received"
                };
                talk.say(template, talk.reservation(&reservation))?;
                Ok(None)
            }
            Err(CommandError::Refused { code, .. })
                if code == "invalid_email" || code == "invalid_phone" =>
            {
                if code == "invalid_email" {
                    state.slots.email = None;
                } else {
                    state.slots.phone = None;
                }
                talk.say(&format!("rule_{code}"), json!({}))?;
                Ok(None)
            }
            Err(err) => {
                state.pending = None;
                self.explain(scene, err, state, talk)
            }
        }
    }

    /// The reservation a modification or cancellation is about, remembered as the conversation's
    /// last booking; `None` (after asking for its number) when the guest named none or one that
    /// is not theirs.
    async fn booking_in_question(
        &self,
        scene: &Scene<'_>,
        understood: &Understood,
        state: &mut DialogueState,
        talk: &mut Talk<'_>,
    ) -> Result<Option<(Uuid, Reservation)>, CommandError> {
        let found = self.find_booking(scene, understood, state).await?;
        let Some((id, reservation)) = found.and_then(|r| r.reservation_id.map(|id| (id, r))) else {
            let template = if understood.entities.booking_id.is_some() {
                "booking_not_found"
            } else {
                "ask_booking_id"
            };
            talk.say(template, json!({}))?;
            return Ok(None);
        };
        state.last_booking = Some(id);
        Ok(Some((id, reservation)))
    }

    /// The reservation a modification or cancellation is about, if it is the guest's.
    async fn find_booking(
        &self,
        scene: &Scene<'_>,
        understood: &Understood,
        state: &DialogueState,
    ) -> Result<Option<Reservation>, CommandError> {
        let id = match understood.entities.booking_id.as_deref() {
            Some(given) => match Uuid::parse_str(given) {
                Ok(id) => Some(id),
                Err(_) => {
                    let fragment = given.replace('-', "").to_lowercase();
                    self.bookings
                        .of_guest(&scene.tenant, &scene.guest)
                        .await?
                        .into_iter()
                        .find(|id| {
                            let hex = id.simple().to_string();
                            !fragment.is_empty()
                                && (hex.starts_with(&fragment) || hex.ends_with(&fragment))
                        })
                }
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

    async fn modification_step(
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
        let slots = &state.slots;
        let current = reservation.terms.as_ref();
        let mut check_in = slots.check_in;
        let mut check_out = slots.check_out;
        if let (Some(terms), Some(new_in), None) = (current, check_in, check_out) {
            // A new check-in alone moves the stay, keeping its length.
            check_out = new_in.checked_add_days(chrono::Days::new(terms.stay.nights() as u64));
        }
        if let (Some(terms), None, Some(nights)) = (current, check_in, slots.nights) {
            check_in = Some(terms.stay.check_in);
            check_out = terms
                .stay
                .check_in
                .checked_add_days(chrono::Days::new(u64::from(nights)));
        }
        let change = ModificationRequest {
            requested_by: Some(scene.guest.clone()),
            room_type: slots.room_type.clone(),
            check_in,
            check_out,
            guests: slots.guests,
        };
        if change.room_type.is_none()
            && change.check_in.is_none()
            && change.check_out.is_none()
            && change.guests.is_none()
        {
            talk.say("ask_modification", talk.reservation(&reservation))?;
            return Ok(None);
        }
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
                talk.say("modification_quote", context)?;
                state.pending = Some(Pending::ModificationConfirmation {
                    reservation_id: id,
                    price_difference_minor: difference,
                    currency: terms.price.currency.clone(),
                });
                Ok(None)
            }
            Err(err) => {
                state.slots = Slots::default();
                self.explain(scene, err, state, talk)
            }
        }
    }

    async fn cancellation_step(
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
            talk.say("rule_already_cancelled", json!({}))?;
            return Ok(None);
        }
        talk.say("cancel_confirm", talk.reservation(&reservation))?;
        state.pending = Some(Pending::CancellationConfirmation { reservation_id: id });
        Ok(None)
    }

    /// Explains a refused command in the guest's words; anything else is an error the guest
    /// would otherwise see, so staff take over.
    fn explain(
        &self,
        scene: &Scene<'_>,
        err: CommandError,
        state: &mut DialogueState,
        talk: &mut Talk<'_>,
    ) -> Result<Option<HandoffReason>, CommandError> {
        match err {
            CommandError::Refused { code, message } => {
                let template = format!("rule_{code}");
                if self.replies.names(talk.language).any(|n| n == template) {
                    talk.say(
                        &template,
                        merged(rule_limits(), json!({ "message": message })),
                    )?;
                } else {
                    talk.say("rule_other", json!({ "message": message }))?;
                }
                Ok(None)
            }
            CommandError::NotFound(_) => {
                talk.say("booking_not_found", json!({}))?;
                Ok(None)
            }
            other => {
                tracing::error!(error = %other, session = ?scene.session.tenant_id, "a guest's request failed; handing off");
                state.pending = None;
                talk.say("handoff_error", json!({ "contact": scene.profile.contact }))?;
                Ok(Some(HandoffReason::Error))
            }
        }
    }

    fn explain_stay(&self, err: StayError, talk: &mut Talk<'_>) -> Result<(), CommandError> {
        match err {
            StayError::StayTooLong { nights, max } => talk.say(
                "rule_stay_too_long",
                json!({ "nights": nights, "max": max }),
            ),
            StayError::CheckInInPast(_) => talk.say("rule_check_in_in_past", json!({})),
            StayError::CheckOutNotAfterCheckIn => {
                talk.say("rule_check_out_not_after_check_in", json!({}))
            }
            StayError::BookingTooFarAhead { .. } => {
                talk.say("rule_booking_too_far_ahead", json!({}))
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
            "pms_unavailable",
            json!({ "contact": scene.profile.contact }),
        )?;
        Ok(Some(HandoffReason::Error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_turn_books_under_one_stable_uuid_v7_of_its_message() {
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
        let id = reservation_id("default/whatsapp/34600111222", "wamid.1", at);
        assert_eq!(id.get_version_num(), 7);
        assert_eq!(
            id,
            reservation_id("default/whatsapp/34600111222", "wamid.1", at),
            "a redelivered message books the same reservation"
        );
        assert_ne!(
            id,
            reservation_id("default/whatsapp/34600111222", "wamid.2", at)
        );
        let (seconds, _) = id.get_timestamp().unwrap().to_unix();
        assert_eq!(seconds, at.timestamp() as u64);
    }
}
