//! Guests, room type, booking reference, e-mail and phone of one message.

use conserje_domain::values::{Email, Phone};

use super::numbers::{is_adult_noun, is_child_noun, is_nights_noun, is_other_unit, small_number};
use super::text::{fold, is_uuid};

/// Whether `token` starts with a day of the month: "20", "20th", "8-11", "08/03".
fn starts_with_day(token: &str) -> bool {
    let head = token.split(['-', '/', '.']).next().unwrap_or("");
    super::numbers::day_number(head).is_some()
        || matches!(
            token,
            "lunes"
                | "martes"
                | "miercoles"
                | "jueves"
                | "viernes"
                | "sabado"
                | "domingo"
                | "monday"
                | "tuesday"
                | "wednesday"
                | "thursday"
                | "friday"
                | "saturday"
                | "sunday"
                | "segunda"
                | "terca"
                | "quarta"
                | "quinta"
                | "sexta"
                | "proximo"
                | "proxima"
                | "proximos"
                | "next"
                | "this"
                | "este"
                | "esta"
        )
}

/// People added to the party on the table: "one more person", "mais uma pessoa", "una persona
/// más", "uma pessoa a mais", "another guest".
pub fn extra_guests(words: &[String]) -> Option<u32> {
    let joined = format!(" {} ", words.join(" "));
    let one_more = [
        "one more person",
        "one more guest",
        "another person",
        "another guest",
        "one extra",
        "an extra person",
        "mais uma pessoa",
        "mais um hospede",
        "uma pessoa a mais",
        "uma pessoa extra",
        "una persona mas",
        "otra persona",
        "un huesped mas",
        "mais uma",
        "una mas",
    ];
    one_more
        .iter()
        .any(|p| joined.contains(&format!(" {p} ")))
        .then_some(1)
}

/// How many people, and which tokens said it (so the date grammar does not read them as days).
pub fn guests(words: &[String]) -> (Option<u32>, Vec<bool>) {
    let mut taken = vec![false; words.len()];
    let word = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let mut counted = 0u32;
    let mut stated: Option<u32> = None;
    // "dois filhos então quatro pessoas", "so that's 3 people": a total given after the parts.
    let mut total: Option<u32> = None;
    for (i, current) in words.iter().enumerate() {
        // "add a third person", "una tercera persona": the party becomes that many.
        let ordinal = match current.as_str() {
            "second" | "segunda" | "segundo" => Some(2),
            "third" | "tercera" | "tercer" | "tercero" | "terceira" | "terceiro" => Some(3),
            "fourth" | "cuarta" | "cuarto" | "quarta" | "quarto" => Some(4),
            "fifth" | "quinta" | "quinto" => Some(5),
            _ => None,
        };
        if let Some(n) = ordinal.filter(|_| is_adult_noun(word(i + 1))) {
            total = Some(n);
            taken[i] = true;
            continue;
        }
        let Some(n) = small_number(current) else {
            continue;
        };
        // "só para 4 de nós", "4 of us", "para 3 de nosotros": the party.
        if matches!(word(i + 1), "de" | "of")
            && matches!(word(i + 2), "nos" | "nosotros" | "nosotras" | "us")
        {
            stated = Some(n);
            taken[i] = true;
            continue;
        }
        // "un grupo de 14", "a group of 12": the party, and not the 14th of the month.
        if i >= 2 && matches!(word(i - 1), "de" | "of") && matches!(word(i - 2), "grupo" | "group")
        {
            stated = Some(n);
            taken[i] = true;
            continue;
        }
        if n > 30 {
            continue;
        }
        let next = word(i + 1);
        // "dos parejas", "two couples", "dois casais": two each.
        if matches!(next, "parejas" | "couples" | "casais" | "parejitas") {
            counted += 2 * n;
            taken[i] = true;
            continue;
        }
        // "mi mujer, yo y la peque, o sea tres": a total said after the people it counts.
        let sums_up = (i >= 2 && word(i - 2) == "o" && word(i - 1) == "sea")
            || (i >= 1 && matches!(word(i - 1), "entao" | "total" | "that's" | "thats"));
        if sums_up && !is_nights_noun(next) && !is_other_unit(next) && !is_child_noun(next) {
            total = Some(n);
            taken[i] = true;
            continue;
        }
        // "2 adultos y 1 niño", "two adults", "dois adultos", "3 people".
        if is_adult_noun(next) || is_child_noun(next) {
            if !matches!(word(i), "a" | "an" | "un" | "una" | "um" | "uma") || is_child_noun(next) {
                let totals = i > 0
                    && matches!(
                        word(i - 1),
                        "entao"
                            | "entonces"
                            | "sea"
                            | "seja"
                            | "so"
                            | "total"
                            | "that's"
                            | "thats"
                            | "sao"
                            | "son"
                            | "are"
                            | "somos"
                    );
                if totals && counted > 0 && is_adult_noun(next) {
                    total = Some(n);
                } else {
                    counted += n;
                }
                taken[i] = true;
            }
            continue;
        }
        // "somos só 2", "we're only 2", "somos solo 3": one softening word before the count.
        let softened = |w: &str| {
            matches!(
                w,
                "so" | "solo" | "apenas" | "only" | "just" | "nomas" | "mas" | "unos" | "uns"
            )
        };
        let (prev, prev2) = match (i.checked_sub(1).map(word), i.checked_sub(2).map(word)) {
            (Some(p), Some(p2)) if softened(p) => (p2, i.checked_sub(3).map(word).unwrap_or("")),
            (p, p2) => (p.unwrap_or(""), p2.unwrap_or("")),
        };
        let is_word_a = matches!(word(i), "a" | "an" | "un" | "una" | "um" | "uma");
        if is_word_a {
            continue;
        }
        // "somos 2", "seremos 4", "we're 2", "we are 3", "vamos ser 4", "there will be 4 of us".
        let verb = matches!(
            prev,
            "somos" | "seremos" | "seriamos" | "we're" | "were" | "we'll"
        ) || matches!(
            (prev2, prev),
            ("we", "are") | ("we", "will") | ("will", "be") | ("we'll", "be")
        ) || matches!(
            (prev2, prev),
            ("vamos", "ser") | ("a", "ser") | ("vamos", "a")
        ) || next == "of" && word(i + 2) == "us";
        // "para 2", "para dois", "pra duas", "for two": unless what follows makes it a stay
        // length, a date or an amount.
        // "para 2 de febrero" is a date, but "para 2 del 20 al 23" and "for 2, March 11-13"
        // are a party followed by the dates (the comma is gone from the tokens): what follows
        // the month or the "de" decides.
        let after_next = word(i + 2);
        let dates_follow = starts_with_day(after_next);
        let for_people = matches!(prev, "para" | "pra" | "for" | "pa")
            && !is_nights_noun(next)
            && !is_other_unit(next)
            && match next {
                "de" | "del" => dates_follow,
                "al" | "a" | "to" | "ao" | "y" | "and" | "e" => {
                    !after_next.is_empty() && !starts_with_day(after_next)
                }
                _ => super::dates::month(next).is_none() || dates_follow,
            }
            && !word(i).chars().any(|c| !c.is_alphanumeric());
        if (verb || for_people) && stated.is_none() && !is_nights_noun(next) {
            stated = Some(n);
            taken[i] = true;
        }
    }
    let couple = words.windows(2).any(|w| {
        matches!(
            w[0].as_str(),
            "una" | "a" | "um" | "somos" | "pareja" | "casal" | "couple"
        ) && matches!(w[1].as_str(), "pareja" | "couple" | "casal")
    }) && !words
        .windows(2)
        .any(|w| matches!(w[0].as_str(), "de") && w[1] == "casal");
    let me_and = words.windows(3).any(|w| {
        matches!(w[0].as_str(), "mi" | "me" | "mim" | "myself")
            && matches!(w[1].as_str(), "y" | "and" | "e")
            && matches!(w[2].as_str(), "mi" | "my" | "minha" | "meu" | "mio" | "mia")
    });
    let alone = words.windows(2).any(|w| {
        matches!(
            (w[0].as_str(), w[1].as_str()),
            ("solo", "yo")
                | ("yo", "solo")
                | ("yo", "sola")
                | ("just", "me")
                | ("only", "me")
                | ("so", "eu")
                | ("eu", "sozinho")
                | ("eu", "sozinha")
                | ("by", "myself")
        )
    });
    // "somos 4, mi esposo, yo y los dos niños": a stated party counts everyone, the children
    // listed after it among them.
    let guests = if let Some(total) = total {
        Some(total)
    } else if counted > 0 {
        Some(stated.map_or(counted, |s| s.max(counted)))
    } else if stated.is_some() {
        stated
    } else if couple || me_and {
        Some(2)
    } else if alone {
        Some(1)
    } else {
        None
    };
    (guests, taken)
}

/// The hotel's room codes and how guests name them.
const ROOM_WORDS: &[(&str, &str)] = &[
    ("standard", "standard"),
    ("estandar", "standard"),
    ("estandard", "standard"),
    ("individual", "standard"),
    ("sencilla", "standard"),
    ("single", "standard"),
    ("solteiro", "standard"),
    ("simples", "standard"),
    ("doble", "double"),
    ("double", "double"),
    ("duplo", "double"),
    ("dupla", "double"),
    ("matrimonial", "double"),
    ("twin", "double"),
    ("king", "king"),
    ("kingsize", "king"),
    ("suite", "suite"),
    ("suites", "suite"),
];

/// Words too close to a room word to be read as its typo.
const NOT_TYPOS: &[&str] = &[
    "doble", "sigle", "dupla", "suits", "kind", "sing", "single", "simple",
];

/// The room code a message asks for: exact synonyms ("doble", "duplo", "matrimonial", "quarto de
/// casal") first, then typos within one edit of a synonym of five letters or more ("suit",
/// "dobel", "duble") sharing its first letter.
pub fn room_type(words: &[String]) -> Option<String> {
    // "the standard'll do": the word without its contraction.
    let words: Vec<String> = words
        .iter()
        .map(|w| w.split('\'').next().unwrap_or(w).to_owned())
        .collect();
    let words = &words[..];
    for (i, w) in words.iter().enumerate() {
        if let Some((_, code)) = ROOM_WORDS.iter().find(|(s, _)| s == w) {
            return Some((*code).to_owned());
        }
        if w == "casal" && i > 0 && words[i - 1] == "de" {
            return Some("double".to_owned());
        }
    }
    for w in words {
        if w.chars().count() < 4
            || NOT_TYPOS.contains(&w.as_str())
            || !w.chars().all(char::is_alphabetic)
        {
            continue;
        }
        for (synonym, code) in ROOM_WORDS {
            if synonym.len() < 5 || synonym.chars().next() != w.chars().next() {
                continue;
            }
            let limit = if synonym.len() >= 9 { 2 } else { 1 };
            if strsim::damerau_levenshtein(w, synonym) <= limit {
                return Some((*code).to_owned());
            }
        }
    }
    None
}

const BOOKING_CUES: &[&str] = &[
    "reserva",
    "reservation",
    "booking",
    "reserve",
    "localizador",
    "codigo",
    "code",
    "ref",
    "referencia",
    "reference",
    "numero",
    "number",
    "id",
    "n",
    "no",
    "confirmacao",
    "confirmacion",
    "confirmation",
];

/// Chunks of the raw text split on white space and the punctuation that never occurs inside an
/// e-mail, a UUID or a phone number.
fn chunks(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                ',' | ';' | '(' | ')' | '<' | '>' | '"' | '¿' | '?' | '¡' | '!' | '[' | ']'
            )
    })
    .map(|c| c.trim_matches(|c: char| matches!(c, '.' | ':' | '\'' | '*' | '#')))
    .filter(|c| !c.is_empty())
}

/// A full booking UUID, or its first 8 hex characters written as a reference ("reserva
/// 01937c2e"): a fragment must mix digits and letters, or follow a word like "reserva".
pub fn booking_id(text: &str) -> Option<String> {
    let folded = fold(text);
    let parts: Vec<&str> = chunks(&folded).collect();
    for (i, part) in parts.iter().enumerate() {
        if is_uuid(part) {
            return Some((*part).to_owned());
        }
        let hex = part.len() == 8 && part.chars().all(|c| c.is_ascii_hexdigit());
        if !hex || !part.chars().any(|c| c.is_ascii_digit()) {
            continue;
        }
        let mixed = part.chars().any(|c| c.is_ascii_alphabetic());
        let cued = parts[i.saturating_sub(2)..i]
            .iter()
            .any(|p| BOOKING_CUES.contains(&p.trim_end_matches(['º', '.'])));
        if mixed || cued {
            return Some((*part).to_owned());
        }
    }
    None
}

/// The first valid e-mail address (checked by `Email::parse`: a dotted domain is required).
pub fn email(text: &str) -> Option<String> {
    chunks(text)
        .filter(|c| c.contains('@'))
        .find_map(|c| Email::parse(c).ok())
        .map(|e| e.as_str().to_owned())
}

/// The first valid phone number written with its country code (`+34 612 345 678`, `0034…`),
/// normalised to E.164 by `Phone::parse`: without a country code a number is ambiguous.
pub fn phone(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let international = chars[i] == '+'
            || (chars[i] == '0'
                && chars.get(i + 1) == Some(&'0')
                && (i == 0 || !chars[i - 1].is_ascii_alphanumeric()));
        if !international {
            i += 1;
            continue;
        }
        let start = if chars[i] == '+' { i + 1 } else { i + 2 };
        let mut end = start;
        let mut digits = 0;
        while end < chars.len()
            && (chars[end].is_ascii_digit() || matches!(chars[end], ' ' | '-' | '(' | ')' | '.'))
        {
            if chars[end].is_ascii_digit() {
                digits += 1;
            }
            if digits >= 15 {
                end += 1;
                break;
            }
            end += 1;
        }
        let candidate: String = std::iter::once('+')
            .chain(chars[start..end].iter().copied())
            .collect();
        if (7..=15).contains(&digits) {
            if let Ok(phone) = Phone::parse(candidate.trim_end_matches([' ', '-', '.', '('])) {
                return Some(phone.as_str().to_owned());
            }
        }
        i = end.max(i + 1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::understanding::text::tokens;

    fn guests_of(text: &str) -> Option<u32> {
        guests(&tokens(text)).0
    }

    fn room(text: &str) -> Option<String> {
        room_type(&tokens(text))
    }

    #[test]
    fn guest_counts_in_three_languages() {
        assert_eq!(guests_of("somos 2"), Some(2));
        assert_eq!(guests_of("para 2 personas"), Some(2));
        assert_eq!(guests_of("2 adults"), Some(2));
        assert_eq!(guests_of("para dois"), Some(2));
        assert_eq!(guests_of("we're 3"), Some(3));
        assert_eq!(guests_of("there will be 4 of us"), Some(4));
        assert_eq!(guests_of("2 adultos y 1 niño"), Some(3));
        assert_eq!(guests_of("duas pessoas"), Some(2));
        assert_eq!(guests_of("para mí y mi mujer"), Some(2));
        assert_eq!(guests_of("para 2 noches"), None);
        assert_eq!(guests_of("para el 12 de diciembre"), None);
        assert_eq!(guests_of("2"), None, "a bare number is the dialogue's job");
    }

    #[test]
    fn totals_couples_and_softened_counts() {
        assert_eq!(
            guests_of("eu meu marido e nossos dois filhos entao quatro pessoas"),
            Some(4)
        );
        assert_eq!(
            guests_of("seriamos mi mujer yo y la peque o sea tres"),
            Some(3)
        );
        assert_eq!(guests_of("cuatro, somos dos parejas amigas"), Some(4));
        assert_eq!(guests_of("afinal somos só 2"), Some(2));
        assert_eq!(guests_of("o sea 3 noches"), None);
        assert_eq!(guests_of("para 2 del 20 al 23 de febrero"), Some(2));
        assert_eq!(guests_of("for 2, March 11-13"), Some(2));
        assert_eq!(guests_of("could we add a third person?"), Some(3));
        assert_eq!(guests_of("somos 4, mi esposo, yo y los dos niños"), Some(4));
        assert_eq!(
            guests_of("somos quatro, dois adultos e dois miúdos"),
            Some(4)
        );
        assert_eq!(guests_of("Então reservamos só para 4 de nós"), Some(4));
        assert_eq!(room("the standard'll do us").as_deref(), Some("standard"));
        assert_eq!(
            guests_of("somos um grupo de 14 caminheiros, de 13 a 15 de fevereiro"),
            Some(14)
        );
        assert_eq!(
            extra_guests(&tokens("dá pra colocar mais uma pessoa?")),
            Some(1)
        );
        assert_eq!(extra_guests(&tokens("we are two")), None);
    }

    #[test]
    fn room_types_synonyms_and_typos() {
        assert_eq!(room("una doble").as_deref(), Some("double"));
        assert_eq!(room("quarto duplo").as_deref(), Some("double"));
        assert_eq!(room("habitación matrimonial").as_deref(), Some("double"));
        assert_eq!(room("quarto de casal").as_deref(), Some("double"));
        assert_eq!(room("a king room").as_deref(), Some("king"));
        assert_eq!(room("la suite").as_deref(), Some("suite"));
        assert_eq!(room("a suíte").as_deref(), Some("suite"));
        assert_eq!(room("una individual").as_deref(), Some("standard"));
        assert_eq!(room("quarto de solteiro").as_deref(), Some("standard"));
        assert_eq!(room("the suit please").as_deref(), Some("suite"));
        assert_eq!(room("una dobel").as_deref(), Some("double"));
        assert_eq!(room("duble room").as_deref(), Some("double"));
        assert_eq!(room("matrimoniall").as_deref(), Some("double"));
        assert_eq!(room("quite nice"), None);
        assert_eq!(room("somos um casal"), None);
        assert_eq!(room("what kind of room"), None);
    }

    #[test]
    fn booking_ids() {
        let full = "01937c2e-8a4b-7c3d-9e1f-123456789abc";
        assert_eq!(
            booking_id(&format!("cancel {full}, thanks")).as_deref(),
            Some(full)
        );
        assert_eq!(booking_id("reserva 01937c2e").as_deref(), Some("01937c2e"));
        assert_eq!(booking_id("booking 01937C2E.").as_deref(), Some("01937c2e"));
        assert_eq!(
            booking_id("reserva nº 01937122").as_deref(),
            Some("01937122")
        );
        assert_eq!(booking_id("llamame al 61234567"), None);
    }

    #[test]
    fn emails() {
        assert_eq!(
            email("mi correo es Ana.Garcia@Gmail.com.").as_deref(),
            Some("ana.garcia@gmail.com")
        );
        assert_eq!(email("ana@localhost"), None);
        assert_eq!(email("sin correo"), None);
    }

    #[test]
    fn phones() {
        assert_eq!(
            phone("mi móvil: +34 612 345 678").as_deref(),
            Some("+34612345678")
        );
        assert_eq!(
            phone("+55 (11) 91234-5678 obrigado").as_deref(),
            Some("+5511912345678")
        );
        assert_eq!(
            phone("call 0044 7911 123456").as_deref(),
            Some("+447911123456")
        );
        assert_eq!(phone("612 345 678"), None);
    }
}
