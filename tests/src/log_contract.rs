//! The behaviour every `MessageLog` adapter must have, run against each real one (the Kafka
//! broker and the embedded SQLite log). Each check uses its own topics and groups, so checks can
//! share a broker.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use conserje_domain::log::{LogConsumer, LogRecord, MessageLog, OutgoingRecord};

fn unique(name: &str) -> String {
    format!("test.{name}.{}", uuid::Uuid::now_v7().simple())
}

fn record(topic: &str, key: &str, n: usize) -> OutgoingRecord {
    OutgoingRecord {
        topic: topic.to_owned(),
        key: key.to_owned(),
        headers: vec![
            ("n".to_owned(), n.to_string()),
            ("traceparent".to_owned(), format!("00-{n:032x}-{n:016x}-01")),
        ],
        payload: format!("{{\"key\":\"{key}\",\"n\":{n}}}").into_bytes(),
    }
}

/// Reads until `expected` records arrived or a poll comes back empty after they stopped coming.
async fn drain(consumer: &mut dyn LogConsumer, expected: usize) -> Vec<LogRecord> {
    let mut out = Vec::new();
    let mut empty_polls = 0;
    while out.len() < expected || empty_polls < 2 {
        let batch = consumer
            .poll(500, Duration::from_millis(300))
            .await
            .expect("poll");
        if batch.is_empty() {
            empty_polls += 1;
            if empty_polls > 40 {
                break;
            }
        } else {
            empty_polls = 0;
            out.extend(batch);
        }
        if out.len() >= expected && empty_polls >= 1 {
            break;
        }
    }
    out
}

fn n_of(record: &LogRecord) -> usize {
    record.header("n").unwrap().parse().unwrap()
}

/// Records of one key come back in append order, from one partition, with their headers.
pub async fn keyed_records_keep_their_order_and_headers(log: &dyn MessageLog) {
    let topic = unique("order");
    log.ensure_topics(&[&topic]).await.unwrap();
    let keys = ["hotel/whatsapp/1", "hotel/whatsapp/2", "hotel/telegram/3"];
    let mut appended = Vec::new();
    for n in 0..30 {
        appended.push(record(&topic, keys[n % 3], n));
    }
    let first = log.append(appended[0].clone()).await.unwrap();
    log.append_all(appended[1..].to_vec()).await.unwrap();
    assert!(first.offset >= 0);

    let mut consumer = log.consumer(&unique("group"), &topic).await.unwrap();
    let read = drain(consumer.as_mut(), 30).await;
    assert_eq!(read.len(), 30, "every record, once");
    let mut by_key: BTreeMap<&str, Vec<&LogRecord>> = BTreeMap::new();
    for r in &read {
        by_key.entry(r.key.as_str()).or_default().push(r);
        assert_eq!(r.topic, topic);
        let n = n_of(r);
        assert_eq!(r.payload, appended[n].payload);
        assert_eq!(
            r.header("traceparent"),
            Some(format!("00-{n:032x}-{n:016x}-01").as_str())
        );
    }
    for (key, records) in by_key {
        let partitions: BTreeSet<i32> = records.iter().map(|r| r.partition).collect();
        assert_eq!(partitions.len(), 1, "{key} stays on one partition");
        let ns: Vec<usize> = records.iter().map(|r| n_of(r)).collect();
        let mut sorted = ns.clone();
        sorted.sort_unstable();
        assert_eq!(ns, sorted, "{key} comes back in append order");
        let offsets: Vec<i64> = records.iter().map(|r| r.offset).collect();
        assert!(offsets.windows(2).all(|w| w[0] < w[1]));
    }
}

/// A member that stops after committing part of what it read is replaced by one that starts
/// exactly after the committed records: nothing skipped, nothing committed read again.
pub async fn a_group_resumes_after_its_committed_offsets(log: &dyn MessageLog) {
    let topic = unique("resume");
    log.ensure_topics(&[&topic]).await.unwrap();
    let records: Vec<_> = (0..100)
        .map(|n| record(&topic, &format!("guest-{}", n % 10), n))
        .collect();
    log.append_all(records).await.unwrap();
    let group = unique("group");

    let mut first = log.consumer(&group, &topic).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 60 {
        let batch = first.poll(7, Duration::from_millis(500)).await.unwrap();
        assert!(!batch.is_empty(), "records are there to read");
        seen.extend(batch);
    }
    first.commit(&seen).await.unwrap();
    drop(first);
    let committed: BTreeSet<usize> = seen.iter().map(n_of).collect();

    let mut second = log.consumer(&group, &topic).await.unwrap();
    let rest = drain(second.as_mut(), 100 - committed.len()).await;
    let rest_ns: BTreeSet<usize> = rest.iter().map(n_of).collect();
    assert_eq!(rest.len(), rest_ns.len(), "no record twice");
    assert!(
        committed.is_disjoint(&rest_ns),
        "committed records are not read again"
    );
    assert_eq!(
        committed.len() + rest_ns.len(),
        100,
        "nothing is skipped: {} committed + {} resumed",
        committed.len(),
        rest_ns.len()
    );
    second.commit(&rest).await.unwrap();
    drop(second);

    let mut third = log.consumer(&group, &topic).await.unwrap();
    let nothing = third.poll(100, Duration::from_millis(500)).await.unwrap();
    assert!(nothing.is_empty(), "a fully committed group reads nothing");

    let lag = log.lag(&group, &topic).await.unwrap();
    assert_eq!(lag.iter().map(|p| p.lag()).sum::<i64>(), 0);
    let other = log.lag(&unique("idle"), &topic).await.unwrap();
    assert_eq!(
        other.iter().map(|p| p.lag()).sum::<i64>(),
        100,
        "a group that never read lags by everything"
    );
}

/// Two groups each read everything, independently.
pub async fn groups_read_independently(log: &dyn MessageLog) {
    let topic = unique("groups");
    log.ensure_topics(&[&topic]).await.unwrap();
    let records: Vec<_> = (0..20).map(|n| record(&topic, "k", n)).collect();
    log.append_all(records).await.unwrap();
    for _ in 0..2 {
        let mut consumer = log.consumer(&unique("group"), &topic).await.unwrap();
        let read = drain(consumer.as_mut(), 20).await;
        assert_eq!(read.len(), 20);
        consumer.commit(&read).await.unwrap();
    }
}
