//! The conversation stories of `tests/conversations` played against the embedded default and
//! scored per locale: CI fails when a locale passes fewer than `CONSERJE_STORIES_MIN` (95 %).
//!
//! `CONSERJE_STORIES=pt-PT/0 cargo test -p conserje-tests --test conversation_suite --
//! --nocapture` plays the stories whose path under `tests/conversations` contains `pt-PT/0`.

use std::path::Path;

use conserje_tests::stories::{discover, score, Clock, Suite};

/// Stories played at once unless `CONSERJE_STORIES_PARALLEL` says otherwise (1 measures a turn's
/// time alone); each one's turns stay in order.
const PARALLEL: usize = 8;

fn parallel() -> usize {
    std::env::var("CONSERJE_STORIES_PARALLEL")
        .ok()
        .and_then(|raw| raw.trim().parse().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(PARALLEL)
}

fn minimum() -> f64 {
    match std::env::var("CONSERJE_STORIES_MIN") {
        Err(_) => 0.95,
        Ok(raw) => raw
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|m| (0.0..=1.0).contains(m))
            .unwrap_or_else(|| {
                panic!("CONSERJE_STORIES_MIN={raw:?} is not a fraction between 0 and 1 (0.95)")
            }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conversation_stories_pass_in_every_locale() {
    let minimum = minimum();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("conversations");
    let filter = std::env::var("CONSERJE_STORIES")
        .ok()
        .filter(|f| !f.is_empty());
    let files = discover(&root, filter.as_deref());
    assert!(
        !files.is_empty(),
        "no story under {} matches CONSERJE_STORIES={:?}",
        root.display(),
        filter.unwrap_or_default()
    );
    // Day and night stories each talk to a service whose clock is at that time of today.
    let mut results = vec![];
    for clock in Clock::ALL {
        let batch: Vec<_> = files
            .iter()
            .filter(|f| Clock::of(f) == clock)
            .cloned()
            .collect();
        if batch.is_empty() {
            continue;
        }
        let suite = Suite::open_at(clock).await;
        results.extend(suite.run(&batch, parallel()).await);
        suite.stop().await;
    }
    println!("{}", score::report(&results));
    let below = score::below_minimum(&results, minimum);
    assert!(
        below.is_empty(),
        "conversation stories under the minimum:\n{}",
        below.join("\n")
    );
}
