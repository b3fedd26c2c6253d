//! The training corpus (`commands/nlu/corpus.toml`): example messages per intent and language,
//! and the training parameters, so that the model is rebuilt from the repository alone.

use std::collections::BTreeMap;

use conserje_domain::understanding::{Intent, Language};
use serde::Deserialize;

use crate::error::CommandError;

/// The corpus compiled into the binary: the model is trained from it at start-up.
pub const EMBEDDED: &str = include_str!("../../nlu/corpus.toml");

/// Hyper-parameters of the fastText classifier, kept beside the examples so that a change of
/// either changes the model version.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingParams {
    /// The readable part of the model version, e.g. `nlu-2026.11`.
    pub version_prefix: String,
    /// Size of the word and n-gram vectors.
    pub dim: i32,
    /// Passes over the corpus.
    pub epoch: i32,
    /// Initial learning rate of the SGD.
    pub lr: f64,
    /// Longest word n-gram used as a feature (2: words and bigrams).
    pub word_ngrams: i32,
    /// Shortest character n-gram: character n-grams make typos look like the word.
    pub minn: i32,
    /// Longest character n-gram.
    pub maxn: i32,
    /// Hash buckets for n-grams (memory: bucket x dim floats).
    pub bucket: i32,
    /// Seed of the weight initialisation: part of what makes training reproducible.
    pub seed: i32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCorpus {
    training: TrainingParams,
    intents: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

/// One labelled example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// What the example means.
    pub intent: Intent,
    /// The language it is written in.
    pub language: Language,
    /// The message as a guest would write it.
    pub text: String,
}

/// The parsed corpus: parameters and examples in file order (intent, then language).
#[derive(Debug, Clone)]
pub struct Corpus {
    /// How to train.
    pub params: TrainingParams,
    /// What to train on.
    pub examples: Vec<Example>,
}

impl Corpus {
    /// Parses and checks a corpus: every intent of [`Intent::ALL`] must have examples in every
    /// language, and no unknown intent or language may appear, because a gap would silently make
    /// the model blind to it.
    pub fn parse(source: &str) -> Result<Self, CommandError> {
        let raw: RawCorpus = toml::from_str(source)
            .map_err(|e| CommandError::Model(format!("corpus is not valid TOML: {e}")))?;
        let mut examples = Vec::new();
        for (name, by_language) in &raw.intents {
            let intent = Intent::parse(name)
                .ok_or_else(|| CommandError::Model(format!("corpus: unknown intent {name:?}")))?;
            for (code, texts) in by_language {
                let language = Language::parse(code).ok_or_else(|| {
                    CommandError::Model(format!("corpus: unknown language {code:?} in {name}"))
                })?;
                for text in texts {
                    examples.push(Example {
                        intent,
                        language,
                        text: text.clone(),
                    });
                }
            }
        }
        for intent in Intent::ALL {
            for language in Language::ALL {
                if !examples
                    .iter()
                    .any(|e| e.intent == intent && e.language == language)
                {
                    return Err(CommandError::Model(format!(
                        "corpus: no {language} example for {intent}"
                    )));
                }
            }
        }
        Ok(Self {
            params: raw.training,
            examples,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_corpus_covers_every_intent_in_every_language() {
        let corpus = Corpus::parse(EMBEDDED).expect("corpus parses");
        for intent in Intent::ALL {
            for language in Language::ALL {
                let n = corpus
                    .examples
                    .iter()
                    .filter(|e| e.intent == intent && e.language == language)
                    .count();
                assert!(n >= 8, "{intent}/{language}: only {n} examples");
            }
        }
    }

    #[test]
    fn rejects_a_missing_language() {
        let source = EMBEDDED.replace("[intents.deny]", "[intents.deny_gone]");
        assert!(Corpus::parse(&source).is_err());
    }
}
