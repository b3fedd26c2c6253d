//! Normalisation shared by the classifier, the language rules and the entity grammar, so that
//! "Mañana", "manana" and "MAÑANA" look the same to all of them.

/// Lowercases and folds the accents guests often leave out on WhatsApp ("mañana" → "manana",
/// "não" → "nao", "suíte" → "suite"); other characters pass through.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        out.push(match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            '’' | '´' | '`' => '\'',
            other => other,
        });
    }
    out
}

/// Emojis that carry a meaning for a receptionist, as the word a guest would have typed.
fn emoji_word(c: char) -> Option<&'static str> {
    match c {
        '👍' | '👌' | '✅' | '✔' | '🆗' => Some(" ok "),
        '👎' | '❌' | '🚫' => Some(" no "),
        '👋' => Some(" hi "),
        '🙏' => Some(" thanks "),
        '🙌' | '🤝' => Some(" ok "),
        // An arrow between dates is a range: "Feb 14th → 17th".
        '→' | '⟶' | '➡' | '⇒' => Some(" - "),
        _ => None,
    }
}

/// The words of a message: folded, emojis that mean something spelled out, other symbols and
/// punctuation dropped. Dates like `20/12` and `2026-12-20`, ranges like `20-25`, ordinals like
/// `20th` and apostrophes inside words (`we're`) stay in one token; `check-in` and
/// `sexta-feira` split in two.
///
/// A dash between a number and another word ("jan 8 - 11", "8–11", "8—11", "10th-14th",
/// "08/03 - 11/03") becomes a standalone [`DASH`] token, so that the date grammar can read it as
/// a range connector; elsewhere ("hola – qué tal", "check-in") a dash stays a mere separator, so
/// that yes/no rules and keyword phrases see the same words as without it.
pub fn tokens(text: &str) -> Vec<String> {
    // "me + my husband": a plus between words is an "and" (a phone's "+34" keeps its digits).
    let folded = fold(text).replace(" + ", " and ").replace(" & ", " and ");
    let mut spaced = String::with_capacity(folded.len() + 8);
    for c in folded.chars() {
        if let Some(word) = emoji_word(c) {
            spaced.push_str(word);
        } else if matches!(c, '\u{2012}'..='\u{2015}' | '\u{2212}') {
            // En dash, em dash and their kin: always a separator, like " - ".
            spaced.push_str(" - ");
        } else if matches!(c, '\u{2010}' | '\u{2011}') {
            spaced.push('-');
        } else if (c.is_alphanumeric() && c != 'º' && c != 'ª')
            || matches!(c, '/' | '-' | '\'' | '@' | '.' | ':')
        {
            spaced.push(c);
        } else {
            spaced.push(' ');
        }
    }
    let mut out = Tokens::default();
    for chunk in spaced.split_whitespace() {
        let raw = chunk.trim_matches(|c: char| !c.is_alphanumeric());
        if raw.is_empty() {
            out.dash |= chunk.contains('-');
            continue;
        }
        let start = chunk.len()
            - chunk
                .trim_start_matches(|c: char| !c.is_alphanumeric())
                .len();
        out.dash |= chunk[..start].contains('-');
        let dash_after = chunk[start + raw.len()..].contains('-');
        let numeric = raw.chars().next().is_some_and(|c| c.is_ascii_digit());
        if raw.contains('@')
            || is_uuid(raw)
            || numeric
                && raw
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '/' | '-' | '.'))
        {
            out.push(raw);
        } else {
            // Split on the separators, remembering the hyphens: "10th-14th" keeps its dash.
            let mut rest = raw;
            while !rest.is_empty() {
                let cut = rest.find(['/', '-', '.', ':']).unwrap_or(rest.len());
                let part = rest[..cut].trim_matches('\'');
                if !part.is_empty() {
                    out.push(part);
                }
                let separator = rest[cut..].chars().next();
                out.dash |= separator == Some('-');
                rest = &rest[cut + separator.map_or(0, char::len_utf8)..];
            }
        }
        out.dash |= dash_after;
    }
    out.words
}

/// The standalone dash token that [`tokens`] emits between a number and another word.
pub const DASH: &str = "-";

/// The words being collected by [`tokens`], and whether a dash was seen since the last one.
#[derive(Default)]
struct Tokens {
    words: Vec<String>,
    dash: bool,
}

impl Tokens {
    /// Adds `word`, preceded by [`DASH`] when a dash separates it from a previous word and one
    /// of the two starts with a digit ("8 - 11", "dec 30 – jan 2", but not "check-in").
    fn push(&mut self, word: &str) {
        let digit = |w: &str| w.chars().next().is_some_and(|c| c.is_ascii_digit());
        if self.dash {
            if let Some(last) = self.words.last() {
                if last != DASH && (digit(last) || digit(word)) {
                    self.words.push(DASH.to_owned());
                }
            }
        }
        self.dash = false;
        self.words.push(spelled(word).to_owned());
    }
}

/// The word a guest meant by a common misspelling of the words the grammar and the rules key on
/// ("tommorow", "nigths", "noits", "dubble", "frm"): folded forms, typed fast on a phone.
/// Fuzzy matching stays in the places that need it (room types); these are the misses seen in
/// guests' messages, where a near match would also catch real words.
fn spelled(word: &str) -> &str {
    match word {
        "tommorow" | "tomorow" | "tommorrow" | "tomorrw" | "tomorro" | "tmrw" | "tmr" | "tmrrw"
        | "2morrow" | "2moro" => "tomorrow",
        "nigths" | "nigts" | "nites" | "nihgts" | "niths" | "nighs" | "nigthts" | "nighst" => {
            "nights"
        }
        "nigth" | "nite" | "nihgt" => "night",
        "noits" | "noitess" | "noties" | "noiets" => "noites",
        "noit" | "noiet" => "noite",
        "nochs" | "nohces" | "noshes" | "nochez" => "noches",
        "dubble" | "duble" | "doubel" | "doulbe" | "dobule" => "double",
        "frm" | "fom" => "from",
        "untill" | "unitl" | "til" => "until",
        "manaa" | "mañna" | "manan" => "manana",
        "amanah" | "amanhan" => "amanha",
        "kiero" | "qiero" | "quierp" => "quiero",
        "resevar" | "reserbar" | "resrvar" => "reservar",
        "habitacion" | "havitacion" | "abitacion" | "habitacon" => "habitacion",
        "quato" | "qaurto" | "quartto" => "quarto",
        "pesoas" | "pesssoas" | "pessaos" => "pessoas",
        "persnas" | "presonas" | "pesonas" => "personas",
        "poeple" | "peolpe" | "ppl" => "people",
        "wnat" | "wnt" | "wan" => "want",
        "leavin" | "leving" | "laeving" => "leaving",
        "arrivin" | "ariving" | "arriveing" => "arriving",
        other => other,
    }
}

/// The text the intent classifier sees: the tokens, with numbers, e-mails and booking references
/// replaced by placeholders so that "del 20 al 25" and "del 3 al 7" are the same sentence to it.
pub fn classifier_text(tokens: &[String]) -> String {
    let mut out = String::new();
    for token in tokens {
        if token == DASH {
            // A range dash: the classifier sees "del 8 - 11" as it always saw "del 8 11".
            continue;
        }
        let mapped: &str = if token.contains('@') {
            "xemailx"
        } else if is_booking_like(token) {
            "xrefx"
        } else if token.chars().any(|c| c.is_ascii_digit()) {
            if token.contains(['/', '-']) {
                "xdatex"
            } else {
                "xnumx"
            }
        } else {
            token
        };
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(mapped);
    }
    out
}

/// `01937c2e-8a4b-7c3d-9e1f-123456789abc`: the shape of conserje's booking ids (any UUID).
pub fn is_uuid(chunk: &str) -> bool {
    let groups: Vec<&str> = chunk.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A UUID, or 8+ hex characters mixing letters and digits: what a booking reference looks like.
pub fn is_booking_like(token: &str) -> bool {
    if is_uuid(token) {
        return true;
    }
    let hexish = token.len() >= 8 && token.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    hexish
        && token.chars().any(|c| c.is_ascii_digit())
        && token.chars().any(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_misspellings_read_as_the_word_meant() {
        assert_eq!(
            tokens("a room for tommorow? 2 nigths"),
            ["a", "room", "for", "tomorrow", "2", "nights"]
        );
        assert_eq!(tokens("ficamos 4 noits"), ["ficamos", "4", "noites"]);
    }

    #[test]
    fn folds_accents_and_case() {
        assert_eq!(fold("MAÑANA Não Suíte"), "manana nao suite");
    }

    #[test]
    fn tokens_keep_dates_and_split_hyphenated_words() {
        assert_eq!(
            tokens("¿Del 20/12 al 25-12? check-in, sexta-feira 👍"),
            ["del", "20/12", "al", "25-12", "check", "in", "sexta", "feira", "ok"]
        );
        assert_eq!(tokens("we're 2!!"), ["we're", "2"]);
        assert_eq!(tokens("ana@mail.com."), ["ana@mail.com"]);
    }

    #[test]
    fn a_dash_next_to_a_number_is_a_token() {
        let cases: [(&str, &[&str]); 11] = [
            ("Jan 8 - 11", &["jan", "8", "-", "11"]),
            ("8–11", &["8", "-", "11"]),
            ("8—11", &["8", "-", "11"]),
            ("8 – 11 de março", &["8", "-", "11", "de", "marco"]),
            ("from the 10th-14th", &["from", "the", "10th", "-", "14th"]),
            ("08/03 - 11/03", &["08/03", "-", "11/03"]),
            ("dec 30 – jan 2", &["dec", "30", "-", "jan", "2"]),
            ("20 -25 y 8- 11", &["20", "-", "25", "y", "8", "-", "11"]),
            ("8 -- 11", &["8", "-", "11"]),
            ("- del 8 -", &["del", "8"]),
            ("20-25 2026-12-20", &["20-25", "2026-12-20"]),
        ];
        for (text, expected) in cases {
            assert_eq!(tokens(text), expected, "{text}");
        }
    }

    #[test]
    fn a_dash_between_words_is_only_a_separator() {
        assert_eq!(tokens("hola – qué tal"), ["hola", "que", "tal"]);
        assert_eq!(tokens("sí - gracias"), ["si", "gracias"]);
        assert_eq!(
            tokens("check-in — sexta-feira"),
            ["check", "in", "sexta", "feira"]
        );
    }

    #[test]
    fn classifier_text_ignores_a_range_dash() {
        let expected = "del xnumx al xnumx xnumx";
        assert_eq!(classifier_text(&tokens("del 8 al 11 - 12")), expected);
        assert_eq!(classifier_text(&tokens("del 8 al 11 12")), expected);
        assert_eq!(
            classifier_text(&tokens("jan 8–11")),
            classifier_text(&tokens("jan 8 11"))
        );
        assert_eq!(classifier_text(&tokens("20-25")), "xdatex");
    }

    #[test]
    fn classifier_text_masks_numbers_and_references() {
        let t = tokens("reserva 01937c2e para 2, ana@x.com, 20/12");
        assert_eq!(
            classifier_text(&t),
            "reserva xrefx para xnumx xemailx xdatex"
        );
    }
}
