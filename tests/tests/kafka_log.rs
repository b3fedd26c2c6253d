//! The Kafka adapter of the message log against a real Kafka-protocol broker (tansu, started by
//! `scripts/test.sh`): the shared message-log contract, plus what is particular to Kafka.

use conserje_domain::log::MessageLog;
use conserje_infra::kafka::{KafkaLog, KafkaSettings};
use conserje_tests::log_contract;

/// The broker `scripts/test.sh` started. Never skips: a suite that silently passes without its
/// broker tests nothing.
fn brokers() -> String {
    std::env::var("CONSERJE_TEST_KAFKA_BROKERS").expect(
        "CONSERJE_TEST_KAFKA_BROKERS is not set: run the suite with scripts/test.sh, which starts \
         a throwaway tansu broker and sets it",
    )
}

async fn kafka_log() -> KafkaLog {
    kafka_log_of_deployment("").await
}

/// A log whose consumer groups carry `group_prefix`, as a deployment's topic prefix gives them.
async fn kafka_log_of_deployment(group_prefix: &str) -> KafkaLog {
    KafkaLog::connect(KafkaSettings {
        brokers: brokers(),
        partitions: 3,
        client_id: "conserje-tests".to_owned(),
        session_timeout: conserje_infra::kafka::DEFAULT_SESSION_TIMEOUT,
        group_prefix: group_prefix.to_owned(),
    })
    .await
    .expect("connect to the Kafka broker")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keyed_records_keep_their_order_and_headers() {
    let log = kafka_log().await;
    log_contract::keyed_records_keep_their_order_and_headers(&log).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_group_resumes_after_its_committed_offsets() {
    let log = kafka_log().await;
    log_contract::a_group_resumes_after_its_committed_offsets(&log).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn groups_read_independently() {
    let log = kafka_log().await;
    log_contract::groups_read_independently(&log).await;
}

/// Every process ensures the topics at startup, so the second time must succeed and change
/// nothing: same partitions, records still there.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ensuring_an_existing_topic_is_a_no_op() {
    let log = kafka_log().await;
    let topic = format!("test.ensure.{}", uuid::Uuid::now_v7().simple());
    log.ensure_topics(&[&topic]).await.unwrap();
    log.append(conserje_domain::log::OutgoingRecord {
        topic: topic.clone(),
        key: "k".to_owned(),
        headers: vec![],
        payload: b"kept".to_vec(),
    })
    .await
    .unwrap();
    let before = log.lag("nobody", &topic).await.unwrap();

    log.ensure_topics(&[&topic]).await.unwrap();

    let after = log.lag("nobody", &topic).await.unwrap();
    assert_eq!(after.len(), 3, "the topic keeps its three partitions");
    assert_eq!(before, after, "nothing changed");
    assert_eq!(after.iter().map(|p| p.lag()).sum::<i64>(), 1);
}

/// Two deployments sharing a broker name their groups alike (`message-stats`, ...): the group
/// prefix keeps them two groups, so each reads every record and commits its own offsets. With
/// one group id the second deployment's member took partitions from the first (each then read
/// a share), and every test's join rebalanced every other test's members.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deployments_with_their_own_prefix_never_share_a_group() {
    use conserje_domain::log::OutgoingRecord;
    use std::time::Duration;

    let run = uuid::Uuid::now_v7().simple().to_string();
    let (one, two) = (
        kafka_log_of_deployment(&format!("one{run}.")).await,
        kafka_log_of_deployment(&format!("two{run}.")).await,
    );
    let topic = format!("test.shared.{run}");
    one.ensure_topics(&[&topic]).await.unwrap();
    let records = (0..30)
        .map(|n| OutgoingRecord {
            topic: topic.clone(),
            key: format!("guest-{}", n % 6),
            headers: vec![],
            payload: n.to_string().into_bytes(),
        })
        .collect();
    one.append_all(records).await.unwrap();

    let mut first = one.consumer("message-stats", &topic).await.unwrap();
    let mut second = two.consumer("message-stats", &topic).await.unwrap();
    for (name, member) in [("one", &mut first), ("two", &mut second)] {
        let mut seen = Vec::new();
        for _ in 0..40 {
            if seen.len() == 30 {
                break;
            }
            seen.extend(member.poll(30, Duration::from_millis(250)).await.unwrap());
        }
        assert_eq!(seen.len(), 30, "deployment {name} reads every record");
        if name == "one" {
            member.commit(&seen).await.unwrap();
        }
    }
    assert_eq!(
        lag(&one, &topic).await,
        0,
        "the first deployment committed all"
    );
    assert_eq!(lag(&two, &topic).await, 30, "the second committed nothing");
}

async fn lag(log: &KafkaLog, topic: &str) -> i64 {
    let partitions = log.lag("message-stats", topic).await.unwrap();
    partitions.iter().map(|p| p.lag()).sum()
}

/// An idempotent producer that librdkafka declares fatally failed fails every later send, for
/// good. The log must start a new producer rather than refuse appends until the process is
/// restarted — the relay and the webhooks would stop while the process looked healthy. Appends
/// in flight when it fails may fail (their callers retry them); none is lost once acknowledged,
/// and the records of one key stay in append order across the change of producer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn appends_go_on_after_the_producer_fails_fatally() {
    use conserje_domain::log::OutgoingRecord;
    let log = std::sync::Arc::new(kafka_log().await);
    let topic = format!("test.fatal.{}", uuid::Uuid::now_v7().simple());
    log.ensure_topics(&[&topic]).await.unwrap();
    let record = |n: usize| OutgoingRecord {
        topic: topic.clone(),
        key: "conversation".to_owned(),
        payload: format!("{n}").into_bytes(),
        headers: Vec::new(),
    };
    log.append(record(0))
        .await
        .expect("append before the failure");

    // A burst in flight while the producer fails: each append is retried by its caller, as the
    // webhook handler and the relay do, until acknowledged.
    let mut burst = Vec::new();
    for n in 1..=50 {
        let log = log.clone();
        let record = record(n);
        burst.push(tokio::spawn(async move {
            let mut failures = 0;
            loop {
                match log.append(record.clone()).await {
                    Ok(position) => return (position, failures),
                    Err(_) if failures < 5 => failures += 1,
                    Err(err) => panic!("append {n} failed {failures} times: {err}"),
                }
            }
        }));
    }
    assert!(
        log.fail_producer_fatally("the suite breaks the producer"),
        "librdkafka took the fatal error"
    );
    let mut acknowledged = 0;
    for task in burst {
        task.await.unwrap();
        acknowledged += 1;
    }
    let after = log
        .append(record(51))
        .await
        .expect("an append after the fatal error goes through a new producer");

    // Every acknowledged record is in the log, once per acknowledgement at least, and the one
    // appended after the failure is the last of its key.
    let mut consumer = log.consumer("fatal-check", &topic).await.unwrap();
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while !seen.contains(&51) && tokio::time::Instant::now() < deadline {
        for read in consumer
            .poll(100, std::time::Duration::from_millis(500))
            .await
            .unwrap()
        {
            let n: usize = String::from_utf8(read.payload).unwrap().parse().unwrap();
            seen.push(n);
        }
    }
    assert_eq!(acknowledged, 50);
    for n in 0..=51 {
        assert!(
            seen.contains(&n),
            "record {n} acknowledged but not in the log: {seen:?}"
        );
    }
    assert_eq!(seen.last(), Some(&51), "the last append is last: {seen:?}");
    assert!(after.offset >= 51, "offset {}", after.offset);
}
