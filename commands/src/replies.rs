//! The bot's words: minijinja templates per locale, with each hotel free to reword any of them.
//!
//! Replies are templates rather than strings built in code so that a hotel (or a translator) can
//! change the wording without a release. Every template is named by a [`ReplyKind`], and a test
//! checks that each locale's file has exactly the kinds' templates: a misspelt name is a compile
//! error in the dialogue and a test failure in a file, never a handoff at run time.

use std::collections::BTreeMap;

use conserje_domain::hotel::HotelProfile;
use conserje_domain::understanding::{HotelTopic, Locale};
use minijinja::Environment;
use serde::Serialize;

use crate::CommandError;

const BUILT_IN: [(Locale, &str); 4] = [
    (Locale::Es, include_str!("../replies/es.toml")),
    (Locale::En, include_str!("../replies/en.toml")),
    (Locale::PtBr, include_str!("../replies/pt-BR.toml")),
    (Locale::PtPt, include_str!("../replies/pt-PT.toml")),
];

macro_rules! reply_kinds {
    ($($kind:ident => $name:literal,)*) => {
        /// Every reply the receptionist can give, by the name of its template.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ReplyKind {
            $($kind,)*
        }

        impl ReplyKind {
            pub const ALL: &'static [ReplyKind] = &[$(ReplyKind::$kind,)*];

            /// The template's name, as in the reply files, `ReplyComposed.template` and the
            /// hotel's configuration.
            pub fn name(self) -> &'static str {
                match self {
                    $(ReplyKind::$kind => $name,)*
                }
            }
        }
    };
}

reply_kinds! {
    Greeting => "greeting",
    DeskClosed => "desk_closed",
    Goodbye => "goodbye",
    AskDates => "ask_dates",
    AskCheckOut => "ask_check_out",
    AskGuests => "ask_guests",
    AskRoomType => "ask_room_type",
    Quote => "quote",
    Unavailable => "unavailable",
    Alternatives => "alternatives",
    Cheaper => "cheaper",
    AskEmail => "ask_email",
    AskPhone => "ask_phone",
    Booked => "booked",
    BookingReceived => "booking_received",
    RuleStayTooLong => "rule_stay_too_long",
    RuleCheckInInPast => "rule_check_in_in_past",
    RuleCheckOutNotAfterCheckIn => "rule_check_out_not_after_check_in",
    RuleBookingTooFarAhead => "rule_booking_too_far_ahead",
    RuleTooManyGuests => "rule_too_many_guests",
    RuleInvalidEmail => "rule_invalid_email",
    RuleInvalidPhone => "rule_invalid_phone",
    RuleTooManyActiveReservations => "rule_too_many_active_reservations",
    RuleGuestBlacklisted => "rule_guest_blacklisted",
    RuleRoomUnavailable => "rule_room_unavailable",
    RuleNotYourReservation => "rule_not_your_reservation",
    RuleAlreadyCancelled => "rule_already_cancelled",
    RuleNotModifiable => "rule_not_modifiable",
    RuleOther => "rule_other",
    AskBookingId => "ask_booking_id",
    BookingNotFound => "booking_not_found",
    AskModification => "ask_modification",
    ModificationQuote => "modification_quote",
    Modified => "modified",
    ModificationKept => "modification_kept",
    CancelConfirm => "cancel_confirm",
    CancelFee => "cancel_fee",
    Cancelled => "cancelled",
    CancelKept => "cancel_kept",
    HotelFact => "hotel_fact",
    NoFacts => "no_facts",
    HotelInfoMenu => "hotel_info_menu",
    Handoff => "handoff",
    HandoffAfterHours => "handoff_after_hours",
    HandoffUrgent => "handoff_urgent",
    HandoffError => "handoff_error",
    PmsUnavailable => "pms_unavailable",
    QuoteAsOf => "quote_as_of",
    LateConfirmed => "late_confirmed",
    LateRejected => "late_rejected",
    LateHandedToStaff => "late_handed_to_staff",
    Fallback => "fallback",
    AnythingElse => "anything_else",
    AudioProcessing => "audio_processing",
    MediaReceived => "media_received",
    FileNotOpened => "file_not_opened",
    StickerReceived => "sticker_received",
    ContactReceived => "contact_received",
    ProactiveConfirmation => "proactive_confirmation",
    PreArrival => "pre_arrival",
    ReviewRequest => "review_request",
    ChangeNotice => "change_notice",
    CancellationNotice => "cancellation_notice",
    PerNight => "per_night",
    TopicCheckInTime => "topic_check_in_time",
    TopicCheckOutTime => "topic_check_out_time",
    TopicBreakfast => "topic_breakfast",
    TopicParking => "topic_parking",
    TopicWifi => "topic_wifi",
    TopicPets => "topic_pets",
    TopicLocation => "topic_location",
    TopicCancellationPolicy => "topic_cancellation_policy",
    ButtonBook => "button_book",
    ButtonOtherRooms => "button_other_rooms",
    ButtonStaff => "button_staff",
    ButtonYes => "button_yes",
    ButtonNo => "button_no",
    ButtonRoomsMenu => "button_rooms_menu",
    ButtonMenu => "button_menu",
}

impl ReplyKind {
    /// The reply that explains a refusal with this code (`CommandError::Refused`), if the
    /// receptionist has one; others are explained with `rule_other`.
    pub fn for_rule(code: &str) -> Option<Self> {
        let name = format!("rule_{code}");
        Self::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// How the replies name a hotel topic ("breakfast", "o pequeno-almoço").
    pub fn topic(topic: HotelTopic) -> Self {
        match topic {
            HotelTopic::CheckInTime => Self::TopicCheckInTime,
            HotelTopic::CheckOutTime => Self::TopicCheckOutTime,
            HotelTopic::Breakfast => Self::TopicBreakfast,
            HotelTopic::Parking => Self::TopicParking,
            HotelTopic::Wifi => Self::TopicWifi,
            HotelTopic::Pets => Self::TopicPets,
            HotelTopic::Location => Self::TopicLocation,
            HotelTopic::CancellationPolicy => Self::TopicCancellationPolicy,
        }
    }
}

/// The names of room types the built-in files know (`room_<code>`); a hotel with other codes
/// names them in its configuration, and a code nobody named reads as itself.
const ROOM_WORD_PREFIX: &str = "room_";

/// The reply templates of every locale, and the engine that renders them.
pub struct ReplyBook {
    templates: BTreeMap<Locale, BTreeMap<String, String>>,
    engine: Environment<'static>,
}

impl ReplyBook {
    /// The templates shipped with conserje (`commands/replies/*.toml`).
    pub fn built_in() -> Result<Self, CommandError> {
        let mut templates = BTreeMap::new();
        for (locale, source) in BUILT_IN {
            let table: BTreeMap<String, String> = toml::from_str(source).map_err(|e| {
                CommandError::Model(format!("replies/{locale}.toml does not parse: {e}"))
            })?;
            templates.insert(locale, table);
        }
        Ok(Self {
            templates,
            engine: Environment::new(),
        })
    }

    /// Every template name of `locale`'s built-in file.
    pub fn names(&self, locale: Locale) -> impl Iterator<Item = &str> {
        self.templates
            .get(&locale)
            .into_iter()
            .flat_map(|t| t.keys().map(String::as_str))
    }

    /// Renders `kind` for `locale`, preferring the hotel's own wording.
    pub fn render(
        &self,
        profile: &HotelProfile,
        locale: Locale,
        kind: ReplyKind,
        context: impl Serialize,
    ) -> Result<String, CommandError> {
        self.render_name(profile, locale, kind.name(), context)
    }

    /// The name of room type `code` in `locale` ("double room", "quarto duplo"), or the code.
    pub fn room(&self, profile: &HotelProfile, locale: Locale, code: &str) -> String {
        self.render_name(
            profile,
            locale,
            &format!("{ROOM_WORD_PREFIX}{code}"),
            serde_json::json!({}),
        )
        .unwrap_or_else(|_| code.to_owned())
    }

    fn render_name(
        &self,
        profile: &HotelProfile,
        locale: Locale,
        name: &str,
        context: impl Serialize,
    ) -> Result<String, CommandError> {
        let source = profile
            .own_reply(locale, name)
            .or_else(|| self.templates.get(&locale)?.get(name).map(String::as_str))
            .ok_or_else(|| CommandError::Model(format!("no reply template {locale}/{name}")))?;
        self.engine
            .render_str(source, context)
            .map(|text| text.trim().to_owned())
            .map_err(|e| CommandError::Model(format!("reply template {locale}/{name}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conserje_domain::hotel::TextKey;
    use conserje_domain::understanding::Language;
    use std::collections::BTreeSet;

    #[test]
    fn every_locale_has_exactly_the_replies_the_dialogue_names() {
        let book = ReplyBook::built_in().unwrap();
        let kinds: BTreeSet<&str> = ReplyKind::ALL.iter().map(|k| k.name()).collect();
        for locale in Locale::ALL {
            let names: BTreeSet<&str> = book
                .names(locale)
                .filter(|n| !n.starts_with(ROOM_WORD_PREFIX))
                .collect();
            let missing: Vec<_> = kinds.difference(&names).collect();
            let unknown: Vec<_> = names.difference(&kinds).collect();
            assert!(missing.is_empty(), "{locale} lacks {missing:?}");
            assert!(
                unknown.is_empty(),
                "{locale} has templates no reply uses: {unknown:?}"
            );
            for room in ["standard", "double", "king", "suite"] {
                let word = format!("{ROOM_WORD_PREFIX}{room}");
                assert!(
                    book.names(locale).any(|n| n == word),
                    "{locale} lacks {word}"
                );
            }
        }
    }

    #[test]
    fn every_template_renders_with_the_context_its_reply_gives() {
        let book = ReplyBook::built_in().unwrap();
        let context = serde_json::json!({
            "room": "suite", "check_in": "x", "check_out": "y", "nights": 3, "guests": 2,
            "nightly": "1", "discount_percent": 10, "discount": "1", "total": "3",
            "booking_ref": "ABCD1234", "difference": 5, "difference_abs": "5",
            "alternatives": "", "rooms": "", "topics": "", "fact": "f", "contact": "c",
            "back_at": "b", "message": "m", "max": 90, "max_guests": 10, "max_active": 5,
            "price": "1", "name": "Ana", "hotel": "H",
        });
        for locale in Locale::ALL {
            for kind in ReplyKind::ALL {
                let text = book
                    .render(&HotelProfile::default(), locale, *kind, &context)
                    .unwrap();
                assert!(!text.is_empty(), "{locale}/{}", kind.name());
            }
        }
    }

    #[test]
    fn a_rule_code_names_its_reply() {
        assert_eq!(
            ReplyKind::for_rule("stay_too_long"),
            Some(ReplyKind::RuleStayTooLong)
        );
        assert_eq!(ReplyKind::for_rule("no_such_rule"), None);
    }

    #[test]
    fn european_and_brazilian_portuguese_are_worded_apart() {
        let book = ReplyBook::built_in().unwrap();
        let profile = HotelProfile::default();
        let word = |l| {
            book.render(
                &profile,
                l,
                ReplyKind::TopicBreakfast,
                serde_json::json!({}),
            )
            .unwrap()
        };
        assert_eq!(word(Locale::PtPt), "o pequeno-almoço");
        assert_eq!(word(Locale::PtBr), "o café da manhã");
    }

    #[test]
    fn a_hotel_can_reword_a_reply_for_a_language_or_one_variant() {
        let book = ReplyBook::built_in().unwrap();
        let mut profile = HotelProfile::default();
        profile.replies.insert(
            TextKey::Language(Language::Pt),
            [("goodbye".to_owned(), "Até logo, {{ name }}!".to_owned())].into(),
        );
        profile.replies.insert(
            TextKey::Locale(Locale::PtPt),
            [("goodbye".to_owned(), "Até já, {{ name }}!".to_owned())].into(),
        );
        let context = serde_json::json!({"name": "Ana"});
        let goodbye = |l| {
            book.render(&profile, l, ReplyKind::Goodbye, &context)
                .unwrap()
        };
        assert_eq!(goodbye(Locale::PtBr), "Até logo, Ana!");
        assert_eq!(goodbye(Locale::PtPt), "Até já, Ana!");
        assert!(goodbye(Locale::Es).starts_with("¡Gracias"));
    }
}
