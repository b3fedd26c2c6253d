//! The intent classifier: a fastText supervised model (pure-Rust `fasttext` crate) over words,
//! word bigrams and character n-grams, trained single-threaded from the corpus so that the same
//! corpus always gives the same model; plus fixed rules for the one-word replies the dialogue
//! depends on ("sí", "ok", "no", "nope"), which must never come out unsure.

use std::sync::atomic::{AtomicU64, Ordering};

use conserje_domain::understanding::Intent;
use fasttext::args::{Args, LossName, ModelName};
use fasttext::FastText;

use super::corpus::Corpus;
use super::text::{classifier_text, tokens};
use crate::error::CommandError;

const LABEL: &str = "__label__";

/// Words that alone (or with politeness fillers) are a yes.
const AFFIRM: &[&str] = &[
    "si",
    "sii",
    "siii",
    "sip",
    "yes",
    "yess",
    "yeah",
    "yep",
    "yup",
    "yea",
    "ya",
    "sim",
    "simm",
    "ok",
    "okay",
    "oki",
    "okey",
    "okk",
    "vale",
    "dale",
    "claro",
    "sure",
    "perfecto",
    "perfect",
    "perfeito",
    "correcto",
    "correct",
    "correto",
    "exacto",
    "exactly",
    "exato",
    "confirmo",
    "confirm",
    "confirmed",
    "venga",
    "fechado",
    "beleza",
    "certo",
    "uhum",
    "afirmativo",
    "affirmative",
    "yesss",
    "alright",
    "isso",
    "va",
    "genial",
    "great",
    "fechou",
];
/// Words that alone (or with politeness fillers) are a no.
const DENY: &[&str] = &[
    "no", "noo", "nooo", "nope", "nah", "nao", "nop", "nops", "nono", "negativo", "negative",
];
/// Words that do not change a bare yes or no.
const FILLERS: &[&str] = &[
    "por", "favor", "porfa", "porfavor", "please", "pls", "plz", "pfv", "pf", "gracias", "thanks",
    "thank", "you", "u", "obrigado", "obrigada", "obg", "mil", "muchas", "much", "muito", "claro",
];

/// A trained classifier.
pub struct Classifier {
    model: FastText,
}

static TRAINING_FILE: AtomicU64 = AtomicU64::new(0);

impl Classifier {
    /// Trains on every corpus example (see [`compact`] for what is kept).
    pub fn train(corpus: &Corpus) -> Result<Self, CommandError> {
        Ok(Self {
            model: compact(&train_model(corpus)?)?,
        })
    }

    /// Every intent with its probability, most likely first, and the share of the message's
    /// words the model saw in training (its evidence).
    pub fn predict(&self, words: &[String]) -> (Vec<(Intent, f32)>, f32) {
        let features = classifier_text(words);
        let predictions = self.model.predict(&features, Intent::ALL.len(), 0.0);
        let ranked = predictions
            .iter()
            .filter_map(|p| {
                let name = p.label.strip_prefix(LABEL).unwrap_or(&p.label);
                Intent::parse(name).map(|i| (i, p.prob.clamp(0.0, 1.0)))
            })
            .collect();
        let total = features.split_whitespace().count();
        let known = features
            .split_whitespace()
            .filter(|w| self.model.get_word_id(w).is_some())
            .count();
        let coverage = if total == 0 {
            0.0
        } else {
            known as f32 / total as f32
        };
        (ranked, coverage)
    }
}

/// Trains fastText on every corpus example. The crate reads its training data from a file, so
/// the examples go to a private temporary file that is removed right after.
fn train_model(corpus: &Corpus) -> Result<FastText, CommandError> {
    let mut data = String::new();
    for example in &corpus.examples {
        data.push_str(LABEL);
        data.push_str(example.intent.name());
        data.push(' ');
        data.push_str(&classifier_text(&tokens(&example.text)));
        data.push('\n');
    }
    let path = std::env::temp_dir().join(format!(
        "conserje-nlu-{}-{}.txt",
        std::process::id(),
        TRAINING_FILE.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, data)
        .map_err(|e| CommandError::Model(format!("cannot write {}: {e}", path.display())))?;
    let p = &corpus.params;
    let mut args = Args::default();
    args.apply_supervised_defaults();
    args.input = path.clone();
    args.model = ModelName::Supervised;
    args.loss = LossName::Softmax;
    args.dim = p.dim;
    args.epoch = p.epoch;
    args.lr = p.lr;
    args.word_ngrams = p.word_ngrams;
    args.minn = p.minn;
    args.maxn = p.maxn;
    args.bucket = p.bucket;
    args.seed = p.seed;
    args.min_count = 1;
    // One thread: Hogwild! SGD over several threads is not reproducible.
    args.thread = 1;
    args.verbose = 0;
    let trained = FastText::train(args);
    let _ = std::fs::remove_file(&path);
    trained.map_err(|e| CommandError::Model(format!("training failed: {e}")))
}

/// The trained model as fastText's own binary format loads it back: the same matrices and
/// vocabulary with a word table sized to the vocabulary. Training keeps fastText's table for
/// 30 million words (120 MB of `i32`, written at start and so resident) for the whole life of
/// the process; loading sizes it to the few thousand words the corpus has — what held most of
/// an idle process's memory.
fn compact(trained: &FastText) -> Result<FastText, CommandError> {
    let mut bytes = Vec::new();
    trained
        .save(&mut bytes)
        .map_err(|e| CommandError::Model(format!("cannot save the trained model: {e}")))?;
    FastText::load(&mut bytes.as_slice())
        .map_err(|e| CommandError::Model(format!("cannot load the trained model: {e}")))
}

/// A bare yes or no ("sí", "ok 👍", "no gracias", "nao obg"), which the rules answer with high
/// confidence whatever the model thinks.
pub fn bare_reply(words: &[String]) -> Option<Intent> {
    let mut yes = false;
    let mut no = false;
    for w in words {
        let w = w.as_str();
        if AFFIRM.contains(&w) && !(w == "claro" && yes) {
            yes = true;
        } else if DENY.contains(&w) {
            no = true;
        } else if !FILLERS.contains(&w) {
            return None;
        }
    }
    match (yes, no) {
        (true, false) => Some(Intent::Affirm),
        (false, true) => Some(Intent::Deny),
        _ => None,
    }
}

/// Turns the model's top probability into the confidence the dialogue sees: scaled down when
/// few of the words were ever seen in training, so that gibberish and far-off text come out
/// unsure even when the softmax picks a class.
pub fn confidence(probability: f32, coverage: f32) -> f32 {
    (probability * (0.35 + 0.65 * coverage)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::understanding::corpus;

    /// The compacted model is the trained one: every corpus example gets the same ranking and
    /// probabilities, and the same words count as known.
    #[test]
    fn the_compacted_model_predicts_exactly_as_the_trained_one() {
        let corpus = Corpus::parse(corpus::EMBEDDED).unwrap();
        let trained = train_model(&corpus).unwrap();
        let compacted = compact(&trained).unwrap();
        assert!(
            compacted.dict().nwords() > 100,
            "a real vocabulary: {}",
            compacted.dict().nwords()
        );
        assert_eq!(compacted.dict().nwords(), trained.dict().nwords());
        for example in &corpus.examples {
            let features = classifier_text(&tokens(&example.text));
            let ranking = |model: &FastText| -> Vec<(String, f32)> {
                model
                    .predict(&features, Intent::ALL.len(), 0.0)
                    .into_iter()
                    .map(|p| (p.label, p.prob))
                    .collect()
            };
            assert_eq!(ranking(&compacted), ranking(&trained), "{}", example.text);
            for word in features.split_whitespace() {
                assert_eq!(
                    compacted.get_word_id(word),
                    trained.get_word_id(word),
                    "{word}"
                );
            }
        }
    }
}
