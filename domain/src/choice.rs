//! Tap-to-answer: the buttons a reply offers, and what a press means.
//!
//! A guest who presses "Book it" has said exactly that; reading the button's title back through
//! the language model could only lose it ("Reservar" is also the start of "Reservar otra
//! fecha…"). So every button carries a [`Choice`] whose id travels to the platform and back (the
//! WhatsApp reply id, Telegram's `callback_data`), and a press is read as that choice with full
//! confidence, recorded as such on `IntentRecognized`.
//!
//! The platforms' limits are checked here, where a reply's buttons are laid out, so a reply that
//! would break one goes as a list or as plain text instead of being refused by the platform.

use serde::{Deserialize, Serialize};

use crate::understanding::Intent;

/// What pressing a button means.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Choice {
    /// Yes to a change or a cancellation.
    Yes,
    /// No to a change or a cancellation.
    No,
    /// Book the quoted stay.
    BookIt,
    /// Not this room: show the others.
    OtherRooms,
    /// Hand the conversation to a person.
    TalkToStaff,
    /// This room type (its PMS code).
    Room(String),
}

/// Telegram's limit on `callback_data`, the tighter of the two platforms' id limits.
pub const MAX_CHOICE_ID_BYTES: usize = 64;

const ROOM_PREFIX: &str = "room:";

impl Choice {
    /// The id sent as the button's reply id or `callback_data`.
    pub fn id(&self) -> String {
        match self {
            Self::Yes => "yes".to_owned(),
            Self::No => "no".to_owned(),
            Self::BookIt => "book".to_owned(),
            Self::OtherRooms => "other_rooms".to_owned(),
            Self::TalkToStaff => "staff".to_owned(),
            Self::Room(code) => format!("{ROOM_PREFIX}{code}"),
        }
    }

    /// The choice a button id from a guest names; `None` for anything else (a guest can forge
    /// `callback_data`, and an old message's buttons may name what no longer exists): a known
    /// word, or `room:` and a code of letters, digits, `_` and `-`, within 64 bytes.
    pub fn parse(id: &str) -> Option<Self> {
        let choice = Self::decode(id)?;
        if let Self::Room(code) = &choice {
            let plain = code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !plain || id.len() > MAX_CHOICE_ID_BYTES {
                return None;
            }
        }
        Some(choice)
    }

    /// The choice an id we wrote names (what a stored reply holds): any room code goes, so an
    /// event recorded under one hotel's codes always reads back.
    fn decode(id: &str) -> Option<Self> {
        Some(match id {
            "yes" => Self::Yes,
            "no" => Self::No,
            "book" => Self::BookIt,
            "other_rooms" => Self::OtherRooms,
            "staff" => Self::TalkToStaff,
            _ => Self::Room(
                id.strip_prefix(ROOM_PREFIX)
                    .filter(|c| !c.is_empty())?
                    .to_owned(),
            ),
        })
    }

    /// The intent a press is: a yes, a no, a request for a person — or, for a room, the intent
    /// of the flow it answers (`None`: the dialogue's).
    pub fn intent(&self) -> Option<Intent> {
        match self {
            Self::Yes | Self::BookIt => Some(Intent::Affirm),
            Self::No | Self::OtherRooms => Some(Intent::Deny),
            Self::TalkToStaff => Some(Intent::TalkToHuman),
            Self::Room(_) => None,
        }
    }
}

impl TryFrom<String> for Choice {
    type Error = String;

    fn try_from(id: String) -> Result<Self, Self::Error> {
        Self::decode(&id).ok_or_else(|| format!("{id:?} is not a button choice"))
    }
}

impl From<Choice> for String {
    fn from(choice: Choice) -> Self {
        choice.id()
    }
}

/// One button of a reply: what it means and what it says, in the guest's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub choice: Choice,
    pub title: String,
    /// A second line, shown only when the buttons go as a WhatsApp list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The buttons a reply offers, and the label of the menu that opens them when there are too many
/// for buttons (a WhatsApp list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choices {
    pub menu: String,
    pub buttons: Vec<Button>,
}

/// WhatsApp's limits on interactive messages.
pub mod whatsapp {
    /// Reply buttons per message.
    pub const MAX_BUTTONS: usize = 3;
    /// Characters of a reply button's title.
    pub const MAX_BUTTON_TITLE: usize = 20;
    /// Characters of an interactive message's body.
    pub const MAX_BODY: usize = 1024;
    /// Rows of a list message, all sections together.
    pub const MAX_ROWS: usize = 10;
    /// Characters of a list row's title.
    pub const MAX_ROW_TITLE: usize = 24;
    /// Characters of a list row's description.
    pub const MAX_ROW_DESCRIPTION: usize = 72;
    /// Characters of the button that opens a list (and of a section's title).
    pub const MAX_LIST_BUTTON: usize = 20;
    /// Characters of a row's id.
    pub const MAX_ROW_ID: usize = 200;
}

/// How a reply's buttons go on WhatsApp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WhatsAppLayout {
    /// Up to three reply buttons.
    Buttons,
    /// A list of up to ten rows, opened by a button with this text.
    List { button: String },
    /// As plain text: the buttons break a limit (why, for the log) — the reply's words still ask.
    Text { why: String },
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// How `buttons` under `body` go on WhatsApp: buttons when they fit, else a list opened by
/// `list_button`, else plain text. Titles must be unique (WhatsApp refuses duplicates).
pub fn whatsapp_layout(body: &str, buttons: &[Button], list_button: &str) -> WhatsAppLayout {
    use whatsapp::*;
    let text = |why: String| WhatsAppLayout::Text { why };
    if buttons.is_empty() {
        return text("no buttons".into());
    }
    if chars(body) > MAX_BODY {
        return text(format!("the body is over {MAX_BODY} characters"));
    }
    let mut titles: Vec<&str> = buttons.iter().map(|b| b.title.as_str()).collect();
    titles.sort_unstable();
    if titles.windows(2).any(|w| w[0] == w[1]) || titles.iter().any(|t| t.trim().is_empty()) {
        return text("button titles must be unique and not blank".into());
    }
    if let Some(b) = buttons
        .iter()
        .find(|b| Choice::parse(&b.choice.id()).as_ref() != Some(&b.choice))
    {
        return text(format!("{:?} could not be read back from its id", b.title));
    }
    let fits_buttons =
        buttons.len() <= MAX_BUTTONS && buttons.iter().all(|b| chars(&b.title) <= MAX_BUTTON_TITLE);
    if fits_buttons {
        return WhatsAppLayout::Buttons;
    }
    if buttons.len() > MAX_ROWS {
        return text(format!("more than {MAX_ROWS} choices"));
    }
    if let Some(b) = buttons.iter().find(|b| chars(&b.title) > MAX_ROW_TITLE) {
        return text(format!("{:?} is over {MAX_ROW_TITLE} characters", b.title));
    }
    if let Some(b) = buttons.iter().find(|b| {
        b.description
            .as_deref()
            .is_some_and(|d| chars(d) > MAX_ROW_DESCRIPTION)
    }) {
        return text(format!(
            "the description of {:?} is over {MAX_ROW_DESCRIPTION} characters",
            b.title
        ));
    }
    if chars(list_button) > MAX_LIST_BUTTON || list_button.trim().is_empty() {
        return text(format!(
            "the list button {list_button:?} is blank or over {MAX_LIST_BUTTON} characters"
        ));
    }
    WhatsAppLayout::List {
        button: list_button.to_owned(),
    }
}

/// Whether `buttons` fit a Telegram inline keyboard: every `callback_data` 1–64 bytes (the ids
/// are built to fit; one that does not is never sent, rather than refused by the platform).
pub fn fits_telegram(buttons: &[Button]) -> bool {
    !buttons.is_empty()
        && buttons.iter().all(|b| {
            Choice::parse(&b.choice.id()).as_ref() == Some(&b.choice) && !b.title.trim().is_empty()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn button(choice: Choice, title: &str) -> Button {
        Button {
            choice,
            title: title.to_owned(),
            description: None,
        }
    }

    fn rooms(n: usize) -> Vec<Button> {
        (0..n)
            .map(|i| button(Choice::Room(format!("r{i}")), &format!("Room {i}")))
            .collect()
    }

    #[test]
    fn a_choice_travels_as_its_id_and_back() {
        for choice in [
            Choice::Yes,
            Choice::No,
            Choice::BookIt,
            Choice::OtherRooms,
            Choice::TalkToStaff,
            Choice::Room("double".into()),
        ] {
            assert_eq!(Choice::parse(&choice.id()), Some(choice));
        }
        for forged in ["", "maybe", "room:", "room:<script>", "room:a b", "YES"] {
            assert_eq!(Choice::parse(forged), None, "{forged:?}");
        }
        let long = format!("room:{}", "x".repeat(60));
        assert_eq!(Choice::parse(&long), None, "over Telegram's 64 bytes");
    }

    #[test]
    fn a_stored_choice_reads_back_whatever_the_room_code() {
        let odd = Choice::Room("Suite 1 (mar)".into());
        let json = serde_json::to_string(&odd).unwrap();
        assert_eq!(serde_json::from_str::<Choice>(&json).unwrap(), odd);
        assert_eq!(Choice::parse(&odd.id()), None, "but a guest cannot send it");
    }

    #[test]
    fn a_press_is_the_intent_it_stands_for() {
        assert_eq!(Choice::BookIt.intent(), Some(Intent::Affirm));
        assert_eq!(Choice::OtherRooms.intent(), Some(Intent::Deny));
        assert_eq!(Choice::TalkToStaff.intent(), Some(Intent::TalkToHuman));
        assert_eq!(Choice::Room("suite".into()).intent(), None);
    }

    #[test]
    fn up_to_three_short_titles_go_as_buttons() {
        let three = [
            button(Choice::BookIt, "Reservar"),
            button(Choice::OtherRooms, "Otras habitaciones"),
            button(Choice::TalkToStaff, "Hablar con recepción"),
        ];
        assert_eq!(
            whatsapp_layout("¿La reservo?", &three, "Ver"),
            WhatsAppLayout::Buttons
        );
    }

    #[test]
    fn a_fourth_button_makes_a_list() {
        assert_eq!(
            whatsapp_layout("¿Qué habitación?", &rooms(4), "Ver habitaciones"),
            WhatsAppLayout::List {
                button: "Ver habitaciones".into()
            }
        );
    }

    #[test]
    fn a_title_over_20_characters_makes_a_list() {
        let long = [button(Choice::Yes, "Sí, cambiar la reserva")];
        assert!(matches!(
            whatsapp_layout("¿Cambio?", &long, "Opciones"),
            WhatsAppLayout::List { .. }
        ));
    }

    #[test]
    fn more_than_ten_rows_go_as_text() {
        assert!(matches!(
            whatsapp_layout("¿Qué habitación?", &rooms(11), "Ver"),
            WhatsAppLayout::Text { .. }
        ));
        assert!(matches!(
            whatsapp_layout("¿Qué habitación?", &rooms(10), "Ver"),
            WhatsAppLayout::List { .. }
        ));
    }

    #[test]
    fn a_row_title_over_24_characters_goes_as_text() {
        let mut list = rooms(4);
        list[0].title = "Suite junior con vistas al mar".into();
        assert!(matches!(
            whatsapp_layout("¿Qué habitación?", &list, "Ver"),
            WhatsAppLayout::Text { .. }
        ));
    }

    #[test]
    fn a_row_description_over_72_characters_goes_as_text() {
        let mut list = rooms(4);
        list[0].description = Some("x".repeat(73));
        assert!(matches!(
            whatsapp_layout("¿Qué habitación?", &list, "Ver"),
            WhatsAppLayout::Text { .. }
        ));
        list[0].description = Some("x".repeat(72));
        assert!(matches!(
            whatsapp_layout("¿Qué habitación?", &list, "Ver"),
            WhatsAppLayout::List { .. }
        ));
    }

    #[test]
    fn a_list_button_over_20_characters_goes_as_text() {
        assert!(matches!(
            whatsapp_layout("¿Qué habitación?", &rooms(4), "Ver todas las habitaciones"),
            WhatsAppLayout::Text { .. }
        ));
    }

    #[test]
    fn a_body_over_1024_characters_goes_as_text() {
        let three = [button(Choice::Yes, "Sí"), button(Choice::No, "No")];
        assert!(matches!(
            whatsapp_layout(&"x".repeat(1025), &three, "Ver"),
            WhatsAppLayout::Text { .. }
        ));
        assert_eq!(
            whatsapp_layout(&"x".repeat(1024), &three, "Ver"),
            WhatsAppLayout::Buttons
        );
    }

    #[test]
    fn duplicate_titles_go_as_text() {
        let twice = [button(Choice::Yes, "Vale"), button(Choice::BookIt, "Vale")];
        assert!(matches!(
            whatsapp_layout("¿Sí?", &twice, "Ver"),
            WhatsAppLayout::Text { .. }
        ));
    }

    #[test]
    fn telegram_takes_any_button_whose_id_fits_64_bytes() {
        assert!(fits_telegram(&rooms(12)));
        assert!(!fits_telegram(&[]));
        let long = [button(Choice::Room("x".repeat(60)), "Long")];
        assert!(!fits_telegram(&long));
    }
}
