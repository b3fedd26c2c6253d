//! The replies of one turn, rendered in the guest's locale as the dialogue decides them, and the
//! context every reply about a stay shares.

use chrono::NaiveDate;
use conserje_domain::choice::{Button, Choice, Choices};
use conserje_domain::guest::MAX_ACTIVE_RESERVATIONS;
use conserje_domain::hotel::HotelProfile;
use conserje_domain::pricing::PriceQuote;
use conserje_domain::reservation::{Reservation, MAX_GUESTS};
use conserje_domain::session::Reply;
use conserje_domain::stay::{StayDates, MAX_NIGHTS};
use conserje_domain::understanding::{Expectation, Locale};
use serde_json::{json, Value};
use uuid::Uuid;

use super::format::{self, booking_ref};
use crate::replies::{ReplyBook, ReplyKind};
use crate::CommandError;

pub(super) struct Talk<'a> {
    pub book: &'a ReplyBook,
    pub profile: &'a HotelProfile,
    pub locale: Locale,
    pub replies: Vec<Reply>,
    /// The kinds said, in order: the last question among them is what the next message answers.
    said: Vec<ReplyKind>,
}

impl<'a> Talk<'a> {
    pub fn new(book: &'a ReplyBook, profile: &'a HotelProfile, locale: Locale) -> Self {
        Self {
            book,
            profile,
            locale,
            replies: vec![],
            said: vec![],
        }
    }

    pub fn say(&mut self, kind: ReplyKind, context: Value) -> Result<(), CommandError> {
        let text = self
            .book
            .render(self.profile, self.locale, kind, &context)?;
        let buttons = buttons_of(kind)
            .iter()
            .map(|(choice, label)| {
                Ok(Button {
                    choice: choice.clone(),
                    title: self.word(*label, json!({}))?,
                    description: None,
                })
            })
            .collect::<Result<Vec<_>, CommandError>>()?;
        let choices = if buttons.is_empty() {
            None
        } else {
            Some(Choices {
                menu: self.word(ReplyKind::ButtonMenu, json!({}))?,
                buttons,
            })
        };
        self.replies.push(Reply {
            reply_id: Uuid::now_v7(),
            text,
            language: self.locale.language(),
            locale: Some(self.locale),
            template: kind.name().to_owned(),
            message_template: None,
            choices,
            proactive: None,
        });
        self.said.push(kind);
        Ok(())
    }

    /// Offers the room types `rooms` (code, and a second line such as the price a night) as
    /// buttons on the last reply: a press answers "which room?" exactly.
    pub fn offer_rooms(&mut self, rooms: &[(String, String)]) -> Result<(), CommandError> {
        let buttons = rooms
            .iter()
            .map(|(code, description)| Button {
                choice: Choice::Room(code.clone()),
                title: capitalized(&self.room(code)),
                description: Some(description.clone()),
            })
            .collect::<Vec<_>>();
        let menu = self.word(ReplyKind::ButtonRoomsMenu, json!({}))?;
        if let Some(last) = self.replies.last_mut() {
            last.choices = Some(Choices { menu, buttons });
        }
        Ok(())
    }

    /// A word or phrase to put inside a reply ("breakfast", "{{ price }}/night").
    pub fn word(&self, kind: ReplyKind, context: Value) -> Result<String, CommandError> {
        self.book.render(self.profile, self.locale, kind, &context)
    }

    /// What the guest's next message answers, from the last question of this turn.
    pub fn asked(&self) -> Option<Expectation> {
        self.said.iter().rev().find_map(|kind| expects(*kind))
    }

    pub fn room(&self, code: &str) -> String {
        self.book.room(self.profile, self.locale, code)
    }

    pub fn money(&self, minor: i64, currency: &str) -> String {
        format::money(minor, currency, self.locale.language())
    }

    pub fn date(&self, day: NaiveDate) -> String {
        format::date(day, self.locale)
    }

    /// "double room (EUR 120.00/night)".
    pub fn room_at(&self, code: &str, minor: i64, currency: &str) -> Result<String, CommandError> {
        let price = self.money(minor, currency);
        let per_night = self.word(ReplyKind::PerNight, json!({ "price": price }))?;
        Ok(format!("{} ({per_night})", self.room(code)))
    }

    /// The context every reply about a stay shares.
    pub fn stay(&self, room: &str, stay: &StayDates, guests: u32, quote: &PriceQuote) -> Value {
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

    pub fn reservation(&self, reservation: &Reservation) -> Value {
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

/// The buttons a reply offers, each with the reply that titles it.
fn buttons_of(kind: ReplyKind) -> &'static [(Choice, ReplyKind)] {
    const QUOTE: &[(Choice, ReplyKind)] = &[
        (Choice::BookIt, ReplyKind::ButtonBook),
        (Choice::OtherRooms, ReplyKind::ButtonOtherRooms),
        (Choice::TalkToStaff, ReplyKind::ButtonStaff),
    ];
    const YES_NO: &[(Choice, ReplyKind)] = &[
        (Choice::Yes, ReplyKind::ButtonYes),
        (Choice::No, ReplyKind::ButtonNo),
    ];
    match kind {
        ReplyKind::Quote => QUOTE,
        ReplyKind::ModificationQuote | ReplyKind::CancelConfirm | ReplyKind::CancelFee => YES_NO,
        _ => &[],
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The answer a reply asks for, if it asks one.
fn expects(kind: ReplyKind) -> Option<Expectation> {
    Some(match kind {
        ReplyKind::AskDates => Expectation::Dates,
        ReplyKind::AskCheckOut => Expectation::CheckOut,
        ReplyKind::AskGuests => Expectation::Guests,
        ReplyKind::AskRoomType
        | ReplyKind::Alternatives
        | ReplyKind::Unavailable
        | ReplyKind::Cheaper => Expectation::RoomType,
        ReplyKind::AskEmail | ReplyKind::RuleInvalidEmail => Expectation::Email,
        ReplyKind::AskPhone | ReplyKind::RuleInvalidPhone => Expectation::Phone,
        ReplyKind::AskBookingId | ReplyKind::BookingNotFound => Expectation::BookingNumber,
        ReplyKind::AskModification => Expectation::Change,
        ReplyKind::RuleStayTooLong
        | ReplyKind::RuleCheckInInPast
        | ReplyKind::RuleBookingTooFarAhead
        | ReplyKind::RuleCheckOutNotAfterCheckIn => Expectation::Dates,
        ReplyKind::RuleTooManyGuests => Expectation::Guests,
        _ => return None,
    })
}

pub(super) fn merged(mut base: Value, extra: Value) -> Value {
    if let (Value::Object(base), Value::Object(extra)) = (&mut base, extra) {
        base.extend(extra);
    }
    base
}

/// The limits the booking rules set, as the replies that explain them quote them: the numbers
/// come from the domain, so a reply can never state a different rule than the one enforced.
pub(super) fn rule_limits() -> Value {
    json!({
        "max": MAX_NIGHTS,
        "max_guests": MAX_GUESTS,
        "max_active": MAX_ACTIVE_RESERVATIONS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_question_of_a_turn_is_what_the_next_message_answers() {
        let book = ReplyBook::built_in().unwrap();
        let profile = HotelProfile::default();
        let mut talk = Talk::new(&book, &profile, Locale::En);
        assert_eq!(talk.asked(), None);
        talk.say(ReplyKind::HotelFact, json!({ "fact": "Breakfast at 7." }))
            .unwrap();
        assert_eq!(talk.asked(), None);
        talk.say(ReplyKind::AskRoomType, json!({ "rooms": "" }))
            .unwrap();
        assert_eq!(talk.asked(), Some(Expectation::RoomType));
        assert_eq!(talk.replies[1].locale, Some(Locale::En));
        assert_eq!(talk.replies[1].template, "ask_room_type");
    }

    #[test]
    fn a_quote_asks_for_a_confirmation_not_a_slot() {
        assert_eq!(expects(ReplyKind::Quote), None);
        assert_eq!(
            expects(ReplyKind::Alternatives),
            Some(Expectation::RoomType)
        );
    }
}
