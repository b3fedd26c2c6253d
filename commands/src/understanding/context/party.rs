//! How many people a message says in words the entity grammar does not count.

use super::words::PARTNERS;

/// How many people a message says in words the grammar does not count: "a group of 12", "mi
/// mujer y yo", "para mim e a minha mulher", "é só para mim", "una persona nomas"; and, when
/// it answers "how many guests?" (`answering`), a lone number ("solo 1"); "para mí" alone only in
/// a message that also `names_the_stay` or answers.
pub fn party_size(words: &[String], answering: bool, names_the_stay: bool) -> Option<u32> {
    use crate::understanding::numbers::{is_adult_noun, is_guest_noun, small_number};
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
    let and = |w: &str| matches!(w, "y" | "e" | "and" | "&" | "con" | "com" | "with");
    // "me and two colleagues", "yo y 3 amigos", "yo con mis dos hijas": the guest plus that many.
    for (i, w) in words.iter().enumerate() {
        if me(w) && and(word(i + 1)) {
            let skip = usize::from(matches!(
                word(i + 2),
                "mis" | "my" | "meus" | "minhas" | "os" | "as" | "los" | "las"
            ));
            let n = small_number(word(i + 2 + skip)).filter(|n| (1..=30).contains(n));
            let noun = word(i + 3 + skip);
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
    // "un standard só pra mim de 13 a 15", "only for me, 20 to 23", "para mí": the guest alone,
    // unless a person follows ("para mi madre").
    let alone_for = words.windows(2).enumerate().any(|(i, pair)| {
        matches!(pair[0].as_str(), "para" | "pra" | "for")
            && matches!(pair[1].as_str(), "mi" | "mim" | "me" | "myself")
            && {
                let next = word(i + 2);
                next.is_empty()
                    || next.chars().next().is_some_and(|c| c.is_ascii_digit())
                    || matches!(
                        next,
                        "de" | "del"
                            | "desde"
                            | "from"
                            | "on"
                            | "el"
                            | "do"
                            | "da"
                            | "por"
                            | "solo"
                            | "sola"
                            | "only"
                            | "so"
                            | "alone"
                            | "sozinho"
                            | "sozinha"
                    )
                    || crate::understanding::dates::month(next).is_some()
            }
    });
    // Only in a request that names the stay (or answers "how many?"): "reserva pra mim" after a
    // quote means "book it for me", not "for one".
    if alone_for && (answering || names_the_stay) {
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
