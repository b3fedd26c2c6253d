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
    KafkaLog::connect(KafkaSettings {
        brokers: brokers(),
        partitions: 3,
        client_id: "conserje-tests".to_owned(),
        session_timeout: conserje_infra::kafka::DEFAULT_SESSION_TIMEOUT,
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
