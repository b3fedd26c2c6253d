//! The bot's words: minijinja templates per language, with each hotel free to reword any of them.
//!
//! Replies are templates rather than strings built in code so that a hotel (or a translator) can
//! change the wording without a release, and so every language has the same set of replies — a
//! test checks that no language lacks one.

use std::collections::BTreeMap;

use conserje_domain::hotel::HotelProfile;
use conserje_domain::understanding::Language;
use minijinja::Environment;
use serde::Serialize;

use crate::CommandError;

const BUILT_IN: [(Language, &str); 3] = [
    (Language::Es, include_str!("../replies/es.toml")),
    (Language::En, include_str!("../replies/en.toml")),
    (Language::Pt, include_str!("../replies/pt.toml")),
];

/// The reply templates of every language, and the engine that renders them.
pub struct ReplyBook {
    templates: BTreeMap<Language, BTreeMap<String, String>>,
    engine: Environment<'static>,
}

impl ReplyBook {
    /// The templates shipped with conserje (`commands/replies/*.toml`).
    pub fn built_in() -> Result<Self, CommandError> {
        let mut templates = BTreeMap::new();
        for (language, source) in BUILT_IN {
            let table: BTreeMap<String, String> = toml::from_str(source).map_err(|e| {
                CommandError::Model(format!("replies/{language}.toml does not parse: {e}"))
            })?;
            templates.insert(language, table);
        }
        Ok(Self {
            templates,
            engine: Environment::new(),
        })
    }

    /// Every template name of `language`.
    pub fn names(&self, language: Language) -> impl Iterator<Item = &str> {
        self.templates
            .get(&language)
            .into_iter()
            .flat_map(|t| t.keys().map(String::as_str))
    }

    /// Renders `name` in `language`, preferring the hotel's own wording.
    pub fn render(
        &self,
        profile: &HotelProfile,
        language: Language,
        name: &str,
        context: impl Serialize,
    ) -> Result<String, CommandError> {
        let source = profile
            .replies
            .get(&language)
            .and_then(|own| own.get(name))
            .or_else(|| self.templates.get(&language)?.get(name))
            .ok_or_else(|| CommandError::Model(format!("no reply template {language}/{name}")))?;
        self.engine
            .render_str(source, context)
            .map(|text| text.trim().to_owned())
            .map_err(|e| CommandError::Model(format!("reply template {language}/{name}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_language_has_every_reply() {
        let book = ReplyBook::built_in().unwrap();
        let names = |l| book.names(l).map(str::to_owned).collect::<BTreeSet<_>>();
        let spanish = names(Language::Es);
        assert!(spanish.len() > 40);
        assert_eq!(names(Language::En), spanish);
        assert_eq!(names(Language::Pt), spanish);
    }

    #[test]
    fn a_hotel_can_reword_a_reply_in_one_language() {
        let book = ReplyBook::built_in().unwrap();
        let mut profile = HotelProfile::default();
        profile.replies.insert(
            Language::Pt,
            [("goodbye".to_owned(), "Até logo, {{ name }}!".to_owned())].into(),
        );
        let context = serde_json::json!({"name": "Ana"});
        assert_eq!(
            book.render(&profile, Language::Pt, "goodbye", &context)
                .unwrap(),
            "Até logo, Ana!"
        );
        assert!(book
            .render(&profile, Language::Es, "goodbye", &context)
            .unwrap()
            .starts_with("¡Gracias"));
    }
}
