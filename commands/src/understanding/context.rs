//! Reading a message as the answer to what the bot asked.
//!
//! Every sentence understood on its own is not a conversation understood: after "Shall I book
//! it?", "great, go ahead and book it" is a yes, not a new booking request to quote again; after
//! "Which room type?", "a king would be nice" is the room, not an unsure message that counts
//! towards a handoff. So, like Rasa's forms filling slots "from the active loop", the
//! expectation is tried first, and the turn records that context decided it.

use conserje_domain::understanding::{Expectation, Intent, Language, Locale, Understood};

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

/// Words that say yes to a question (folded), in any of the three languages.
const YES: &[&str] = &[
    "si", "sii", "sip", "yes", "yeah", "yep", "yup", "yea", "sure", "ok", "okay", "okey", "oki",
    "vale", "dale", "claro", "perfecto", "perfect", "perfeito", "perfeita", "great", "genial",
    "sim", "pode", "podes", "fechado", "bora", "beleza", "combinado", "adelante", "confirmo",
    "confirm", "confirmed", "confirmar", "confirma", "confirmado", "correcto", "correct", "certo",
    "otimo", "excelente", "excellent", "estupendo", "lovely", "awesome", "fine", "deal", "hecho",
    "listo", "venga", "isso", "exato", "exacto", "absolutely", "definitely", "please", "obvio",
    "fantastico", "maravilha", "boa", "bien", "buenisimo", "good", "nice", "cool", "👍",
];

/// Verbs that, right after a confirmation question, carry it out ("book it", "resérvala").
const DO_IT: &[&str] = &[
    "book", "reserve", "reservar", "reserva", "reservala", "reservalo", "reservamela",
    "reservamelo", "reservame", "reservem", "reservamos", "reservo", "reserve-me", "reservar",
    "fazer", "faz", "faca", "faça", "proceed", "procede", "proceda", "avance", "avanca",
    "apply", "aplica", "change", "cambia", "cambiala", "cambialo", "altera", "alterar", "altere",
    "mudar", "muda", "mude",
];

/// Verbs of cancelling, a yes only when the question was "cancel it?".
const CANCEL_IT: &[&str] = &[
    "cancel", "cancela", "cancelala", "cancelalo", "cancelar", "cancele", "cancelem", "cancelo",
];

/// Words that say no when they open the message or stand alone (Portuguese "no" is "in the").
const NO: &[&str] = &[
    "nope", "nah", "nao", "nop", "nops", "negativo", "negative", "nunca", "never", "nem",
];

/// Phrases that say no wherever they are.
const NO_PHRASES: &[&str] = &[
    "mejor no",
    "better not",
    "not now",
    "deixa estar",
    "deixa para la",
    "dejalo",
    "dejalo asi",
    "olvidalo",
    "forget it",
    "never mind",
    "nevermind",
    "no thanks",
    "no gracias",
    "nao obrigado",
    "nao obrigada",
    "don't",
    "dont",
    "do not",
    "not that",
    "i'll pass",
    "ainda nao",
    "todavia no",
    "not yet",
];

/// Phrases with a "no" in them that say yes.
const YES_PHRASES: &[&str] = &[
    "go ahead",
    "do it",
    "sounds good",
    "of course",
    "why not",
    "por que no",
    "porque no",
    "no problem",
    "sin problema",
    "no hay problema",
    "sem problema",
    "por supuesto",
    "com certeza",
    "pode ser",
    "esta bien",
    "esta bem",
    "ta bom",
    "let's do",
    "lets do",
];

fn contains_phrase(joined: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| joined.contains(&format!(" {p} ")))
}

/// Whether the message, read as the answer to a yes/no question, says yes (`Some(true)`), no
/// (`Some(false)`), or neither.
pub fn yes_or_no(words: &[String], language: Language, flow: Option<Intent>) -> Option<bool> {
    let joined = format!(" {} ", words.join(" "));
    let opening = words.first().map(String::as_str).unwrap_or("");
    let says_yes_phrase = contains_phrase(&joined, YES_PHRASES);
    let opens_with_no = NO.contains(&opening) || (opening == "no" && language != Language::Pt);
    if !says_yes_phrase && (opens_with_no || contains_phrase(&joined, NO_PHRASES)) {
        return Some(false);
    }
    let cancelling = flow == Some(Intent::CancelReservation);
    let says_yes = says_yes_phrase
        || words.iter().any(|w| {
            let w = w.as_str();
            YES.contains(&w) || DO_IT.contains(&w) || (cancelling && CANCEL_IT.contains(&w))
        });
    says_yes.then_some(true)
}

/// Whether a message names anything of a stay: then it changes the stay, whatever else it says.
fn changes_the_stay(understood: &Understood) -> bool {
    let e = &understood.entities;
    e.check_in.is_some()
        || e.check_out.is_some()
        || e.nights.is_some()
        || e.guests.is_some()
        || e.room_type.is_some()
}

/// Intents a guest means whatever the bot asked: a person, a goodbye, the hotel's facts.
fn stands_alone(understood: &Understood) -> bool {
    match understood.intent {
        Intent::TalkToHuman => true,
        Intent::HotelInfo | Intent::Goodbye => understood.confidence >= 0.6,
        _ => false,
    }
}

/// Reads `understood` (the model's reading of `words`) against what the dialogue expects.
pub fn read(understood: &mut Understood, words: &[String], context: &DialogueContext) {
    let Some(expecting) = context.expecting else {
        return;
    };
    if stands_alone(understood) {
        return;
    }
    let flow = context.flow_intent.unwrap_or(Intent::MakeReservation);
    match expecting {
        Expectation::Confirmation => {
            // "anything cheaper, please?" is a question, not a yes.
            if matches!(understood.intent, Intent::Affirm | Intent::Deny) || asks_cheaper(words) {
                return;
            }
            match yes_or_no(words, understood.language, context.flow_intent) {
                // "no, the double then": a no that also changes the stay.
                Some(false) => decide(understood, Intent::Deny, expecting),
                Some(true) if !changes_the_stay(understood) => {
                    decide(understood, Intent::Affirm, expecting)
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

/// Words that ask for a lower price ("something cheaper?", "algo más barato", "mais em conta").
pub fn asks_cheaper(words: &[String]) -> bool {
    let joined = format!(" {} ", words.join(" "));
    words.iter().any(|w| {
        matches!(
            w.as_str(),
            "cheaper"
                | "cheapest"
                | "barato"
                | "barata"
                | "baratos"
                | "baratas"
                | "baratinho"
                | "economico"
                | "economica"
                | "budget"
        )
    }) || contains_phrase(
        &joined,
        &[
            "em conta",
            "less expensive",
            "lower price",
            "menos caro",
            "menos cara",
            "mas economico",
            "mais economico",
        ],
    )
}

/// A new booking by a guest who already has one ("book another room", "otra reserva") is read
/// as a modification by the model, whose modify examples mention an existing booking: the word
/// "another" turns it back.
pub fn another_booking(words: &[String]) -> bool {
    let another = words.iter().any(|w| {
        matches!(
            w.as_str(),
            "another" | "otra" | "otro" | "outra" | "outro" | "nueva" | "nuevo" | "new" | "nova"
                | "novo" | "second" | "segunda" | "extra" | "mais"
        )
    });
    let booking = words.iter().any(|w| {
        matches!(
            w.as_str(),
            "reserva"
                | "reservar"
                | "reservation"
                | "booking"
                | "book"
                | "habitacion"
                | "room"
                | "quarto"
                | "cuarto"
        )
    });
    let changing = words.iter().any(|w| {
        matches!(
            w.as_str(),
            "change" | "cambiar" | "cambia" | "modificar" | "alterar" | "mudar" | "modify"
        )
    });
    another && booking && !changing
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::understanding::text::tokens;
    use conserje_domain::understanding::Entities;

    fn understood(intent: Intent, language: Language) -> Understood {
        Understood {
            language,
            intent,
            confidence: 0.3,
            entities: Entities::default(),
            locale: None,
            from_context: None,
        }
    }

    fn confirming(flow: Intent) -> DialogueContext {
        DialogueContext {
            expecting: Some(Expectation::Confirmation),
            flow_intent: Some(flow),
            prior_locale: None,
        }
    }

    fn read_as(text: &str, language: Language, context: DialogueContext) -> Understood {
        let mut u = understood(Intent::MakeReservation, language);
        read(&mut u, &tokens(text), &context);
        u
    }

    #[test]
    fn a_yes_in_words_answers_the_confirmation() {
        for (text, language) in [
            ("great, go ahead and book it", Language::En),
            ("pode reservar sim", Language::Pt),
            ("genial, resérvala", Language::Es),
            ("👍", Language::Es),
            ("fechado, pode fazer", Language::Pt),
        ] {
            let u = read_as(text, language, confirming(Intent::MakeReservation));
            assert_eq!(u.intent, Intent::Affirm, "{text}");
            assert_eq!(u.from_context, Some(Expectation::Confirmation));
            assert!(u.confidence >= 0.9);
        }
        let u = read_as("sí, cancélala", Language::Es, confirming(Intent::CancelReservation));
        assert_eq!(u.intent, Intent::Affirm);
    }

    #[test]
    fn a_no_in_words_declines_and_portuguese_no_is_not_a_no() {
        for (text, language) in [
            ("no, better not", Language::En),
            ("mejor no, gracias", Language::Es),
            ("não, deixa estar", Language::Pt),
        ] {
            let u = read_as(text, language, confirming(Intent::MakeReservation));
            assert_eq!(u.intent, Intent::Deny, "{text}");
        }
        assert_eq!(
            yes_or_no(&tokens("no dia 10 pode ser"), Language::Pt, None),
            Some(true)
        );
        assert_eq!(
            yes_or_no(&tokens("cancel it"), Language::En, Some(Intent::MakeReservation)),
            None,
            "cancelling is a yes only to 'cancel it?'"
        );
    }

    #[test]
    fn a_yes_that_changes_the_stay_is_a_correction_not_a_yes() {
        let mut u = understood(Intent::ModifyReservation, Language::En);
        u.entities.nights = Some(3);
        read(
            &mut u,
            &tokens("ok but make it 3 nights"),
            &confirming(Intent::MakeReservation),
        );
        assert_eq!(u.intent, Intent::ModifyReservation);
        assert_eq!(u.from_context, None);
    }

    #[test]
    fn an_expected_slot_is_read_as_the_flow_going_on() {
        let mut u = understood(Intent::OutOfScope, Language::En);
        u.entities.room_type = Some("king".into());
        read(
            &mut u,
            &tokens("a king would be nice"),
            &DialogueContext {
                expecting: Some(Expectation::RoomType),
                flow_intent: Some(Intent::MakeReservation),
                prior_locale: None,
            },
        );
        assert_eq!(u.intent, Intent::MakeReservation);
        assert_eq!(u.from_context, Some(Expectation::RoomType));
    }

    #[test]
    fn asking_for_a_person_is_never_read_as_an_answer() {
        let mut u = understood(Intent::TalkToHuman, Language::Es);
        read(&mut u, &tokens("sí, con una persona"), &confirming(Intent::MakeReservation));
        assert_eq!(u.intent, Intent::TalkToHuman);
    }

    #[test]
    fn cheaper_and_another_booking() {
        assert!(asks_cheaper(&tokens("Something cheaper?")));
        assert!(asks_cheaper(&tokens("tem algo mais em conta?")));
        assert!(!asks_cheaper(&tokens("how much is it?")));
        let u = read_as(
            "anything cheaper please?",
            Language::En,
            confirming(Intent::MakeReservation),
        );
        assert_ne!(u.intent, Intent::Affirm);
        assert!(another_booking(&tokens("quiero reservar otra habitación para mayo")));
        assert!(!another_booking(&tokens("quiero cambiar mi reserva a otra fecha")));
    }
}
