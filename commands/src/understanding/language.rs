//! Which of conserje's languages a message is in: `lingua` restricted to Spanish, English and
//! Portuguese for real sentences, a small lexicon of the one-word replies that no statistical
//! detector can place ("ok", "no", "sim"), and the session's last language as the prior for them.

use conserje_domain::understanding::Language;
use lingua::{LanguageDetector, LanguageDetectorBuilder};

/// Words typical of short replies and openings, with the languages they belong to. A message made
/// only of such words is decided here; one that fits the prior keeps the prior.
const LEXICON: &[(&str, &[Language])] = {
    use Language::{En, Es, Pt};
    &[
        ("ok", &[Es, En, Pt]),
        ("okay", &[Es, En, Pt]),
        ("oki", &[Es, En, Pt]),
        ("vale", &[Es]),
        ("dale", &[Es]),
        ("venga", &[Es]),
        ("si", &[Es]),
        ("sii", &[Es]),
        ("sip", &[Es]),
        ("claro", &[Es, Pt]),
        ("perfecto", &[Es]),
        ("perfeito", &[Pt]),
        ("perfect", &[En]),
        ("genial", &[Es]),
        ("no", &[Es, En]),
        ("nop", &[Es]),
        ("noo", &[Es, En]),
        ("nono", &[Es]),
        ("gracias", &[Es]),
        ("graciass", &[Es]),
        ("hola", &[Es]),
        ("donde", &[Es]),
        ("estais", &[Es, Pt]),
        ("exactamente", &[Es, Pt]),
        ("holaa", &[Es]),
        ("buenas", &[Es]),
        ("adios", &[Es]),
        ("chao", &[Es, Pt]),
        ("yes", &[En]),
        ("yeah", &[En]),
        ("yep", &[En]),
        ("yup", &[En]),
        ("yea", &[En]),
        ("sure", &[En]),
        ("nope", &[En]),
        ("nah", &[En]),
        ("thanks", &[En]),
        ("thx", &[En]),
        ("thank", &[En]),
        ("hi", &[En]),
        ("hello", &[En]),
        ("hey", &[En]),
        ("bye", &[En]),
        ("sim", &[Pt]),
        ("simm", &[Pt]),
        ("nao", &[Pt]),
        ("obrigado", &[Pt]),
        ("obrigada", &[Pt]),
        ("obg", &[Pt]),
        ("valeu", &[Pt]),
        ("oi", &[Pt]),
        ("oii", &[Pt]),
        ("ola", &[Pt, Es]),
        ("tchau", &[Pt]),
        ("beleza", &[Pt]),
        ("ta", &[Pt]),
        ("bom", &[Pt]),
        ("dia", &[Pt, Es]),
        ("boa", &[Pt]),
        ("tarde", &[Pt, Es]),
        ("noite", &[Pt]),
        ("isso", &[Pt]),
        ("pode", &[Pt]),
        ("fechado", &[Pt]),
        ("combinado", &[Pt, Es]),
        ("certo", &[Pt]),
        ("uhum", &[Pt]),
        ("bora", &[Pt]),
    ]
};

/// Everyday words of one language only (folded), common in guests' messages.
const MARKERS: &[(&str, Language)] = {
    use Language::{En, Es, Pt};
    &[
        ("oi", Pt),
        ("tem", Pt),
        ("pra", Pt),
        ("voce", Pt),
        ("vc", Pt),
        ("vcs", Pt),
        ("quero", Pt),
        ("gostaria", Pt),
        ("nao", Pt),
        ("sim", Pt),
        ("quarto", Pt),
        ("quartos", Pt),
        ("noites", Pt),
        ("pessoas", Pt),
        ("obrigado", Pt),
        ("obrigada", Pt),
        ("queria", Pt),
        ("tambem", Pt),
        ("hola", Es),
        ("quiero", Es),
        ("tienen", Es),
        ("habitacion", Es),
        ("noches", Es),
        ("personas", Es),
        ("gracias", Es),
        ("cuanto", Es),
        ("tenes", Es),
        ("teneis", Es),
        ("hi", En),
        ("hello", En),
        ("room", En),
        ("nights", En),
        ("people", En),
        ("want", En),
        ("please", En),
        ("the", En),
        ("you", En),
        ("have", En),
        ("thanks", En),
    ]
};

/// The most likely language of a message, built once (the lingua models load in a few ms).
pub struct LanguageId {
    detector: LanguageDetector,
}

impl LanguageId {
    /// Builds the detector with its three models preloaded, so that no guest waits for a lazy
    /// load.
    pub fn new() -> Self {
        let detector = LanguageDetectorBuilder::from_languages(&[
            lingua::Language::Spanish,
            lingua::Language::English,
            lingua::Language::Portuguese,
        ])
        .with_preloaded_language_models()
        .build();
        Self { detector }
    }

    /// Detects the language of `text` (`tokens` are its folded words). Short messages made of
    /// lexicon words keep `prior` when it fits; otherwise lingua decides, and when it is unsure
    /// the prior wins. With nothing to go on, Spanish (the default guest language).
    pub fn detect(&self, text: &str, tokens: &[String], prior: Option<Language>) -> Language {
        let words: Vec<&str> = tokens
            .iter()
            .map(String::as_str)
            .filter(|t| t.chars().any(char::is_alphabetic) && !t.contains('@'))
            .collect();
        if words.is_empty() {
            return prior.unwrap_or(Language::Es);
        }
        if words.len() <= 3 {
            if let Some(language) = Self::from_lexicon(&words, prior) {
                return language;
            }
        }
        // Short messages full of words only one language has ("oi, tem standard pra 1 …"):
        // lingua, which weighs letters, reads those as English.
        if words.len() <= 8 {
            if let Some(language) = Self::from_markers(&words) {
                return language;
            }
        }
        // The words only: an e-mail's or a name's letters ("hugo.carvalho@gmail.com") are no
        // language, and they swayed lingua.
        let letters: String = text
            .split_whitespace()
            .filter(|chunk| !chunk.contains('@') && !chunk.contains("://"))
            .flat_map(|chunk| chunk.chars().chain([' ']))
            .filter(|c| c.is_alphabetic() || c.is_whitespace())
            .collect();
        let values = self.detector.compute_language_confidence_values(letters);
        let (best, confidence) = match values.first() {
            Some(&(language, confidence)) => (from_lingua(language), confidence),
            None => return prior.unwrap_or(Language::Es),
        };
        if let Some(prior) = prior {
            let prior_confidence = values
                .iter()
                .find(|(l, _)| from_lingua(*l) == prior)
                .map_or(0.0, |(_, c)| *c);
            // Short or ambiguous text: stay in the conversation's language unless lingua is
            // clear. Guests rarely switch language mid-conversation, and a short Spanish
            // question ("donde estais exactamente?") can look Portuguese to lingua.
            let margin = if words.len() <= 5 { 0.75 } else { 0.25 };
            if best != prior && (words.len() <= 3 || confidence - prior_confidence < margin) {
                return prior;
            }
        }
        best
    }

    /// The language two or more words belong to when no word belongs to another.
    fn from_markers(words: &[&str]) -> Option<Language> {
        let mut votes = [0usize; 3];
        for word in words {
            if let Some((_, language)) = MARKERS.iter().find(|(w, _)| w == word) {
                votes[Language::ALL.iter().position(|l| l == language)?] += 1;
            }
        }
        let voted: Vec<usize> = (0..3).filter(|i| votes[*i] > 0).collect();
        match voted.as_slice() {
            [only] if votes[*only] >= 2 => Some(Language::ALL[*only]),
            _ => None,
        }
    }

    /// The language all lexicon words agree on (the prior if it is among them), when every word
    /// is in the lexicon.
    fn from_lexicon(words: &[&str], prior: Option<Language>) -> Option<Language> {
        let mut candidates: Vec<Language> = Language::ALL.to_vec();
        for word in words {
            let (_, languages) = LEXICON.iter().find(|(w, _)| w == word)?;
            let narrowed: Vec<Language> = candidates
                .iter()
                .copied()
                .filter(|l| languages.contains(l))
                .collect();
            if !narrowed.is_empty() {
                candidates = narrowed;
            }
        }
        match prior {
            Some(prior) if candidates.contains(&prior) => Some(prior),
            _ if candidates.len() < Language::ALL.len() => candidates.first().copied(),
            _ => prior.or(Some(Language::Es)),
        }
    }
}

impl Default for LanguageId {
    fn default() -> Self {
        Self::new()
    }
}

fn from_lingua(language: lingua::Language) -> Language {
    match language {
        lingua::Language::English => Language::En,
        lingua::Language::Portuguese => Language::Pt,
        _ => Language::Es,
    }
}
