//! Requests the model confuses with one another: a person asked for in passing, a question
//! about the cancellation policy, a change to a booking the guest has, a new booking.

use conserje_domain::understanding::Understood;

use super::changes_the_stay;
use super::words::{BOOKING_WORDS, CHANGING, PEOPLE, REACH};

/// Words that ask for a person in so many words ("a human", "alguien de recepción"): "only 1
/// person" answers "how many guests?" and is not one of them.
pub(super) fn asks_for_a_person(words: &[String]) -> bool {
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
pub(super) fn wants_a_person(words: &[String]) -> bool {
    let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
    has(REACH) && has(PEOPLE)
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
pub(super) fn changes_a_named_booking(understood: &Understood, words: &[String]) -> bool {
    let changing = words.iter().any(|w| CHANGING.contains(&w.as_str()));
    let speaks_of_a_booking = speaks_of_their_booking(words);
    (understood.entities.booking_id.is_some() && (changing || changes_the_stay(understood)))
        // "tengo la reserva HX4821 y quisiera agregar una persona": a booking and a change.
        || (speaks_of_a_booking && changing && !reads_as_new_booking(words))
}

/// A booking noun the guest uses for one they have: after a definite article or a possessive
/// ("la reserva", "a reserva", "my booking"), or leading ("booking is under johnson"); "una
/// reserva" and "a booking" are the one they want to make.
pub(super) fn speaks_of_their_booking(words: &[String]) -> bool {
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
    let names_a_booking = words
        .iter()
        .any(|w| crate::understanding::text::is_booking_like(w));
    // A booking the guest has is named: "la reserva", "booking is under johnson", "my booking"
    // — not "una reserva", "a booking", which is the new one they want.
    let speaks_of_a_booking = speaks_of_their_booking(words);
    !names_a_booking && !has(CHANGING) && (another || !speaks_of_a_booking)
}
