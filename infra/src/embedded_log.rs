//! The message log of the embedded default: Kafka's semantics on a SQLite file, so `conserje
//! serve` runs with no broker and the layers above cannot tell the difference.
//!
//! What carries over from Kafka: a topic has a fixed number of partitions; a record goes to the
//! partition chosen by a stable hash of its key, so one key's records stay in append order; offsets
//! are contiguous from 0 per partition; a consumer group resumes at its committed offsets, so a
//! record is handled at least once.
//!
//! What does not: there is no group membership or rebalancing. Every consumer of a group reads
//! every partition of the topic, so this log is for one process running one member per group —
//! which is exactly what the embedded default runs. Two members of one group would both read
//! everything.
//!
//! Topics must be created with `ensure_topics` before anything appends to them or reads them, as
//! on a broker with topic auto-creation off: a typo in a topic name is refused, not a new topic.
//!
//! The file also holds the key-value read models ([`SqliteKeyValue`]); it must be its own file,
//! not the event store's, because each file keeps one migration history.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use conserje_domain::log::{
    LogConsumer, LogError, LogRecord, MessageLog, OutgoingRecord, PartitionLag, RecordPosition,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use tokio::sync::Notify;

use crate::sqlite_kv::SqliteKeyValue;
use crate::InfraError;

static EMBEDDED_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/embedded");

/// How often a waiting poll looks at the file even without an in-process append: another process
/// (an admin command, a second binary) may append, and it cannot ring our [`Notify`].
const RECHECK_EVERY: Duration = Duration::from_millis(100);

/// A Kafka-like message log in one SQLite file, for one process.
#[derive(Clone, Debug)]
pub struct SqliteLog {
    pool: SqlitePool,
    partitions: u32,
    /// Rung after every committed append so waiting consumers of this process wake at once
    /// instead of at their next periodic re-check.
    appended: Arc<Notify>,
}

impl SqliteLog {
    /// Opens (creating when missing) the log file at `path` and applies its migrations; topics
    /// created later get `partitions` partitions.
    pub async fn open(path: &Path, partitions: u32) -> Result<Self, InfraError> {
        if partitions == 0 || i32::try_from(partitions).is_err() {
            return Err(InfraError::Config {
                path: path.display().to_string(),
                reason: format!("a topic needs between 1 and {} partitions", i32::MAX),
            });
        }
        // As in `db.rs`: WAL lets consumers read while a producer commits, and the busy timeout
        // queues writers behind SQLite's single write lock instead of failing them. FULL
        // synchronous is what makes "returns once durable" true of `append` in WAL mode.
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        EMBEDDED_MIGRATIONS.run(&pool).await?;
        Ok(Self {
            pool,
            partitions,
            appended: Arc::new(Notify::new()),
        })
    }

    /// The key-value read-model store in the same file, sharing this log's connections.
    pub fn key_value(&self) -> SqliteKeyValue {
        SqliteKeyValue::new(self.pool.clone())
    }

    /// The connection pool of the file, migrated, for other embedded stores that live in it.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Appends `records` in one transaction. `BEGIN IMMEDIATE` takes the write lock before the
    /// next offsets are read, so two concurrent appends can never compute the same offset (a
    /// deferred transaction would read first and fail to upgrade its stale snapshot).
    async fn append_in_one_transaction(
        &self,
        records: &[OutgoingRecord],
    ) -> Result<Vec<RecordPosition>, LogError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(unavailable)?;
        let mut partition_counts: HashMap<&str, u32> = HashMap::new();
        let mut positions = Vec::with_capacity(records.len());
        for record in records {
            let partitions = match partition_counts.get(record.topic.as_str()) {
                Some(count) => *count,
                None => {
                    let count = topic_partitions(&mut tx, &record.topic).await?;
                    partition_counts.insert(&record.topic, count);
                    count
                }
            };
            positions.push(insert_record(&mut tx, record, partitions).await?);
        }
        tx.commit().await.map_err(unavailable)?;
        self.appended.notify_waiters();
        Ok(positions)
    }

    async fn partitions_of(&self, topic: &str) -> Result<u32, LogError> {
        let count: Option<i64> =
            sqlx::query_scalar("SELECT partitions FROM log_topics WHERE name = ?")
                .bind(topic)
                .fetch_optional(&self.pool)
                .await
                .map_err(unavailable)?;
        partition_count(topic, count)
    }
}

/// FNV-1a, 32 bits, written out: the partition of a key must be the same in every process and
/// every build, which `std`'s randomly seeded hasher does not promise.
fn fnv1a_32(bytes: &[u8]) -> u32 {
    const OFFSET_BASIS: u32 = 0x811c_9dc5;
    const PRIME: u32 = 0x0100_0193;
    bytes.iter().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(PRIME)
    })
}

/// The partition of `key` in a topic of `partitions` partitions.
fn partition_for(key: &str, partitions: u32) -> i32 {
    // `open` and the topics table keep `partitions` within 1..=i32::MAX, so the remainder fits.
    (fnv1a_32(key.as_bytes()) % partitions) as i32
}

fn unavailable(err: impl std::fmt::Display) -> LogError {
    LogError::Unavailable(err.to_string())
}

fn partition_count(topic: &str, count: Option<i64>) -> Result<u32, LogError> {
    match count {
        None => Err(LogError::Refused(format!("unknown topic {topic:?}"))),
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|n| *n > 0 && i32::try_from(*n).is_ok())
            .ok_or_else(|| {
                LogError::Unavailable(format!("topic {topic:?} has {n} partitions on file"))
            }),
    }
}

async fn topic_partitions(tx: &mut Transaction<'_, Sqlite>, topic: &str) -> Result<u32, LogError> {
    let count: Option<i64> = sqlx::query_scalar("SELECT partitions FROM log_topics WHERE name = ?")
        .bind(topic)
        .fetch_optional(&mut **tx)
        .await
        .map_err(unavailable)?;
    partition_count(topic, count)
}

async fn insert_record(
    tx: &mut Transaction<'_, Sqlite>,
    record: &OutgoingRecord,
    partitions: u32,
) -> Result<RecordPosition, LogError> {
    let partition = partition_for(&record.key, partitions);
    // Pairs, not an object: header names may repeat and their order is part of the record.
    let headers = serde_json::to_string(&record.headers).map_err(unavailable)?;
    let offset: i64 = sqlx::query_scalar(
        "INSERT INTO log_records (topic, partition_id, record_offset, key, headers, payload) \
         VALUES (?1, ?2, \
                 (SELECT COALESCE(MAX(record_offset) + 1, 0) FROM log_records \
                  WHERE topic = ?1 AND partition_id = ?2), \
                 ?3, ?4, ?5) \
         RETURNING record_offset",
    )
    .bind(&record.topic)
    .bind(partition)
    .bind(&record.key)
    .bind(headers)
    .bind(&record.payload)
    .fetch_one(&mut **tx)
    .await
    .map_err(unavailable)?;
    Ok(RecordPosition { partition, offset })
}

#[async_trait]
impl MessageLog for SqliteLog {
    async fn ensure_topics(&self, topics: &[&str]) -> Result<(), LogError> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        for topic in topics {
            // DO NOTHING: an existing topic keeps its partition count, or its keys would move.
            sqlx::query(
                "INSERT INTO log_topics (name, partitions) VALUES (?, ?) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(*topic)
            .bind(i64::from(self.partitions))
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)
    }

    async fn append(&self, record: OutgoingRecord) -> Result<RecordPosition, LogError> {
        let positions = self
            .append_in_one_transaction(std::slice::from_ref(&record))
            .await?;
        positions
            .into_iter()
            .next()
            .ok_or_else(|| LogError::Unavailable("the append returned no position".to_owned()))
    }

    async fn append_all(&self, records: Vec<OutgoingRecord>) -> Result<(), LogError> {
        if records.is_empty() {
            return Ok(());
        }
        self.append_in_one_transaction(&records).await.map(|_| ())
    }

    async fn consumer(&self, group: &str, topic: &str) -> Result<Box<dyn LogConsumer>, LogError> {
        let partitions = self.partitions_of(topic).await?;
        let mut positions = vec![0_i64; partitions as usize];
        let committed = sqlx::query(
            "SELECT partition_id, next_offset FROM log_group_offsets \
             WHERE group_name = ? AND topic = ?",
        )
        .bind(group)
        .bind(topic)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        for row in committed {
            let partition: i64 = row.try_get("partition_id").map_err(unavailable)?;
            let next: i64 = row.try_get("next_offset").map_err(unavailable)?;
            if let Some(position) = usize::try_from(partition)
                .ok()
                .and_then(|p| positions.get_mut(p))
            {
                *position = next;
            }
        }
        Ok(Box::new(SqliteConsumer {
            pool: self.pool.clone(),
            appended: self.appended.clone(),
            group: group.to_owned(),
            topic: topic.to_owned(),
            positions,
            first_partition: 0,
        }))
    }

    async fn lag(&self, group: &str, topic: &str) -> Result<Vec<PartitionLag>, LogError> {
        let partitions = self.partitions_of(topic).await?;
        let mut lags: Vec<PartitionLag> = (0..partitions as i32)
            .map(|partition| PartitionLag {
                partition,
                committed: 0,
                end: 0,
            })
            .collect();
        let ends = sqlx::query(
            "SELECT partition_id, MAX(record_offset) + 1 AS end_offset FROM log_records \
             WHERE topic = ? GROUP BY partition_id",
        )
        .bind(topic)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        for row in ends {
            if let Some(lag) = lag_of(&mut lags, &row)? {
                lag.end = row.try_get("end_offset").map_err(unavailable)?;
            }
        }
        let committed = sqlx::query(
            "SELECT partition_id, next_offset FROM log_group_offsets \
             WHERE group_name = ? AND topic = ?",
        )
        .bind(group)
        .bind(topic)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        for row in committed {
            if let Some(lag) = lag_of(&mut lags, &row)? {
                lag.committed = row.try_get("next_offset").map_err(unavailable)?;
            }
        }
        Ok(lags)
    }
}

/// The entry of `lags` for the partition in `row`, if the topic has that partition.
fn lag_of<'a>(
    lags: &'a mut [PartitionLag],
    row: &SqliteRow,
) -> Result<Option<&'a mut PartitionLag>, LogError> {
    let partition: i64 = row.try_get("partition_id").map_err(unavailable)?;
    Ok(usize::try_from(partition)
        .ok()
        .and_then(|p| lags.get_mut(p)))
}

/// The one member of a group on a topic. Its read positions advance on `poll`, as a Kafka
/// consumer's do; only `commit` moves where a restarted member resumes.
struct SqliteConsumer {
    pool: SqlitePool,
    appended: Arc<Notify>,
    group: String,
    topic: String,
    /// The next offset to read, indexed by partition.
    positions: Vec<i64>,
    /// The partition the next poll reads first, rotated so a busy partition cannot starve the
    /// others when `max` is small.
    first_partition: usize,
}

impl SqliteConsumer {
    /// Up to `max` records that are already there, without waiting.
    async fn read_available(&mut self, max: usize) -> Result<Vec<LogRecord>, LogError> {
        let count = self.positions.len();
        let mut out = Vec::new();
        for step in 0..count {
            if out.len() >= max {
                break;
            }
            let partition = (self.first_partition + step) % count;
            let limit = i64::try_from(max - out.len()).unwrap_or(i64::MAX);
            let rows = sqlx::query(
                "SELECT record_offset, key, headers, payload FROM log_records \
                 WHERE topic = ? AND partition_id = ? AND record_offset >= ? \
                 ORDER BY record_offset LIMIT ?",
            )
            .bind(&self.topic)
            .bind(partition as i64)
            .bind(self.positions[partition])
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
            for row in rows {
                let record = self.decode(partition as i32, &row)?;
                self.positions[partition] = record.offset + 1;
                out.push(record);
            }
        }
        if count > 0 {
            self.first_partition = (self.first_partition + 1) % count;
        }
        Ok(out)
    }

    fn decode(&self, partition: i32, row: &SqliteRow) -> Result<LogRecord, LogError> {
        let headers: String = row.try_get("headers").map_err(unavailable)?;
        Ok(LogRecord {
            topic: self.topic.clone(),
            partition,
            offset: row.try_get("record_offset").map_err(unavailable)?,
            key: row.try_get("key").map_err(unavailable)?,
            headers: serde_json::from_str(&headers).map_err(unavailable)?,
            payload: row.try_get("payload").map_err(unavailable)?,
        })
    }
}

#[async_trait]
impl LogConsumer for SqliteConsumer {
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<LogRecord>, LogError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let deadline = tokio::time::Instant::now() + wait;
        let appended = self.appended.clone();
        loop {
            // Registered before reading, so an append that commits between the read and the
            // wait still wakes us: `notify_waiters` only reaches waiters already registered.
            let notified = appended.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();

            let records = self.read_available(max).await?;
            let now = tokio::time::Instant::now();
            if !records.is_empty() || now >= deadline {
                return Ok(records);
            }
            let nap = (deadline - now).min(RECHECK_EVERY);
            // Either outcome means "look again": woken by an append, or time to re-check.
            let _ = tokio::time::timeout(nap, notified).await;
        }
    }

    async fn commit(&mut self, records: &[LogRecord]) -> Result<(), LogError> {
        let mut next_offsets: BTreeMap<i32, i64> = BTreeMap::new();
        for record in records {
            if record.topic != self.topic {
                return Err(LogError::Refused(format!(
                    "a consumer of {:?} cannot commit a record of {:?}",
                    self.topic, record.topic
                )));
            }
            let next = next_offsets.entry(record.partition).or_insert(0);
            *next = (*next).max(record.offset + 1);
        }
        if next_offsets.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        for (partition, next) in next_offsets {
            // MAX: committing an old batch late (or twice) never moves the group backwards,
            // which would make a restarted member handle records again needlessly.
            sqlx::query(
                "INSERT INTO log_group_offsets (group_name, topic, partition_id, next_offset) \
                 VALUES (?, ?, ?, ?) \
                 ON CONFLICT (group_name, topic, partition_id) \
                 DO UPDATE SET next_offset = MAX(next_offset, excluded.next_offset)",
            )
            .bind(&self.group)
            .bind(&self.topic)
            .bind(partition)
            .bind(next)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a_32(b""), 0x811c_9dc5);
        assert_eq!(fnv1a_32(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a_32(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn a_key_always_lands_on_the_same_partition() {
        let first = partition_for("hotel/whatsapp/1", 3);
        assert!((0..3).contains(&first));
        assert_eq!(first, partition_for("hotel/whatsapp/1", 3));
        assert_eq!(partition_for("anything", 1), 0);
    }
}
