//! The suite's report: each failing story as a readable diff, then the pass rate per locale and
//! overall, and which locales fall under the minimum that CI holds them to.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::checks::show_slots;
use super::play::Failure;
use super::story::Locale;

/// One story's outcome.
#[derive(Debug, Clone)]
pub struct StoryResult {
    /// The path under `tests/conversations`, with `/`.
    pub relative: String,
    /// The locale folder it is filed under: what it is counted in.
    pub folder: String,
    pub title: Option<String>,
    pub outcome: Result<(), Failure>,
    /// How long each answered turn took, from posting the webhook to the answer recorded
    /// (webhook, log, worker, understanding, dialogue, commit; polled every 10 ms).
    pub turn_times: Vec<std::time::Duration>,
}

/// Passed and played stories of each locale folder, the known locales first.
pub fn tally(results: &[StoryResult]) -> Vec<(String, usize, usize)> {
    let mut counts: BTreeMap<(usize, String), (usize, usize)> = BTreeMap::new();
    for result in results {
        let rank = Locale::ALL
            .iter()
            .position(|l| l.code() == result.folder)
            .unwrap_or(Locale::ALL.len());
        let entry = counts.entry((rank, result.folder.clone())).or_default();
        entry.1 += 1;
        if result.outcome.is_ok() {
            entry.0 += 1;
        }
    }
    counts
        .into_iter()
        .map(|((_, folder), (passed, total))| (folder, passed, total))
        .collect()
}

fn rate(passed: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        passed as f64 / total as f64
    }
}

/// `conversations: es 37/38 pass (97.4%)` per locale, then the overall line.
pub fn summary(results: &[StoryResult]) -> String {
    let mut out = String::new();
    for (folder, passed, total) in tally(results) {
        let percent = 100.0 * rate(passed, total);
        let _ = writeln!(
            out,
            "conversations: {folder} {passed}/{total} pass ({percent:.1}%)"
        );
    }
    let passed = results.iter().filter(|r| r.outcome.is_ok()).count();
    let total = results.len();
    let percent = 100.0 * rate(passed, total);
    let _ = writeln!(out, "conversations: {passed}/{total} pass ({percent:.1}%)");
    let mut times: Vec<_> = results.iter().flat_map(|r| r.turn_times.clone()).collect();
    times.sort();
    if let Some(max) = times.last() {
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        let _ = writeln!(
            out,
            "conversations: turn time (webhook to answer recorded) p50 {:.0} ms, p95 {:.0} ms, \
             max {:.0} ms over {} turns",
            ms(at(0.5)),
            ms(at(0.95)),
            ms(*max),
            times.len()
        );
    }
    out
}

/// Every failing story, then [`summary`].
pub fn report(results: &[StoryResult]) -> String {
    let mut out = String::new();
    let mut failing: Vec<&StoryResult> = results.iter().filter(|r| r.outcome.is_err()).collect();
    failing.sort_by(|a, b| a.relative.cmp(&b.relative));
    for result in failing {
        if let Err(failure) = &result.outcome {
            out.push_str(&describe(result, failure));
            out.push('\n');
        }
    }
    out.push_str(&summary(results));
    out
}

fn describe(result: &StoryResult, failure: &Failure) -> String {
    let mut out = String::new();
    let title = result
        .title
        .as_deref()
        .map(|t| format!(" — {t}"))
        .unwrap_or_default();
    let _ = writeln!(out, "FAIL {}{title}", result.relative);
    match (failure.turn, failure.at_final) {
        (Some(turn), _) => {
            let _ = writeln!(out, "  turn {turn}");
        }
        (None, true) => {
            let _ = writeln!(out, "  [final]");
        }
        (None, false) => {}
    }
    if let Some(guest) = &failure.guest {
        let _ = writeln!(out, "  guest: {guest:?}");
    }
    for problem in &failure.problems {
        let _ = writeln!(out, "  ✗ {problem}");
    }
    if let Some(observed) = &failure.observed {
        if observed.replies.is_empty() {
            let _ = writeln!(out, "  bot: (silent)");
        }
        for reply in &observed.replies {
            let _ = writeln!(
                out,
                "  bot [{} {}]: {}",
                reply.template,
                reply.locale_shown(),
                reply.text.replace('\n', "\n      ")
            );
        }
        let intent = observed.intent.as_deref().unwrap_or("-");
        let _ = writeln!(out, "  intent: {intent}");
        if let Some(slots) = &observed.slots {
            let _ = writeln!(out, "  slots: {}", show_slots(slots));
        }
    }
    out
}

/// The locales below `minimum` (a fraction), as report lines; empty when every locale meets it.
pub fn below_minimum(results: &[StoryResult], minimum: f64) -> Vec<String> {
    tally(results)
        .into_iter()
        .filter(|(_, passed, total)| rate(*passed, *total) < minimum)
        .map(|(folder, passed, total)| {
            format!(
                "{folder}: {passed}/{total} ({:.1}%) is under {:.1}%",
                100.0 * rate(passed, total),
                100.0 * minimum
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(relative: &str, passed: bool) -> StoryResult {
        StoryResult {
            relative: relative.to_owned(),
            folder: relative.split('/').next().unwrap().to_owned(),
            title: None,
            outcome: if passed {
                Ok(())
            } else {
                Err(Failure::of_file("broken".to_owned()))
            },
            turn_times: vec![std::time::Duration::from_millis(20)],
        }
    }

    #[test]
    fn the_summary_counts_each_locale_and_the_whole() {
        let mut results: Vec<StoryResult> = (0..37)
            .map(|i| result(&format!("es/{i:03}.toml"), true))
            .collect();
        results.push(result("es/999.toml", false));
        results.push(result("en/001.toml", true));
        let text = summary(&results);
        assert_eq!(
            text,
            "conversations: es 37/38 pass (97.4%)\n\
             conversations: en 1/1 pass (100.0%)\n\
             conversations: 38/39 pass (97.4%)\n\
             conversations: turn time (webhook to answer recorded) p50 20 ms, p95 20 ms, \
             max 20 ms over 39 turns\n"
        );
        assert!(below_minimum(&results, 0.95).is_empty());
        assert_eq!(below_minimum(&results, 0.98).len(), 1);
        assert!(report(&results).contains("FAIL es/999.toml"));
    }
}
