//! Numbers and the nouns that say what they count, shared by the date and guest grammars.

/// A day of the month written as digits, optionally ordinal: `6`, `20th`, `1st`, `22nd`, `3er`.
pub fn day_number(word: &str) -> Option<u32> {
    let digits = word
        .strip_suffix("st")
        .or_else(|| word.strip_suffix("nd"))
        .or_else(|| word.strip_suffix("rd"))
        .or_else(|| word.strip_suffix("th"))
        .or_else(|| word.strip_suffix("er"))
        .unwrap_or(word);
    if digits.is_empty() || digits.len() > 2 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|d| (1..=31).contains(d))
}

/// A small count in digits or words (es/en/pt): "2", "dos", "two", "dois", "duas".
pub fn small_number(word: &str) -> Option<u32> {
    if let Ok(n) = word.parse::<u32>() {
        return (1..=60).contains(&n).then_some(n);
    }
    Some(match word {
        "un" | "uno" | "una" | "one" | "a" | "an" | "um" | "uma" => 1,
        "dos" | "two" | "dois" | "duas" => 2,
        "tres" | "three" => 3,
        "cuatro" | "four" | "quatro" => 4,
        "cinco" | "five" => 5,
        "seis" | "six" => 6,
        "siete" | "seven" | "sete" => 7,
        "ocho" | "eight" | "oito" => 8,
        "nueve" | "nine" | "nove" => 9,
        "diez" | "ten" | "dez" => 10,
        _ => return None,
    })
}

/// "noches", "nights", "noites" and their misspellings.
pub fn is_nights_noun(word: &str) -> bool {
    matches!(
        word,
        "noche"
            | "noches"
            | "night"
            | "nights"
            | "nite"
            | "nites"
            | "noite"
            | "noites"
            | "diarias"
            | "diaria"
            | "nochecitas"
    )
}

/// People: adults and children in the three languages.
pub fn is_guest_noun(word: &str) -> bool {
    is_adult_noun(word) || is_child_noun(word)
}

/// Adults or people in general.
pub fn is_adult_noun(word: &str) -> bool {
    matches!(
        word,
        "persona"
            | "personas"
            | "pax"
            | "adulto"
            | "adultos"
            | "huesped"
            | "huespedes"
            | "people"
            | "persons"
            | "person"
            | "guest"
            | "guests"
            | "adult"
            | "adults"
            | "pessoa"
            | "pessoas"
            | "hospede"
            | "hospedes"
            | "ppl"
            | "personas."
            | "adultas"
            | "adulta"
    )
}

/// Children and babies, who count as guests too.
pub fn is_child_noun(word: &str) -> bool {
    matches!(
        word,
        "nino"
            | "ninos"
            | "nina"
            | "ninas"
            | "hijo"
            | "hijos"
            | "kid"
            | "kids"
            | "child"
            | "children"
            | "crianca"
            | "criancas"
            | "miudo"
            | "miudos"
            | "miuda"
            | "miudas"
            | "peque"
            | "peques"
            | "filho"
            | "filhos"
            | "bebe"
            | "bebes"
            | "baby"
            | "babies"
            | "menor"
            | "menores"
    )
}

/// Units that make a number something other than a day or a head count.
pub fn is_other_unit(word: &str) -> bool {
    matches!(
        word,
        "euros"
            | "euro"
            | "eur"
            | "eu"
            | "dolares"
            | "dollars"
            | "usd"
            | "reais"
            | "horas"
            | "hora"
            | "h"
            | "hours"
            | "hour"
            | "am"
            | "pm"
            | "minutos"
            | "minutes"
            | "min"
            | "km"
            | "metros"
            | "anos"
            | "years"
            | "camas"
            | "beds"
            | "cama"
            | "bed"
            | "habitaciones"
            | "habitacion"
            | "rooms"
            | "room"
            | "quartos"
            | "quarto"
            | "semanas"
            | "semana"
            | "weeks"
            | "week"
            | "dias"
            | "days"
            | "meses"
            | "months"
            | "estrellas"
            | "stars"
            | "of"
            | "x"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_counts() {
        assert_eq!(day_number("20th"), Some(20));
        assert_eq!(day_number("1st"), Some(1));
        assert_eq!(day_number("32"), None);
        assert_eq!(day_number("2026"), None);
        assert_eq!(small_number("duas"), Some(2));
        assert_eq!(small_number("three"), Some(3));
        assert_eq!(small_number("casa"), None);
    }
}
