//! `conserje-loadgen`: the benchmark of the message path, a binary of its own so that the
//! production `conserje` carries none of it.
//!
//! Speed goals are checked by a program that prints figures, never by timed tests: a test that
//! fails on a busy CI machine says nothing about the code. `loadgen` drives
//! `POST /api/v1/messages` of a running conserje at a fixed offered rate for a fixed time and
//! prints what came back.
//!
//! The load is open loop: each send has a slot on the clock, whatever the previous answers did,
//! so a slow service shows up as latency, errors and sends behind schedule instead of quietly
//! lowering the load (the "coordinated omission" of closed-loop generators).
//!
//! Absolute figures depend on the machine, so the run also measures raw baselines on the same
//! servers: how fast the broker takes records with the service's own producer settings, how fast
//! the database commits one-row inserts, and how fast the event relay moves stored events to the
//! events topic. The ratios to those baselines say what the service costs on top of its
//! infrastructure.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use chrono::Utc;
use clap::Args;
use conserje_commands::inbound::inbound_record;
use conserje_domain::journal::{Checkpoint, CheckpointStore};
use conserje_domain::log::{MessageLog, OutgoingRecord, Topics};
use conserje_domain::metadata::Actor;
use conserje_domain::session::GuestMessage;
use conserje_domain::values::{GuestRef, TenantId};
use conserje_domain::EventMetadata;
use conserje_infra::feed::{SqlCheckpoints, SqlEventFeed};
use conserje_infra::kafka::{KafkaLog, KafkaSettings};
use conserje_infra::Database;
use conserje_projections::relay::RELAY;
use indicatif::{ProgressBar, ProgressStyle};
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use reqwest::{Client, StatusCode, Url};
use serde_json::json;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::{sleep_until, timeout, Instant, MissedTickBehavior};
use uuid::Uuid;

use conserje_infra::redact;

/// The channel of the generated messages: the one meant for integrations posting directly.
const CHANNEL: &str = "api";

/// Names loadgen's clients in the broker's logs.
const CLIENT_ID: &str = "conserje-loadgen";

/// A request unanswered this long counts as an error rather than holding its slot forever.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the readiness probe may take before the target is declared unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long requests still in flight when the duration ends may take to answer.
const DRAIN: Duration = Duration::from_secs(5);

/// A send that starts later than this after its slot is behind schedule. Tokio's timer ticks
/// every millisecond, so a few milliseconds of lateness is the timer, not the service.
const LATE_AFTER: Duration = Duration::from_millis(5);

/// How long each raw baseline runs.
const BASELINE_TIME: Duration = Duration::from_secs(2);

/// A baseline that has not finished after this long (a broker that stopped answering) is given up.
const BASELINE_DEADLINE: Duration = Duration::from_secs(30);

/// Records per `append_all` of the raw produce baseline: enough to keep the producer's pipeline
/// full, so the figure is the broker's pace rather than the round trip's.
const PRODUCE_BATCH: usize = 1000;

/// How often the progress bar and the relay backlog are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// The goals of the message path, from the issue that asked for this benchmark.
const GOAL_INGEST_PER_S: f64 = 5_000.0;
const GOAL_P99_ACK_MS: f64 = 10.0;
const GOAL_SHARE_OF_PRODUCE: f64 = 50.0;

/// What `conserje-loadgen` drives, how hard, and which raw baselines it measures beside it.
#[derive(Debug, Clone, Args)]
pub struct LoadgenArgs {
    /// Base URL of the running conserje to drive; no other address receives traffic.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub target: Url,

    /// Offered load in messages per second, kept whatever the answers' pace (open loop).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate: u32,

    /// Seconds of load; requests still in flight then get at most 5 s more to answer.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub duration: u64,

    /// Requests in flight at most; a send due while all are busy waits, and is counted behind
    /// schedule when it starts late.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub concurrency: u32,

    /// Distinct guests (`lg-0`, `lg-1`…) the messages go to in turn: one conversation, and so one
    /// partition key, each.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub conversations: u32,

    /// An API key of role integration (for --tenant) or admin: `cjk_…`. The target's per-key
    /// and per-guest rate limits apply to loadgen too; set `CONSERJE_API_RATE_LIMIT=0` and
    /// `CONSERJE_WEBHOOK_RATE_LIMIT=0` on the target for a throughput run.
    #[arg(long, env = "CONSERJE_API_KEY", hide_env_values = true)]
    pub key: Option<String>,

    /// A file holding the API key alone on a line (such as `<data-dir>/admin.key`); read when
    /// --key is absent.
    #[arg(long)]
    pub key_file: Option<std::path::PathBuf>,

    /// Tenant of the generated messages, so they stay apart from real hotels' data.
    #[arg(long, default_value = "loadgen", value_parser = TenantId::parse)]
    pub tenant: TenantId,

    /// The service's Kafka-protocol brokers (host:port,…): measures the raw produce rate there,
    /// with the service's producer settings, as a baseline.
    #[arg(long, env = "CONSERJE_KAFKA_BROKERS")]
    pub kafka_brokers: Option<String>,

    /// Partitions of the baseline topic: as many as the service's topics, for a like-for-like
    /// produce rate.
    #[arg(long, env = "CONSERJE_KAFKA_PARTITIONS", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    pub partitions: u16,

    /// The service's event store (postgres://… or sqlite://…): measures the raw INSERT commit
    /// rate there, and how fast the event relay moves events during the run.
    #[arg(long, env = "CONSERJE_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// A figure, or why it could not be measured (printed as `n/a (reason)`).
type Figure<T> = Result<T, String>;

/// Runs the benchmark: probes the target, measures the baselines, drives the load, prints the
/// report to stdout. Fails before any load when the target or a given server does not answer.
pub async fn run(args: LoadgenArgs) -> anyhow::Result<()> {
    let key = match (&args.key, &args.key_file) {
        (Some(key), _) => key.trim().to_owned(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the API key file {}", path.display()))?
            .trim()
            .to_owned(),
        (None, None) => bail!(
            "loadgen needs an API key: --key (or CONSERJE_API_KEY), or --key-file such as \
             .conserje/admin.key"
        ),
    };
    let mut auth = reqwest::header::HeaderValue::from_str(&format!("Bearer {key}"))
        .context("the API key is not a valid header value")?;
    auth.set_sensitive(true);
    let client = Client::builder()
        .default_headers(reqwest::header::HeaderMap::from_iter([(
            reqwest::header::AUTHORIZATION,
            auth,
        )]))
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(args.concurrency as usize)
        .build()
        .context("cannot build the HTTP client")?;
    probe(&client, &args.target).await?;

    let kafka = match &args.kafka_brokers {
        None => None,
        Some(brokers) => Some(
            KafkaLog::connect(KafkaSettings {
                brokers: brokers.clone(),
                partitions: i32::from(args.partitions),
                client_id: CLIENT_ID.to_owned(),
                session_timeout: conserje_infra::kafka::DEFAULT_SESSION_TIMEOUT,
            })
            .await
            .with_context(|| format!("cannot reach the Kafka brokers at {brokers}"))?,
        ),
    };
    let db = match &args.database_url {
        None => None,
        Some(url) => Some(
            Database::connect(url)
                .await
                .with_context(|| format!("cannot open the database at {}", redact(url)))?,
        ),
    };

    let produce = match (&kafka, &args.kafka_brokers) {
        (Some(log), Some(brokers)) => {
            eprintln!("measuring the raw produce rate ({BASELINE_TIME:?})…");
            bounded(raw_produce(log, brokers, &args)).await
        }
        _ => Err("no --kafka-brokers given".to_owned()),
    };
    let inserts = match &db {
        Some(db) => {
            eprintln!("measuring the raw INSERT commit rate ({BASELINE_TIME:?})…");
            bounded(raw_inserts(db, &args)).await
        }
        None => Err("no --database-url given".to_owned()),
    };

    let relay = match &db {
        Some(db) => RelayWatch::start(db).await,
        None => Err("no --database-url given".to_owned()),
    };
    let load = drive(&client, &args).await?;
    let (relayed, backlog) = match relay {
        Ok(watch) => watch.finish().await,
        Err(reason) => (Err(reason.clone()), Err(reason)),
    };

    let report = Report {
        args: &args,
        load,
        produce,
        inserts,
        relayed,
        backlog,
    };
    print!("{report}");
    Ok(())
}

/// Fails with a clear message naming the target unless it answers `GET /health/ready` with 200.
async fn probe(client: &Client, target: &Url) -> anyhow::Result<()> {
    let url = endpoint(target, "health/ready")?;
    let response = client
        .get(url.clone())
        .timeout(PROBE_TIMEOUT)
        .send()
        .await
        .with_context(|| format!("conserje at {target} does not answer (GET {url})"))?;
    let status = response.status();
    if status != StatusCode::OK {
        let body = response.text().await.unwrap_or_default();
        bail!(
            "conserje at {target} is not ready: GET {url} answered {status} {}",
            body.trim()
        );
    }
    Ok(())
}

/// `path` under the target's base URL (which may itself have a path, behind a proxy).
fn endpoint(target: &Url, path: &str) -> anyhow::Result<Url> {
    let joined = format!("{}/{path}", target.as_str().trim_end_matches('/'));
    Url::parse(&joined).with_context(|| format!("invalid URL {joined}"))
}

/// Gives up a baseline that outlives [`BASELINE_DEADLINE`], and turns its error into the reason
/// printed instead of a figure.
async fn bounded(
    measurement: impl std::future::Future<Output = anyhow::Result<Rate>>,
) -> Figure<Rate> {
    match timeout(BASELINE_DEADLINE, measurement).await {
        Ok(Ok(rate)) => Ok(rate),
        Ok(Err(err)) => Err(format!("{err:#}")),
        Err(_) => Err(format!("did not finish within {BASELINE_DEADLINE:?}")),
    }
}

/// The guest of message `index`: the conversations take turns.
fn guest_name(index: u64, conversations: u32) -> String {
    format!("lg-{}", index % u64::from(conversations))
}

/// The text of message `index`: a short, ordinary guest question.
fn message_text(index: u64) -> String {
    format!("Hola, ¿tienen una habitación doble libre esta noche? (loadgen {index})")
}

/// The JSON body of message `index`, with a fresh `provider_message_id` so no message is taken
/// for a redelivery of another.
fn message_body(tenant: &TenantId, index: u64, conversations: u32) -> serde_json::Value {
    json!({
        "tenant_id": tenant.as_str(),
        "channel": CHANNEL,
        "guest": guest_name(index, conversations),
        "provider_message_id": Uuid::now_v7().to_string(),
        "text": message_text(index),
    })
}

/// The inbound record the service would append for message `index`, built by the service's own
/// code, so the baselines move records of the same size and key spread as the load.
fn sample_record(
    tenant: &TenantId,
    index: u64,
    conversations: u32,
) -> anyhow::Result<OutgoingRecord> {
    let guest = GuestRef::parse(&guest_name(index, conversations))?;
    let message = GuestMessage {
        location: None,
        guest_name: None,
        tenant_id: tenant.clone(),
        channel: CHANNEL.to_owned(),
        guest_ref: guest.clone(),
        provider_message_id: Uuid::now_v7().to_string(),
        text: Some(message_text(index)),
        media: None,
        received_at: Utc::now(),
    };
    let meta = EventMetadata::new(tenant.clone(), Actor::guest(guest.as_str()), CHANNEL)
        .with_source_ip(Some("127.0.0.1".to_owned()));
    Ok(inbound_record(&message, &meta, &Topics::default())?)
}

/// How many messages the run offers: `rate` per second for `duration` seconds.
fn planned_sends(rate: u32, duration: u64) -> u64 {
    u64::from(rate).saturating_mul(duration)
}

/// When send `index` is due, from the start of the run: evenly spaced at `rate` per second,
/// computed from the index rather than accumulated, so rounding never drifts.
fn due_offset(index: u64, rate: u32) -> Duration {
    let nanos = u128::from(index) * 1_000_000_000 / u128::from(rate.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// The nearest-rank `p`-th percentile (0 < p ≤ 100) of ascending `sorted` values.
fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// `part` as a percentage of `whole`; none when the baseline measured nothing.
fn share(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| part / whole * 100.0)
}

/// Things counted over a span of time.
#[derive(Debug, Clone, Copy)]
struct Rate {
    count: u64,
    elapsed: Duration,
}

impl Rate {
    fn per_second(&self) -> f64 {
        if self.elapsed.is_zero() {
            0.0
        } else {
            self.count as f64 / self.elapsed.as_secs_f64()
        }
    }
}

/// The raw produce rate: records of the load's size and keys appended to a fresh topic
/// `loadgen.baseline.<uuid>` in batches, through the same idempotent producer settings the
/// service uses. The topic is deleted afterwards.
async fn raw_produce(log: &KafkaLog, brokers: &str, args: &LoadgenArgs) -> anyhow::Result<Rate> {
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

/// Runs `$body` with `$pool` bound to whichever pool `$db` holds: the baseline's SQL is the same
/// on PostgreSQL and SQLite.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            Database::Postgres($pool) => $body,
            Database::Sqlite($pool) => $body,
        }
    };
}

/// The raw commit rate: one-row INSERTs, each awaited (and so committed) before the next, on one
/// connection, into a table `loadgen_baseline_<uuid>` dropped afterwards. A regular table rather
/// than a `TEMPORARY` one: PostgreSQL does not write temporary tables to its WAL, so their
/// commits skip the flush that every event append pays, and the baseline would flatter the store.
async fn raw_inserts(db: &Database, args: &LoadgenArgs) -> anyhow::Result<Rate> {
    let table = format!("loadgen_baseline_{}", Uuid::now_v7().simple());
    let create = format!("CREATE TABLE {table} (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)");
    let insert = format!("INSERT INTO {table} (id, payload) VALUES ($1, $2)");
    let drop = format!("DROP TABLE {table}");
    let record = sample_record(&args.tenant, 0, args.conversations)?;
    let payload = String::from_utf8_lossy(&record.payload).into_owned();
    on_pool!(db, pool => {
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

/// Watches the event relay during the run through its checkpoint in the event store: how many
/// events it passed, and a sample every [`SAMPLE_EVERY`] of how many stored events it has not
/// passed yet (its backlog, which is the projections' lag behind the store).
struct RelayWatch {
    feed: SqlEventFeed,
    checkpoints: SqlCheckpoints,
    start: Checkpoint,
    started: Instant,
    stop: watch::Sender<bool>,
    sampler: tokio::task::JoinHandle<Figure<Vec<u64>>>,
}

/// What the relay passed during the run.
#[derive(Debug, Clone, Copy)]
struct Relayed {
    events: Rate,
    /// Stored events not yet relayed when the run ended.
    backlog_at_end: u64,
}

impl RelayWatch {
    async fn start(db: &Database) -> Figure<Self> {
        let feed = SqlEventFeed::new(db.clone());
        let checkpoints = SqlCheckpoints::new(db.clone());
        let start = checkpoints
            .load(RELAY)
            .await
            .map_err(|err| format!("cannot read the {RELAY} checkpoint: {err}"))?;
        let (stop, stopped) = watch::channel(false);
        let sampler = tokio::spawn(sample_backlog(feed.clone(), checkpoints.clone(), stopped));
        Ok(Self {
            feed,
            checkpoints,
            start,
            started: Instant::now(),
            stop,
            sampler,
        })
    }

    /// Stops sampling and reads how far the relay got: events relayed, and the backlog samples
    /// sorted.
    async fn finish(self) -> (Figure<Relayed>, Figure<Vec<u64>>) {
        self.stop.send_replace(true);
        let relayed = self.relayed().await;
        let backlog = match self.sampler.await {
            Ok(Ok(mut samples)) if !samples.is_empty() => {
                samples.sort_unstable();
                Ok(samples)
            }
            Ok(Ok(_)) => Err("no sample was taken".to_owned()),
            Ok(Err(reason)) => Err(reason),
            Err(err) => Err(format!("the sampler failed: {err}")),
        };
        (relayed, backlog)
    }

    /// Events between the start and end checkpoints. Counted as "events after the start" minus
    /// "events after the end", in that order: an event stored between the two counts can only
    /// lower the figure, never inflate it.
    async fn relayed(&self) -> Figure<Relayed> {
        let end = self
            .checkpoints
            .load(RELAY)
            .await
            .map_err(|err| format!("cannot read the {RELAY} checkpoint: {err}"))?;
        let elapsed = self.started.elapsed();
        let count = |after| async move {
            self.feed
                .count_after(after)
                .await
                .map_err(|err| format!("cannot count the stored events: {err}"))
        };
        let after_start = count(self.start).await?;
        let after_end = count(end).await?;
        Ok(Relayed {
            events: Rate {
                count: u64::try_from(after_start - after_end).unwrap_or(0),
                elapsed,
            },
            backlog_at_end: u64::try_from(after_end).unwrap_or(0),
        })
    }
}

/// Samples the relay's backlog every [`SAMPLE_EVERY`] until told to stop.
async fn sample_backlog(
    feed: SqlEventFeed,
    checkpoints: SqlCheckpoints,
    mut stopped: watch::Receiver<bool>,
) -> Figure<Vec<u64>> {
    let mut tick = tokio::time::interval(SAMPLE_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut samples = Vec::new();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.changed() => return Ok(samples),
        }
        let checkpoint = checkpoints
            .load(RELAY)
            .await
            .map_err(|err| format!("cannot read the {RELAY} checkpoint: {err}"))?;
        let behind = feed
            .count_after(checkpoint)
            .await
            .map_err(|err| format!("cannot count the stored events: {err}"))?;
        samples.push(u64::try_from(behind).unwrap_or(0));
    }
}

/// What the sends report, shared by all of them.
#[derive(Default)]
struct Tally {
    /// Acknowledged so far, read by the progress bar without taking the lock.
    acked: AtomicU64,
    outcomes: Mutex<Outcomes>,
}

#[derive(Default)]
struct Outcomes {
    latencies_us: Vec<u64>,
    errors: BTreeMap<String, u64>,
    last_ack: Option<Instant>,
}

impl Tally {
    fn outcomes(&self) -> std::sync::MutexGuard<'_, Outcomes> {
        self.outcomes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn ack(&self, latency: Duration) {
        let mut outcomes = self.outcomes();
        outcomes
            .latencies_us
            .push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
        outcomes.last_ack = Some(Instant::now());
        self.acked.fetch_add(1, Ordering::Relaxed);
    }

    fn error(&self, label: String, count: u64) {
        *self.outcomes().errors.entry(label).or_default() += count;
    }
}

/// What the load itself measured.
#[derive(Debug)]
struct Load {
    planned: u64,
    attempted: u64,
    behind: u64,
    acked: u64,
    errors: BTreeMap<String, u64>,
    /// Ack latencies in microseconds, ascending.
    latencies_us: Vec<u64>,
    /// Acknowledged messages per second, from the start to the last acknowledgement.
    acked_per_s: f64,
}

/// Drives the load: schedules every send on its slot, bounded by `--concurrency` in flight, for
/// `--duration`, then waits at most [`DRAIN`] for the requests still in flight.
async fn drive(client: &Client, args: &LoadgenArgs) -> anyhow::Result<Load> {
    let url = endpoint(&args.target, "api/v1/messages")?;
    let planned = planned_sends(args.rate, args.duration);
    let total = Duration::from_secs(args.duration);
    let slots = Arc::new(Semaphore::new(args.concurrency as usize));
    let tally = Arc::new(Tally::default());
    let bar = progress_bar(args.duration)?;
    let (stop, stopped) = watch::channel(false);

    let start = Instant::now();
    let end = start + total;
    let ticker = tokio::spawn(show_progress(
        bar.clone(),
        tally.clone(),
        start,
        total,
        stopped,
    ));
    let mut sends = JoinSet::new();
    let (mut attempted, mut behind) = (0u64, 0u64);
    for index in 0..planned {
        let due = start + due_offset(index, args.rate);
        sleep_until(due).await;
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = sleep_until(end) => break,
        };
        let Ok(slot) = slot else { break };
        let sent_at = Instant::now();
        if sent_at >= end {
            break;
        }
        if sent_at.duration_since(due) > LATE_AFTER {
            behind += 1;
        }
        attempted += 1;
        let request =
            client
                .post(url.clone())
                .json(&message_body(&args.tenant, index, args.conversations));
        let tally = tally.clone();
        sends.spawn(async move {
            match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    // The answer counts once its body is in, as a client would see it.
                    let body = response.bytes().await;
                    match body {
                        Ok(_) if status == StatusCode::ACCEPTED => tally.ack(sent_at.elapsed()),
                        Ok(_) => tally.error(format!("HTTP {status}"), 1),
                        Err(err) => tally.error(transport_error(&err), 1),
                    }
                }
                Err(err) => tally.error(transport_error(&err), 1),
            }
            drop(slot);
        });
        while sends.try_join_next().is_some() {}
    }
    let drain = async { while sends.join_next().await.is_some() {} };
    if timeout(DRAIN, drain).await.is_err() {
        tally.error(
            format!("still in flight after the {DRAIN:?} drain"),
            sends.len() as u64,
        );
        sends.shutdown().await;
    }
    stop.send_replace(true);
    ticker.await.ok();
    bar.finish_and_clear();

    let mut outcomes = std::mem::take(&mut *tally.outcomes());
    outcomes.latencies_us.sort_unstable();
    let acked = outcomes.latencies_us.len() as u64;
    let acked_per_s = match outcomes.last_ack {
        Some(last) => Rate {
            count: acked,
            elapsed: last.duration_since(start),
        }
        .per_second(),
        None => 0.0,
    };
    Ok(Load {
        planned,
        attempted,
        behind,
        acked,
        errors: outcomes.errors,
        latencies_us: outcomes.latencies_us,
        acked_per_s,
    })
}

/// The error label of a request that got no HTTP answer.
fn transport_error(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        format!("no answer within {REQUEST_TIMEOUT:?}")
    } else if err.is_connect() {
        "connection failed".to_owned()
    } else {
        format!("transport error: {err}")
    }
}

/// The progress bar on stderr: indicatif draws nothing when stderr is not a terminal, so piped
/// runs get only the report.
fn progress_bar(duration: u64) -> anyhow::Result<ProgressBar> {
    let bar = ProgressBar::new(duration);
    bar.set_style(ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} s  {msg}",
    )?);
    Ok(bar)
}

/// Updates the bar every [`SAMPLE_EVERY`] with the acknowledged count and the rate over the last
/// second, until told to stop.
async fn show_progress(
    bar: ProgressBar,
    tally: Arc<Tally>,
    start: Instant,
    total: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(SAMPLE_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let window = (Duration::from_secs(1).as_millis() / SAMPLE_EVERY.as_millis()) as usize + 1;
    let mut recent: VecDeque<(Instant, u64)> = VecDeque::with_capacity(window + 1);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.changed() => return,
        }
        let now = Instant::now();
        let acked = tally.acked.load(Ordering::Relaxed);
        recent.push_back((now, acked));
        if recent.len() > window {
            recent.pop_front();
        }
        let rate = match (recent.front(), recent.back()) {
            (Some(&(then, before)), Some(&(now, after))) if now > then => {
                (after - before) as f64 / now.duration_since(then).as_secs_f64()
            }
            _ => 0.0,
        };
        let elapsed = now.duration_since(start);
        bar.set_position(elapsed.min(total).as_secs());
        let phase = if elapsed >= total { " · draining" } else { "" };
        bar.set_message(format!("acked {acked} · {rate:.0} msg/s{phase}"));
    }
}

/// The plain-text report printed at the end.
struct Report<'a> {
    args: &'a LoadgenArgs,
    load: Load,
    produce: Figure<Rate>,
    inserts: Figure<Rate>,
    relayed: Figure<Relayed>,
    /// Relay backlog samples, ascending.
    backlog: Figure<Vec<u64>>,
}

/// Milliseconds from microseconds, for latencies.
fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// A figure as printed: its value, or `n/a (reason)`.
fn shown<T>(figure: &Figure<T>, show: impl FnOnce(&T) -> String) -> String {
    match figure {
        Ok(value) => show(value),
        Err(reason) => format!("n/a ({reason})"),
    }
}

/// `[x]`, `[ ]` or `[?]` for a goal met, missed, or not measured.
fn mark<T>(figure: &Figure<T>, met: impl FnOnce(&T) -> bool) -> &'static str {
    match figure {
        Ok(value) if met(value) => "[x]",
        Ok(_) => "[ ]",
        Err(_) => "[?]",
    }
}

impl Report<'_> {
    /// Acknowledged messages per second as a percentage of a baseline's rate.
    fn ratio_to(&self, baseline: &Figure<Rate>) -> Figure<f64> {
        let rate = baseline.as_ref().map_err(Clone::clone)?;
        share(self.load.acked_per_s, rate.per_second())
            .ok_or_else(|| "the baseline measured nothing".to_owned())
    }

    fn p99_ms(&self) -> Figure<f64> {
        percentile(&self.load.latencies_us, 99.0)
            .map(ms)
            .ok_or_else(|| "nothing was acknowledged".to_owned())
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args = self.args;
        let load = &self.load;
        writeln!(
            f,
            "conserje loadgen: POST {}",
            endpoint(&args.target, "api/v1/messages").map_err(|_| fmt::Error)?
        )?;
        writeln!(
            f,
            "offered {} msg/s for {} s, at most {} in flight, {} conversations, tenant {}",
            args.rate, args.duration, args.concurrency, args.conversations, args.tenant
        )?;

        writeln!(f, "\nMessage path")?;
        let row = |f: &mut fmt::Formatter<'_>, label: &str, value: String| {
            writeln!(f, "  {label:<32} {value}")
        };
        row(f, "planned", load.planned.to_string())?;
        row(f, "attempted", load.attempted.to_string())?;
        row(f, "acknowledged (202)", load.acked.to_string())?;
        let errors: u64 = load.errors.values().sum();
        row(f, "errors", errors.to_string())?;
        for (label, count) in &load.errors {
            row(f, &format!("  {label}"), count.to_string())?;
        }
        row(
            f,
            "behind schedule",
            format!(
                "{} (started > {} ms after their slot)",
                load.behind,
                LATE_AFTER.as_millis()
            ),
        )?;
        row(
            f,
            "not sent",
            format!(
                "{} (slots left when the duration ran out)",
                load.planned - load.attempted
            ),
        )?;
        row(
            f,
            "achieved",
            format!("{:.1} acked msg/s", load.acked_per_s),
        )?;
        for (label, p) in [("ack latency p50", 50.0), ("ack latency p99", 99.0)] {
            let value = percentile(&load.latencies_us, p).map_or_else(
                || "n/a (nothing acknowledged)".to_owned(),
                |us| format!("{:.3} ms", ms(us)),
            );
            row(f, label, value)?;
        }
        let max = load.latencies_us.last().map_or_else(
            || "n/a (nothing acknowledged)".to_owned(),
            |&us| format!("{:.3} ms", ms(us)),
        );
        row(f, "ack latency max", max)?;

        writeln!(f, "\nBaselines (same run, same servers)")?;
        let per_s =
            |unit: &'static str| move |rate: &Rate| format!("{:.1} {unit}", rate.per_second());
        let percent = |value: &f64| format!("{value:.1} %");
        row(f, "raw produce", shown(&self.produce, per_s("msg/s")))?;
        let produce_share = self.ratio_to(&self.produce);
        row(f, "acked/s ÷ raw produce/s", shown(&produce_share, percent))?;
        row(
            f,
            "raw INSERT commits",
            shown(&self.inserts, per_s("commits/s")),
        )?;
        let insert_share = self.ratio_to(&self.inserts);
        row(
            f,
            "acked/s ÷ raw INSERT commits/s",
            shown(&insert_share, percent),
        )?;
        row(
            f,
            "events relayed",
            shown(&self.relayed, |relayed| {
                format!(
                    "{:.1} events/s ({} events in {:.1} s)",
                    relayed.events.per_second(),
                    relayed.events.count,
                    relayed.events.elapsed.as_secs_f64()
                )
            }),
        )?;
        row(
            f,
            "relay backlog p99",
            shown(&self.backlog, |samples| {
                let p99 = percentile(samples, 99.0).unwrap_or_default();
                format!(
                    "{p99} events ({} samples every {} ms)",
                    samples.len(),
                    SAMPLE_EVERY.as_millis()
                )
            }),
        )?;
        row(
            f,
            "relay backlog at end",
            shown(&self.relayed, |relayed| {
                format!("{} events", relayed.backlog_at_end)
            }),
        )?;

        writeln!(f, "\nGoals")?;
        let ingest: Figure<f64> = Ok(load.acked_per_s);
        let offered = if f64::from(args.rate) < GOAL_INGEST_PER_S {
            format!(" (offered only {} msg/s)", args.rate)
        } else {
            String::new()
        };
        writeln!(
            f,
            "  {} ingest ≥ 5,000 msg/s            {:.1} msg/s{offered}",
            mark(&ingest, |&v| v >= GOAL_INGEST_PER_S),
            load.acked_per_s
        )?;
        let p99 = self.p99_ms();
        writeln!(
            f,
            "  {} p99 ack ≤ 10 ms                 {}",
            mark(&p99, |&v| v <= GOAL_P99_ACK_MS),
            shown(&p99, |v| format!("{v:.3} ms"))
        )?;
        writeln!(
            f,
            "  {} ≥ 50 % of raw produce rate      {}",
            mark(&produce_share, |&v| v >= GOAL_SHARE_OF_PRODUCE),
            shown(&produce_share, percent)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50.0), Some(50));
        assert_eq!(percentile(&values, 99.0), Some(99));
        assert_eq!(percentile(&values, 100.0), Some(100));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[1, 2, 3], 1.0), Some(1));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn sends_are_evenly_spaced_without_drift() {
        assert_eq!(due_offset(0, 1000), Duration::ZERO);
        assert_eq!(due_offset(1, 1000), Duration::from_millis(1));
        assert_eq!(due_offset(1, 3), Duration::from_nanos(333_333_333));
        // The last slot of a second lands exactly on it, however the spacing rounds.
        assert_eq!(due_offset(3, 3), Duration::from_secs(1));
        assert_eq!(due_offset(7_000 * 60, 7_000), Duration::from_secs(60));
        assert_eq!(planned_sends(1000, 10), 10_000);
    }

    #[test]
    fn guests_take_turns() {
        let guests: Vec<String> = (0..5).map(|i| guest_name(i, 3)).collect();
        assert_eq!(guests, ["lg-0", "lg-1", "lg-2", "lg-0", "lg-1"]);
    }

    #[test]
    fn ratios_need_a_baseline() {
        assert_eq!(share(2_500.0, 10_000.0), Some(25.0));
        assert_eq!(share(2_500.0, 0.0), None);
    }

    #[test]
    fn generated_messages_are_valid_inbound_records() {
        let tenant = TenantId::parse("loadgen").expect("valid tenant");
        let record = sample_record(&tenant, 4, 3).expect("record");
        assert_eq!(record.key, "loadgen/api/lg-1");
        let body = message_body(&tenant, 4, 3);
        assert_eq!(body["guest"], "lg-1");
        assert_ne!(
            message_body(&tenant, 4, 3)["provider_message_id"],
            body["provider_message_id"]
        );
    }
}
