//! The embedded SQLite message log passes the log contract, and keeps records and committed
//! offsets across a restart.

use std::collections::BTreeMap;
use std::time::Duration;

use conserje_domain::log::{LogError, MessageLog, OutgoingRecord};
use conserje_infra::embedded_log::SqliteLog;
use conserje_tests::log_contract;
use tempfile::TempDir;

const PARTITIONS: u32 = 3;

async fn fresh_log() -> (SqliteLog, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = SqliteLog::open(&dir.path().join("log.db"), PARTITIONS)
        .await
        .expect("the log opens");
    (log, dir)
}

fn record(topic: &str, key: &str, n: usize) -> OutgoingRecord {
    OutgoingRecord {
        topic: topic.to_owned(),
        key: key.to_owned(),
        headers: vec![("n".to_owned(), n.to_string())],
        payload: format!("payload {n}").into_bytes(),
    }
}

#[tokio::test]
async fn keyed_records_keep_their_order_and_headers() {
    let (log, _dir) = fresh_log().await;
    log_contract::keyed_records_keep_their_order_and_headers(&log).await;
}

#[tokio::test]
async fn a_group_resumes_after_its_committed_offsets() {
    let (log, _dir) = fresh_log().await;
    log_contract::a_group_resumes_after_its_committed_offsets(&log).await;
}

#[tokio::test]
async fn groups_read_independently() {
    let (log, _dir) = fresh_log().await;
    log_contract::groups_read_independently(&log).await;
}

#[tokio::test]
async fn records_and_committed_offsets_survive_reopening_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.db");
    let topic = "conserje.inbound.v1";
    let records: Vec<_> = (0..30)
        .map(|n| record(topic, &format!("guest-{}", n % 5), n))
        .collect();
    {
        let log = SqliteLog::open(&path, PARTITIONS).await.unwrap();
        log.ensure_topics(&[topic]).await.unwrap();
        log.append_all(records.clone()).await.unwrap();
        let mut consumer = log.consumer("projector", topic).await.unwrap();
        let mut read = Vec::new();
        while read.len() < 12 {
            let batch = consumer.poll(4, Duration::from_secs(5)).await.unwrap();
            assert!(!batch.is_empty(), "records are there to read");
            read.extend(batch);
        }
        consumer.commit(&read).await.unwrap();
    }

    // A different partition count on reopening does not move the existing topic's keys.
    let log = SqliteLog::open(&path, 7).await.unwrap();
    log.ensure_topics(&[topic]).await.unwrap();
    let lag = log.lag("projector", topic).await.unwrap();
    assert_eq!(
        lag.len(),
        PARTITIONS as usize,
        "the topic keeps its partitions"
    );
    assert_eq!(
        lag.iter().map(|p| p.end).sum::<i64>(),
        30,
        "every record is there"
    );
    let committed: i64 = lag.iter().map(|p| p.committed).sum();
    assert!(committed >= 12, "the commit survived: {lag:?}");

    let mut consumer = log.consumer("projector", topic).await.unwrap();
    let mut rest = Vec::new();
    loop {
        let batch = consumer
            .poll(100, Duration::from_millis(300))
            .await
            .unwrap();
        if batch.is_empty() {
            break;
        }
        rest.extend(batch);
    }
    assert_eq!(
        rest.len() as i64,
        30 - committed,
        "resumes after the commit"
    );
    for r in &rest {
        let n: usize = r.header("n").unwrap().parse().unwrap();
        assert_eq!(r.payload, records[n].payload, "records read back intact");
        assert_eq!(r.key, records[n].key);
    }

    // A new key lands where the old process would have put it.
    let position = log.append(record(topic, "guest-0", 99)).await.unwrap();
    let earlier = rest
        .iter()
        .find(|r| r.key == "guest-0")
        .map(|r| r.partition);
    if let Some(partition) = earlier {
        assert_eq!(position.partition, partition);
    }
}

#[tokio::test]
async fn offsets_are_contiguous_from_zero_in_each_partition() {
    let (log, _dir) = fresh_log().await;
    let topic = "offsets";
    log.ensure_topics(&[topic]).await.unwrap();
    let mut by_partition: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    for n in 0..20 {
        let position = log
            .append(record(topic, &format!("k{n}"), n))
            .await
            .unwrap();
        assert!((0..PARTITIONS as i32).contains(&position.partition));
        by_partition
            .entry(position.partition)
            .or_default()
            .push(position.offset);
    }
    for (partition, offsets) in by_partition {
        let expected: Vec<i64> = (0..offsets.len() as i64).collect();
        assert_eq!(offsets, expected, "partition {partition}");
    }
}

#[tokio::test]
async fn concurrent_appends_never_share_an_offset() {
    let (log, _dir) = fresh_log().await;
    let topic = "concurrent";
    log.ensure_topics(&[topic]).await.unwrap();
    let writers = (0..8).map(|w| {
        let log = log.clone();
        tokio::spawn(async move {
            for n in 0..10 {
                log.append(record(topic, "one-key", w * 100 + n))
                    .await
                    .unwrap();
            }
        })
    });
    for writer in futures::future::join_all(writers).await {
        writer.expect("writer finishes");
    }
    let lag = log.lag("nobody", topic).await.unwrap();
    assert_eq!(lag.iter().map(|p| p.end).sum::<i64>(), 80);
    let mut consumer = log.consumer("reader", topic).await.unwrap();
    let read = consumer.poll(1000, Duration::from_secs(1)).await.unwrap();
    let offsets: Vec<i64> = read.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, (0..80).collect::<Vec<_>>());
}

#[tokio::test]
async fn appending_to_an_unknown_topic_is_refused() {
    let (log, _dir) = fresh_log().await;
    let err = log
        .append(record("never.created", "k", 0))
        .await
        .unwrap_err();
    assert!(matches!(err, LogError::Refused(_)), "{err:?}");
    log.ensure_topics(&["created"]).await.unwrap();
    let err = log
        .append_all(vec![
            record("created", "k", 1),
            record("never.created", "k", 2),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, LogError::Refused(_)), "{err:?}");
    let lag = log.lag("g", "created").await.unwrap();
    assert_eq!(
        lag.iter().map(|p| p.end).sum::<i64>(),
        0,
        "a refused batch appends nothing"
    );
}

#[tokio::test]
async fn a_waiting_poll_returns_what_is_appended_meanwhile() {
    let (log, _dir) = fresh_log().await;
    let topic = "waiting";
    log.ensure_topics(&[topic]).await.unwrap();
    let mut consumer = log.consumer("g", topic).await.unwrap();
    let poll = tokio::spawn(async move { consumer.poll(10, Duration::from_secs(30)).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    log.append(record(topic, "k", 1)).await.unwrap();
    let read = poll.await.expect("poll task").expect("poll");
    assert_eq!(read.len(), 1);
}

#[tokio::test]
async fn a_waiting_poll_sees_appends_from_another_process() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.db");
    let reader = SqliteLog::open(&path, PARTITIONS).await.unwrap();
    // A second open of the file shares nothing in memory with the first, like another process.
    let writer = SqliteLog::open(&path, PARTITIONS).await.unwrap();
    let topic = "elsewhere";
    reader.ensure_topics(&[topic]).await.unwrap();
    let mut consumer = reader.consumer("g", topic).await.unwrap();
    let poll = tokio::spawn(async move { consumer.poll(10, Duration::from_secs(30)).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    writer.append(record(topic, "k", 1)).await.unwrap();
    let read = poll.await.expect("poll task").expect("poll");
    assert_eq!(read.len(), 1);
}

#[tokio::test]
async fn a_commit_never_moves_the_group_backwards() {
    let (log, _dir) = fresh_log().await;
    let topic = "backwards";
    log.ensure_topics(&[topic]).await.unwrap();
    log.append_all((0..5).map(|n| record(topic, "k", n)).collect())
        .await
        .unwrap();
    let mut consumer = log.consumer("g", topic).await.unwrap();
    let read = consumer.poll(10, Duration::from_secs(1)).await.unwrap();
    assert_eq!(read.len(), 5);
    consumer.commit(&read).await.unwrap();
    consumer.commit(&read[..2]).await.unwrap();
    let lag = log.lag("g", topic).await.unwrap();
    assert_eq!(lag.iter().map(|p| p.committed).sum::<i64>(), 5);
    assert_eq!(lag.iter().map(|p| p.lag()).sum::<i64>(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_share_transactions_and_get_contiguous_offsets() {
    let (log, _dir) = fresh_log().await;
    let topic = "group-commit";
    log.ensure_topics(&[topic]).await.unwrap();
    let before = log.commits();
    let appends = (0..500).map(|n| {
        let log = log.clone();
        tokio::spawn(async move { log.append(record(topic, &format!("guest-{n}"), n)).await })
    });
    let mut by_partition: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    for append in futures::future::join_all(appends).await {
        let position = append.expect("append task").expect("append");
        by_partition
            .entry(position.partition)
            .or_default()
            .push(position.offset);
    }
    assert_eq!(by_partition.values().map(Vec::len).sum::<usize>(), 500);
    for (partition, mut offsets) in by_partition {
        offsets.sort_unstable();
        let expected: Vec<i64> = (0..offsets.len() as i64).collect();
        assert_eq!(offsets, expected, "partition {partition}");
    }
    let lag = log.lag("nobody", topic).await.unwrap();
    assert_eq!(lag.iter().map(|p| p.end).sum::<i64>(), 500);
    let transactions = log.commits() - before;
    assert!(
        (1..500).contains(&transactions),
        "500 concurrent appends took {transactions} transactions"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn successive_calls_of_each_task_keep_their_order() {
    let (log, _dir) = fresh_log().await;
    let topic = "task-order";
    log.ensure_topics(&[topic]).await.unwrap();
    let writers = (0..16).map(|w| {
        let log = log.clone();
        tokio::spawn(async move {
            let key = format!("writer-{w}");
            let mut offsets = Vec::new();
            for n in 0..10 {
                let n = w * 100 + n * 2;
                let first = log.append(record(topic, &key, n)).await.unwrap();
                offsets.push(first.offset);
                log.append_all(vec![record(topic, &key, n + 1)])
                    .await
                    .unwrap();
            }
            offsets
        })
    });
    for offsets in futures::future::join_all(writers).await {
        let offsets = offsets.expect("writer finishes");
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{offsets:?}");
    }
    let mut consumer = log.consumer("reader", topic).await.unwrap();
    let mut read = Vec::new();
    while read.len() < 320 {
        let batch = consumer.poll(1000, Duration::from_secs(5)).await.unwrap();
        assert!(!batch.is_empty(), "every record is there to read");
        read.extend(batch);
    }
    let mut by_key: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for r in &read {
        by_key
            .entry(r.key.clone())
            .or_default()
            .push(r.header("n").unwrap().parse().unwrap());
    }
    assert_eq!(by_key.len(), 16);
    for (key, ns) in by_key {
        let mut sorted = ns.clone();
        sorted.sort_unstable();
        assert_eq!(ns, sorted, "{key} comes back in call order");
        assert_eq!(ns.len(), 20, "{key}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_call_does_not_fail_the_calls_sharing_its_transaction() {
    let (log, _dir) = fresh_log().await;
    let topic = "known";
    log.ensure_topics(&[topic]).await.unwrap();
    let calls = (0..200).map(|n| {
        let log = log.clone();
        tokio::spawn(async move {
            if n % 4 == 0 {
                log.append_all(vec![
                    record(topic, "mixed", n),
                    record("never.created", "mixed", n),
                ])
                .await
                .map(|()| None)
            } else {
                log.append(record(topic, &format!("k{n}"), n))
                    .await
                    .map(Some)
            }
        })
    });
    let mut appended = 0;
    for (n, outcome) in futures::future::join_all(calls)
        .await
        .into_iter()
        .enumerate()
    {
        match outcome.expect("call task") {
            Ok(_) => {
                assert_ne!(n % 4, 0, "call {n} names an unknown topic");
                appended += 1;
            }
            Err(err) => {
                assert_eq!(n % 4, 0, "call {n} failed: {err:?}");
                assert!(matches!(err, LogError::Refused(_)), "{err:?}");
            }
        }
    }
    assert_eq!(appended, 150);
    let lag = log.lag("nobody", topic).await.unwrap();
    assert_eq!(
        lag.iter().map(|p| p.end).sum::<i64>(),
        150,
        "refused calls append nothing, not even to the known topic"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_appending_to_one_file_never_share_an_offset() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.db");
    // Two opens of the file share nothing in memory, like two processes: two writer tasks.
    let first = SqliteLog::open(&path, PARTITIONS).await.unwrap();
    let second = SqliteLog::open(&path, PARTITIONS).await.unwrap();
    let topic = "shared-file";
    first.ensure_topics(&[topic]).await.unwrap();
    let appends = (0..400).map(|n| {
        let log = if n % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        tokio::spawn(async move { log.append(record(topic, &format!("k{}", n % 7), n)).await })
    });
    let mut by_partition: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    for append in futures::future::join_all(appends).await {
        let position = append.expect("append task").expect("append");
        by_partition
            .entry(position.partition)
            .or_default()
            .push(position.offset);
    }
    for (partition, mut offsets) in by_partition {
        offsets.sort_unstable();
        let expected: Vec<i64> = (0..offsets.len() as i64).collect();
        assert_eq!(offsets, expected, "partition {partition}");
    }
}

#[tokio::test]
async fn the_writer_lets_go_of_the_file_when_the_last_clone_is_dropped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.db");
    let wal = dir.path().join("log.db-wal");
    let log = SqliteLog::open(&path, PARTITIONS).await.unwrap();
    log.ensure_topics(&["t"]).await.unwrap();
    let clone = log.clone();
    clone.append(record("t", "k", 0)).await.unwrap();
    let mut consumer = log.consumer("g", "t").await.unwrap();
    let read = consumer.poll(10, Duration::from_secs(1)).await.unwrap();
    consumer.commit(&read).await.unwrap();
    drop(consumer);
    assert!(wal.exists(), "the file is open, in WAL mode");
    assert!(
        open_files_under(dir.path()) > 0,
        "the log holds its file open"
    );
    drop(log);
    drop(clone);
    // Once the writer task, the last holder of the pool, has ended, no descriptor of this
    // process points into the directory. Counted in /proc rather than read from the WAL file's
    // absence: SQLite deletes the WAL only when the connection closing last sees no other one,
    // and two of the pool's connections closing at the same instant can each see the other.
    // Polled, not timed.
    for _ in 0..2400 {
        if open_files_under(dir.path()) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        open_files_under(dir.path()),
        0,
        "the writer task still holds the file open"
    );
    let reopened = SqliteLog::open(&path, PARTITIONS).await.unwrap();
    let lag = reopened.lag("g", "t").await.unwrap();
    assert_eq!(lag.iter().map(|p| p.committed).sum::<i64>(), 1);
}

/// How many of this process's file descriptors point into `dir` (Linux's /proc).
fn open_files_under(dir: &std::path::Path) -> usize {
    let dir = dir.canonicalize().expect("temp dir");
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| target.starts_with(&dir))
        .count()
}
