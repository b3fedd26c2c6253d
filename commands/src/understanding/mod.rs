//! Language understanding: what a guest's message is in, what it wants and what it names.
//!
//! [`Understanding`] is built once at start-up from the corpus in `commands/nlu/corpus.toml`
//! (compiled in) and shared behind an `Arc`: language by `lingua` (es/en/pt) with the session's
//! language as prior for short replies, intent by a fastText classifier trained from the corpus
//! plus fixed rules for bare yes/no, entities by our own grammar (dates, guests, room type) and
//! the domain's validated values (e-mail, phone). Its [`Understanding::model_version`] is recorded
//! on every `IntentRecognized` event.

mod context;
mod corpus;
mod dates;
mod entities;
mod intents;
mod language;
mod numbers;
mod text;
mod topics;
mod variant;

use std::time::Duration;

use chrono::NaiveDate;
use conserje_domain::understanding::{Entities, HotelTopic, Intent, Language, Understood};

pub use context::DialogueContext;
pub use corpus::{Corpus, Example, TrainingParams};
pub use dates::StayDates;

use crate::error::CommandError;

/// Bumped whenever the feature code (normalisation, masking, confidence) changes, so that the
/// model version changes with it even when the corpus does not.
const FEATURES_VERSION: &str = "features-2";

/// What the understanding needs to know beyond the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseContext {
    /// Today in the hotel's time zone: relative dates ("mañana", "next weekend") resolve from it.
    pub today: NaiveDate,
    /// The language of the session so far: decides one-word replies like "ok" or "no".
    pub prior_language: Option<Language>,
    /// The check-in of the stay being discussed (a pending quote): a bare day in a correction
    /// takes its month and year.
    pub anchor: Option<NaiveDate>,
}

/// The language-understanding model: `Send + Sync`, built once and shared.
pub struct Understanding {
    language: language::LanguageId,
    classifier: intents::Classifier,
    version: String,
    training_time: Duration,
}

impl Understanding {
    /// Trains from the corpus embedded with `include_str!`; deterministic: same corpus → same
    /// model + version.
    pub fn load() -> Result<Self, CommandError> {
        Self::from_corpus(corpus::EMBEDDED)
    }

    /// Trains from a corpus in the `corpus.toml` format (tests and experiments).
    pub fn from_corpus(source: &str) -> Result<Self, CommandError> {
        let corpus = Corpus::parse(source)?;
        let started = std::time::Instant::now();
        let classifier = intents::Classifier::train(&corpus)?;
        let training_time = started.elapsed();
        let hash = fnv1a64(&[source.as_bytes(), FEATURES_VERSION.as_bytes()]);
        Ok(Self {
            language: language::LanguageId::new(),
            classifier,
            version: format!(
                "{}-{:012x}",
                corpus.params.version_prefix,
                hash & 0xffff_ffff_ffff
            ),
            training_time,
        })
    }

    /// e.g. "nlu-2026.11-<12 hex of a hash of corpus+params>"
    pub fn model_version(&self) -> &str {
        &self.version
    }

    /// How long training the intent classifier took at load (reported by `conserje nlu eval`).
    pub fn training_time(&self) -> Duration {
        self.training_time
    }

    /// Language, intent with its confidence in [0, 1], and entities of one message.
    pub fn understand(&self, text: &str, context: &ParseContext) -> Understood {
        self.understand_words(text, &text::tokens(text), context)
    }

    /// [`Self::understand`] of `text` already split into its `words` (`text::tokens`).
    fn understand_words(&self, text: &str, words: &[String], context: &ParseContext) -> Understood {
        let (intent, confidence, known) = self.intent(words);
        // Words the model never saw (gibberish, a name) say nothing about the language either:
        // the conversation keeps its own.
        let language = match (known, context.prior_language) {
            (false, Some(prior)) => prior,
            _ => self.language.detect(text, words, context.prior_language),
        };
        Understood {
            language,
            intent,
            confidence,
            entities: self.entities(text, words, context.today, context.anchor),
            locale: None,
            from_context: None,
            choice: None,
        }
    }

    /// [`Self::understand`], then read against what the dialogue expects (see `context`), with
    /// the variant of the guest's language. Its cost grows with the text: the worker cuts long
    /// messages before they get here (`WorkerSettings::understanding_max_chars`).
    pub fn understand_in_dialogue(
        &self,
        text: &str,
        context: &ParseContext,
        dialogue: &DialogueContext,
    ) -> Understood {
        let words = text::tokens(text);
        let mut understood = self.understand_words(text, &words, context);
        context::rules(&mut understood, &words, dialogue);
        context::read(&mut understood, &words, dialogue);
        understood.locale = Some(variant::locale(
            text,
            &words,
            understood.language,
            dialogue.prior_locale,
        ));
        understood
    }

    /// Whether the guest asks for something cheaper than what was quoted.
    pub fn asks_cheaper(&self, text: &str) -> bool {
        context::asks_cheaper(&text::tokens(text))
    }

    /// Which hotel facts a message asks about (keywords per language), in order; empty if none.
    pub fn hotel_topics(&self, text: &str, language: Language) -> Vec<HotelTopic> {
        let words = text::tokens(text);
        let mut found = topics::topics(&words, language);
        if found.is_empty() && context::asks_about_cancelling(&words) {
            found.push(HotelTopic::CancellationPolicy);
        }
        found
    }

    /// The first of [`Self::hotel_topics`].
    pub fn hotel_topic(&self, text: &str, language: Language) -> Option<HotelTopic> {
        self.hotel_topics(text, language).into_iter().next()
    }

    /// The intent, its confidence, and whether any word of the message was seen in training.
    fn intent(&self, words: &[String]) -> (Intent, f32, bool) {
        if let Some(reply) = intents::bare_reply(words) {
            return (reply, 0.97, true);
        }
        let (ranked, coverage) = self.classifier.predict(words);
        let Some(&(intent, probability)) = ranked.first() else {
            return (Intent::OutOfScope, 0.0, false);
        };
        let alpha_words = words
            .iter()
            .filter(|w| w.chars().any(char::is_alphabetic))
            .count();
        if coverage == 0.0 || alpha_words == 0 {
            // Nothing the model has ever seen: not something the hotel can act on.
            return (
                Intent::OutOfScope,
                intents::confidence(probability, 0.0).min(0.3),
                false,
            );
        }
        (intent, intents::confidence(probability, coverage), true)
    }

    fn entities(
        &self,
        text: &str,
        words: &[String],
        today: NaiveDate,
        anchor: Option<NaiveDate>,
    ) -> Entities {
        let (guests, taken) = entities::guests(words);
        let stay = dates::find(words, &taken, today, anchor);
        Entities {
            check_in: stay.check_in,
            check_out: stay.check_out,
            guests,
            room_type: entities::room_type(words),
            booking_id: entities::booking_id(text),
            email: entities::email(text),
            phone: entities::phone(text),
            nights: stay.nights,
            extra_guests: entities::extra_guests(words),
        }
    }
}

/// FNV-1a, 64 bits: a hash that stays the same across Rust releases and platforms (std's
/// `DefaultHasher` promises neither), for the model version.
fn fnv1a64(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in *part {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests;
