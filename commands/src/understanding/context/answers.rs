//! How a message answers a question: yes or no in words, a wish for something cheaper, a
//! thank-you or a goodbye in many words.

use conserje_domain::understanding::{Intent, Language, Understood};

use super::words::{
    CANCEL_IT, CLOSING, DO_IT, NO, NO_PHRASES, THANKS_OR_BYE, THANKS_PHRASES, YES, YES_PHRASES,
};

pub(super) fn contains_phrase(joined: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| joined.contains(&format!(" {p} ")))
}

/// Whether the message, read as the answer to a yes/no question, says yes (`Some(true)`), no
/// (`Some(false)`), or neither.
pub fn yes_or_no(words: &[String], language: Language, flow: Option<Intent>) -> Option<bool> {
    let joined = format!(" {} ", words.join(" "));
    let opening = words.first().map(String::as_str).unwrap_or("");
    let says_yes_phrase = contains_phrase(&joined, YES_PHRASES);
    // A "no" anywhere in Spanish or English ("on reflection, no, leave it"); in Portuguese "no"
    // is "in the", and only an opening "não" counts.
    let opens_with_no =
        NO.contains(&opening) || (language != Language::Pt && words.iter().any(|w| w == "no"));
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
                | "steep"
                | "presupuesto"
                | "orcamento"
                | "orzamento"
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
            "break the bank",
            "salga menos",
            "cueste menos",
            "custe menos",
            "custa menos",
            "pese menos",
            "mais simpatico",
            "mas barato",
            "too much",
            "demasiado",
        ],
    )
}

/// A message that only thanks or says goodbye is a goodbye, whatever words of courtesy it
/// carries ("ok obrigado", "valeu, boa noite!").
pub(super) fn closes(words: &[String]) -> bool {
    let joined = format!(" {} ", words.join(" "));
    !words.is_empty()
        && (words.iter().any(|w| THANKS_OR_BYE.contains(&w.as_str()))
            || contains_phrase(&joined, THANKS_PHRASES))
        && words.iter().all(|w| CLOSING.contains(&w.as_str()))
}

/// "let's just leave it for now, thanks anyway", "lo dejamos así, gracias": the guest ends the
/// enquiry, which is a goodbye, not a no that wants other rooms.
pub(super) fn leaves_it(words: &[String]) -> bool {
    let joined = format!(" {} ", words.join(" "));
    let leave = contains_phrase(
        &joined,
        &[
            "leave it",
            "for now",
            "another time",
            "some other time",
            "lo dejamos",
            "dejemoslo",
            "dejarlo",
            "otra vez sera",
            "otro dia",
            "por ahora no",
            "deixa pra la",
            "deixa para la",
            "deixemos estar",
            "fica para outra",
            "outro dia",
            "outra hora",
            "por agora nao",
            "vou pensar",
            "i'll think",
            "lo pienso",
            "lo voy a pensar",
        ],
    );
    // "não, obrigado, deixa pra lá" opens with its no: a no, answered with the other rooms.
    let opens_with_no = words
        .first()
        .is_some_and(|w| NO.contains(&w.as_str()) || w == "no");
    leave
        && !opens_with_no
        && words
            .iter()
            .any(|w| THANKS_OR_BYE.contains(&w.as_str()) || w == "anyway")
}

/// "Boa noite, desculpe estar a incomodar a esta hora!": a greeting the model could not place.
pub(super) fn greets(understood: &Understood, words: &[String]) -> bool {
    let joined = format!(" {} ", words.join(" "));
    let opens = [
        "boa noite",
        "boa tarde",
        "bom dia",
        "buenas noches",
        "buenas tardes",
        "buenos dias",
        "good evening",
        "good morning",
        "good afternoon",
        "hola",
        "ola",
        "oi",
        "hi",
        "hello",
        "hey",
        "buenas",
        "boas",
    ]
    .iter()
    .any(|g| joined.starts_with(&format!(" {g} ")));
    opens && understood.intent == Intent::OutOfScope && understood.entities.is_empty()
}

/// A message that ends by thanking or taking leave, which the model could not place: "vou
/// procurar o email e volto, obg".
pub(super) fn signs_off(understood: &Understood, words: &[String]) -> bool {
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
