//! Booking a stay: ask only for what is missing, quote it, and book exactly what was quoted once
//! the guest says yes to that quote.
//!
//! Never a wrong booking: the quote the guest sees is kept whole on `Pending` (room, dates,
//! party, total), a yes books those terms and nothing else, and any message that changes one of
//! them — "actually the 10th to the 14th", "make it 3 nights", "the double then" — is a
//! correction that keeps the rest and produces a new quote to say yes to.

use chrono::{DateTime, Utc};
use conserje_domain::pricing::PriceQuote;
use conserje_domain::reservation::{ReservationStatus, MAX_GUESTS};
use conserje_domain::session::{
    session_stream_id, DialogueState, Flow, HandoffReason, Pending, Slots,
};
use conserje_domain::stay::{StayDates, StayError};
use conserje_domain::understanding::{Entities, Expectation, Intent};
use conserje_domain::values::Channel;
use serde_json::json;
use uuid::Uuid;

use super::talk::{rule_limits, Talk};
use super::{explanations, hotel_info, slots, Heard, Receptionist, Scene};
use crate::replies::ReplyKind;
use crate::reservation_desk::NewReservation;
use crate::CommandError;

/// The stay exactly as quoted, which a yes books.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Quoted {
    pub room_type: String,
    pub quote: PriceQuote,
    pub check_in: Option<chrono::NaiveDate>,
    pub check_out: Option<chrono::NaiveDate>,
    pub guests: Option<u32>,
}

impl Quoted {
    pub fn of(pending: &Pending) -> Option<Self> {
        match pending {
            Pending::BookingConfirmation {
                room_type,
                quote,
                check_in,
                check_out,
                guests,
            } => Some(Self {
                room_type: room_type.clone(),
                quote: quote.clone(),
                check_in: *check_in,
                check_out: *check_out,
                guests: *guests,
            }),
            _ => None,
        }
    }
}

/// Whether a message asks for other terms than the quoted ones: "no, suite no" names the quoted
/// room and is a no, not a correction.
pub(super) fn changes_the_quote(entities: &Entities, quoted: &Quoted) -> bool {
    let differs = |given: Option<chrono::NaiveDate>, quoted: Option<chrono::NaiveDate>| {
        given.is_some() && given != quoted
    };
    differs(entities.check_in, quoted.check_in)
        || differs(entities.check_out, quoted.check_out)
        || entities
            .nights
            .is_some_and(|n| i64::from(n) != quoted.quote.nights)
        || entities.guests.is_some() && entities.guests != quoted.guests
        || entities
            .room_type
            .as_ref()
            .is_some_and(|r| *r != quoted.room_type)
}

/// The refusal for a contact detail the bot asked for and the guest gave in a form that does not
/// validate ("+44 7700 900123" is a drama number, "ana@gmail" lacks its domain).
pub(super) fn unreadable_contact(
    asked: Option<Expectation>,
    entities: &Entities,
    text: &str,
) -> Option<ReplyKind> {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    match asked {
        Some(Expectation::Phone) if entities.phone.is_none() && digits >= 7 => {
            Some(ReplyKind::RuleInvalidPhone)
        }
        Some(Expectation::Email) if entities.email.is_none() && text.contains('@') => {
            Some(ReplyKind::RuleInvalidEmail)
        }
        _ => None,
    }
}

/// What to ask next while the dates are incomplete.
pub(super) fn missing_dates(slots: &Slots) -> Option<ReplyKind> {
    match (slots.check_in, slots.check_out) {
        (Some(_), Some(_)) => None,
        (Some(_), None) => Some(ReplyKind::AskCheckOut),
        (None, _) => Some(ReplyKind::AskDates),
    }
}

/// Forgets the dates a broken rule makes useless. A stay that is only too long keeps its
/// check-in, so "then 90 nights" after the 91-night refusal starts on the same day.
pub(super) fn forget_broken_dates(slots: &mut Slots, err: &StayError) {
    if !matches!(err, StayError::StayTooLong { .. }) {
        slots.check_in = None;
    }
    slots.check_out = None;
    slots.nights = None;
}

/// The check-in of the stay being talked about (the quote's, else the slots'): a correction
/// that names only days ("the 10th to the 14th") means that month, not this one.
pub(super) fn anchor(state: &DialogueState) -> Option<chrono::NaiveDate> {
    state
        .pending
        .as_ref()
        .and_then(Quoted::of)
        .and_then(|q| q.check_in)
        .or(state.slots.check_in)
}

/// The reservation a turn books: laid out as a UUIDv7 (the message's time first), with a hash of
/// the conversation and the message where v7 has random bits, so a message delivered twice books
/// one reservation, not two.
pub(super) fn reservation_id(session_id: &str, turn_key: &str, at: DateTime<Utc>) -> Uuid {
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

impl Receptionist {
    /// Asks for the next missing detail of a stay, or quotes it.
    pub(super) async fn booking_step(
        &self,
        scene: &Scene<'_>,
        state: &mut DialogueState,
        talk: &mut Talk<'_>,
    ) -> Result<Option<HandoffReason>, CommandError> {
        state.pending = None;
        if let Some(question) = missing_dates(&state.slots) {
            talk.say(question, json!({}))?;
            return Ok(None);
        }
        let slots = state.slots.clone();
        let (Some(check_in), Some(check_out)) = (slots.check_in, slots.check_out) else {
            return Ok(None);
        };
        // The booking rules, checked before quoting: a stay that cannot be booked is never
        // quoted (an explicit year beyond a year ahead is refused, not moved).
        let stay = match StayDates::for_booking(check_in, check_out, scene.today) {
            Ok(stay) => stay,
            Err(err) => {
                forget_broken_dates(&mut state.slots, &err);
                let (kind, context) = explanations::stay_rule(&err);
                talk.say(kind, context)?;
                return Ok(None);
            }
        };
        let Some(guests) = slots.guests else {
            talk.say(ReplyKind::AskGuests, json!({}))?;
            return Ok(None);
        };
        if guests == 0 || guests > MAX_GUESTS {
            state.slots.guests = None;
            talk.say(ReplyKind::RuleTooManyGuests, rule_limits())?;
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
                .map(|(room, rate)| talk.room_at(room.as_str(), rate.minor, &rate.currency))
                .collect::<Result<Vec<_>, CommandError>>()?;
            talk.say(ReplyKind::AskRoomType, json!({ "rooms": rooms.join(", ") }))?;
            let offered = rates
                .iter()
                .map(|(room, rate)| {
                    let price = talk.money(rate.minor, &rate.currency);
                    let per_night = talk.word(ReplyKind::PerNight, json!({ "price": price }))?;
                    Ok((room.as_str().to_owned(), per_night))
                })
                .collect::<Result<Vec<_>, CommandError>>()?;
            talk.offer_rooms(&offered)?;
            return Ok(None);
        };
        match self
            .pms
            .availability(&scene.tenant, room_type, &stay, None)
            .await
        {
            Ok(room) if room.available_units > 0 => {
                // Figures the PMS could not confirm now are given with their age: the guest
                // decides on them knowing the hotel still has to confirm.
                if let Some(as_of) = room.freshness.stale_since() {
                    let minutes = (scene.received_at - as_of).num_minutes().max(0);
                    talk.say(ReplyKind::QuoteAsOf, json!({ "minutes": minutes }))?;
                }
                let quote = PriceQuote::for_stay(&room.nightly_rate, stay.nights());
                talk.say(
                    ReplyKind::Quote,
                    talk.stay(room_type.as_str(), &stay, guests, &quote),
                )?;
                state.pending = Some(Pending::BookingConfirmation {
                    room_type: room_type.to_string(),
                    quote,
                    check_in: Some(stay.check_in),
                    check_out: Some(stay.check_out),
                    guests: Some(guests),
                });
                Ok(None)
            }
            Ok(_) | Err(conserje_domain::ports::PmsError::Unavailable(_)) => {
                let alternatives = self
                    .alternatives(scene, &stay, Some(room_type.as_str()), None, talk)
                    .await;
                talk.say(
                    ReplyKind::Unavailable,
                    json!({ "room": talk.room(room_type.as_str()), "alternatives": alternatives }),
                )?;
                Ok(None)
            }
            Err(err) => self.pms_down(scene, err, state, talk),
        }
    }

    /// A message while a quote waits for its yes. `None` when the message is about something
    /// else (another flow), which the caller routes as usual.
    pub(super) async fn on_quote(
        &self,
        scene: &Scene<'_>,
        heard: &Heard<'_>,
        quoted: Quoted,
        state: &mut DialogueState,
        talk: &mut Talk<'_>,
    ) -> Result<Option<Option<HandoffReason>>, CommandError> {
        let (understood, text, topics) = (heard.understood, heard.text, &heard.topics[..]);
        // "one more person": the quote's party plus that many.
        let mut entities = understood.entities.clone();
        if let (None, Some(extra), Some(party)) =
            (entities.guests, entities.extra_guests, quoted.guests)
        {
            entities.guests = Some(party + extra);
        }
        let entities = &entities;
        // The e-mail or phone the bot asked for, written so that it does not validate: say so
        // and ask again, rather than read the digits as something else.
        if let Some(kind) = unreadable_contact(state.asked, entities, text) {
            talk.say(kind, json!({}))?;
            return Ok(Some(None));
        }
        if changes_the_quote(entities, &quoted) {
            state.flow = Some(Flow::Booking);
            slots::merge(&mut state.slots, entities);
            return self.booking_step(scene, state, talk).await.map(Some);
        }
        if self.understanding.asks_cheaper(text) {
            return self.cheaper(scene, &quoted, state, talk).await.map(Some);
        }
        // A question about the hotel ("is the wifi free?") is answered and the quote stands,
        // even when the model took its words for another request.
        let answers = matches!(understood.intent, Intent::Affirm | Intent::Deny);
        if understood.intent == Intent::HotelInfo || (!topics.is_empty() && !answers) {
            hotel_info::answer(&scene.profile, topics, talk)?;
            return Ok(Some(None));
        }
        let contact_given = entities.email.is_some() || entities.phone.is_some();
        if understood.intent == Intent::Affirm || contact_given {
            slots::merge(&mut state.slots, entities);
            return self.book(scene, &quoted, state, talk).await.map(Some);
        }
        if understood.intent == Intent::Deny {
            state.pending = None;
            let alternatives = self.other_rooms(scene, &quoted, None, state, talk).await;
            talk.say(
                ReplyKind::Alternatives,
                json!({ "alternatives": alternatives }),
            )?;
            return Ok(Some(None));
        }
        Ok(None)
    }

    /// The other free room types for the quoted stay (cheaper than `below` a night, when
    /// given), as one line; empty when the quote has no dates left to look at.
    async fn other_rooms(
        &self,
        scene: &Scene<'_>,
        quoted: &Quoted,
        below: Option<i64>,
        state: &DialogueState,
        talk: &Talk<'_>,
    ) -> String {
        let (Some(check_in), Some(check_out)) = (
            quoted.check_in.or(state.slots.check_in),
            quoted.check_out.or(state.slots.check_out),
        ) else {
            return String::new();
        };
        let stay = StayDates {
            check_in,
            check_out,
        };
        self.alternatives(scene, &stay, Some(&quoted.room_type), below, talk)
            .await
    }

    /// "Something cheaper?": the free room types below the quoted rate; the quote stands when
    /// there is none.
    async fn cheaper(
        &self,
        scene: &Scene<'_>,
        quoted: &Quoted,
        state: &mut DialogueState,
        talk: &mut Talk<'_>,
    ) -> Result<Option<HandoffReason>, CommandError> {
        let below = Some(quoted.quote.nightly_rate_minor);
        let alternatives = self.other_rooms(scene, quoted, below, state, talk).await;
        if !alternatives.is_empty() {
            state.pending = None;
            state.slots.room_type = None;
        }
        talk.say(
            ReplyKind::Cheaper,
            json!({ "alternatives": alternatives, "room": talk.room(&quoted.room_type) }),
        )?;
        Ok(None)
    }

    /// Other room types free for `stay` (cheaper than `below` a night, when given), with their
    /// nightly rates, as one line.
    async fn alternatives(
        &self,
        scene: &Scene<'_>,
        stay: &StayDates,
        except: Option<&str>,
        below: Option<i64>,
        talk: &Talk<'_>,
    ) -> String {
        let Ok(rates) = self.pms.rates(&scene.tenant).await else {
            return String::new();
        };
        let mut free = vec![];
        for (room, _) in rates.iter().filter(|(r, _)| Some(r.as_str()) != except) {
            let Ok(available) = self.pms.availability(&scene.tenant, room, stay, None).await else {
                continue;
            };
            let rate = &available.nightly_rate;
            if available.available_units > 0 && below.is_none_or(|max| rate.minor < max) {
                if let Ok(line) = talk.room_at(room.as_str(), rate.minor, &rate.currency) {
                    free.push(line);
                }
            }
        }
        free.join(", ")
    }

    /// Books the quoted stay once the guest has said yes and given what a booking needs.
    async fn book(
        &self,
        scene: &Scene<'_>,
        quoted: &Quoted,
        state: &mut DialogueState,
        talk: &mut Talk<'_>,
    ) -> Result<Option<HandoffReason>, CommandError> {
        let slots = state.slots.clone();
        let Some(email) = slots.email.clone() else {
            talk.say(ReplyKind::AskEmail, json!({}))?;
            return Ok(None);
        };
        let phone = match (&slots.phone, scene.channel) {
            (Some(phone), _) => phone.clone(),
            // A WhatsApp id is the guest's phone number.
            (None, Channel::WhatsApp) => format!("+{}", scene.guest),
            (None, _) => {
                talk.say(ReplyKind::AskPhone, json!({}))?;
                return Ok(None);
            }
        };
        let terms = (
            quoted.check_in.or(slots.check_in),
            quoted.check_out.or(slots.check_out),
            quoted.guests.or(slots.guests),
        );
        let (Some(check_in), Some(check_out), Some(guests)) = terms else {
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
            room_type: quoted.room_type.clone(),
            check_in,
            check_out,
            guests,
            special_requests: None,
            conversation: Some(session_stream_id(
                &scene.tenant,
                scene.channel,
                &scene.guest,
            )),
        };
        let id = reservation_id(
            &session_stream_id(&scene.tenant, scene.channel, &scene.guest),
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
                let kind = if reservation.status == ReservationStatus::Confirmed {
                    ReplyKind::Booked
                } else {
                    ReplyKind::BookingReceived
                };
                talk.say(kind, talk.reservation(&reservation))?;
                Ok(None)
            }
            Err(CommandError::Refused { code, .. })
                if code == "invalid_email" || code == "invalid_phone" =>
            {
                let kind = if code == "invalid_email" {
                    state.slots.email = None;
                    ReplyKind::RuleInvalidEmail
                } else {
                    state.slots.phone = None;
                    ReplyKind::RuleInvalidPhone
                };
                talk.say(kind, json!({}))?;
                Ok(None)
            }
            Err(err) => {
                state.pending = None;
                explanations::refusal(scene, err, state, talk)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

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

    #[test]
    fn any_term_of_a_stay_corrects_a_quote_and_contact_details_do_not() {
        assert!((Entities {
            nights: Some(3),
            ..Entities::default()
        })
        .names_a_stay_term());
        assert!((Entities {
            room_type: Some("double".into()),
            ..Entities::default()
        })
        .names_a_stay_term());
        assert!(!(Entities {
            email: Some("ana@example.com".into()),
            ..Entities::default()
        })
        .names_a_stay_term());
    }

    #[test]
    fn a_stay_too_long_keeps_its_check_in_and_other_broken_dates_are_forgotten() {
        let full = Slots {
            check_in: Some(d("2027-03-04")),
            check_out: Some(d("2027-06-03")),
            nights: Some(91),
            ..Slots::default()
        };
        let mut slots = full.clone();
        forget_broken_dates(
            &mut slots,
            &StayError::StayTooLong {
                nights: 91,
                max: 90,
            },
        );
        assert_eq!(
            (slots.check_in, slots.check_out, slots.nights),
            (Some(d("2027-03-04")), None, None)
        );
        let mut slots = full;
        forget_broken_dates(&mut slots, &StayError::CheckInInPast(d("2027-03-04")));
        assert_eq!(slots.check_in, None);
        assert_eq!(missing_dates(&slots), Some(ReplyKind::AskDates));
    }

    #[test]
    fn naming_the_quoted_terms_again_is_no_correction() {
        let quoted = Quoted {
            room_type: "suite".into(),
            quote: PriceQuote::for_stay(&conserje_domain::values::Money::new(30_000, "EUR"), 3),
            check_in: Some(d("2027-03-04")),
            check_out: Some(d("2027-03-07")),
            guests: Some(2),
        };
        let same_room = Entities {
            room_type: Some("suite".into()),
            ..Entities::default()
        };
        assert!(!changes_the_quote(&same_room, &quoted));
        let other_room = Entities {
            room_type: Some("double".into()),
            ..Entities::default()
        };
        assert!(changes_the_quote(&other_room, &quoted));
        let same_nights = Entities {
            nights: Some(3),
            ..Entities::default()
        };
        assert!(!changes_the_quote(&same_nights, &quoted));
    }

    #[test]
    fn a_contact_detail_that_does_not_validate_is_asked_again() {
        let none = Entities::default();
        assert_eq!(
            unreadable_contact(Some(Expectation::Phone), &none, "+44 7700 900123"),
            Some(ReplyKind::RuleInvalidPhone)
        );
        assert_eq!(
            unreadable_contact(Some(Expectation::Email), &none, "ana@gmail"),
            Some(ReplyKind::RuleInvalidEmail)
        );
        assert_eq!(
            unreadable_contact(Some(Expectation::Phone), &none, "why?"),
            None
        );
        assert_eq!(unreadable_contact(None, &none, "+44 7700 900123"), None);
    }

    #[test]
    fn the_dates_are_asked_for_before_anything_else() {
        let mut slots = Slots::default();
        assert_eq!(missing_dates(&slots), Some(ReplyKind::AskDates));
        slots.check_in = Some(d("2027-03-04"));
        assert_eq!(missing_dates(&slots), Some(ReplyKind::AskCheckOut));
        slots.check_out = Some(d("2027-03-06"));
        assert_eq!(missing_dates(&slots), None);
    }

    #[test]
    fn a_yes_books_the_terms_of_the_quote_it_answers() {
        let quote = PriceQuote::for_stay(&conserje_domain::values::Money::new(9_000, "EUR"), 2);
        let pending = Pending::BookingConfirmation {
            room_type: "standard".into(),
            quote: quote.clone(),
            check_in: Some(d("2027-03-04")),
            check_out: Some(d("2027-03-06")),
            guests: Some(2),
        };
        let quoted = Quoted::of(&pending).unwrap();
        assert_eq!(quoted.check_in, Some(d("2027-03-04")));
        assert_eq!(quoted.quote, quote);
        assert!(Quoted::of(&Pending::CancellationConfirmation {
            fee_minor: None,
            reservation_id: Uuid::nil()
        })
        .is_none());
    }
}
