//! Reading a message as the answer to what the bot asked.
//!
//! Every sentence understood on its own is not a conversation understood: after "Shall I book
//! it?", "great, go ahead and book it" is a yes, not a new booking request to quote again; after
//! "Which room type?", "a king would be nice" is the room, not an unsure message that counts
//! towards a handoff. So, like Rasa's forms filling slots "from the active loop", the
//! expectation is tried first, and the turn records that context decided it.

use conserje_domain::understanding::{Expectation, HotelTopic, Intent, Locale, Understood};

mod answers;
mod party;
mod requests;
mod words;

pub use answers::{asks_cheaper, yes_or_no};
pub use party::party_size;
pub use requests::{asks_about_cancelling, reads_as_new_booking};

use answers::{closes, greets, leaves_it, signs_off};
use requests::{
    asks_for_a_person, changes_a_named_booking, speaks_of_their_booking, wants_a_person,
};
use words::CANCELLING;

/// What the dialogue is waiting for when a message arrives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DialogueContext {
    /// What the bot's last message asked for.
    pub expecting: Option<Expectation>,
    /// The intent of the flow the conversation is in (`make_reservation` while booking,
    /// `modify_reservation`, `cancel_reservation`): what a slot answer continues.
    pub flow_intent: Option<Intent>,
    /// The variant of the guest's language the conversation has shown so far.
    pub prior_locale: Option<Locale>,
}

/// Whether a message names anything of a stay: then it changes the stay, whatever else it says.
pub(super) fn changes_the_stay(understood: &Understood) -> bool {
    understood.entities.names_a_stay_term()
}

/// Intents a guest means whatever the bot asked: a person, a goodbye, the hotel's facts.
fn stands_alone(understood: &Understood, words: &[String]) -> bool {
    match understood.intent {
        Intent::TalkToHuman => asks_for_a_person(words) || !changes_the_stay(understood),
        Intent::HotelInfo | Intent::Goodbye => understood.confidence >= 0.6,
        _ => false,
    }
}

/// Reads `understood` (the model's reading of `words`) against what the dialogue expects.
pub fn read(understood: &mut Understood, words: &[String], context: &DialogueContext) {
    let Some(expecting) = context.expecting else {
        return;
    };
    if stands_alone(understood, words) {
        return;
    }
    let flow = context.flow_intent.unwrap_or(Intent::MakeReservation);
    match expecting {
        Expectation::Confirmation => {
            // "anything cheaper, please?" is a question, not a yes; a bare yes or no the rules
            // already read (confidence 0.97) stands.
            let settled = matches!(understood.intent, Intent::Affirm | Intent::Deny)
                && understood.confidence >= 0.9;
            if settled || asks_cheaper(words) {
                return;
            }
            match yes_or_no(words, understood.language, context.flow_intent) {
                // "no, the double then": a no that also changes the stay.
                Some(false) => decide(understood, Intent::Deny, expecting),
                Some(true) if !changes_the_stay(understood) => {
                    decide(understood, Intent::Affirm, expecting)
                }
                // A correction of the quote ("only 3 nights actually") is understood as one,
                // whatever the model's confidence in its intent.
                _ if changes_the_stay(understood) => {
                    understood.confidence = understood.confidence.max(0.9);
                    understood.from_context = Some(expecting);
                }
                _ => {}
            }
        }
        Expectation::Dates
        | Expectation::CheckOut
        | Expectation::Guests
        | Expectation::RoomType
        | Expectation::Change => {
            if changes_the_stay(understood) {
                decide(understood, flow, expecting);
            }
        }
        Expectation::Email => {
            if understood.entities.email.is_some() {
                decide(understood, flow, expecting);
            }
        }
        Expectation::Phone => {
            if understood.entities.phone.is_some() {
                decide(understood, flow, expecting);
            }
        }
        Expectation::BookingNumber => {
            if understood.entities.booking_id.is_some() {
                decide(understood, flow, expecting);
            }
        }
    }
}

fn decide(understood: &mut Understood, intent: Intent, expecting: Expectation) {
    understood.intent = intent;
    understood.confidence = understood.confidence.max(0.9);
    understood.from_context = Some(expecting);
}

/// Readings that do not depend on the question: a goodbye, a new booking the model mistook
/// for a change, a party size answered in few words.
pub fn rules(understood: &mut Understood, words: &[String], context: &DialogueContext) {
    if understood.intent == Intent::ModifyReservation
        && understood.entities.booking_id.is_none()
        && reads_as_new_booking(words)
    {
        understood.intent = Intent::MakeReservation;
    }
    if matches!(
        understood.intent,
        Intent::MakeReservation | Intent::CheckAvailability | Intent::AskPrice
    ) && changes_a_named_booking(understood, words)
    {
        understood.intent = Intent::ModifyReservation;
    }
    // "tienen parqueadero? vamos en carro y nos quedamos 3 noches": a question about the hotel
    // the model half took for a booking enquiry.
    let booking_ish = matches!(
        understood.intent,
        Intent::MakeReservation | Intent::CheckAvailability | Intent::AskPrice
    );
    let names_the_stay = understood.entities.names_dates_or_room();
    // "how much is the parking per day?", "y la plaza de parking hay que reservarla antes?": the
    // price or the booking of a hotel service is a question about the hotel.
    let unsure_request = booking_ish && understood.confidence < 0.5;
    let topic = crate::understanding::topics::topic(words, understood.language);
    // Services a guest pays for or reserves apart from the room (not times, the way here or the
    // policy, which a booking question mentions in passing).
    let service = matches!(
        topic,
        Some(HotelTopic::Parking | HotelTopic::Breakfast | HotelTopic::Pets | HotelTopic::Wifi)
    );
    let about_a_service = service
        && (understood.intent == Intent::AskPrice
            || (matches!(
                understood.intent,
                Intent::CancelReservation | Intent::MakeReservation
            ) && understood.confidence < 0.7
                && understood.entities.booking_id.is_none()
                && !speaks_of_their_booking(words)));
    let names_any_term = names_the_stay
        || understood.entities.nights.is_some()
        || understood.entities.guests.is_some();
    // An unsure enquiry that names no date or room ("tienen parqueadero? … nos quedamos 3
    // noches") or a service asked about with no term of a stay at all.
    if (unsure_request && topic.is_some() && !names_the_stay)
        || (about_a_service && !names_any_term)
    {
        understood.intent = Intent::HotelInfo;
    }
    if understood.intent == Intent::CancelReservation && asks_about_cancelling(words) {
        understood.intent = Intent::HotelInfo;
    }
    let names_a_booking =
        understood.entities.booking_id.is_some() || speaks_of_their_booking(words);
    if understood.intent != Intent::CancelReservation
        && names_a_booking
        && words.iter().any(|w| CANCELLING.contains(&w.as_str()))
        && !asks_about_cancelling(words)
    {
        understood.intent = Intent::CancelReservation;
    }
    // "una persona" in "habitación estándar 12/02-15/02, una persona" is the party, not a wish
    // for a person; "páseme con alguien del hotel" is one, whatever else the message says.
    if wants_a_person(words) {
        understood.intent = Intent::TalkToHuman;
        understood.confidence = understood.confidence.max(0.9);
    } else if understood.intent == Intent::TalkToHuman
        && !asks_for_a_person(words)
        && changes_the_stay(understood)
    {
        understood.intent = Intent::MakeReservation;
    }
    if greets(understood, words) {
        understood.intent = Intent::Greeting;
        understood.confidence = understood.confidence.max(0.9);
    }
    let ends = leaves_it(words)
        || (context.expecting != Some(Expectation::Confirmation)
            && (closes(words) || signs_off(understood, words)));
    if understood.intent != Intent::Goodbye && ends && !changes_the_stay(understood) {
        understood.intent = Intent::Goodbye;
        understood.confidence = understood.confidence.max(0.9);
    }
    if understood.entities.guests.is_none() {
        let answering = context.expecting == Some(Expectation::Guests);
        let names_the_stay = understood.entities.names_dates_or_room();
        understood.entities.guests = party_size(words, answering, names_the_stay);
    }
}

#[cfg(test)]
mod tests;
