//! What the settings choose to run on: the message log and key-value store (Kafka and Redis, or
//! the embedded SQLite file), and the language model every runtime of the process shares.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use conserje_commands::Understanding;
use conserje_domain::log::MessageLog;
use conserje_infra::embedded_log::SqliteLog;
use conserje_infra::kafka::{KafkaLog, KafkaSettings};
use conserje_infra::redact;
use conserje_infra::redis_store::RedisKeyValue;
use conserje_infra::sqlite_kv::SqliteKeyValue;
use conserje_projections::key_value::KeyValueStore;

use crate::settings::StoreOptions;

/// The language model, trained once per process: it is the same for every runtime (the corpus
/// is built in), and tools and tests that open several runtimes would otherwise train it again.
pub(super) fn language_model() -> anyhow::Result<Arc<Understanding>> {
    static MODEL: OnceLock<Arc<Understanding>> = OnceLock::new();
    if let Some(model) = MODEL.get() {
        return Ok(model.clone());
    }
    let model = Arc::new(Understanding::load().context("cannot build the language model")?);
    Ok(MODEL.get_or_init(|| model).clone())
}

/// The message log and the key-value store the options choose: Kafka and Redis when configured,
/// otherwise the embedded SQLite file `embedded.db` in the data directory for either.
pub(super) async fn open_log_and_key_value(
    options: &StoreOptions,
) -> anyhow::Result<(
    Arc<dyn MessageLog>,
    Arc<dyn KeyValueStore>,
    Option<SqliteKeyValue>,
)> {
    let embedded = if options.kafka_brokers.is_none() || options.redis_url.is_none() {
        let path = options.data_dir.join("embedded.db");
        Some(
            SqliteLog::open(&path, u32::from(options.partitions))
                .await
                .with_context(|| format!("cannot open the embedded log at {}", path.display()))?,
        )
    } else {
        None
    };
    let embedded_missing = "the embedded store is opened whenever Kafka or Redis is not configured";
    let log: Arc<dyn MessageLog> = match &options.kafka_brokers {
        Some(brokers) => Arc::new(
            KafkaLog::connect(KafkaSettings {
                brokers: brokers.clone(),
                partitions: i32::from(options.partitions),
                client_id: "conserje".to_owned(),
                session_timeout: Duration::from_millis(options.kafka_session_timeout_ms),
                group_prefix: options.topic_prefix.clone(),
            })
            .await
            .with_context(|| format!("cannot reach the Kafka brokers at {brokers}"))?,
        ),
        None => Arc::new(embedded.clone().context(embedded_missing)?),
    };
    let (kv, embedded_kv): (Arc<dyn KeyValueStore>, _) = match &options.redis_url {
        Some(url) => (
            Arc::new(
                RedisKeyValue::connect(url)
                    .await
                    .with_context(|| format!("cannot reach Redis at {}", redact(url)))?,
            ),
            None,
        ),
        None => {
            let kv = embedded.context(embedded_missing)?.key_value();
            (Arc::new(kv.clone()), Some(kv))
        }
    };
    Ok((log, kv, embedded_kv))
}
