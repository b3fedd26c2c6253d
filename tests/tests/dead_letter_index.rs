//! The dead-letter index's SQL on both stores: the queue's depth by reason counts what waits for
//! an operator exactly once, whatever order the index and a redrive reach a dead letter in.
//! (The scrape test shows a real dead letter reaching `/metrics`; this one the edge cases.)

use chrono::Utc;
use conserje_domain::dead_letter::{
    Awaiting, DeadLetterEntry, DeadLetterId, DeadLetterIndex, DeadLetterReason,
};
use conserje_infra::dead_letter_rows::SqlDeadLetterIndex;
use conserje_infra::Database;
use conserje_tests::fresh_postgres_url;

fn entry(offset: i64, reason: &str, awaiting: Awaiting) -> DeadLetterEntry {
    DeadLetterEntry {
        id: DeadLetterId {
            topic: "conserje.dlq.v1".into(),
            partition: 0,
            offset,
        },
        reason: DeadLetterReason::from_header(Some(reason)),
        consumer: "channel-sender".into(),
        source_topic: "conserje.outbound.v1".into(),
        tenant: Some("hotel-sol".into()),
        awaiting,
    }
}

async fn depth_on(url: &str) -> Vec<(String, u64)> {
    let db = Database::connect(url).await.expect("the store opens");
    db.migrate().await.expect("the store migrates");
    let index = SqlDeadLetterIndex::new(db);
    let waiting = || async {
        index
            .waiting_by_reason()
            .await
            .expect("the index reads")
            .into_iter()
            .map(|(reason, n)| (reason.as_str().to_owned(), n))
            .collect::<Vec<_>>()
    };
    assert!(waiting().await.is_empty(), "an empty index");

    let letters = [
        entry(0, "send_failed", Awaiting::Operator),
        entry(1, "send_failed", Awaiting::Operator),
        entry(2, "transcription_failed", Awaiting::AutomaticRetry),
        entry(3, "transcription_failed", Awaiting::Operator),
    ];
    index.add(&letters).await.expect("indexed");
    // A batch delivered again indexes nothing twice.
    index.add(&letters[..2]).await.expect("indexed again");
    // Redriven: the first dead letter, and one the index has not reached yet.
    let late = entry(4, "undecodable_message", Awaiting::Operator);
    index
        .mark_redriven(&[letters[0].clone(), late.clone()], Utc::now())
        .await
        .expect("marked");
    // The index reaching it afterwards does not make it wait again.
    index.add(&[late]).await.expect("indexed late");
    waiting().await
}

fn expected() -> Vec<(String, u64)> {
    vec![
        ("send_failed".to_owned(), 1),
        ("transcription_failed".to_owned(), 1),
    ]
}

#[tokio::test]
async fn the_depth_by_reason_counts_what_waits_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("dlq.db").display());
    assert_eq!(depth_on(&url).await, expected());
}

#[tokio::test]
async fn the_depth_by_reason_counts_what_waits_on_postgres() {
    assert_eq!(depth_on(&fresh_postgres_url().await).await, expected());
}
