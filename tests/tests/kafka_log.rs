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
