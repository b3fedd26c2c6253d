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
        _ => None,
    }
}

/// The words of a message: folded, emojis that mean something spelled out, other symbols and
/// punctuation dropped. Dates like `20/12` and `2026-12-20`, ranges like `20-25`, ordinals like
/// `20th` and apostrophes inside words (`we're`) stay in one token; `check-in` and
/// `sexta-feira` split in two.
pub fn tokens(text: &str) -> Vec<String> {
    let folded = fold(text);
    let mut spaced = String::with_capacity(folded.len() + 8);
    for c in folded.chars() {
        if let Some(word) = emoji_word(c) {
            spaced.push_str(word);
        } else if (c.is_alphanumeric() && c != 'º' && c != 'ª')
            || matches!(c, '/' | '-' | '\'' | '@' | '.' | ':')
        {
            spaced.push(c);
        } else {
            spaced.push(' ');
        }
    }
    let mut out = Vec::new();
    for raw in spaced.split_whitespace() {
        let raw = raw.trim_matches(|c: char| !c.is_alphanumeric());
        if raw.is_empty() {
            continue;
        }
        if raw.contains('@') || is_uuid(raw) {
            out.push(raw.to_owned());
            continue;
        }
        let numeric = raw.chars().next().is_some_and(|c| c.is_ascii_digit());
        if numeric
            && raw
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '/' | '-' | '.'))
        {
            out.push(raw.to_owned());
            continue;
        }
        for part in raw.split(['/', '-', '.', ':']) {
            let part = part.trim_matches('\'');
            if !part.is_empty() {
                out.push(part.to_owned());
            }
        }
    }
    out
}

/// The text the intent classifier sees: the tokens, with numbers, e-mails and booking references
/// replaced by placeholders so that "del 20 al 25" and "del 3 al 7" are the same sentence to it.
pub fn classifier_text(tokens: &[String]) -> String {
    let mut out = String::new();
    for token in tokens {
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
    fn classifier_text_masks_numbers_and_references() {
        let t = tokens("reserva 01937c2e para 2, ana@x.com, 20/12");
        assert_eq!(
            classifier_text(&t),
            "reserva xrefx para xnumx xemailx xdatex"
        );
    }
}
