//! What a turn must show — templates, locale, intent, slots, words — compared with what the bot
//! did. Each mismatch is one line saying expected and got, so a failing story reads as a diff.

use conserje_domain::session::Slots;
use serde_json::Value;

use super::story::{Locale, SlotChecks, Turn};

/// One bot reply as the transcript shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotLine {
    pub template: String,
    pub text: String,
    /// `es`, `en`, `pt-BR`, `pt-PT` once replies carry their locale; `None` before.
    pub locale: Option<String>,
    pub language: Option<String>,
}

impl BotLine {
    pub fn of(line: &Value) -> Self {
        let text = |key: &str| line[key].as_str().map(str::to_owned);
        Self {
            template: text("template").unwrap_or_default(),
            text: text("text").unwrap_or_default(),
            locale: text("locale"),
            language: text("language"),
        }
    }

    /// Whether the reply is in `locale`: its own locale when it says one, else its language.
    pub fn is_in(&self, locale: Locale) -> bool {
        match &self.locale {
            Some(own) => own == locale.code(),
            None => self.language.as_deref() == Some(locale.language().code()),
        }
    }

    /// `es`, `pt-BR`, or `pt` (language only) for the report.
    pub fn locale_shown(&self) -> &str {
        self.locale
            .as_deref()
            .or(self.language.as_deref())
            .unwrap_or("?")
    }
}

/// What one turn did.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub replies: Vec<BotLine>,
    pub intent: Option<String>,
    /// The dialogue's slots after the turn, when the session could be read.
    pub slots: Option<Slots>,
}

impl Observed {
    pub fn templates(&self) -> Vec<&str> {
        self.replies.iter().map(|r| r.template.as_str()).collect()
    }
}

/// The mismatches between `turn` and what the bot did; empty when the turn passed. `says` are
/// the turn's substrings with their placeholders expanded.
pub fn turn(turn: &Turn, says: &[String], observed: &Observed, locale: Locale) -> Vec<String> {
    let mut problems = vec![];
    let templates = observed.templates();
    if let Some(expect) = &turn.expect {
        let matches = expect.len() == templates.len()
            && expect
                .iter()
                .zip(&templates)
                .all(|(alternatives, got)| alternatives.iter().any(|a| a == got));
        if !matches {
            let wanted: Vec<String> = expect.iter().map(|a| a.join("|")).collect();
            problems.push(format!("templates: expected {wanted:?}, got {templates:?}"));
        }
    }
    for (i, reply) in observed.replies.iter().enumerate() {
        if !reply.is_in(locale) {
            problems.push(format!(
                "locale: reply {} ({}) is in {}, expected {}",
                i + 1,
                reply.template,
                reply.locale_shown(),
                locale.code()
            ));
        }
    }
    if let Some(intent) = &turn.intent {
        if observed.intent.as_deref() != Some(intent.as_str()) {
            problems.push(format!(
                "intent: expected {intent:?}, got {:?}",
                observed.intent
            ));
        }
    }
    match &observed.slots {
        Some(slots) => problems.extend(slot_problems(&turn.slots, slots)),
        None if has_checks(&turn.slots) => {
            problems.push("slots: the session could not be read".to_owned())
        }
        None => {}
    }
    let said: String = observed
        .replies
        .iter()
        .map(|r| r.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    for needle in says {
        if !said.contains(needle.as_str()) {
            problems.push(format!("says: the replies do not contain {needle:?}"));
        }
    }
    problems
}

fn has_checks(checks: &SlotChecks) -> bool {
    checks.check_in.is_some()
        || checks.check_out.is_some()
        || checks.guests.is_some()
        || checks.room_type.is_some()
        || checks.email.is_some()
}

fn slot_problems(checks: &SlotChecks, slots: &Slots) -> Vec<String> {
    let mut problems = vec![];
    let mut compare = |key: &str, expected: Option<String>, actual: Option<String>| {
        if expected != actual {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(empty)".to_owned());
            problems.push(format!(
                "slots.{key}: expected {}, got {}",
                show(&expected),
                show(&actual)
            ));
        }
    };
    if let Some(expected) = &checks.check_in {
        compare(
            "check_in",
            expected.map(|d| d.to_string()),
            slots.check_in.map(|d| d.to_string()),
        );
    }
    if let Some(expected) = &checks.check_out {
        compare(
            "check_out",
            expected.map(|d| d.to_string()),
            slots.check_out.map(|d| d.to_string()),
        );
    }
    if let Some(expected) = &checks.guests {
        compare(
            "guests",
            expected.map(|n| n.to_string()),
            slots.guests.map(|n| n.to_string()),
        );
    }
    if let Some(expected) = &checks.room_type {
        compare("room_type", expected.clone(), slots.room_type.clone());
    }
    if let Some(expected) = &checks.email {
        compare("email", expected.clone(), slots.email.clone());
    }
    problems
}

/// The slots in one line for the report.
pub fn show_slots(slots: &Slots) -> String {
    let field = |name: &str, value: Option<String>| {
        format!("{name}={}", value.unwrap_or_else(|| "-".to_owned()))
    };
    [
        field("check_in", slots.check_in.map(|d| d.to_string())),
        field("check_out", slots.check_out.map(|d| d.to_string())),
        field("nights", slots.nights.map(|n| n.to_string())),
        field("guests", slots.guests.map(|n| n.to_string())),
        field("room_type", slots.room_type.clone()),
        field("email", slots.email.clone()),
    ]
    .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(template: &str, locale: Option<&str>, language: &str) -> BotLine {
        BotLine {
            template: template.to_owned(),
            text: format!("text of {template}"),
            locale: locale.map(str::to_owned),
            language: Some(language.to_owned()),
        }
    }

    fn turn_expecting(expect: &[&str]) -> Turn {
        Turn {
            guest: "hi".to_owned(),
            expect: Some(
                expect
                    .iter()
                    .map(|e| e.split('|').map(str::to_owned).collect())
                    .collect(),
            ),
            slots: SlotChecks::default(),
            intent: None,
            says: vec![],
        }
    }

    #[test]
    fn templates_match_in_order_with_alternatives() {
        let observed = Observed {
            replies: vec![line("hotel_fact", None, "en"), line("quote", None, "en")],
            ..Observed::default()
        };
        let ok = turn_expecting(&["hotel_fact", "quote|anything_else"]);
        assert!(turn(&ok, &[], &observed, Locale::En).is_empty());
        let swapped = turn_expecting(&["quote", "hotel_fact"]);
        assert_eq!(turn(&swapped, &[], &observed, Locale::En).len(), 1);
        let silent = turn_expecting(&[]);
        assert_eq!(turn(&silent, &[], &observed, Locale::En).len(), 1);
    }

    #[test]
    fn the_locale_is_checked_exactly_when_replies_carry_one() {
        let observed = Observed {
            replies: vec![line("greeting", Some("pt-PT"), "pt")],
            ..Observed::default()
        };
        let any = Turn {
            expect: None,
            ..turn_expecting(&[])
        };
        assert!(turn(&any, &[], &observed, Locale::PtPt).is_empty());
        assert_eq!(turn(&any, &[], &observed, Locale::PtBr).len(), 1);
        let language_only = Observed {
            replies: vec![line("greeting", None, "pt")],
            ..Observed::default()
        };
        assert!(turn(&any, &[], &language_only, Locale::PtBr).is_empty());
        assert_eq!(turn(&any, &[], &language_only, Locale::Es).len(), 1);
    }

    #[test]
    fn slots_intent_and_words_are_checked() {
        let slots = Slots {
            guests: Some(2),
            ..Slots::default()
        };
        let observed = Observed {
            replies: vec![line("quote", None, "es")],
            intent: Some("make_reservation".to_owned()),
            slots: Some(slots),
        };
        let mut checked = turn_expecting(&["quote"]);
        checked.slots.guests = Some(Some(2));
        checked.slots.email = Some(None);
        checked.intent = Some("make_reservation".to_owned());
        let says = vec!["of quote".to_owned()];
        assert!(turn(&checked, &says, &observed, Locale::Es).is_empty());
        checked.slots.room_type = Some(Some("double".to_owned()));
        checked.intent = Some("affirm".to_owned());
        let says = vec!["2027".to_owned()];
        let problems = turn(&checked, &says, &observed, Locale::Es);
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
