//! `conserje nlu`: the language-understanding model from the command line.
//!
//! - `conserje nlu parse [--today YYYY-MM-DD] [--tz ZONE]` reads JSON lines `{"text": "..."}`
//!   on stdin and writes one JSON line per input:
//!   `{"text","language","intent","confidence","entities":{"check_in"?,"check_out"?,"guests"?,
//!   "room_type"?,"booking_id"?,"email"?,"phone"?}}`. Other tools rely on exactly this shape.
//! - `conserje nlu eval FILE.jsonl` scores the model on labelled lines `{"text","intent",
//!   "language"?,"locale"?,"entities"?,"today"?,"prior_language"?}` and prints accuracy (overall,
//!   per language, per locale), per-intent precision/recall, entity exact-match and latency. A
//!   line's `locale` (`es`, `en`, `pt-BR`, `pt-PT`) is the variant it is written in; without one
//!   it is its language's default (`pt` → `pt-BR`).

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use conserje_commands::understanding::{DialogueContext, ParseContext, Understanding};
use conserje_domain::understanding::{Entities, Intent, Language, Locale};
use serde::{Deserialize, Serialize};

/// The reference date of `nlu eval` lines without their own `today`: a Monday, so that "next
/// weekend" is Friday 2026-11-20 → Sunday 2026-11-22.
pub const DEFAULT_EVAL_TODAY: &str = "2026-11-16";

/// `conserje nlu …`: parse messages or evaluate the model.
#[derive(Debug, Args)]
pub struct NluArgs {
    #[command(subcommand)]
    pub command: NluCommand,
}

/// The `nlu` subcommands.
#[derive(Debug, Subcommand)]
pub enum NluCommand {
    /// Read JSON lines {"text": "..."} on stdin and write one JSON line per input with the
    /// language, intent, confidence and entities understood.
    Parse {
        /// The hotel's today (YYYY-MM-DD) that relative dates resolve against; default: today in
        /// --tz.
        #[arg(long, value_parser = parse_date)]
        today: Option<NaiveDate>,
        /// The hotel's time zone (IANA name), used when --today is not given.
        #[arg(long, default_value = "Europe/Madrid")]
        tz: chrono_tz::Tz,
    },
    /// Score the model on a labelled JSON-lines file: accuracy overall, per language and per
    /// locale (es, en, pt-BR, pt-PT), per-intent precision/recall, entity exact-match rate and
    /// p50/p95 latency.
    Eval {
        /// JSON lines with text, intent and optional language, locale, entities, today,
        /// prior_language.
        file: PathBuf,
        /// Reference date for lines without their own "today" (default 2026-11-16).
        #[arg(long, value_parser = parse_date)]
        today: Option<NaiveDate>,
        /// Exit non-zero when the overall intent accuracy is below this fraction (e.g. 0.95).
        #[arg(long)]
        min_accuracy: Option<f64>,
        /// Exit non-zero when the intent accuracy of any language or any locale is below this
        /// fraction.
        #[arg(long)]
        min_language_accuracy: Option<f64>,
    },
}

fn parse_date(raw: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|_| raw.len() == 10)
        .ok_or_else(|| format!("expected a date as YYYY-MM-DD, got {raw:?}"))
}

/// Runs an `nlu` subcommand.
pub fn run(args: NluArgs) -> anyhow::Result<()> {
    match args.command {
        NluCommand::Parse { today, tz } => {
            let today = today.unwrap_or_else(|| chrono::Utc::now().with_timezone(&tz).date_naive());
            parse(today)
        }
        NluCommand::Eval {
            file,
            today,
            min_accuracy,
            min_language_accuracy,
        } => {
            let today = match today {
                Some(today) => today,
                None => parse_date(DEFAULT_EVAL_TODAY).map_err(anyhow::Error::msg)?,
            };
            eval(&file, today, min_accuracy, min_language_accuracy)
        }
    }
}

#[derive(Debug, Deserialize)]
struct ParseInput {
    text: String,
    #[serde(default)]
    prior_language: Option<Language>,
}

/// The entities `nlu parse` prints: every key but `nights`, absent ones omitted.
#[derive(Debug, Serialize, PartialEq)]
struct OutputEntities {
    #[serde(skip_serializing_if = "Option::is_none")]
    check_in: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    check_out: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    guests: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    room_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    booking_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
}

impl From<Entities> for OutputEntities {
    fn from(e: Entities) -> Self {
        Self {
            check_in: e.check_in,
            check_out: e.check_out,
            guests: e.guests,
            room_type: e.room_type,
            booking_id: e.booking_id,
            email: e.email,
            phone: e.phone,
        }
    }
}

#[derive(Debug, Serialize)]
struct ParseOutput<'a> {
    text: &'a str,
    language: Language,
    intent: Intent,
    confidence: f32,
    entities: OutputEntities,
}

fn parse(today: NaiveDate) -> anyhow::Result<()> {
    let model = Understanding::load().context("cannot load the language model")?;
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = line.context("cannot read stdin")?;
        if line.trim().is_empty() {
            continue;
        }
        let input: ParseInput = match serde_json::from_str(&line) {
            Ok(input) => input,
            Err(e) => {
                // Keep one output line per input line, so callers can zip them.
                let error = format!("line {}: expected {{\"text\": \"...\"}}: {e}", n + 1);
                writeln!(out, "{}", serde_json::json!({ "error": error }))?;
                continue;
            }
        };
        let context = ParseContext {
            today,
            prior_language: input.prior_language,
            anchor: None,
        };
        let understood = model.understand(&input.text, &context);
        let output = ParseOutput {
            text: &input.text,
            language: understood.language,
            intent: understood.intent,
            confidence: (understood.confidence * 1000.0).round() / 1000.0,
            entities: understood.entities.into(),
        };
        serde_json::to_writer(&mut out, &output)?;
        writeln!(out)?;
        out.flush()?;
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
struct EvalLine {
    text: String,
    intent: Intent,
    #[serde(default)]
    language: Option<Language>,
    /// The variant the line is written in; its language's default when absent.
    #[serde(default)]
    locale: Option<Locale>,
    #[serde(default)]
    entities: Option<Entities>,
    #[serde(default, deserialize_with = "optional_date")]
    today: Option<NaiveDate>,
    #[serde(default)]
    prior_language: Option<Language>,
}

impl EvalLine {
    /// The line's language and locale, from whichever it names (a locale implies its language),
    /// or an error when the two disagree.
    fn language_and_locale(&self) -> Result<Option<(Language, Locale)>, String> {
        match (self.language, self.locale) {
            (None, None) => Ok(None),
            (Some(language), None) => Ok(Some((language, Locale::of(language)))),
            (None, Some(locale)) => Ok(Some((locale.language(), locale))),
            (Some(language), Some(locale)) if locale.language() == language => {
                Ok(Some((language, locale)))
            }
            (Some(language), Some(locale)) => Err(format!(
                "locale {locale} is not a variant of language {language}"
            )),
        }
    }
}

fn optional_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    let raw: Option<String> = Option::deserialize(d)?;
    raw.map(|r| parse_date(&r).map_err(serde::de::Error::custom))
        .transpose()
}

#[derive(Default)]
struct Tally {
    right: usize,
    total: usize,
}

impl Tally {
    fn add(&mut self, ok: bool) {
        self.total += 1;
        self.right += usize::from(ok);
    }

    fn rate(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.right as f64 / self.total as f64
        }
    }
}

/// Latency passes over the file after one warm-up pass.
const LATENCY_PASSES: usize = 5;

fn eval(
    file: &PathBuf,
    default_today: NaiveDate,
    min_accuracy: Option<f64>,
    min_language_accuracy: Option<f64>,
) -> anyhow::Result<()> {
    let source =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut lines = Vec::new();
    for (n, line) in source.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed: EvalLine = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not an eval line", file.display(), n + 1))?;
        let labels = parsed
            .language_and_locale()
            .map_err(|e| anyhow::anyhow!("{}:{}: {e}", file.display(), n + 1))?;
        lines.push((parsed, labels));
    }
    if lines.is_empty() {
        bail!("{} has no lines", file.display());
    }
    let started = Instant::now();
    let model = Understanding::load().context("cannot load the language model")?;
    let load_time = started.elapsed();

    let mut overall = Tally::default();
    let mut by_language: BTreeMap<Language, Tally> = BTreeMap::new();
    let mut by_locale: BTreeMap<Locale, Tally> = BTreeMap::new();
    let mut language_id = Tally::default();
    // Portuguese lines: whether the message alone tells its variant (in a conversation the
    // variant, once told, is kept, so a bare "sim" is not a miss there).
    let mut variant = Tally::default();
    let mut entities = Tally::default();
    // intent → (true positives, predicted, expected)
    let mut per_intent: BTreeMap<Intent, (usize, usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for (line, labels) in &lines {
        let context = ParseContext {
            today: line.today.unwrap_or(default_today),
            prior_language: line.prior_language,
            anchor: None,
        };
        // As the worker reads a message that answers no question: the model, then the rules
        // that do not depend on the dialogue (a goodbye, a policy question, a new booking).
        let u = model.understand_in_dialogue(&line.text, &context, &DialogueContext::default());
        let ok = u.intent == line.intent;
        overall.add(ok);
        if let Some((language, locale)) = *labels {
            by_language.entry(language).or_default().add(ok);
            by_locale.entry(locale).or_default().add(ok);
            language_id.add(u.language == language);
            if language == Language::Pt {
                variant.add(u.locale() == locale);
                if u.locale() != locale {
                    misses.push(format!(
                        "variant {} (expected {locale}): {}",
                        u.locale(),
                        line.text
                    ));
                }
            }
            if u.language != language {
                misses.push(format!(
                    "language {} (expected {language}): {}",
                    u.language, line.text
                ));
            }
        }
        per_intent.entry(u.intent).or_default().1 += 1;
        let expected = per_intent.entry(line.intent).or_default();
        expected.2 += 1;
        if ok {
            expected.0 += 1;
        } else {
            misses.push(format!(
                "intent {} {:.2} (expected {}): {}",
                u.intent, u.confidence, line.intent, line.text
            ));
        }
        if let Some(expected) = &line.entities {
            let got = OutputEntities::from(u.entities.clone());
            let want = OutputEntities::from(expected.clone());
            entities.add(got == want);
            if got != want {
                misses.push(format!(
                    "entities {} (expected {}): {}",
                    serde_json::to_string(&got)?,
                    serde_json::to_string(&want)?,
                    line.text
                ));
            }
        }
    }

    let mut latencies: Vec<Duration> = Vec::with_capacity(lines.len() * LATENCY_PASSES);
    for pass in 0..=LATENCY_PASSES {
        for (line, _) in &lines {
            let context = ParseContext {
                today: line.today.unwrap_or(default_today),
                prior_language: line.prior_language,
                anchor: None,
            };
            let t = Instant::now();
            std::hint::black_box(model.understand_in_dialogue(
                std::hint::black_box(&line.text),
                &context,
                &DialogueContext::default(),
            ));
            if pass > 0 {
                latencies.push(t.elapsed());
            }
        }
    }
    latencies.sort();
    let quantile = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];

    println!("model {}", model.model_version());
    println!(
        "load {:.0} ms (intent training {:.0} ms)",
        load_time.as_secs_f64() * 1e3,
        model.training_time().as_secs_f64() * 1e3
    );
    println!(
        "intent accuracy {:.1}% ({}/{})",
        overall.rate() * 100.0,
        overall.right,
        overall.total
    );
    for (language, tally) in &by_language {
        println!(
            "  {language}: {:.1}% ({}/{})",
            tally.rate() * 100.0,
            tally.right,
            tally.total
        );
    }
    println!("intent accuracy per locale");
    for (locale, tally) in &by_locale {
        println!(
            "  {locale}: {:.1}% ({}/{})",
            tally.rate() * 100.0,
            tally.right,
            tally.total
        );
    }
    println!(
        "language accuracy {:.1}% ({}/{})",
        language_id.rate() * 100.0,
        language_id.right,
        language_id.total
    );
    println!(
        "portuguese variant of a message alone {:.1}% ({}/{})",
        variant.rate() * 100.0,
        variant.right,
        variant.total
    );
    println!(
        "{:<20} {:>9} {:>7} {:>5}",
        "intent", "precision", "recall", "n"
    );
    for (intent, (tp, predicted, expected)) in &per_intent {
        let precision = if *predicted == 0 {
            1.0
        } else {
            *tp as f64 / *predicted as f64
        };
        let recall = if *expected == 0 {
            1.0
        } else {
            *tp as f64 / *expected as f64
        };
        println!(
            "{:<20} {:>8.1}% {:>6.1}% {:>5}",
            intent.name(),
            precision * 100.0,
            recall * 100.0,
            expected
        );
    }
    println!(
        "entity exact match {:.1}% ({}/{} lines with entities)",
        entities.rate() * 100.0,
        entities.right,
        entities.total
    );
    println!(
        "latency p50 {:.1} µs, p95 {:.1} µs, max {:.1} µs ({} messages x {LATENCY_PASSES} passes, one thread)",
        quantile(0.5).as_secs_f64() * 1e6,
        quantile(0.95).as_secs_f64() * 1e6,
        quantile(1.0).as_secs_f64() * 1e6,
        lines.len()
    );
    if !misses.is_empty() {
        println!("misses:");
        for miss in &misses {
            println!("  {miss}");
        }
    }

    let mut failures = Vec::new();
    if let Some(min) = min_accuracy {
        if overall.rate() < min {
            failures.push(format!(
                "intent accuracy {:.1}% is below {:.1}%",
                overall.rate() * 100.0,
                min * 100.0
            ));
        }
    }
    if let Some(min) = min_language_accuracy {
        let languages = by_language.iter().map(|(l, t)| (l.code(), t));
        let locales = by_locale
            .iter()
            // A locale that is its language's only one (es, en) is already checked as a language.
            .filter(|(l, _)| l.language() == Language::Pt)
            .map(|(l, t)| (l.code(), t));
        for (label, tally) in languages.chain(locales) {
            if tally.rate() < min {
                failures.push(format!(
                    "{label} intent accuracy {:.1}% is below {:.1}%",
                    tally.rate() * 100.0,
                    min * 100.0
                ));
            }
        }
    }
    if !failures.is_empty() {
        bail!("{}", failures.join("; "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_only_in_the_documented_form() {
        assert_eq!(
            parse_date("2026-12-20"),
            Ok(NaiveDate::from_ymd_opt(2026, 12, 20).unwrap())
        );
        assert!(parse_date("20/12/2026").is_err());
        assert!(parse_date("2026-1-5").is_err());
    }

    #[test]
    fn a_line_has_its_languages_default_locale_unless_it_names_one() {
        let labels = |json: &str| {
            serde_json::from_str::<EvalLine>(json)
                .unwrap()
                .language_and_locale()
        };
        let base = r#"{"text": "x", "intent": "affirm""#;
        assert_eq!(labels(&format!("{base}}}")), Ok(None));
        assert_eq!(
            labels(&format!(r#"{base}, "language": "pt"}}"#)),
            Ok(Some((Language::Pt, Locale::PtBr)))
        );
        assert_eq!(
            labels(&format!(r#"{base}, "language": "es"}}"#)),
            Ok(Some((Language::Es, Locale::Es)))
        );
        assert_eq!(
            labels(&format!(r#"{base}, "language": "pt", "locale": "pt-PT"}}"#)),
            Ok(Some((Language::Pt, Locale::PtPt)))
        );
        assert_eq!(
            labels(&format!(r#"{base}, "locale": "pt-PT"}}"#)),
            Ok(Some((Language::Pt, Locale::PtPt)))
        );
        assert!(labels(&format!(r#"{base}, "language": "es", "locale": "pt-PT"}}"#)).is_err());
        assert!(serde_json::from_str::<EvalLine>(&format!(r#"{base}, "locale": "pt"}}"#)).is_err());
    }

    #[test]
    fn output_omits_absent_entities_and_nights() {
        let entities = Entities {
            guests: Some(2),
            nights: Some(3),
            ..Entities::default()
        };
        let json = serde_json::to_string(&OutputEntities::from(entities)).unwrap();
        assert_eq!(json, r#"{"guests":2}"#);
    }
}
