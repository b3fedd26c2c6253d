//! `conserje-loadgen`: the benchmark of the message path, a binary of its own so that the
//! production `conserje` carries none of it.
//!
//! Speed goals are checked by a program that prints figures, never by timed tests: a test that
//! fails on a busy CI machine says nothing about the code. `loadgen` drives
//! `POST /api/v1/messages` of a running conserje at a fixed offered rate for a fixed time
//! ([`load`]), then reads from the store what became of each acknowledged message — answered,
//! delivered, and how long after its 202 ([`replies`]) — while the relay is watched beside it
//! ([`relay_watch`]) and the target's memory is sampled ([`memory`]). Absolute figures depend on the machine, so the same run also measures raw
//! baselines on the same servers ([`baselines`]) and the [`report`] prints the ratios to them.
//!
//! One module per role, so each can be read (and changed) without the others: what it is told
//! ([`options`]), what it sends ([`workload`]), the load, the baselines, the replies, the report.

pub mod baselines;
pub mod load;
pub mod memory;
pub mod options;
pub mod relay_watch;
pub mod replies;
pub mod report;
pub mod workload;

use std::time::Duration;

use anyhow::{bail, Context};
use conserje_infra::kafka::{KafkaLog, KafkaSettings};
use conserje_infra::{redact, Database};
use reqwest::{Client, StatusCode, Url};

use crate::baselines::{bounded, raw_inserts, raw_produce, BASELINE_TIME};
pub use crate::options::LoadgenArgs;
use crate::relay_watch::RelayWatch;
use crate::replies::{wait_for_replies, StoreMark};
use crate::report::Report;

/// Names loadgen's clients in the broker's logs.
const CLIENT_ID: &str = "conserje-loadgen";

/// A request unanswered this long counts as an error rather than holding its slot forever.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the readiness probe may take before the target is declared unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// A figure, or why it could not be measured (printed as `n/a (reason)`).
pub type Figure<T> = Result<T, String>;

/// Runs the benchmark: probes the target, measures the baselines, drives the load, waits for the
/// replies, prints the report to stdout. Fails before any load when the target or a given server
/// does not answer.
pub async fn run(args: LoadgenArgs) -> anyhow::Result<()> {
    let key = args.api_key()?;
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
                group_prefix: String::new(),
            })
            .await
            .with_context(|| format!("cannot reach the Kafka brokers at {brokers}"))?,
        ),
    };
    let no_store = "no --database-url given, nor a --data-dir with an embedded store";
    let db = match args.store_url() {
        None => None,
        Some(url) => Some(
            Database::connect(&url)
                .await
                .with_context(|| format!("cannot open the database at {}", redact(&url)))?,
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
        None => Err(no_store.to_owned()),
    };

    let (relay, mark) = match &db {
        Some(db) => (
            RelayWatch::start(db).await,
            StoreMark::take(db)
                .await
                .map_err(|err| format!("cannot read the store's last position: {err:#}")),
        ),
        None => (Err(no_store.to_owned()), Err(no_store.to_owned())),
    };
    let memory = match args.server_pid {
        Some(pid) => memory::MemoryWatch::start(pid),
        None => Err("no --server-pid given".to_owned()),
    };
    let load = load::drive(&client, &args).await?;
    let (relayed, backlog) = match relay {
        Ok(watch) => watch.finish().await,
        Err(reason) => (Err(reason.clone()), Err(reason)),
    };
    let replies = match (&db, mark) {
        (Some(db), Ok(mark)) => {
            let drain = Duration::from_secs(args.drain_timeout);
            wait_for_replies(
                db,
                &args.tenant,
                mark,
                &load.acked_at,
                load.started_at,
                drain,
            )
            .await
        }
        (_, Err(reason)) => Err(reason),
        (None, _) => Err(no_store.to_owned()),
    };

    let memory = match memory {
        Ok(watch) => watch.finish().await,
        Err(reason) => Err(reason),
    };
    let report = Report {
        args: &args,
        load,
        replies,
        memory,
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
