//! The message log on a Kafka-protocol broker (Apache Kafka, Redpanda, tansu…) through librdkafka.
//!
//! Appends go through one idempotent producer (`enable.idempotence=true`, `acks=all`): the broker
//! drops the duplicates a retry would create and keeps the records of one partition in send order
//! even with several requests in flight, so records of one key stay in append order without
//! waiting for each delivery before sending the next.
//!
//! Each [`LogConsumer`] is one member of a consumer group with manual offset management: nothing
//! is committed or stored behind the caller's back (`enable.auto.commit=false`,
//! `enable.auto.offset.store=false`), so a committed offset always means "handled and durable",
//! and a restarted member resumes exactly there. There are no Kafka transactions here (tansu does
//! not implement them), so delivery is at least once and consumers make their effects idempotent.
//!
//! librdkafka's metadata, watermark, committed-offset and synchronous-commit calls block the
//! calling thread while they wait for the broker; they run on tokio's blocking pool so they never
//! stall the runtime's workers.

use std::collections::{BTreeMap, VecDeque};
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use async_trait::async_trait;
use conserje_domain::log::{
    LogConsumer, LogError, LogRecord, MessageLog, OutgoingRecord, PartitionLag, RecordPosition,
};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use tokio::time::{sleep, Instant};

/// How long one metadata, watermark or committed-offset request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`KafkaLog::ensure_topics`] waits for new topics to show up in the metadata.
const TOPIC_VISIBLE_TIMEOUT: Duration = Duration::from_secs(15);

/// How long [`MessageLog::consumer`] waits for the group to hand the new member its partitions.
/// A group join takes a few seconds on some brokers (tansu), longer than a caller's poll wait.
const JOIN_TIMEOUT: Duration = Duration::from_secs(15);

/// How long a record may wait for its delivery report before the append fails. librdkafka's
/// default is 5 minutes; a request handler would rather fail sooner and let its caller retry.
const DELIVERY_TIMEOUT_MS: &str = "30000";

/// Where the broker is and how topics are laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaSettings {
    /// `host:port[,host:port…]` of the bootstrap brokers.
    pub brokers: String,
    /// Partitions of the topics [`MessageLog::ensure_topics`] creates: the most members of one
    /// consumer group that can read a topic in parallel.
    pub partitions: i32,
    /// Names this process in the broker's logs and metrics.
    pub client_id: String,
    /// How long a consumer may go silent before the broker gives its partitions to the other
    /// members of its group: what a process killed with `kill -9` costs its partitions'
    /// conversations. Members heartbeat five times per timeout.
    pub session_timeout: Duration,
    /// Put before every consumer group id, as the topic prefix is before every topic name.
    /// Without it two deployments (or two tests) sharing a broker shared each projection's group:
    /// a member joining for one topic set rebalanced the other's members, and waited on the
    /// dead ones for a session timeout, so groups formed in minutes on a busy broker.
    pub group_prefix: String,
}

/// [`KafkaSettings::session_timeout`] unless configured: librdkafka's own default. Shorter
/// looked better (a crashed process's guests wait less) but on tansu, whose coordinator answers
/// heartbeats late while it serves joins, 10 s made members time out in turn and the groups
/// rebalanced without end under load.
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(45);

/// The message log on a Kafka-protocol broker.
///
/// Holds the clients every call shares: the idempotent producer, an admin client for creating
/// topics and a group-less consumer for metadata and watermarks. Consumers of groups are created
/// per [`MessageLog::consumer`] call, since a librdkafka consumer is a member of one group.
pub struct KafkaLog {
    settings: KafkaSettings,
    /// Replaced when librdkafka declares it fatally failed (an idempotent producer does when the
    /// broker breaks its sequence guarantees, say a storage error mid-produce): a fatal producer
    /// fails every later send, so without a new one the process would never append again.
    producer: std::sync::RwLock<FutureProducer>,
    admin: AdminClient<DefaultClientContext>,
    /// A consumer in no group, only for metadata and watermarks. A consumer rather than the
    /// producer: librdkafka lets producers' metadata requests auto-create topics, and asking for
    /// the lag of a topic must not create it.
    metadata: Arc<BaseConsumer>,
}

impl std::fmt::Debug for KafkaLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaLog")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The broker could not be reached or failed the request: worth retrying later.
fn unavailable(context: &str, err: impl std::fmt::Display) -> LogError {
    LogError::Unavailable(format!("{context}: {err}"))
}

/// The broker answered and said no: retrying the same request will not help.
fn refused(context: &str, err: impl std::fmt::Display) -> LogError {
    LogError::Refused(format!("{context}: {err}"))
}

/// Runs a blocking librdkafka call on tokio's blocking pool.
async fn blocking<T, F>(context: &'static str, call: F) -> Result<T, LogError>
where
    F: FnOnce() -> Result<T, LogError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(call)
        .await
        .map_err(|err| unavailable(context, err))?
}

impl KafkaLog {
    /// The broker-side id of the group the caller calls `group`.
    fn group_id(&self, group: &str) -> String {
        format!("{}{group}", self.settings.group_prefix)
    }

    /// Creates the shared clients and checks that the brokers answer, so a wrong address fails at
    /// startup rather than on the first request.
    ///
    /// The idempotent producer gets its producer id on its first send (about half a second on
    /// tansu); that first append is the slow one, not this call.
    pub async fn connect(settings: KafkaSettings) -> Result<Self, LogError> {
        if settings.partitions < 1 {
            return Err(refused(
                "kafka settings",
                format!("partitions must be at least 1, not {}", settings.partitions),
            ));
        }
        let producer = new_producer(&settings)?;
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", &settings.brokers)
            .set("client.id", &settings.client_id)
            .create()
            .map_err(|err| refused("kafka admin configuration", err))?;
        let metadata: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &settings.brokers)
            .set("client.id", &settings.client_id)
            .set("allow.auto.create.topics", "false")
            .create()
            .map_err(|err| refused("kafka metadata client configuration", err))?;
        let metadata = Arc::new(metadata);

        let probe = Arc::clone(&metadata);
        blocking("kafka metadata", move || {
            probe
                .fetch_metadata(None, REQUEST_TIMEOUT)
                .map(|_| ())
                .map_err(|err| unavailable("kafka brokers do not answer", err))
        })
        .await?;

        Ok(Self {
            settings,
            producer: std::sync::RwLock::new(producer),
            admin,
            metadata,
        })
    }

    /// Whether `topic` is in the metadata with all its partitions led by a broker: then produce
    /// and fetch requests for it succeed.
    async fn topic_ready(&self, topic: &str) -> Result<bool, LogError> {
        let client = Arc::clone(&self.metadata);
        let name = topic.to_owned();
        blocking("kafka metadata", move || {
            let metadata = client
                .fetch_metadata(Some(&name), REQUEST_TIMEOUT)
                .map_err(|err| unavailable("kafka metadata", err))?;
            Ok(metadata.topics().iter().any(|t| {
                t.name() == name
                    && t.error().is_none()
                    && !t.partitions().is_empty()
                    && t.partitions().iter().all(|p| p.leader() >= 0)
            }))
        })
        .await
    }

    /// The partition ids of `topic`, from the metadata.
    async fn partitions_of(&self, topic: &str) -> Result<Vec<i32>, LogError> {
        let client = Arc::clone(&self.metadata);
        let name = topic.to_owned();
        blocking("kafka metadata", move || {
            let metadata = client
                .fetch_metadata(Some(&name), REQUEST_TIMEOUT)
                .map_err(|err| unavailable("kafka metadata", err))?;
            let Some(found) = metadata.topics().iter().find(|t| t.name() == name) else {
                return Err(refused("kafka metadata", format!("no topic {name}")));
            };
            if let Some(err) = found.error() {
                let code = RDKafkaErrorCode::from(err);
                return Err(refused(&format!("kafka topic {name}"), code));
            }
            let mut ids: Vec<i32> = found.partitions().iter().map(|p| p.id()).collect();
            ids.sort_unstable();
            Ok(ids)
        })
        .await
    }

    /// Queues one record on the producer and returns the future of its delivery report. Waits
    /// while librdkafka's local queue is full rather than failing: that is back-pressure, not an
    /// error.
    async fn enqueue(&self, record: &OutgoingRecord) -> Result<DeliveryFuture, LogError> {
        let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
        for (key, value) in &record.headers {
            headers = headers.insert(Header {
                key,
                value: Some(value.as_bytes()),
            });
        }
        let mut pending = FutureRecord::to(&record.topic)
            .key(record.key.as_bytes())
            .payload(record.payload.as_slice())
            .headers(headers);
        loop {
            let producer = self.current_producer()?;
            match producer.send_result(pending) {
                Ok(delivery) => return Ok(delivery),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    pending = back;
                    sleep(Duration::from_millis(10)).await;
                }
                Err((err, _)) => return Err(unavailable("kafka produce", err)),
            }
        }
    }

    /// The producer in the slot now, failed or not.
    fn producer(&self) -> FutureProducer {
        self.producer
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The producer to send with: a new one when the current one failed fatally. Records the
    /// fatal one had not delivered fail with its error and are retried by their callers (every
    /// append is retried until acknowledged), so nothing acknowledged is lost.
    fn current_producer(&self) -> Result<FutureProducer, LogError> {
        let producer = self.producer();
        let Some((code, reason)) = producer.client().fatal_error() else {
            return Ok(producer);
        };
        let mut slot = self
            .producer
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Another caller may have replaced it while this one waited for the lock.
        if slot.client().fatal_error().is_some() {
            tracing::warn!(?code, %reason, "kafka producer failed fatally; starting a new one");
            *slot = new_producer(&self.settings)?;
        }
        Ok(slot.clone())
    }

    /// Puts the current producer in librdkafka's fatal state, the state a broker breaking the
    /// idempotence guarantees leaves it in (an out-of-order sequence number), through
    /// `rd_kafka_test_fatal_error`, librdkafka's own hook for testing exactly this. For the
    /// suite's proof that appends recover on a new producer; conserje never calls it. Returns
    /// whether the producer is now fatally failed.
    #[doc(hidden)]
    pub fn fail_producer_fatally(&self, reason: &str) -> bool {
        let producer = self.producer();
        let reason = std::ffi::CString::new(reason.replace('\0', " ")).unwrap_or_default();
        // SAFETY: the pointer is the live handle of `producer`, which this frame holds for the
        // whole call, and librdkafka copies `reason` before returning.
        unsafe {
            rdkafka::bindings::rd_kafka_test_fatal_error(
                producer.client().native_ptr(),
                rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                reason.as_ptr(),
            );
        }
        producer.client().fatal_error().is_some()
    }
}

/// The idempotent producer every append goes through.
fn new_producer(settings: &KafkaSettings) -> Result<FutureProducer, LogError> {
    ClientConfig::new()
        .set("bootstrap.servers", &settings.brokers)
        .set("client.id", &settings.client_id)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("message.timeout.ms", DELIVERY_TIMEOUT_MS)
        .create()
        .map_err(|err| refused("kafka producer configuration", err))
}

/// Waits for a delivery report: the partition and offset once every in-sync replica has the
/// record, or the broker's reason it does not.
async fn delivered(delivery: DeliveryFuture) -> Result<RecordPosition, LogError> {
    match delivery.await {
        Ok(Ok(delivery)) => Ok(RecordPosition {
            partition: delivery.partition,
            offset: delivery.offset,
        }),
        Ok(Err((err, _))) => Err(unavailable("kafka delivery", err)),
        Err(_canceled) => Err(unavailable(
            "kafka delivery",
            "the producer shut down before the delivery report",
        )),
    }
}

#[async_trait]
impl MessageLog for KafkaLog {
    /// Creates the missing topics with the configured partition count and replication factor 1
    /// (one broker in development and tests; a production cluster creates its topics itself or
    /// gets them from its operators). A topic that already exists is left as it is, whatever its
    /// partition count. Returns once the metadata shows every topic, since brokers publish a new
    /// topic a moment after confirming it and a consumer subscribed before that sees no
    /// partitions.
    async fn ensure_topics(&self, topics: &[&str]) -> Result<(), LogError> {
        if topics.is_empty() {
            return Ok(());
        }
        let new_topics: Vec<NewTopic<'_>> = topics
            .iter()
            .map(|name| NewTopic::new(name, self.settings.partitions, TopicReplication::Fixed(1)))
            .collect();
        let options = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT));
        let results = self
            .admin
            .create_topics(new_topics.iter(), &options)
            .await
            .map_err(|err| unavailable("kafka create topics", err))?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((name, code)) => {
                    return Err(refused(&format!("kafka create topic {name}"), code));
                }
            }
        }

        let deadline = Instant::now() + TOPIC_VISIBLE_TIMEOUT;
        for topic in topics {
            while !self.topic_ready(topic).await? {
                if Instant::now() >= deadline {
                    return Err(unavailable(
                        "kafka create topics",
                        format!("{topic} was created but is not in the metadata after {TOPIC_VISIBLE_TIMEOUT:?}"),
                    ));
                }
                sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(())
    }

    /// Sends the record keyed by its key (librdkafka's default partitioner hashes the key, so a
    /// key always lands on one partition) and waits for the delivery report.
    async fn append(&self, record: OutgoingRecord) -> Result<RecordPosition, LogError> {
        let delivery = self.enqueue(&record).await?;
        delivered(delivery).await
    }

    /// Queues every record before waiting for any report, so they travel in a few batches rather
    /// than one round trip each. The idempotent producer keeps them in queue order per partition
    /// even when a batch is retried. Fails with the first failed delivery, after all reports are
    /// in; records reported delivered stay appended (there are no transactions to undo them).
    async fn append_all(&self, records: Vec<OutgoingRecord>) -> Result<(), LogError> {
        let mut deliveries = Vec::with_capacity(records.len());
        for record in &records {
            deliveries.push(self.enqueue(record).await?);
        }
        let mut first_error = None;
        for delivery in deliveries {
            if let Err(err) = delivered(delivery).await {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Joins `group` on `topic` and returns once the group has handed this member its partitions
    /// (or [`JOIN_TIMEOUT`] passed): callers then poll with short waits without mistaking an
    /// unfinished join for an empty topic. Records fetched while joining are kept for the first
    /// polls.
    ///
    /// Reads uncommitted records (`isolation.level=read_uncommitted`): the producers here are not
    /// transactional, so both levels see the same records, and tansu's read-committed fetch
    /// fails on PostgreSQL 15 storage.
    async fn consumer(&self, group: &str, topic: &str) -> Result<Box<dyn LogConsumer>, LogError> {
        let context = GroupContext::default();
        let consumer: StreamConsumer<GroupContext> = ClientConfig::new()
            .set("bootstrap.servers", &self.settings.brokers)
            .set("client.id", &self.settings.client_id)
            .set("group.id", self.group_id(group))
            .set(
                "session.timeout.ms",
                self.settings.session_timeout.as_millis().to_string(),
            )
            .set(
                "heartbeat.interval.ms",
                (self.settings.session_timeout.as_millis() / 5)
                    .max(100)
                    .to_string(),
            )
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("isolation.level", "read_uncommitted")
            .set("allow.auto.create.topics", "false")
            .create_with_context(context)
            .map_err(|err| refused("kafka consumer configuration", err))?;
        consumer
            .subscribe(&[topic])
            .map_err(|err| refused(&format!("kafka subscribe to {topic}"), err))?;

        let mut member = KafkaConsumer {
            consumer: Some(Arc::new(consumer)),
            buffered: VecDeque::new(),
        };
        member.join().await?;
        Ok(Box::new(member))
    }

    /// Compares, per partition, the group's committed offset with the high watermark (the
    /// offset the next record will get). Asks through a consumer configured with the group id but
    /// not subscribed: it reads the group's offsets without joining the group, so it neither
    /// triggers a rebalance nor needs one.
    async fn lag(&self, group: &str, topic: &str) -> Result<Vec<PartitionLag>, LogError> {
        let partitions = self.partitions_of(topic).await?;

        let watermarks = Arc::clone(&self.metadata);
        let name = topic.to_owned();
        let ids = partitions.clone();
        let ends: Vec<i64> = blocking("kafka watermarks", move || {
            ids.iter()
                .map(|&partition| {
                    watermarks
                        .fetch_watermarks(&name, partition, REQUEST_TIMEOUT)
                        .map(|(_low, high)| high)
                        .map_err(|err| unavailable("kafka watermarks", err))
                })
                .collect()
        })
        .await?;

        let reader: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.settings.brokers)
            .set("client.id", &self.settings.client_id)
            .set("group.id", self.group_id(group))
            .set("enable.auto.commit", "false")
            .create()
            .map_err(|err| refused("kafka consumer configuration", err))?;
        let mut wanted = TopicPartitionList::with_capacity(partitions.len());
        for &partition in &partitions {
            wanted.add_partition(topic, partition);
        }
        let committed = blocking("kafka committed offsets", move || {
            let found = reader
                .committed_offsets(wanted, REQUEST_TIMEOUT)
                .map_err(|err| unavailable("kafka committed offsets", err));
            // Closing the reader also waits on the broker: still on the blocking pool.
            drop(reader);
            found
        })
        .await?;

        Ok(partitions
            .iter()
            .zip(ends)
            .map(|(&partition, end)| {
                let committed = committed
                    .find_partition(topic, partition)
                    .and_then(|elem| match elem.offset() {
                        Offset::Offset(offset) if offset >= 0 => Some(offset),
                        _ => None,
                    })
                    .unwrap_or(0);
                PartitionLag {
                    partition,
                    committed,
                    end,
                }
            })
            .collect())
    }
}

/// Tells the member when the group has given it partitions.
///
/// librdkafka runs the rebalance on the thread that polls the consumer, so the flag is only set
/// while somebody awaits a message (as [`KafkaConsumer::join`] does).
#[derive(Default)]
struct GroupContext {
    assigned: AtomicBool,
}

impl ClientContext for GroupContext {}

impl ConsumerContext for GroupContext {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(partitions) => {
                tracing::debug!(
                    partitions = partitions.count(),
                    "kafka group assigned partitions"
                );
                self.assigned.store(true, Ordering::Release);
            }
            Rebalance::Revoke(_) => self.assigned.store(false, Ordering::Release),
            Rebalance::Error(err) => tracing::warn!(error = %err, "kafka group rebalance failed"),
        }
    }
}

/// One member of a consumer group on one topic.
struct KafkaConsumer {
    /// `Some` until dropped; shared with the blocking pool during a synchronous commit.
    consumer: Option<Arc<StreamConsumer<GroupContext>>>,
    /// Records fetched while waiting for the assignment, handed out by the next polls.
    buffered: VecDeque<LogRecord>,
}

impl KafkaConsumer {
    fn stream(&self) -> Result<&Arc<StreamConsumer<GroupContext>>, LogError> {
        self.consumer
            .as_ref()
            .ok_or_else(|| unavailable("kafka consumer", "already closed"))
    }

    /// Polls the consumer (which is what drives librdkafka's group join) until the group assigned
    /// partitions to this member, keeping any record that arrives meanwhile. After
    /// [`JOIN_TIMEOUT`] it gives up waiting: with no error seen, the join may just be slow (or the
    /// group may have more members than partitions), so the member is returned and later polls
    /// keep driving the join; with errors seen, the last one is returned.
    async fn join(&mut self) -> Result<(), LogError> {
        let consumer = Arc::clone(self.stream()?);
        let deadline = Instant::now() + JOIN_TIMEOUT;
        let mut last_error = None;
        while !consumer.context().assigned.load(Ordering::Acquire) {
            let now = Instant::now();
            if now >= deadline {
                if let Some(err) = last_error {
                    return Err(err);
                }
                tracing::warn!(
                    "kafka consumer not assigned partitions after {JOIN_TIMEOUT:?}; polling on"
                );
                return Ok(());
            }
            let wait = (deadline - now).min(Duration::from_millis(100));
            match tokio::time::timeout(wait, consumer.recv()).await {
                Err(_elapsed) => {}
                Ok(Ok(message)) => self.buffered.push_back(to_record(&message)),
                Ok(Err(err)) => {
                    tracing::debug!(error = %err, "kafka consumer error while joining its group");
                    last_error = Some(unavailable("kafka consumer", err));
                }
            }
        }
        Ok(())
    }
}

/// Copies a fetched message out of librdkafka's buffer. Keys and header values are written as
/// UTF-8 by [`KafkaLog`]; bytes from another producer that are not become U+FFFD rather than an
/// error, so one foreign record cannot wedge a partition.
fn to_record(message: &BorrowedMessage<'_>) -> LogRecord {
    let headers = message
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|header| {
                    let value = header.value.unwrap_or_default();
                    (
                        header.key.to_owned(),
                        String::from_utf8_lossy(value).into_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    LogRecord {
        topic: message.topic().to_owned(),
        partition: message.partition(),
        offset: message.offset(),
        key: String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned(),
        headers,
        payload: message.payload().unwrap_or_default().to_vec(),
    }
}

/// Polls `future` once: its output if it is ready now, `None` if it would wait.
async fn ready_now<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    poll_fn(|cx| match future.as_mut().poll(cx) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

#[async_trait]
impl LogConsumer for KafkaConsumer {
    /// Waits up to `wait` for a first record, then takes only what librdkafka has already
    /// fetched, so a batch never waits for stragglers. An error after some records were read
    /// returns those records; the next poll reports it if it persists.
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<LogRecord>, LogError> {
        let take = max.min(self.buffered.len());
        let mut out: Vec<LogRecord> = self.buffered.drain(..take).collect();
        if out.len() >= max {
            return Ok(out);
        }
        let consumer = Arc::clone(self.stream()?);
        if out.is_empty() {
            match tokio::time::timeout(wait, consumer.recv()).await {
                Err(_elapsed) => return Ok(out),
                Ok(Ok(message)) => out.push(to_record(&message)),
                Ok(Err(err)) => return Err(unavailable("kafka consumer", err)),
            }
        }
        while out.len() < max {
            match ready_now(consumer.recv()).await {
                None => break,
                Some(Ok(message)) => out.push(to_record(&message)),
                Some(Err(err)) => {
                    tracing::debug!(error = %err, "kafka consumer error after a partial batch");
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Commits, for each partition among `records`, the offset after the last one: the record a
    /// restarted member reads first. Synchronous, so a successful return means the broker stored
    /// it. A group that rebalanced meanwhile refuses the commit (the partitions may belong to
    /// another member now, which will read those records again).
    async fn commit(&mut self, records: &[LogRecord]) -> Result<(), LogError> {
        let mut next: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for record in records {
            let offset = next
                .entry((record.topic.as_str(), record.partition))
                .or_insert(record.offset + 1);
            *offset = (*offset).max(record.offset + 1);
        }
        if next.is_empty() {
            return Ok(());
        }
        let mut offsets = TopicPartitionList::with_capacity(next.len());
        for ((topic, partition), offset) in next {
            offsets
                .add_partition_offset(topic, partition, Offset::Offset(offset))
                .map_err(|err| refused("kafka commit", err))?;
        }
        let consumer = Arc::clone(self.stream()?);
        blocking("kafka commit", move || {
            consumer.commit(&offsets, CommitMode::Sync).map_err(|err| {
                match err.rdkafka_error_code() {
                    Some(
                        RDKafkaErrorCode::IllegalGeneration
                        | RDKafkaErrorCode::UnknownMemberId
                        | RDKafkaErrorCode::RebalanceInProgress
                        | RDKafkaErrorCode::FencedInstanceId
                        | RDKafkaErrorCode::State,
                    ) => refused("kafka commit", err),
                    _ => unavailable("kafka commit", err),
                }
            })
        })
        .await
    }
}

impl Drop for KafkaConsumer {
    /// Leaves the group before returning, so a member started right after this one gets the
    /// partitions at once instead of after the old member's session times out. librdkafka's close
    /// blocks while it talks to the broker; on a multi-threaded runtime that is announced with
    /// `block_in_place` so the worker's other tasks move elsewhere meanwhile.
    fn drop(&mut self) {
        let Some(consumer) = self.consumer.take() else {
            return;
        };
        let on_multi_thread = tokio::runtime::Handle::try_current().is_ok_and(|handle| {
            handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
        });
        if on_multi_thread {
            tokio::task::block_in_place(move || drop(consumer));
        } else {
            drop(consumer);
        }
    }
}
