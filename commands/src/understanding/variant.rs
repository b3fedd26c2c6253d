//! Which Portuguese a guest writes: European and Brazilian differ in everyday words
//! ("pequeno-almoço" / "café da manhã", "telemóvel" / "celular", "estou a ver" / "estou vendo"),
//! and a guest answered in the other variant reads it as a foreign bot. The language detector
//! only says "Portuguese"; these markers tell the variant, and the conversation keeps it.

use conserje_domain::understanding::{Language, Locale};

/// Folded words and pairs only European Portuguese uses.
const EUROPEAN: &[&str] = &[
    "queria",
    "gostava",
    "podia",
    "telemovel",
    "pequeno almoco",
    "pequeno-almoco",
    "casa de banho",
    "autocarro",
    "comboio",
    "rececao",
    "equipa",
    "faz favor",
    "se faz",
    "obrigadinho",
    "obrigadinha",
    "estou a",
    "esta a",
    "estamos a",
    "estao a",
    "a ver",
    "a procurar",
    "a pensar",
    "fixe",
    "portanto",
    "contacto",
    "esta la",
    "estar a",
    "telemoveis",
    "tenho de",
    "temos de",
    "tem de",
    "anular",
    "anulem",
    "sitio",
    "deixe estar",
    "deixa estar",
    "esta bem",
    "peco desculpa",
    "passagem de ano",
    "fica a quanto",
    "tinham",
    "ha quartos",
    "o meu",
    "a minha",
    "os meus",
    "as minhas",
    "ecra",
    "indicativo",
    "frigorifico",
    "ca vamos",
    "tens",
    "teem",
];

/// Folded words only Brazilian Portuguese uses.
const BRAZILIAN: &[&str] = &[
    "voce",
    "vc",
    "vcs",
    "cafe da manha",
    "celular",
    "equipe",
    "onibus",
    "trem",
    "recepcao",
    "to",
    "ta bom",
    "beleza",
    "blz",
    "legal",
    "pra",
    "pro",
    "gente",
    "gostaria",
    "contato",
    "estou vendo",
    "procurando",
    "fechado",
    "bora",
    "valeu",
    "oi",
];

/// The locale of a message in `language`: for Portuguese, the variant its words mark, else the
/// conversation's (`prior`), else Brazilian; other languages have one locale.
pub fn locale(text: &str, words: &[String], language: Language, prior: Option<Locale>) -> Locale {
    if language != Language::Pt {
        return Locale::of(language);
    }
    // A pronoun hyphenated after the verb ("reservem-me", "podia ver-me", "diga-me") is how
    // Portugal writes; Brazil puts it first ("me reservem").
    if enclitic(text) {
        return Locale::PtPt;
    }
    let joined = format!(" {} ", words.join(" "));
    let marks = |list: &[&str]| {
        list.iter()
            .filter(|m| joined.contains(&format!(" {m} ")))
            .count()
    };
    // A possessive with no article ("trocar meu quarto", "minha reserva") is Brazilian;
    // Portugal says "o meu quarto", "a minha reserva".
    let bare_possessive = words.iter().enumerate().any(|(i, w)| {
        matches!(w.as_str(), "meu" | "minha" | "meus" | "minhas")
            && !i.checked_sub(1).is_some_and(|p| {
                matches!(
                    words[p].as_str(),
                    "o" | "a"
                        | "os"
                        | "as"
                        | "do"
                        | "da"
                        | "no"
                        | "na"
                        | "pelo"
                        | "pela"
                        | "ao"
                        | "dos"
                        | "das"
                        | "nos"
                        | "nas"
                        | "pelos"
                        | "pelas"
                        | "aos"
                        | "um"
                        | "uma"
                )
            })
    });
    // "Pronto, …" opening a message is Portugal's "right, then"; in Brazil "pronto" is "ready".
    let opens_with_pronto = words.first().is_some_and(|w| w == "pronto");
    let european = marks(EUROPEAN) + usize::from(opens_with_pronto);
    let brazilian = marks(BRAZILIAN) + usize::from(bare_possessive);
    // Once the conversation has shown its variant, one word the other variant also uses
    // ("deixa como está") does not switch it: it takes two more marks of the other one.
    let prior = prior.filter(|p| p.language() == Language::Pt);
    let needed = if prior.is_some() { 2 } else { 1 };
    if european >= brazilian + needed {
        Locale::PtPt
    } else if brazilian >= european + needed {
        Locale::PtBr
    } else {
        prior.unwrap_or(Locale::PtBr)
    }
}

fn enclitic(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower.match_indices('-').any(|(i, _)| {
        let before = lower[..i]
            .chars()
            .next_back()
            .is_some_and(char::is_alphabetic);
        let rest = &lower[i + 1..];
        let pronoun = [
            "me", "te", "lhe", "lhes", "nos", "vos", "se", "lo", "la", "los", "las",
        ]
        .into_iter()
        .find(|p| rest.starts_with(p));
        before
            && pronoun.is_some_and(|p| {
                rest[p.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphabetic())
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::understanding::text::tokens;

    fn of(text: &str, prior: Option<Locale>) -> Locale {
        locale(text, &tokens(text), Language::Pt, prior)
    }

    #[test]
    fn european_wording_is_pt_pt() {
        assert_eq!(
            of("Bom dia, queria um quarto para dois, se faz favor", None),
            Locale::PtPt
        );
        assert_eq!(of("o pequeno-almoço está incluído?", None), Locale::PtPt);
        assert_eq!(of("estou a ver datas para março", None), Locale::PtPt);
        assert_eq!(
            of("Olá, reservem-me um standard de 6 a 8", None),
            Locale::PtPt
        );
        assert_eq!(of("check-in a que horas?", None), Locale::PtBr);
    }

    #[test]
    fn brazilian_wording_is_pt_br() {
        assert_eq!(of("oi, vcs tem quarto pra sexta?", None), Locale::PtBr);
        assert_eq!(of("o café da manhã está incluso?", None), Locale::PtBr);
        assert_eq!(
            of("vcs tem café da manhã?", Some(Locale::PtPt)),
            Locale::PtBr,
            "two marks switch a conversation's variant"
        );
        assert_eq!(
            of("o café da manhã está incluso?", Some(Locale::PtPt)),
            Locale::PtPt,
            "one word both variants may use does not"
        );
        assert_eq!(
            of("hmm nao, deixa como esta", Some(Locale::PtBr)),
            Locale::PtBr
        );
    }

    #[test]
    fn neutral_words_keep_the_conversations_variant() {
        assert_eq!(of("sim, obrigado", Some(Locale::PtPt)), Locale::PtPt);
        assert_eq!(of("sim, obrigado", None), Locale::PtBr);
        assert_eq!(
            locale("yes", &tokens("yes"), Language::En, Some(Locale::PtPt)),
            Locale::En
        );
    }
}
