//! Reading a message as the answer to what the bot asked.
//!
//! Every sentence understood on its own is not a conversation understood: after "Shall I book
//! it?", "great, go ahead and book it" is a yes, not a new booking request to quote again; after
//! "Which room type?", "a king would be nice" is the room, not an unsure message that counts
//! towards a handoff. So, like Rasa's forms filling slots "from the active loop", the
//! expectation is tried first, and the turn records that context decided it.

use conserje_domain::understanding::{Expectation, Intent, Language, Locale, Understood};

mod words;

use words::{
    BOOKING_WORDS, CANCELLING, CANCEL_IT, CHANGING, CLOSING, DO_IT, NO, NO_PHRASES, PARTNERS,
    PEOPLE, REACH, THANKS_OR_BYE, THANKS_PHRASES, YES, YES_PHRASES,
};

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

/// Words that ask for a person in so many words ("a human", "alguien de recepción"): "only 1
/// person" answers "how many guests?" and is not one of them.
fn asks_for_a_person(words: &[String]) -> bool {
    words.iter().any(|w| {
        matches!(
            w.as_str(),
            "human"
                | "humano"
                | "humana"
                | "real"
                | "agent"
                | "agente"
                | "atendente"
                | "staff"
                | "recepcion"
                | "rececao"
                | "recepcao"
                | "reception"
                | "receptionist"
                | "recepcionista"
                | "rececionista"
                | "alguien"
                | "alguem"
                | "someone"
                | "somebody"
                | "operator"
                | "operador"
                | "hablar"
                | "falar"
                | "talk"
                | "speak"
                | "llamar"
                | "ligar"
                | "call"
                | "equipo"
                | "equipa"
                | "equipe"
                | "gerente"
                | "manager"
                | "encargado"
        )
    })
}

/// "mejor páseme con alguien del hotel", "can I speak to someone?", "queria falar com a
/// receção": asking for a person in a sentence about something else.
fn wants_a_person(words: &[String]) -> bool {
    let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
    has(REACH) && has(PEOPLE)
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
                | "pricey"
                | "expensive"
                | "affordable"
                | "caro"
                | "cara"
                | "puxado"
                | "salgado"
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

/// A message that only thanks or says goodbye is a goodbye, whatever words of courtesy it
/// carries ("ok obrigado", "valeu, boa noite!").
fn closes(words: &[String]) -> bool {
    let joined = format!(" {} ", words.join(" "));
    !words.is_empty()
        && (words.iter().any(|w| THANKS_OR_BYE.contains(&w.as_str()))
            || contains_phrase(&joined, THANKS_PHRASES))
        && words.iter().all(|w| CLOSING.contains(&w.as_str()))
}

/// A message that ends by thanking or taking leave, which the model could not place: "vou
/// procurar o email e volto, obg".
fn signs_off(understood: &Understood, words: &[String]) -> bool {
    let bye = |w: &String| {
        matches!(
            w.as_str(),
            "chao" | "chau" | "adios" | "bye" | "tchau" | "ciao" | "xau" | "goodbye"
        )
    };
    (words
        .last()
        .is_some_and(|w| THANKS_OR_BYE.contains(&w.as_str()))
        || words.first().is_some_and(bye))
        && matches!(
            understood.intent,
            Intent::OutOfScope | Intent::Greeting | Intent::Goodbye
        )
        && understood.entities.is_empty()
}

/// "se tiver de cancelar, pago alguma coisa?", "what if I cancel?": a question about the
/// cancellation policy, not a cancellation.
pub fn asks_about_cancelling(words: &[String]) -> bool {
    let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
    let cancel = has(&[
        "cancel",
        "cancelar",
        "cancelo",
        "cancela",
        "cancelamento",
        "cancelacion",
        "cancellation",
        "cancelo",
    ]);
    let hypothetical = has(&["se", "si", "if", "caso", "what", "que", "quanto", "cuanto"]);
    let cost = has(&[
        "pago",
        "pagar",
        "pagaria",
        "pay",
        "cobra",
        "cobran",
        "cobram",
        "cobrado",
        "charge",
        "charged",
        "fee",
        "cost",
        "costs",
        "custa",
        "cuesta",
        "penalizacion",
        "penalty",
        "multa",
        "policy",
        "politica",
        "gratis",
        "free",
        "gratuito",
        "reembolso",
        "refund",
    ]);
    cancel && (cost || hypothetical && has(&["policy", "politica"]))
}

/// A change named in a request the model read as a new booking: "queria alterar a reserva
/// E9960CD7 para 15 a 18 de fevereiro".
fn changes_a_named_booking(understood: &Understood, words: &[String]) -> bool {
    let changing = words.iter().any(|w| CHANGING.contains(&w.as_str()));
    let speaks_of_a_booking = speaks_of_their_booking(words);
    (understood.entities.booking_id.is_some() && (changing || changes_the_stay(understood)))
        // "tengo la reserva HX4821 y quisiera agregar una persona": a booking and a change.
        || (speaks_of_a_booking && changing && !reads_as_new_booking(words))
}

/// A booking noun the guest uses for one they have: after a definite article or a possessive
/// ("la reserva", "a reserva", "my booking"), or leading ("booking is under johnson"); "una
/// reserva" and "a booking" are the one they want to make.
fn speaks_of_their_booking(words: &[String]) -> bool {
    words.iter().enumerate().any(|(i, w)| {
        if !BOOKING_WORDS.contains(&w.as_str()) {
            return false;
        }
        let before = i.checked_sub(1).map(|p| words[p].as_str());
        let new_one = matches!(before, Some("una" | "un" | "uma" | "um" | "an" | "another"))
            || (before == Some("a") && w != "reserva");
        !new_one
    })
}

/// A request the model reads as changing a booking while it names no booking and no change:
/// "quisiera reservar un cuarto", "somos 12 pessoas e queremos ficar…", "book another room".
pub fn reads_as_new_booking(words: &[String]) -> bool {
    let another = words.iter().any(|w| {
        matches!(
            w.as_str(),
            "another"
                | "otra"
                | "otro"
                | "outra"
                | "outro"
                | "nueva"
                | "nuevo"
                | "new"
                | "nova"
                | "novo"
                | "second"
                | "extra"
        )
    });
    let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
    let names_a_booking = words.iter().any(|w| super::text::is_booking_like(w));
    // A booking the guest has is named: "la reserva", "booking is under johnson", "my booking"
    // — not "una reserva", "a booking", which is the new one they want.
    let speaks_of_a_booking = speaks_of_their_booking(words);
    !names_a_booking && !has(CHANGING) && (another || !speaks_of_a_booking)
}

/// How many people a message says in words the grammar does not count: "a group of 12", "mi
/// mujer y yo", "para mim e a minha mulher", "é só para mim", "una persona nomas"; and, when
/// it answers "how many guests?" (`answering`), a lone number ("solo 1").
pub fn party_size(words: &[String], answering: bool) -> Option<u32> {
    use super::numbers::{is_adult_noun, is_guest_noun, small_number};
    let word = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    for (i, w) in words.iter().enumerate() {
        if matches!(w.as_str(), "group" | "grupo") {
            let n = (i + 1..i + 3).find_map(|j| small_number(word(j)).or(word(j).parse().ok()));
            if n.is_some() {
                return n;
            }
        }
        let article = matches!(w.as_str(), "un" | "una" | "um" | "uma" | "a" | "an" | "one");
        let for_whom = i > 0
            && matches!(
                word(i - 1),
                "para"
                    | "pra"
                    | "for"
                    | "somos"
                    | "seremos"
                    | "sou"
                    | "e"
                    | "es"
                    | "only"
                    | "just"
                    | "solo"
                    | "so"
            );
        let next = word(i + 1);
        // "…, una persona" closing a request is the party; "15 euros a person" is a price.
        let priced = i > 0
            && matches!(
                word(i - 1),
                "euros" | "euro" | "eur" | "dollars" | "usd" | "reais" | "pounds" | "per" | "por"
            );
        let last = i + 2 == words.len() && !priced;
        if (is_adult_noun(next) || is_guest_noun(next))
            && article
            && (answering || for_whom || last)
        {
            return Some(1);
        }
        if answering && (is_adult_noun(next) || is_guest_noun(next)) {
            if let Some(n) = small_number(w) {
                return Some(n);
            }
        }
    }
    let me = |w: &str| matches!(w, "yo" | "eu" | "me" | "i" | "mim" | "myself");
    let and = |w: &str| matches!(w, "y" | "e" | "and" | "&");
    // "me and two colleagues", "yo y 3 amigos": the guest plus that many.
    for (i, w) in words.iter().enumerate() {
        if me(w) && and(word(i + 1)) {
            let n = small_number(word(i + 2)).filter(|n| (1..=30).contains(n));
            let noun = word(i + 3);
            if let Some(n) = n.filter(|_| !noun.is_empty() && noun.chars().all(char::is_alphabetic))
            {
                return Some(n + 1);
            }
        }
    }
    let with_partner = words.windows(2).enumerate().any(|(i, pair)| {
        // "yo y mi esposo", "mim e a minha mulher", "me and my wife"
        (me(&pair[0]) && and(&pair[1]) && words[i + 2..].iter().take(4).any(|w| PARTNERS.contains(&w.as_str())))
            // "mi mujer y yo", "my wife and i"
            || (PARTNERS.contains(&pair[0].as_str()) && and(&pair[1]) && me(word(i + 2)))
    });
    if with_partner {
        return Some(2);
    }
    let joined = format!(" {} ", words.join(" "));
    let has = |phrases: &[&str]| phrases.iter().any(|p| joined.contains(&format!(" {p} ")));
    if has(&[
        "nos dois",
        "nos duas",
        "los dos",
        "nosotros dos",
        "the two of us",
        "both of us",
        "us two",
        "a couple",
        "una pareja",
        "um casal",
        "the two of them",
        "both of them",
        "ellos dos",
        "os dois",
        "las dos",
    ]) {
        return Some(2);
    }
    if has(&[
        "just me",
        "only me",
        "me alone",
        "myself",
        "solo yo",
        "yo solo",
        "yo sola",
        "so eu",
        "somente eu",
        "apenas eu",
        "eu sozinho",
        "eu sozinha",
        "sozinho",
        "sozinha",
        "alone",
        "para mi solo",
        "para mi sola",
        "so para mim",
        "solo para mi",
        "sou so eu",
    ]) {
        return Some(1);
    }
    if !answering {
        return None;
    }
    // "solo 1", "2 please", "somos 3 nomas": one number among a few words.
    let numbers: Vec<u32> = words.iter().filter_map(|w| small_number(w)).collect();
    match numbers.as_slice() {
        [n] if words.len() <= 4 && (1..=30).contains(n) => Some(*n),
        _ => None,
    }
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
    let e = &understood.entities;
    let names_the_stay = e.check_in.is_some() || e.check_out.is_some() || e.room_type.is_some();
    if booking_ish
        && understood.confidence < 0.5
        && !names_the_stay
        && super::topics::topic(words, understood.language).is_some()
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
    if context.expecting != Some(Expectation::Confirmation)
        && understood.intent != Intent::Goodbye
        && (closes(words) || signs_off(understood, words))
    {
        understood.intent = Intent::Goodbye;
        understood.confidence = understood.confidence.max(0.9);
    }
    if understood.entities.guests.is_none() {
        let answering = context.expecting == Some(Expectation::Guests);
        understood.entities.guests = party_size(words, answering);
    }
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
        let u = read_as(
            "sí, cancélala",
            Language::Es,
            confirming(Intent::CancelReservation),
        );
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
            yes_or_no(
                &tokens("cancel it"),
                Language::En,
                Some(Intent::MakeReservation)
            ),
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
        assert_eq!(u.from_context, Some(Expectation::Confirmation));
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
        read(
            &mut u,
            &tokens("sí, con una persona"),
            &confirming(Intent::MakeReservation),
        );
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
        assert!(reads_as_new_booking(&tokens(
            "quiero reservar otra habitación para mayo"
        )));
        assert!(reads_as_new_booking(&tokens(
            "somos 12 pessoas e queremos ficar de 8 a 10"
        )));
        assert!(!reads_as_new_booking(&tokens(
            "quiero cambiar mi reserva a otra fecha"
        )));
        assert!(!reads_as_new_booking(&tokens(
            "move booking 56789abc to friday"
        )));
    }

    #[test]
    fn thanks_and_goodbyes_close_the_conversation() {
        for text in [
            "thx!",
            "obrigadinho",
            "ok obrigado",
            "valeu, boa noite!",
            "gracias 🙏",
        ] {
            assert!(closes(&tokens(text)), "{text}");
        }
        assert!(!closes(&tokens("gracias, y el desayuno?")));
        assert!(!closes(&tokens("ok")));
        assert!(closes(&tokens("blz obg")));
        let mut greeting = understood(Intent::Greeting, Language::Es);
        greeting.confidence = 0.65;
        assert!(signs_off(
            &greeting,
            &tokens("chao, que tengan buen dia 🙌")
        ));
        assert!(closes(&tokens("ta very much")));
        assert!(closes(&tokens("obrigadíssimo")));
        assert!(!closes(&tokens("ta bom")));
        let mut vague = understood(Intent::OutOfScope, Language::Pt);
        let words = tokens("vou procurar o email e volto, obg");
        assert!(signs_off(&vague, &words));
        vague.entities.guests = Some(2);
        assert!(!signs_off(&vague, &words));
    }

    #[test]
    fn a_person_asked_for_in_passing_and_a_party_of_one_are_told_apart() {
        assert!(wants_a_person(&tokens(
            "mejor paseme con alguien del hotel, tengo dudas"
        )));
        assert!(!wants_a_person(&tokens("habitacion estandar, una persona")));
        let mut u = understood(Intent::TalkToHuman, Language::Es);
        u.entities.guests = Some(1);
        rules(
            &mut u,
            &tokens("habitacion estandar 12/02-15/02, una persona"),
            &DialogueContext::default(),
        );
        assert_eq!(u.intent, Intent::MakeReservation);
    }

    #[test]
    fn cancelling_a_named_booking_in_other_words() {
        let mut u = understood(Intent::MakeReservation, Language::Es);
        u.entities.booking_id = Some("95016624".into());
        rules(
            &mut u,
            &tokens("al final no podemos ir, anula la reserva 95016624 por favor"),
            &DialogueContext::default(),
        );
        assert_eq!(u.intent, Intent::CancelReservation);
        assert!(reads_as_new_booking(&tokens(
            "suite se faz favor de 21 a 24, somos eu e a minha mulher"
        )));
    }

    #[test]
    fn a_question_about_cancelling_is_not_a_cancellation() {
        assert!(asks_about_cancelling(&tokens(
            "se tiver de cancelar, pago alguma coisa?"
        )));
        assert!(asks_about_cancelling(&tokens(
            "what's your cancellation policy?"
        )));
        assert!(!asks_about_cancelling(&tokens(
            "cancel my booking 56789abc"
        )));
    }

    #[test]
    fn short_answers_to_how_many_guests() {
        for (text, n) in [
            ("solo 1", 1),
            ("nós dois", 2),
            ("just me", 1),
            ("una persona nomas", 1),
            ("we're a group of 12", 12),
            ("only 1 person", 1),
            ("vamos mi mujer y yo", 2),
            ("seriamos yo y mi esposo", 2),
            ("a double for my parents, the two of them", 2),
        ] {
            assert_eq!(party_size(&tokens(text), true), Some(n), "{text}");
        }
        for (text, n) in [
            ("um quarto de casal para mim e a minha mulher", 2),
            ("uma estandar para mi solo, 15 - 18 ene", 1),
            ("um standard 8 – 11 de março? é só para mim", 1),
            ("um quarto standard para uma pessoa de 10 a 13", 1),
            ("hey we're a group of 12, need somewhere", 12),
        ] {
            assert_eq!(party_size(&tokens(text), false), Some(n), "{text}");
        }
        assert_eq!(party_size(&tokens("no idea yet, maybe later"), true), None);
        assert_eq!(party_size(&tokens("is it 15 euros a person?"), false), None);
        assert_eq!(
            party_size(
                &tokens("habitacion estandar 12/02-15/02, una persona"),
                false
            ),
            Some(1)
        );
        assert_eq!(party_size(&tokens("solo 1"), false), None);
        assert_eq!(
            party_size(
                &tokens("need somewhere to stay for me and two colleagues"),
                false
            ),
            Some(3)
        );
        assert_eq!(
            party_size(&tokens("it's for me + my husband"), false),
            Some(2)
        );
        assert_eq!(
            party_size(&tokens("um quarto para mim e para o meu filho"), false),
            Some(2)
        );
    }
}
