//! What the conversation has established so far: the slots of a booking being put together and
//! the question the bot is waiting for the guest to answer.
//!
//! The state is carried whole in `SlotsUpdated`, so a replayed session resumes the dialogue exactly
//! where it was, without re-running the language model.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::pricing::PriceQuote;
use crate::understanding::{Expectation, Language, Locale};

/// The details of a stay the guest has given, message by message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slots {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_in: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_out: Option<NaiveDate>,
    /// "three nights" before a check-in is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nights: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guests: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// What the guest is doing with the bot's help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// Asking availability, a price, or booking.
    Booking,
    /// Changing one of their reservations.
    Modification,
    /// Cancelling one of their reservations.
    Cancellation,
}

/// A question the bot asked that only a yes or no (or the missing detail) answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "awaiting", rename_all = "snake_case")]
pub enum Pending {
    /// A quote was given; "yes" books it.
    BookingConfirmation {
        room_type: String,
        quote: PriceQuote,
        /// The stay exactly as quoted: "yes" books these dates and this party, whatever the
        /// slots say by then (absent in events written before the quote carried them).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        check_in: Option<NaiveDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        check_out: Option<NaiveDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        guests: Option<u32>,
    },
    /// A change to a reservation was quoted on the reservation itself; "yes" applies it.
    ModificationConfirmation {
        reservation_id: Uuid,
        price_difference_minor: i64,
        currency: String,
    },
    /// "yes" cancels this reservation, accepting `fee_minor` when the bot stated a fee.
    CancellationConfirmation {
        reservation_id: Uuid,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fee_minor: Option<i64>,
    },
}

/// The dialogue's memory, replaced whole by each `SlotsUpdated`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialogueState {
    /// The language of the guest's last understood message: the prior for "ok" and the language of
    /// replies that are not answers (staff handoff notices, audio notices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    /// The variant of the guest's language, kept once their wording told it (a pt-PT guest's
    /// "ok" stays pt-PT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<Flow>,
    /// The detail the bot last asked for, when it asked for one (a confirmation is `pending`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked: Option<Expectation>,
    #[serde(default)]
    pub slots: Slots,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
    /// The reservation this conversation made or last talked about: "change my booking" means it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_booking: Option<Uuid>,
    /// Understood turns in a row under the confidence threshold; two hand the guest to staff.
    #[serde(default)]
    pub low_confidence_streak: u8,
}

/// One reply the bot (or a member of staff) composed for the guest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub reply_id: Uuid,
    pub text: String,
    pub language: Language,
    /// The variant it is written in; absent for staff replies and events before variants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
    /// The template it came from (`quote`, `ask_dates`…); `staff` for a staff member's words.
    pub template: String,
    /// The WhatsApp message template staff chose to send it as (the only way to reach a guest
    /// whose 24-hour window has closed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_template: Option<crate::template::TemplateName>,
    /// The buttons it offers (a quote's "Book it", a yes/no, the room types).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<crate::choice::Choices>,
    /// Set on a message the hotel wrote first (a confirmation, a pre-arrival note…): outside
    /// WhatsApp's window it goes as the template of its kind, not the `reply` one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proactive: Option<crate::proactive::ProactiveKind>,
}
