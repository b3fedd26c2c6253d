//! Shared harness of the end-to-end suites: fresh PostgreSQL databases on the cluster that
//! `scripts/test.sh` starts, fresh SQLite files, and the real service on a random port.
//!
//! The staff console's suites also need a real browser, since labels, keyboard focus and phone
//! layout only show in one: [`browser`] drives a headless Chromium over WebDriver.

pub mod browser;
pub mod channels;
pub mod console;
pub mod kv_contract;
pub mod log_contract;
pub mod otlp;
pub mod pms;
pub mod processes;
pub mod simulators;
pub mod stories;

use std::net::SocketAddr;
use std::sync::Arc;

use conserje_domain::api_key::{KeyName, Role, Scope};
use conserje_domain::metadata::Actor;
use conserje_domain::ports::Clock;
use conserje_domain::values::TenantId;
use conserje_domain::EventMetadata;
use conserje_gateway::auth::{ensure_first_admin_key, FirstKey, KeyRing, ADMIN_KEY_FILE};
use conserje_gateway::settings::{
    AccessOptions, ChannelOptions, HttpOptions, PmsFlags, StoreOptions,
};
use conserje_gateway::{app, Runtime};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A clock stopped at one instant, so "today" in a test is whatever the test says.
pub struct FixedClock(pub chrono::DateTime<chrono::Utc>);

impl Clock for FixedClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0
    }
}

/// A clock that starts at a chosen instant and then runs with real time, and that a test can move
/// forward: retries fall due and cached figures age, while "today" is the test's day.
pub struct MovingClock {
    start: chrono::DateTime<chrono::Utc>,
    since: std::time::Instant,
    skipped: std::sync::Mutex<chrono::Duration>,
}

impl MovingClock {
    pub fn at(start: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            start,
            since: std::time::Instant::now(),
            skipped: std::sync::Mutex::new(chrono::Duration::zero()),
        }
    }

    /// Moves the clock `by` ahead at once.
    pub fn advance(&self, by: std::time::Duration) {
        let mut skipped = self.skipped.lock().unwrap();
        *skipped += chrono::Duration::from_std(by).expect("a short duration");
    }
}

impl Clock for MovingClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        let ran = chrono::Duration::from_std(self.since.elapsed()).unwrap_or_default();
        self.start + ran + *self.skipped.lock().unwrap()
    }
}

/// Polls `check` until it holds, failing after 10 s with `what`.
///
/// The PostgreSQL catch-up reader holds back events while an older transaction is open anywhere
/// in the cluster, and the suites run in parallel on one cluster: a read of the global order right
/// after a write may see it a few milliseconds later. This waits for that, not for speed.
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    eventually_within(what, std::time::Duration::from_secs(10), check).await;
}

/// [`eventually`] with a longer patience, for a backlog the worker drains message by message
/// (each one understood and answered) while the other suites share the machine's two cores. What
/// such a test proves is order and completeness; speed is the benchmark's business.
pub async fn eventually_within<F, Fut>(what: &str, patience: std::time::Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + patience;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Catches `subscription` up until it has handled at least `events` events; returns how many
/// it handled. Bounded like [`eventually`], for the same reason.
pub async fn catch_up_at_least(
    subscription: &conserje_projections::Subscription,
    events: u64,
) -> u64 {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut handled = 0;
    loop {
        handled += subscription.catch_up().await.expect("catch-up succeeds");
        if handled >= events {
            return handled;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} handled {handled} of {events} events before timing out",
            subscription.name()
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// The admin URL of the test cluster. Tests of the PostgreSQL store fail, not skip, without it.
pub fn postgres_admin_url() -> String {
    std::env::var("CONSERJE_TEST_DATABASE_URL").expect(
        "CONSERJE_TEST_DATABASE_URL is not set: run the suite with scripts/test.sh, which starts \
         a throwaway PostgreSQL and sets it",
    )
}

/// Creates an empty database on the test cluster and returns its URL.
pub async fn fresh_postgres_url() -> String {
    use sqlx::Connection;
    let admin = postgres_admin_url();
    let name = format!("conserje_test_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("cannot connect to the test PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("cannot create a test database");
    let base = admin.rsplit_once('/').expect("admin url has a database").0;
    format!("{base}/{name}")
}

/// Which profile a test runs against: `Postgres` is the distributed profile (PostgreSQL event
/// store, Kafka-protocol broker, Redis), `Sqlite` the embedded default (everything in SQLite).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Postgres,
    Sqlite,
}

/// The test broker. Tests of the distributed profile fail, not skip, without it.
pub fn kafka_brokers() -> String {
    std::env::var("CONSERJE_TEST_KAFKA_BROKERS").expect(
        "CONSERJE_TEST_KAFKA_BROKERS is not set: run the suite with scripts/test.sh, which starts \
         a Kafka-protocol broker and sets it",
    )
}

/// The test Redis. Tests of the distributed profile fail, not skip, without it.
pub fn redis_url() -> String {
    std::env::var("CONSERJE_TEST_REDIS_URL").expect(
        "CONSERJE_TEST_REDIS_URL is not set: run the suite with scripts/test.sh, which starts \
         Redis and sets it",
    )
}

/// Store options for a fresh store of `kind`; the data directory lives as long as the `TempDir`.
pub async fn fresh_store(kind: StoreKind) -> (StoreOptions, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    // Topics and keys of every test get their own namespace on the shared broker and Redis.
    let namespace = format!("t{}.", uuid::Uuid::now_v7().simple());
    let mut options = StoreOptions {
        data_dir: dir.path().to_path_buf(),
        database_url: None,
        config: None,
        kafka_brokers: None,
        partitions: 3,
        kafka_session_timeout_ms: conserje_infra::kafka::DEFAULT_SESSION_TIMEOUT.as_millis() as u64,
        topic_prefix: namespace.clone(),
        redis_url: None,
        key_prefix: namespace,
        session_ttl_minutes: 30,
        proactive_poll_ms: conserje_gateway::settings::DEFAULT_PROACTIVE_POLL_MS,
        channels: ChannelOptions::default(),
        access: AccessOptions::default(),
        http: HttpOptions::default(),
        pms: PmsFlags::default(),
    };
    if kind == StoreKind::Postgres {
        options.database_url = Some(fresh_postgres_url().await);
        options.kafka_brokers = Some(kafka_brokers());
        options.redis_url = Some(redis_url());
    }
    (options, dir)
}

/// The real service, listening on a random loopback port.
pub struct TestApp {
    pub addr: SocketAddr,
    pub runtime: Arc<Runtime>,
    /// An HTTP client that sends the first admin key with every request.
    pub http: reqwest::Client,
    /// The first admin key (what `<data-dir>/admin.key` holds).
    pub admin_key: String,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    background: Vec<JoinHandle<()>>,
}

impl TestApp {
    pub async fn spawn(options: &StoreOptions) -> Self {
        let runtime = Arc::new(Runtime::open(options).await.expect("runtime opens"));
        Self::serve(runtime, &options.data_dir).await
    }

    pub async fn spawn_with_clock(options: &StoreOptions, clock: Arc<dyn Clock>) -> Self {
        let runtime = Arc::new(
            Runtime::open_with_clock(options, clock)
                .await
                .expect("runtime opens"),
        );
        Self::serve(runtime, &options.data_dir).await
    }

    /// Starts the service as `conserje serve` does — first admin key included — and gives the
    /// test's HTTP client that key, so every request is an admin's unless a test says otherwise
    /// (see [`TestApp::client_with`]).
    async fn serve(runtime: Arc<Runtime>, data_dir: &std::path::Path) -> Self {
        let admin_key = match ensure_first_admin_key(&runtime.keys, data_dir)
            .await
            .expect("the first admin key is issued")
        {
            FirstKey::Created(path) => {
                std::fs::read_to_string(path).expect("admin.key is readable")
            }
            // A restart of the same store: the key is where the first start left it.
            FirstKey::AlreadyIssued => std::fs::read_to_string(data_dir.join(ADMIN_KEY_FILE))
                .expect("admin.key of the first start"),
        };
        let admin_key = admin_key.trim().to_owned();
        let background = runtime.start_background();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn({
            let runtime = runtime.clone();
            async move {
                app::serve(listener, runtime, async {
                    stopped.await.ok();
                })
                .await
                .expect("server runs");
            }
        });
        let app = Self {
            addr,
            runtime,
            http: Self::client_with(&admin_key),
            admin_key,
            stop: Some(stop),
            server: Some(server),
            background,
        };
        app.wait_until_ready().await;
        app
    }

    /// Waits for `/health/ready`, as a load balancer would before sending traffic: on Kafka the
    /// consumer groups' first joins take seconds, and a test's first message would otherwise
    /// spend its patience waiting for them.
    async fn wait_until_ready(&self) {
        let url = self.url("/health/ready");
        eventually_within(
            "the service is ready",
            std::time::Duration::from_secs(60),
            || {
                let request = self.http.get(&url).send();
                async move { matches!(request.await, Ok(r) if r.status() == 200) }
            },
        )
        .await;
    }

    /// Issues a key of `role` named `name` for `tenant` (every hotel when `None`, admin only)
    /// through the runtime, as `conserje keys create` does; returns the whole key.
    pub async fn issue_key(&self, name: &str, role: Role, tenant: Option<&str>) -> String {
        let scope = match tenant {
            Some(t) => Scope::Hotel(TenantId::parse(t).expect("a tenant id")),
            None => Scope::AllHotels,
        };
        let meta = EventMetadata::new(TenantId::operations(), Actor::system("test"), "system");
        self.runtime
            .keys
            .issue(
                KeyRing::new_key_id().expect("a key id"),
                KeyName::parse(name).expect("a key name"),
                role,
                scope,
                None,
                meta,
            )
            .await
            .expect("the key is issued")
            .key
    }

    /// A client with a fresh key of `role` named `name` for `tenant`.
    pub async fn client_as(&self, name: &str, role: Role, tenant: Option<&str>) -> reqwest::Client {
        Self::client_with(&self.issue_key(name, role, tenant).await)
    }

    /// An HTTP client that sends `key` as its bearer credential.
    pub fn client_with(key: &str) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {key}"))
            .expect("a key is header-safe");
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
        reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .expect("an HTTP client")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the server and the subscriptions and waits for them, like a restart would.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(server) = self.server.take() {
            server.await.ok();
        }
        self.runtime.shutdown();
        for task in self.background.drain(..) {
            task.await.ok();
        }
    }
}
