//! The raw baselines of the same run: how fast the broker takes records with the service's own
//! producer settings, and how fast the database commits one-row inserts.
//!
//! Absolute figures depend on the machine; the ratios to these say what the service costs on
//! top of its infrastructure, measured on the same servers minutes apart.

use std::time::Duration;

use anyhow::{anyhow, Context};
use conserje_domain::log::MessageLog;
use conserje_infra::kafka::KafkaLog;
use conserje_infra::Database;
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use tokio::time::{timeout, Instant};
use uuid::Uuid;

use crate::options::LoadgenArgs;
use crate::workload::sample_record;
use crate::{Figure, CLIENT_ID};

/// How long each raw baseline runs.
pub const BASELINE_TIME: Duration = Duration::from_secs(2);

/// A baseline that has not finished after this long (a broker that stopped answering) is given up.
const BASELINE_DEADLINE: Duration = Duration::from_secs(30);

/// Records per `append_all` of the raw produce baseline: enough to keep the producer's pipeline
/// full, so the figure is the broker's pace rather than the round trip's.
const PRODUCE_BATCH: usize = 1000;

/// Things counted over a span of time.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub count: u64,
    pub elapsed: Duration,
}

impl Rate {
    pub fn per_second(&self) -> f64 {
        if self.elapsed.is_zero() {
            0.0
        } else {
            self.count as f64 / self.elapsed.as_secs_f64()
        }
    }
}

/// Gives up a baseline that outlives [`BASELINE_DEADLINE`], and turns its error into the reason
/// printed instead of a figure.
pub async fn bounded(
    measurement: impl std::future::Future<Output = anyhow::Result<Rate>>,
) -> Figure<Rate> {
    match timeout(BASELINE_DEADLINE, measurement).await {
        Ok(Ok(rate)) => Ok(rate),
        Ok(Err(err)) => Err(format!("{err:#}")),
        Err(_) => Err(format!("did not finish within {BASELINE_DEADLINE:?}")),
    }
}

/// The raw produce rate: records of the load's size and keys appended to a fresh topic
/// `loadgen.baseline.<uuid>` in batches, through the same idempotent producer settings the
/// service uses. The topic is deleted afterwards.
pub async fn raw_produce(
    log: &KafkaLog,
    brokers: &str,
    args: &LoadgenArgs,
) -> anyhow::Result<Rate> {
    let topic = format!("loadgen.baseline.{}", Uuid::now_v7());
    log.ensure_topics(&[&topic])
        .await
        .with_context(|| format!("cannot create the baseline topic {topic}"))?;
    let measured = produce_batches(log, &topic, args).await;
    if let Err(err) = delete_topic(brokers, &topic).await {
        eprintln!("warning: the baseline topic {topic} stays on the broker: {err:#}");
    }
    measured
}

async fn produce_batches(log: &KafkaLog, topic: &str, args: &LoadgenArgs) -> anyhow::Result<Rate> {
    let batch = (0..PRODUCE_BATCH as u64)
        .map(|index| {
            let mut record = sample_record(&args.tenant, index, args.conversations)?;
            record.topic = topic.to_owned();
            Ok(record)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    // The idempotent producer fetches its producer id on its first send: not part of the pace.
    if let Some(first) = batch.first() {
        log.append(first.clone()).await?;
    }
    let started = Instant::now();
    let mut count = 0;
    while started.elapsed() < BASELINE_TIME {
        log.append_all(batch.clone()).await?;
        count += batch.len() as u64;
    }
    Ok(Rate {
        count,
        elapsed: started.elapsed(),
    })
}

/// Deletes the baseline topic, so runs leave nothing behind on the broker.
async fn delete_topic(brokers: &str, topic: &str) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("client.id", CLIENT_ID)
        .create()?;
    let options = AdminOptions::new()
        .operation_timeout(Some(Duration::from_secs(10)))
        .request_timeout(Some(Duration::from_secs(10)));
    let results = timeout(
        Duration::from_secs(15),
        admin.delete_topics(&[topic], &options),
    )
    .await
    .map_err(|_| anyhow!("no answer within 15 s"))??;
    for result in results {
        result.map_err(|(name, code)| anyhow!("deleting {name}: {code}"))?;
    }
    Ok(())
}

/// The raw commit rate: one-row INSERTs, each awaited (and so committed) before the next, on one
/// connection, into a table `loadgen_baseline_<uuid>` dropped afterwards. A regular table rather
/// than a `TEMPORARY` one: PostgreSQL does not write temporary tables to its WAL, so their
/// commits skip the flush that every event append pays, and the baseline would flatter the store.
pub async fn raw_inserts(db: &Database, args: &LoadgenArgs) -> anyhow::Result<Rate> {
    let table = format!("loadgen_baseline_{}", Uuid::now_v7().simple());
    let create = format!("CREATE TABLE {table} (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)");
    let insert = format!("INSERT INTO {table} (id, payload) VALUES ($1, $2)");
    let drop = format!("DROP TABLE {table}");
    let record = sample_record(&args.tenant, 0, args.conversations)?;
    let payload = String::from_utf8_lossy(&record.payload).into_owned();
    conserje_infra::on_pool!(db, pool => {
        let mut conn = pool.acquire().await?;
        sqlx::query(&create).execute(&mut *conn).await?;
        let started = Instant::now();
        let mut count: u64 = 0;
        let mut failure = None;
        while started.elapsed() < BASELINE_TIME {
            let id = i64::try_from(count)?;
            if let Err(err) = sqlx::query(&insert)
                .bind(id)
                .bind(&payload)
                .execute(&mut *conn)
                .await
            {
                failure = Some(err);
                break;
            }
            count += 1;
        }
        let elapsed = started.elapsed();
        let dropped = sqlx::query(&drop).execute(&mut *conn).await;
        if let Some(err) = failure {
            return Err(err.into());
        }
        dropped.with_context(|| format!("cannot drop the baseline table {table}"))?;
        Ok(Rate { count, elapsed })
    })
}
