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
//! Writes are group-committed: one writer task per log takes every append and offset commit
//! waiting in its queue and writes them in one `synchronous = FULL` transaction, so concurrent
//! callers share one fsync and one turn at the write lock. A call still returns only once its
//! own records are durable, and the calls of a batch keep their arrival order (a task's
//! successive calls, and so one key's records, stay in order). Other processes appending to the
//! same file stay safe: the writer takes the write lock for each transaction and computes
//! offsets inside it.
//!
//! The file also holds the key-value read models ([`SqliteKeyValue`]); it must be its own file,
//! not the event store's, because each file keeps one migration history.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use conserje_domain::log::{
    LogConsumer, LogError, LogRecord, MessageLog, OutgoingRecord, PartitionLag, RecordPosition,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Connection, Row};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::time::Instant;

use crate::sqlite_kv::SqliteKeyValue;
use crate::InfraError;

static EMBEDDED_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/embedded");

/// How often a waiting poll looks at the file even without an in-process append: another process
/// (an admin command, a second binary) may append, and it cannot ring our [`Notify`].
const RECHECK_EVERY: Duration = Duration::from_millis(100);

/// The most records one transaction of the writer takes from its queue…
const BATCH_MAX_RECORDS: usize = 1_000;
/// …and the most bytes of keys, headers and payloads. A single call above either bound is still
/// written, alone in its transaction: a call is never split.
const BATCH_MAX_BYTES: usize = 4 * 1024 * 1024;
/// Calls waiting for the writer at most; beyond that, callers wait to enqueue, so a burst slows
/// its producers down instead of growing memory without bound.
const QUEUE_DEPTH: usize = 4_096;

/// A Kafka-like message log in one SQLite file, for one process.
///
/// Appends and group-offset commits go through one writer task that drains a queue: what
/// arrives while a transaction is being committed is written together in the next one (group
/// commit), so concurrent callers share an fsync instead of queueing for SQLite's write lock one
/// by one. Each call still returns only once its own transaction is durable. The task ends when
/// the last clone of the log is dropped.
#[derive(Clone, Debug)]
pub struct SqliteLog {
    pool: SqlitePool,
    partitions: u32,
    /// Rung after every committed append to a topic so its waiting consumers in this process
    /// wake at once instead of at their next periodic re-check.
    appended: Arc<Appended>,
    /// The writer task's queue. Only clones of the log hold it strongly, so the task stops (and
    /// lets go of its connections) once the last clone is gone.
    writes: mpsc::Sender<Write>,
    /// Transactions the writer committed, for tests that check calls share them.
    commits: Arc<AtomicU64>,
}

impl SqliteLog {
    /// Opens (creating when missing) the log file at `path` and applies its migrations; topics
    /// created later get `partitions` partitions. Starts the writer task, so it must be called
    /// within a Tokio runtime.
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
            .busy_timeout(BUSY_GIVE_UP_AFTER)
            .foreign_keys(true);
        // The writer's own connection leaves checkpoints to the checkpointer task: an automatic
        // checkpoint runs inside the commit that crosses the threshold, and every call waiting on
        // that commit would wait for the checkpoint's writes and fsync too. It also waits for the
        // write lock on its own terms (see `BUSY_RETRY_EVERY`) rather than in SQLite's busy
        // handler, which sleeps 1, 2, 5, 10, 15, 20, 25… ms between looks at the lock.
        let writer_options = options
            .clone()
            .pragma("wal_autocheckpoint", "0")
            .busy_timeout(Duration::ZERO);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        EMBEDDED_MIGRATIONS.run(&pool).await?;
        let appended = Arc::new(Appended::default());
        let commits = Arc::new(AtomicU64::new(0));
        let (writes, queue) = mpsc::channel(QUEUE_DEPTH);
        let (checkpoints, asked) = mpsc::channel(1);
        tokio::spawn(checkpointer(pool.clone(), asked));
        let writer = Writer {
            options: writer_options,
            connection: None,
            checkpoints,
            since_checkpoint: 0,
            appended: appended.clone(),
            commits: commits.clone(),
            known_topics: HashMap::new(),
        };
        tokio::spawn(writer.run(queue));
        Ok(Self {
            pool,
            partitions,
            appended,
            writes,
            commits,
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

    /// How many transactions the writer task has committed so far, all clones together.
    #[doc(hidden)]
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Hands `records` to the writer, which appends them all in one transaction (possibly shared
    /// with other calls), and waits until that transaction is committed.
    async fn append_records(
        &self,
        records: Vec<OutgoingRecord>,
    ) -> Result<Vec<RecordPosition>, LogError> {
        let records = records
            .into_iter()
            .map(PendingRecord::new)
            .collect::<Result<Vec<_>, _>>()?;
        let (reply, answer) = oneshot::channel();
        self.writes
            .send(Write::Append { records, reply })
            .await
            .map_err(|_| writer_gone())?;
        answer.await.map_err(|_| writer_gone())?
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

/// A record ready to insert: its headers already encoded, so the writer only writes.
struct PendingRecord {
    topic: String,
    key: String,
    /// Pairs, not an object: header names may repeat and their order is part of the record.
    headers: String,
    payload: Vec<u8>,
}

impl PendingRecord {
    fn new(record: OutgoingRecord) -> Result<Self, LogError> {
        Ok(Self {
            headers: serde_json::to_string(&record.headers).map_err(unavailable)?,
            topic: record.topic,
            key: record.key,
            payload: record.payload,
        })
    }

    fn bytes(&self) -> usize {
        self.topic.len() + self.key.len() + self.headers.len() + self.payload.len()
    }
}

/// One call waiting for the writer, with where to send its outcome.
enum Write {
    /// `append` or `append_all`: all of `records` or none, in order.
    Append {
        records: Vec<PendingRecord>,
        reply: oneshot::Sender<Result<Vec<RecordPosition>, LogError>>,
    },
    /// A consumer's `commit`: the group's next offsets, never moved backwards.
    Commit {
        group: String,
        topic: String,
        next_offsets: BTreeMap<i32, i64>,
        reply: oneshot::Sender<Result<(), LogError>>,
    },
}

impl Write {
    /// Rows and bytes the call adds to a transaction, for bounding batches.
    fn weight(&self) -> (usize, usize) {
        match self {
            Self::Append { records, .. } => (
                records.len(),
                records.iter().map(PendingRecord::bytes).sum(),
            ),
            Self::Commit {
                group,
                topic,
                next_offsets,
                ..
            } => (
                next_offsets.len(),
                next_offsets.len() * (group.len() + topic.len() + 16),
            ),
        }
    }

    /// Tells the caller how its call went; a caller that stopped waiting is not an error.
    fn answer(self, outcome: Result<Vec<RecordPosition>, LogError>) {
        match self {
            Self::Append { reply, .. } => {
                let _ = reply.send(outcome);
            }
            Self::Commit { reply, .. } => {
                let _ = reply.send(outcome.map(|_| ()));
            }
        }
    }
}

/// The outcome of each call of a batch, in batch order.
type BatchOutcome = Vec<Result<Vec<RecordPosition>, LogError>>;

/// One [`Notify`] per topic that has waiting consumers in this process, rung after a commit
/// that appended to the topic: a consumer wakes for its own topic's records, not for every
/// commit of the file.
#[derive(Debug, Default)]
struct Appended(std::sync::Mutex<HashMap<String, Arc<Notify>>>);

impl Appended {
    /// What rings for `topic`.
    fn of(&self, topic: &str) -> Arc<Notify> {
        let mut topics = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        topics.entry(topic.to_owned()).or_default().clone()
    }

    /// Wakes the consumers waiting on any of `topics`.
    fn ring<'a>(&self, topics: impl IntoIterator<Item = &'a str>) {
        let waiting = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for topic in topics {
            if let Some(notify) = waiting.get(topic) {
                notify.notify_waiters();
            }
        }
    }
}

/// The one task of a log that writes records and group offsets: it takes every call waiting in
/// its queue (up to the batch bounds) and writes them in one transaction.
struct Writer {
    /// How to open the writer's connection: the pool's options, without automatic checkpoints
    /// and without a busy timeout.
    options: SqliteConnectOptions,
    /// The writer's connection, its own rather than the pool's: a batch never waits for the pool
    /// (nor for its check of the connection) before it can begin. Opened again after a failure.
    connection: Option<SqliteConnection>,
    /// Asks the checkpointer for a checkpoint every [`CHECKPOINT_EVERY`] commits. Dropped with
    /// the writer, which stops the checkpointer.
    checkpoints: mpsc::Sender<()>,
    /// Commits since the writer last asked for a checkpoint.
    since_checkpoint: u64,
    appended: Arc<Appended>,
    commits: Arc<AtomicU64>,
    /// Partition counts of topics already seen on file. A topic is never deleted and keeps its
    /// count, so an entry cannot go stale; a name not in here is looked up again every time,
    /// since another process may have created it since.
    known_topics: HashMap<String, u32>,
}

impl Writer {
    /// Runs until every sender is gone: the last clone of the log dropped.
    async fn run(mut self, mut queue: mpsc::Receiver<Write>) {
        // A call that did not fit in the previous batch opens the next one.
        let mut carried: Option<Write> = None;
        loop {
            let first = match carried.take() {
                Some(write) => write,
                None => match queue.recv().await {
                    Some(write) => write,
                    None => return,
                },
            };
            let (mut records, mut bytes) = first.weight();
            let mut batch = vec![first];
            while records < BATCH_MAX_RECORDS && bytes < BATCH_MAX_BYTES {
                let Ok(next) = queue.try_recv() else {
                    break;
                };
                let (more_records, more_bytes) = next.weight();
                if records + more_records > BATCH_MAX_RECORDS
                    || bytes + more_bytes > BATCH_MAX_BYTES
                {
                    carried = Some(next);
                    break;
                }
                records += more_records;
                bytes += more_bytes;
                batch.push(next);
            }
            self.write(batch).await;
        }
    }

    /// Writes `batch` in one transaction and answers each of its calls.
    async fn write(&mut self, batch: Vec<Write>) {
        let outcome = match self.connection.take() {
            Some(connection) => Ok(connection),
            None => SqliteConnection::connect_with(&self.options).await,
        };
        let outcome = match outcome {
            Ok(mut connection) => {
                let outcome = self.transact(&mut connection, &batch).await;
                // A connection that failed a transaction is closed (by dropping it); the next
                // batch opens a fresh one.
                if outcome.is_ok() {
                    self.connection = Some(connection);
                }
                outcome
            }
            Err(err) => Err(err),
        };
        match outcome {
            Ok(outcomes) => {
                for (write, outcome) in batch.into_iter().zip(outcomes) {
                    write.answer(outcome);
                }
            }
            Err(err) => {
                let reason = err.to_string();
                for write in batch {
                    write.answer(Err(LogError::Unavailable(reason.clone())));
                }
            }
        }
    }

    /// Writes `batch` in one transaction, in two round trips to the connection's thread — under
    /// load every round trip waits for a turn on a busy CPU, so statements sent one by one would
    /// cost more than the fsync: `BEGIN IMMEDIATE` with the read of the ends of the partitions
    /// the batch appends to, then its inserts, its group offsets and `COMMIT` together.
    ///
    /// `BEGIN IMMEDIATE` takes the write lock before the ends are read, so no other connection —
    /// of this process or another — can append between that read and the insert (a deferred
    /// transaction would read first and fail to upgrade its stale snapshot).
    ///
    /// A call naming an unknown topic is refused on its own and appends nothing; the other calls
    /// of the batch go on. A failure of the database fails the whole batch.
    async fn transact(
        &mut self,
        connection: &mut SqliteConnection,
        batch: &[Write],
    ) -> Result<BatchOutcome, sqlx::Error> {
        // The partition of every record of the calls that are not refused; every topic of a call
        // is checked before any of its records is placed. Checked before the transaction: a
        // topic that exists then still does in it, as topics are never deleted.
        let mut placed: Vec<Result<Vec<i32>, LogError>> = Vec::with_capacity(batch.len());
        let mut touched: BTreeSet<(&str, i32)> = BTreeSet::new();
        for write in batch {
            let Write::Append { records, .. } = write else {
                placed.push(Ok(Vec::new()));
                continue;
            };
            let mut partitions = Vec::with_capacity(records.len());
            let mut refusal = None;
            for record in records {
                match self.partitions_of(connection, &record.topic).await? {
                    Ok(count) => partitions.push(partition_for(&record.key, count)),
                    Err(err) => {
                        refusal = Some(err);
                        break;
                    }
                }
            }
            match refusal {
                Some(err) => placed.push(Err(err)),
                None => {
                    for (record, partition) in records.iter().zip(&partitions) {
                        touched.insert((record.topic.as_str(), *partition));
                    }
                    placed.push(Ok(partitions));
                }
            }
        }
        let commits_offsets = batch.iter().any(|w| matches!(w, Write::Commit { .. }));
        if touched.is_empty() && !commits_offsets {
            // Every call was refused: nothing to write.
            return Ok(placed
                .into_iter()
                .map(|placed| placed.map(|_| Vec::new()))
                .collect());
        }

        // The end of each touched partition, read under the write lock and then counted up in
        // batch order. Never kept across transactions: another process may append in between.
        // The round trip that begins the transaction is tried again while another connection
        // holds the write lock (SQLITE_BUSY at once: the writer's busy timeout is zero).
        let gives_up_at = Instant::now() + BUSY_GIVE_UP_AFTER;
        let began = !touched.is_empty();
        let mut ends = HashMap::new();
        if began {
            ends = loop {
                match lock_and_read_ends(connection, &touched).await {
                    Ok(ends) => break ends,
                    Err(err) => {
                        let err = roll_back(connection, err).await;
                        if !is_busy(&err) || Instant::now() >= gives_up_at {
                            return Err(err);
                        }
                        tokio::time::sleep(BUSY_RETRY_EVERY).await;
                    }
                }
            };
        }
        let mut rows: Vec<(&PendingRecord, i32, i64)> = Vec::new();
        let mut committed: BTreeMap<(&str, &str, i32), i64> = BTreeMap::new();
        let mut outcomes = Vec::with_capacity(batch.len());
        for (write, placed) in batch.iter().zip(placed) {
            match write {
                Write::Append { records, .. } => {
                    let partitions = match placed {
                        Ok(partitions) => partitions,
                        Err(refusal) => {
                            outcomes.push(Err(refusal));
                            continue;
                        }
                    };
                    let mut positions = Vec::with_capacity(records.len());
                    for (record, partition) in records.iter().zip(partitions) {
                        // Every touched partition got its end above (were one missing, the insert
                        // would collide at offset 0 and fail the batch, never skip an offset).
                        let end = ends.entry((record.topic.as_str(), partition)).or_insert(0);
                        rows.push((record, partition, *end));
                        positions.push(RecordPosition {
                            partition,
                            offset: *end,
                        });
                        *end += 1;
                    }
                    outcomes.push(Ok(positions));
                }
                Write::Commit {
                    group,
                    topic,
                    next_offsets,
                    ..
                } => {
                    for (partition, next) in next_offsets {
                        let at = committed
                            .entry((group.as_str(), topic.as_str(), *partition))
                            .or_insert(*next);
                        *at = (*at).max(*next);
                    }
                    outcomes.push(Ok(Vec::new()));
                }
            }
        }
        let committed: Vec<_> = committed.into_iter().collect();
        while let Err(err) = write_and_commit(connection, began, &rows, &committed).await {
            let err = roll_back(connection, err).await;
            // Once the ends were read under the lock, the lock is ours; losing it to a rollback
            // means reading them again, so that failure is the batch's.
            if began || !is_busy(&err) || Instant::now() >= gives_up_at {
                return Err(err);
            }
            tokio::time::sleep(BUSY_RETRY_EVERY).await;
        }
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.since_checkpoint += 1;
        if self.since_checkpoint >= CHECKPOINT_EVERY {
            self.since_checkpoint = 0;
            // Full: a checkpoint is already asked for, which will take these commits too.
            let _ = self.checkpoints.try_send(());
        }
        self.appended.ring(touched.iter().map(|(topic, _)| *topic));
        Ok(outcomes)
    }

    /// The partition count of `topic`, or the refusal of a call naming it.
    async fn partitions_of(
        &mut self,
        connection: &mut SqliteConnection,
        topic: &str,
    ) -> Result<Result<u32, LogError>, sqlx::Error> {
        if let Some(count) = self.known_topics.get(topic) {
            return Ok(Ok(*count));
        }
        let gives_up_at = Instant::now() + BUSY_GIVE_UP_AFTER;
        let count: Option<i64> = loop {
            // A read in WAL mode is busy only in rare moments (another connection recovering the
            // WAL); with no busy timeout on this connection, those are waited out here.
            match sqlx::query_scalar("SELECT partitions FROM log_topics WHERE name = ?")
                .bind(topic)
                .fetch_optional(&mut *connection)
                .await
            {
                Err(err) if is_busy(&err) && Instant::now() < gives_up_at => {
                    tokio::time::sleep(BUSY_RETRY_EVERY).await;
                }
                read => break read?,
            }
        };
        let checked = partition_count(topic, count);
        if let Ok(count) = checked {
            self.known_topics.insert(topic.to_owned(), count);
        }
        Ok(checked)
    }
}

/// Takes the write lock and reads the offset the next record of each `(topic, partition)` of
/// `touched` gets: one statement, each end a seek to the end of the partition in the primary
/// key. Leaves the transaction open.
async fn lock_and_read_ends<'a>(
    connection: &mut SqliteConnection,
    touched: &BTreeSet<(&'a str, i32)>,
) -> Result<HashMap<(&'a str, i32), i64>, sqlx::Error> {
    let wanted: Vec<(&str, i32)> = touched.iter().copied().collect();
    let json = serde_json::to_string(&wanted).map_err(|err| sqlx::Error::Encode(Box::new(err)))?;
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "BEGIN IMMEDIATE; \
         SELECT wanted.key, \
                (SELECT COALESCE(MAX(record_offset) + 1, 0) FROM log_records \
                 WHERE topic = json_extract(wanted.value, '$[0]') \
                   AND partition_id = json_extract(wanted.value, '$[1]')) \
         FROM json_each(?) AS wanted",
    )
    .bind(json)
    .fetch_all(&mut *connection)
    .await?;
    let mut ends = HashMap::with_capacity(wanted.len());
    for (index, end) in rows {
        let at = usize::try_from(index).ok().and_then(|i| wanted.get(i));
        let Some(at) = at else {
            return Err(sqlx::Error::Protocol(format!(
                "the ends query answered for entry {index} of {}",
                wanted.len()
            )));
        };
        ends.insert(*at, end);
    }
    Ok(ends)
}

/// How often the writer looks at the write lock while another connection holds it. That is
/// mostly this process's own key-value writes, which hold it for one commit: looking every
/// millisecond takes the lock about when it is let go, where SQLite's busy handler would sleep
/// ever longer (8 ms by its third look, 78 ms by its seventh).
const BUSY_RETRY_EVERY: Duration = Duration::from_millis(1);

/// How long the writer waits for the write lock before failing a batch: the pool's busy timeout.
const BUSY_GIVE_UP_AFTER: Duration = Duration::from_secs(30);

/// Whether `err` is SQLite's "the database is locked" (`SQLITE_BUSY` or one of its extended
/// codes).
fn is_busy(err: &sqlx::Error) -> bool {
    let sqlx::Error::Database(err) = err else {
        return false;
    };
    err.code()
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| code & 0xff == 5)
}

/// Rows per multi-row statement at most (SQLite caps the parameters of one statement).
const ROWS_PER_STATEMENT: usize = 256;

/// Batches of at most this many rows keep their statements in the connection's cache; larger
/// ones are prepared for one use, so rare shapes do not crowd out the common ones.
const CACHED_STATEMENT_ROWS: usize = 64;

/// `INSERT INTO {into} VALUES` with `rows` groups of `arity` placeholders.
fn multi_row_insert(sql: &mut String, into: &str, arity: usize, rows: usize) {
    let group = format!("({})", vec!["?"; arity].join(", "));
    sql.push_str("INSERT INTO ");
    sql.push_str(into);
    sql.push_str(" VALUES ");
    sql.push_str(&vec![group; rows].join(", "));
}

const INSERT_RECORDS: &str =
    "log_records (topic, partition_id, record_offset, key, headers, payload)";
const UPSERT_OFFSETS: &str = "log_group_offsets (group_name, topic, partition_id, next_offset)";
// MAX: committing an old batch late (or twice) never moves the group backwards, which would make
// a restarted member handle records again needlessly.
const ON_OFFSET_CONFLICT: &str = " ON CONFLICT (group_name, topic, partition_id) \
                                  DO UPDATE SET next_offset = MAX(next_offset, excluded.next_offset)";

/// Inserts `rows` (a record, its partition and its offset), moves the group offsets
/// `((group, topic, partition), next)` forward and commits, in one round trip; begins the
/// transaction first unless `began`.
async fn write_and_commit(
    connection: &mut SqliteConnection,
    began: bool,
    rows: &[(&PendingRecord, i32, i64)],
    offsets: &[((&str, &str, i32), i64)],
) -> Result<(), sqlx::Error> {
    let mut sql = String::new();
    if !began {
        sql.push_str("BEGIN IMMEDIATE; ");
    }
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        multi_row_insert(&mut sql, INSERT_RECORDS, 6, chunk.len());
        sql.push_str("; ");
    }
    for chunk in offsets.chunks(ROWS_PER_STATEMENT) {
        multi_row_insert(&mut sql, UPSERT_OFFSETS, 4, chunk.len());
        sql.push_str(ON_OFFSET_CONFLICT);
        sql.push_str("; ");
    }
    sql.push_str("COMMIT");
    let mut statement =
        sqlx::query(&sql).persistent(rows.len() + offsets.len() <= CACHED_STATEMENT_ROWS);
    for (record, partition, offset) in rows {
        statement = statement
            .bind(&record.topic)
            .bind(*partition)
            .bind(*offset)
            .bind(&record.key)
            .bind(&record.headers)
            .bind(&record.payload);
    }
    for ((group, topic, partition), next) in offsets {
        statement = statement
            .bind(*group)
            .bind(*topic)
            .bind(*partition)
            .bind(*next);
    }
    statement.execute(&mut *connection).await.map(|_| ())
}

/// Ends whatever transaction a failed statement left open (the connection is dropped after,
/// which would too, but not before its thread gets to it) and hands back the failure.
async fn roll_back(connection: &mut SqliteConnection, err: sqlx::Error) -> sqlx::Error {
    // Fails harmlessly when the failure came before `BEGIN` took effect.
    let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
    err
}

/// Moves where each group resumes on each partition — `((group, topic, partition), next)`, no
/// key twice — to `next`, unless it is already past.
async fn commit_offsets(
    connection: &mut SqliteConnection,
    offsets: &[((&str, &str, i32), i64)],
) -> Result<(), sqlx::Error> {
    for chunk in offsets.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::new();
        multi_row_insert(&mut sql, UPSERT_OFFSETS, 4, chunk.len());
        sql.push_str(ON_OFFSET_CONFLICT);
        let mut upsert = sqlx::query(&sql);
        for ((group, topic, partition), next) in chunk {
            upsert = upsert
                .bind(*group)
                .bind(*topic)
                .bind(*partition)
                .bind(*next);
        }
        upsert.execute(&mut *connection).await?;
    }
    Ok(())
}

/// Commits of the writer between two checkpoints: a few hundred commits of a few pages each,
/// about what SQLite's automatic checkpoint (every 1,000 pages of WAL) would do.
const CHECKPOINT_EVERY: u64 = 256;

/// Copies the WAL back into the database file when the writer asks, beside the writer rather
/// than inside one of its commits; ends when the writer does. A passive checkpoint waits for no
/// one and blocks no one: what readers still use is left for the next one. The other connections
/// of the pool keep SQLite's automatic checkpoints, so the WAL stays bounded either way.
async fn checkpointer(pool: SqlitePool, mut asked: mpsc::Receiver<()>) {
    while asked.recv().await.is_some() {
        if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::warn!(error = %err, "checkpointing the embedded log failed");
        }
    }
}

fn writer_gone() -> LogError {
    LogError::Unavailable("the log's writer task has stopped".to_owned())
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

impl SqliteLog {
    /// The group's next offset in each of the topic's `partitions` partitions (0 where it never
    /// committed): where a member starts, and what its lag is measured from.
    async fn committed_offsets(
        &self,
        group: &str,
        topic: &str,
        partitions: u32,
    ) -> Result<Vec<i64>, LogError> {
        let mut offsets = vec![0_i64; partitions as usize];
        let rows = sqlx::query(
            "SELECT partition_id, next_offset FROM log_group_offsets \
             WHERE group_name = ? AND topic = ?",
        )
        .bind(group)
        .bind(topic)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        for row in rows {
            let partition: i64 = row.try_get("partition_id").map_err(unavailable)?;
            let next: i64 = row.try_get("next_offset").map_err(unavailable)?;
            if let Some(offset) = usize::try_from(partition)
                .ok()
                .and_then(|p| offsets.get_mut(p))
            {
                *offset = next;
            }
        }
        Ok(offsets)
    }
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
        let positions = self.append_records(vec![record]).await?;
        positions
            .into_iter()
            .next()
            .ok_or_else(|| LogError::Unavailable("the append returned no position".to_owned()))
    }

    async fn append_all(&self, records: Vec<OutgoingRecord>) -> Result<(), LogError> {
        if records.is_empty() {
            return Ok(());
        }
        self.append_records(records).await.map(|_| ())
    }

    async fn consumer(&self, group: &str, topic: &str) -> Result<Box<dyn LogConsumer>, LogError> {
        let partitions = self.partitions_of(topic).await?;
        let positions = self.committed_offsets(group, topic, partitions).await?;
        Ok(Box::new(SqliteConsumer {
            pool: self.pool.clone(),
            appended: self.appended.of(topic),
            writes: self.writes.downgrade(),
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
        let committed = self.committed_offsets(group, topic, partitions).await?;
        for (lag, next) in lags.iter_mut().zip(committed) {
            lag.committed = next;
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
    /// Rung when records of the topic are committed in this process.
    appended: Arc<Notify>,
    /// The log's writer, which commits offsets in its shared transactions. Weak, so a consumer
    /// does not keep the writer task running after the log itself is gone.
    writes: mpsc::WeakSender<Write>,
    group: String,
    topic: String,
    /// The next offset to read, indexed by partition.
    positions: Vec<i64>,
    /// The partition the next poll reads first, rotated so a busy partition cannot starve the
    /// others when `max` is small.
    first_partition: usize,
}

impl SqliteConsumer {
    /// Up to `max` records that are already there, without waiting: the partitions in turn from
    /// `first_partition`, each from its position on, in one query (a query per partition would
    /// be a round trip to the connection's thread each, on every wake-up).
    ///
    /// Offsets are contiguous, so "the next `max` records of a partition" is the offset range
    /// `[position, position + max)`: each turn reads that range, and the first `max` rows in turn
    /// order are what a read partition by partition would have returned.
    async fn read_available(&mut self, max: usize) -> Result<Vec<LogRecord>, LogError> {
        let count = self.positions.len();
        if count == 0 {
            return Ok(Vec::new());
        }
        let turns: Vec<(usize, i64)> = (0..count)
            .map(|step| {
                let partition = (self.first_partition + step) % count;
                (partition, self.positions[partition])
            })
            .collect();
        let turns = serde_json::to_string(&turns).map_err(unavailable)?;
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        let rows = sqlx::query(
            "SELECT r.partition_id, r.record_offset, r.key, r.headers, r.payload \
             FROM json_each(?2) AS turn \
             JOIN log_records AS r \
               ON r.topic = ?1 \
              AND r.partition_id = json_extract(turn.value, '$[0]') \
              AND r.record_offset >= json_extract(turn.value, '$[1]') \
              AND r.record_offset < json_extract(turn.value, '$[1]') + ?3 \
             ORDER BY turn.key, r.record_offset \
             LIMIT ?3",
        )
        .bind(&self.topic)
        .bind(turns)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let partition: i64 = row.try_get("partition_id").map_err(unavailable)?;
            let Some(index) = usize::try_from(partition).ok().filter(|p| *p < count) else {
                return Err(LogError::Unavailable(format!(
                    "a record of {:?} is on partition {partition}, which the topic does not have",
                    self.topic
                )));
            };
            let record = self.decode(index as i32, &row)?;
            self.positions[index] = record.offset + 1;
            out.push(record);
        }
        self.first_partition = (self.first_partition + 1) % count;
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
        if let Some(writes) = self.writes.upgrade() {
            let (reply, answer) = oneshot::channel();
            let commit = Write::Commit {
                group: self.group.clone(),
                topic: self.topic.clone(),
                next_offsets,
                reply,
            };
            writes.send(commit).await.map_err(|_| writer_gone())?;
            return answer.await.map_err(|_| writer_gone())?;
        }
        // The log was dropped before its consumer: commit on our own.
        let offsets: Vec<_> = next_offsets
            .into_iter()
            .map(|(partition, next)| ((self.group.as_str(), self.topic.as_str(), partition), next))
            .collect();
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        commit_offsets(&mut tx, &offsets)
            .await
            .map_err(unavailable)?;
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
