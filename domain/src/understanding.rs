//! What conserje understood of one guest message: its language, its intent and the entities in it.
//!
//! These are the values the language model hands to the dialogue and that `IntentRecognized`
//! records; the model itself lives in `conserje-commands`, so the domain stays free of it.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The languages conserje speaks with guests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Es,
    En,
    Pt,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::Es, Language::En, Language::Pt];

    /// The ISO 639-1 code, as it appears in events and templates.
    pub fn code(self) -> &'static str {
        match self {
            Self::Es => "es",
            Self::En => "en",
            Self::Pt => "pt",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code.trim()))
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A language as a guest reads it: Portuguese comes in its Brazilian and European variants, whose
/// wording differs ("café da manhã" / "pequeno-almoço", "você" / "o senhor"), so a Lisbon guest
/// must not be answered in São Paulo's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Locale {
    #[serde(rename = "es")]
    Es,
    #[serde(rename = "en")]
    En,
    #[serde(rename = "pt-BR")]
    PtBr,
    #[serde(rename = "pt-PT")]
    PtPt,
}

impl Locale {
    pub const ALL: [Locale; 4] = [Locale::Es, Locale::En, Locale::PtBr, Locale::PtPt];

    /// The BCP 47 tag, as in events, reply files and the CLI: `es`, `en`, `pt-BR`, `pt-PT`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Es => "es",
            Self::En => "en",
            Self::PtBr => "pt-BR",
            Self::PtPt => "pt-PT",
        }
    }

    pub fn language(self) -> Language {
        match self {
            Self::Es => Language::Es,
            Self::En => Language::En,
            Self::PtBr | Self::PtPt => Language::Pt,
        }
    }

    /// The locale a language has when nothing tells its variant: Brazilian for Portuguese, the
    /// variant most guests write.
    pub fn of(language: Language) -> Self {
        match language {
            Language::Es => Self::Es,
            Language::En => Self::En,
            Language::Pt => Self::PtBr,
        }
    }

    /// A tag (`pt-PT`, `pt_pt`, `PT-BR`) or a bare language (`pt` is Brazilian).
    pub fn parse(code: &str) -> Option<Self> {
        let code = code.trim().replace('_', "-");
        Self::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(&code))
            .or_else(|| Language::parse(&code).map(Self::of))
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What the bot's last message asked the guest for: the answer it expects. The understanding
/// reads a message against it first (Rasa's "slots from the active loop"), so "a king would be
/// nice" after "which room type?" is the room type, not an unsure new request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expectation {
    /// A yes or no to a quote, a change or a cancellation.
    Confirmation,
    Dates,
    CheckOut,
    Guests,
    RoomType,
    Email,
    Phone,
    BookingNumber,
    /// What to change in a booking.
    Change,
}

/// What the guest wants from this message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Greeting,
    Goodbye,
    CheckAvailability,
    MakeReservation,
    ModifyReservation,
    CancelReservation,
    AskPrice,
    HotelInfo,
    TalkToHuman,
    Affirm,
    Deny,
    OutOfScope,
}

impl Intent {
    pub const ALL: [Intent; 12] = [
        Intent::Greeting,
        Intent::Goodbye,
        Intent::CheckAvailability,
        Intent::MakeReservation,
        Intent::ModifyReservation,
        Intent::CancelReservation,
        Intent::AskPrice,
        Intent::HotelInfo,
        Intent::TalkToHuman,
        Intent::Affirm,
        Intent::Deny,
        Intent::OutOfScope,
    ];

    /// The snake_case name used in events, the CLI and the corpus.
    pub fn name(self) -> &'static str {
        match self {
            Self::Greeting => "greeting",
            Self::Goodbye => "goodbye",
            Self::CheckAvailability => "check_availability",
            Self::MakeReservation => "make_reservation",
            Self::ModifyReservation => "modify_reservation",
            Self::CancelReservation => "cancel_reservation",
            Self::AskPrice => "ask_price",
            Self::HotelInfo => "hotel_info",
            Self::TalkToHuman => "talk_to_human",
            Self::Affirm => "affirm",
            Self::Deny => "deny",
            Self::OutOfScope => "out_of_scope",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.name() == name.trim())
    }
}

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The things named in a message. Dates are resolved against the hotel's today; the room type is
/// already one of the hotel's codes (`standard`, `double`, `king`, `suite`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entities {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_in: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_out: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guests: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// "for three nights" with no dates yet: the dialogue turns it into a check-out once it has a
    /// check-in. Not part of `conserje nlu parse`'s output, whose entity keys are fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nights: Option<u32>,
    /// "one more person", "mais uma pessoa": people added to whatever party is on the table (the
    /// quote's or the booking's), which only the dialogue knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_guests: Option<u32>,
}

impl Entities {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// Whether the message names a date or a room: what makes it about a particular stay.
    pub fn names_dates_or_room(&self) -> bool {
        self.check_in.is_some() || self.check_out.is_some() || self.room_type.is_some()
    }

    /// Whether the message names any term of a stay (dates, nights, party, room): after a quote,
    /// such a message corrects it, whatever else it says. Contact details are not terms.
    pub fn names_a_stay_term(&self) -> bool {
        self.names_dates_or_room()
            || self.nights.is_some()
            || self.guests.is_some()
            || self.extra_guests.is_some()
    }
}

/// One message understood: the input of the dialogue policy and the payload of `IntentRecognized`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Understood {
    pub language: Language,
    pub intent: Intent,
    /// In [0, 1]; the dialogue hands off after repeated low confidence.
    pub confidence: f32,
    pub entities: Entities,
    /// The language variant the reply is written in (absent in events before variants existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
    /// Set when the intent was read as the answer to what the bot had asked rather than by the
    /// model alone: analysts can see how often context decided a turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_context: Option<Expectation>,
    /// Set when the message was a button press: the choice it stood for, read exactly (no
    /// model), so analysts can tell taps from typing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<crate::choice::Choice>,
}

impl Understood {
    /// The locale of the message, its language's default when none was recorded.
    pub fn locale(&self) -> Locale {
        self.locale.unwrap_or(Locale::of(self.language))
    }
}

/// A subject of `hotel_info` the hotel's facts answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HotelTopic {
    CheckInTime,
    CheckOutTime,
    Breakfast,
    Parking,
    Wifi,
    Pets,
    Location,
    CancellationPolicy,
}

impl HotelTopic {
    pub const ALL: [HotelTopic; 8] = [
        HotelTopic::CheckInTime,
        HotelTopic::CheckOutTime,
        HotelTopic::Breakfast,
        HotelTopic::Parking,
        HotelTopic::Wifi,
        HotelTopic::Pets,
        HotelTopic::Location,
        HotelTopic::CancellationPolicy,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::CheckInTime => "check_in_time",
            Self::CheckOutTime => "check_out_time",
            Self::Breakfast => "breakfast",
            Self::Parking => "parking",
            Self::Wifi => "wifi",
            Self::Pets => "pets",
            Self::Location => "location",
            Self::CancellationPolicy => "cancellation_policy",
        }
    }
}
