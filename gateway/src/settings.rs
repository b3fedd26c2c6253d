//! Where the service listens and what it stores into, from flags, environment or defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

use std::time::Duration;

use clap::builder::RangedU64ValueParser;
use clap::Args;
use conserje_commands::booking_process::RetrySchedule;
use conserje_commands::inbound::{
    DEFAULT_UNDERSTANDING_BUDGET_MS, DEFAULT_UNDERSTANDING_MAX_CHARS,
};
use conserje_commands::outbound::{
    PacingSettings, DEFAULT_TELEGRAM_BOT_PER_SECOND, DEFAULT_TELEGRAM_CHAT_INTERVAL,
    DEFAULT_WHATSAPP_NUMBER_PER_SECOND,
};
use conserje_infra::kafka::DEFAULT_SESSION_TIMEOUT;
use conserje_infra::pms::breaker::BreakerSettings;
use conserje_infra::pms::bulkhead::BulkheadSettings;
use conserje_infra::pms::guarded::{CacheSettings, GuardSettings};
use conserje_infra::pms::router::PmsOptions;

/// Options shared by every subcommand that opens the store.
#[derive(Debug, Clone, Args)]
pub struct StoreOptions {
    /// Directory of the embedded store (SQLite event store, PMS simulator ledger).
    #[arg(long, env = "CONSERJE_DATA_DIR", default_value = ".conserje")]
    pub data_dir: PathBuf,

    /// Use this PostgreSQL database instead of the embedded SQLite store (postgres://…).
    #[arg(long, env = "CONSERJE_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Hotel configuration file (time zones, blacklists, simulator rooms); built-in when absent.
    #[arg(long, env = "CONSERJE_CONFIG")]
    pub config: Option<PathBuf>,

    /// Kafka-protocol bootstrap servers (host:port,…); the embedded log in the data directory
    /// when absent.
    #[arg(long, env = "CONSERJE_KAFKA_BROKERS")]
    pub kafka_brokers: Option<String>,

    /// Partitions of each topic created at start-up (existing topics keep theirs).
    #[arg(long, env = "CONSERJE_KAFKA_PARTITIONS", default_value_t = 3)]
    pub partitions: u16,

    /// Milliseconds a consumer may go silent before the broker hands its partitions to the
    /// other processes of its group (how long a crashed process's conversations wait).
    #[arg(long, env = "CONSERJE_KAFKA_SESSION_TIMEOUT_MS", default_value_t = DEFAULT_SESSION_TIMEOUT.as_millis() as u64)]
    pub kafka_session_timeout_ms: u64,

    /// Prefix of the topic names, so several deployments can share one broker.
    #[arg(long, env = "CONSERJE_TOPIC_PREFIX", default_value = "")]
    pub topic_prefix: String,

    /// Redis for the key-value read models (session view); the embedded store when absent.
    #[arg(long, env = "CONSERJE_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Prefix of every read-model key in Redis or the embedded store.
    #[arg(long, env = "CONSERJE_KEY_PREFIX", default_value = "conserje:")]
    pub key_prefix: String,

    /// Minutes a conversation stays open after the guest's last message.
    #[arg(long, env = "CONSERJE_SESSION_TTL_MINUTES", default_value_t = 30)]
    pub session_ttl_minutes: u32,

    /// Milliseconds between two looks at the proactive messages' timers (pre-arrival notes,
    /// review requests): how late past its hour a scheduled message may go.
    #[arg(long, env = "CONSERJE_PROACTIVE_POLL_MS", default_value_t = DEFAULT_PROACTIVE_POLL_MS,
          value_parser = RangedU64ValueParser::<u64>::new().range(1..))]
    pub proactive_poll_ms: u64,

    #[command(flatten)]
    pub channels: ChannelOptions,

    #[command(flatten)]
    pub access: AccessOptions,

    #[command(flatten)]
    pub http: HttpOptions,

    #[command(flatten)]
    pub pms: PmsFlags,
}

/// Milliseconds between two looks at the proactive messages' timers.
pub const DEFAULT_PROACTIVE_POLL_MS: u64 = 30_000;

/// Seconds a client has to send a request's headers.
pub const DEFAULT_HEADER_READ_TIMEOUT_SECONDS: u64 = 10;
/// Seconds a client has to send a request's body once its headers are in.
pub const DEFAULT_BODY_READ_TIMEOUT_SECONDS: u64 = 30;

/// How long the HTTP server waits for slow clients: a half-open or trickling connection must not
/// hold a worker for ever.
#[derive(Debug, Clone, Args)]
pub struct HttpOptions {
    /// Seconds a client has to send a request's headers (and an idle kept-alive connection to
    /// start its next request) before the connection is closed.
    #[arg(
        long,
        env = "CONSERJE_HEADER_READ_TIMEOUT_SECONDS",
        default_value_t = DEFAULT_HEADER_READ_TIMEOUT_SECONDS,
        value_parser = RangedU64ValueParser::<u64>::new().range(1..)
    )]
    pub header_read_timeout_seconds: u64,

    /// Seconds a client has to send a request's body; a slower body is refused (408).
    #[arg(
        long,
        env = "CONSERJE_BODY_READ_TIMEOUT_SECONDS",
        default_value_t = DEFAULT_BODY_READ_TIMEOUT_SECONDS,
        value_parser = RangedU64ValueParser::<u64>::new().range(1..)
    )]
    pub body_read_timeout_seconds: u64,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            header_read_timeout_seconds: DEFAULT_HEADER_READ_TIMEOUT_SECONDS,
            body_read_timeout_seconds: DEFAULT_BODY_READ_TIMEOUT_SECONDS,
        }
    }
}

/// Milliseconds between two looks at the PMS sync's retry queue.
pub const DEFAULT_PMS_RETRY_POLL_MS: u64 = 1000;

/// How conserje talks to the hotels' own PMSs (`kind = "qloapps"` in the configuration): the
/// timeout, the circuit breaker, the bulkhead, the availability cache and the retry schedule of
/// the PMS sync. Every default is design.md §4's and lives with the type it tunes.
#[derive(Debug, Clone, Args)]
pub struct PmsFlags {
    /// Milliseconds one PMS request may take before it counts as failed (timed out).
    #[arg(long, env = "CONSERJE_PMS_TIMEOUT_MS",
        default_value_t = millis(PmsOptions::default().timeout),
        value_parser = RangedU64ValueParser::<u64>::new().range(1..))]
    pub pms_timeout_ms: u64,

    /// Seconds of the breaker's sliding window (error rate and p95 latency).
    #[arg(long, env = "CONSERJE_PMS_BREAKER_WINDOW_SECONDS",
        default_value_t = BreakerSettings::default().window.as_secs(),
        value_parser = RangedU64ValueParser::<u64>::new().range(1..))]
    pub pms_breaker_window_seconds: u64,

    /// Calls the window must hold before its error rate or latency can open the breaker.
    #[arg(long, env = "CONSERJE_PMS_BREAKER_MIN_CALLS",
        default_value_t = BreakerSettings::default().min_calls)]
    pub pms_breaker_min_calls: usize,

    /// The breaker opens when failures / calls in the window exceed this share (0-1).
    #[arg(long, env = "CONSERJE_PMS_BREAKER_ERROR_RATE",
        default_value_t = BreakerSettings::default().error_rate)]
    pub pms_breaker_error_rate: f64,

    /// The breaker opens when the window's 95th-percentile latency exceeds this (ms).
    #[arg(long, env = "CONSERJE_PMS_BREAKER_P95_MS",
        default_value_t = millis(BreakerSettings::default().p95_latency))]
    pub pms_breaker_p95_ms: u64,

    /// The breaker opens after this many failures in a row.
    #[arg(long, env = "CONSERJE_PMS_BREAKER_CONSECUTIVE_FAILURES",
        default_value_t = BreakerSettings::default().consecutive_failures)]
    pub pms_breaker_consecutive_failures: u32,

    /// Milliseconds an open breaker refuses calls before it lets probes through.
    #[arg(long, env = "CONSERJE_PMS_BREAKER_OPEN_MS",
        default_value_t = millis(BreakerSettings::default().open_for))]
    pub pms_breaker_open_ms: u64,

    /// Probes a half-open breaker lets through; all must succeed for it to close.
    #[arg(long, env = "CONSERJE_PMS_BREAKER_PROBES",
        default_value_t = BreakerSettings::default().probes,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub pms_breaker_probes: u32,

    /// PMS calls in flight at once per hotel (the bulkhead).
    #[arg(long, env = "CONSERJE_PMS_CONCURRENCY",
        default_value_t = BulkheadSettings::default().concurrent,
        value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    pub pms_concurrency: usize,

    /// PMS calls that may wait for a slot; beyond them a call fails at once (busy).
    #[arg(long, env = "CONSERJE_PMS_QUEUE",
        default_value_t = BulkheadSettings::default().queue)]
    pub pms_queue: usize,

    /// Nights ahead the availability cache is warmed and refreshed for.
    #[arg(long, env = "CONSERJE_PMS_CACHE_DAYS",
        default_value_t = CacheSettings::default().days,
        value_parser = clap::value_parser!(u32).range(1..=365))]
    pub pms_cache_days: u32,

    /// Milliseconds between two refreshes of the availability cache.
    #[arg(long, env = "CONSERJE_PMS_CACHE_REFRESH_MS",
        default_value_t = millis(CacheSettings::default().refresh_every),
        value_parser = RangedU64ValueParser::<u64>::new().range(1..))]
    pub pms_cache_refresh_ms: u64,

    /// Milliseconds cached figures are quoted without asking the PMS.
    #[arg(long, env = "CONSERJE_PMS_CACHE_FRESH_MS",
        default_value_t = millis(CacheSettings::default().fresh_for))]
    pub pms_cache_fresh_ms: u64,

    /// Seconds between the PMS sync's attempts of a failed booking, change or cancellation
    /// ("30,60,…"); after the last, the reservation is rejected or handed to staff.
    #[arg(long, env = "CONSERJE_PMS_RETRY_DELAYS_SECONDS",
        default_value_t = RetrySchedule::default(),
        value_parser = RetrySchedule::parse)]
    pub pms_retry_delays_seconds: RetrySchedule,

    /// Milliseconds between two looks at the retry queue.
    #[arg(long, env = "CONSERJE_PMS_RETRY_POLL_MS",
        default_value_t = DEFAULT_PMS_RETRY_POLL_MS,
        value_parser = RangedU64ValueParser::<u64>::new().range(1..))]
    pub pms_retry_poll_ms: u64,
}

/// A duration as whole milliseconds, for a flag's default.
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl PmsFlags {
    /// The flags that give `options` and `schedule`: what tests start a runtime with.
    pub fn from_options(
        options: PmsOptions,
        schedule: RetrySchedule,
        retry_poll: Duration,
    ) -> Self {
        let GuardSettings {
            breaker,
            bulkhead,
            cache,
        } = options.guard;
        Self {
            pms_timeout_ms: millis(options.timeout),
            pms_breaker_window_seconds: breaker.window.as_secs(),
            pms_breaker_min_calls: breaker.min_calls,
            pms_breaker_error_rate: breaker.error_rate,
            pms_breaker_p95_ms: millis(breaker.p95_latency),
            pms_breaker_consecutive_failures: breaker.consecutive_failures,
            pms_breaker_open_ms: millis(breaker.open_for),
            pms_breaker_probes: breaker.probes,
            pms_concurrency: bulkhead.concurrent,
            pms_queue: bulkhead.queue,
            pms_cache_days: cache.days,
            pms_cache_refresh_ms: millis(cache.refresh_every),
            pms_cache_fresh_ms: millis(cache.fresh_for),
            pms_retry_delays_seconds: schedule,
            pms_retry_poll_ms: millis(retry_poll),
        }
    }

    /// What the PMS router is built with.
    pub fn options(&self) -> PmsOptions {
        PmsOptions {
            timeout: Duration::from_millis(self.pms_timeout_ms),
            guard: GuardSettings {
                breaker: BreakerSettings {
                    window: Duration::from_secs(self.pms_breaker_window_seconds),
                    min_calls: self.pms_breaker_min_calls,
                    error_rate: self.pms_breaker_error_rate,
                    p95_latency: Duration::from_millis(self.pms_breaker_p95_ms),
                    consecutive_failures: self.pms_breaker_consecutive_failures,
                    open_for: Duration::from_millis(self.pms_breaker_open_ms),
                    probes: self.pms_breaker_probes,
                },
                bulkhead: BulkheadSettings {
                    concurrent: self.pms_concurrency,
                    queue: self.pms_queue,
                },
                cache: CacheSettings {
                    days: self.pms_cache_days,
                    refresh_every: Duration::from_millis(self.pms_cache_refresh_ms),
                    fresh_for: Duration::from_millis(self.pms_cache_fresh_ms),
                },
            },
        }
    }

    pub fn retry_poll(&self) -> Duration {
        Duration::from_millis(self.pms_retry_poll_ms)
    }
}

impl Default for PmsFlags {
    fn default() -> Self {
        Self::from_options(
            PmsOptions::default(),
            RetrySchedule::default(),
            Duration::from_millis(DEFAULT_PMS_RETRY_POLL_MS),
        )
    }
}

/// Seconds a checked API key is trusted before its stream is read again.
pub const DEFAULT_KEY_CACHE_SECONDS: u64 = 5;
/// Requests per minute one API key may make.
pub const DEFAULT_API_RATE_LIMIT_PER_MINUTE: u32 = 600;

/// Hours a staff console session lasts after sign-in (a shift), unless its key expires first.
pub const DEFAULT_CONSOLE_SESSION_HOURS: u32 = 12;
/// How often the console's live updates look for changes in the inbox.
pub const DEFAULT_CONSOLE_LIVE_POLL_MS: u64 = 500;

/// How the API's keys are checked and limited, and the console's sessions.
#[derive(Debug, Clone, Args)]
pub struct AccessOptions {
    /// Seconds a checked API key is trusted before its stream is read again: a key revoked by
    /// another process stops working within this time (at once in the process that revoked it).
    #[arg(long, env = "CONSERJE_KEY_CACHE_SECONDS", default_value_t = DEFAULT_KEY_CACHE_SECONDS)]
    pub key_cache_seconds: u64,

    /// Requests per minute one API key may make (bursts up to as many); more get `429` with
    /// `Retry-After`. 0 disables the limit.
    #[arg(
        long,
        env = "CONSERJE_API_RATE_LIMIT",
        default_value_t = DEFAULT_API_RATE_LIMIT_PER_MINUTE
    )]
    pub api_rate_limit_per_minute: u32,

    /// Hours a staff console session lasts after sign-in (never past its key's expiry).
    #[arg(
        long,
        env = "CONSERJE_CONSOLE_SESSION_HOURS",
        default_value_t = DEFAULT_CONSOLE_SESSION_HOURS,
        value_parser = clap::value_parser!(u32).range(1..=720)
    )]
    pub console_session_hours: u32,

    /// Marks the console's session cookie `Secure` (sent over HTTPS only). Set it when the
    /// console is served through TLS; it is also set for requests whose `X-Forwarded-Proto` is
    /// `https`.
    #[arg(long, env = "CONSERJE_CONSOLE_SECURE_COOKIE", default_value_t = false)]
    pub console_secure_cookie: bool,

    /// Milliseconds between two looks of the console's live updates at the hotel's inbox.
    #[arg(
        long,
        env = "CONSERJE_CONSOLE_LIVE_POLL_MS",
        default_value_t = DEFAULT_CONSOLE_LIVE_POLL_MS,
        value_parser = clap::value_parser!(u64).range(50..=60_000)
    )]
    pub console_live_poll_ms: u64,
}

impl Default for AccessOptions {
    fn default() -> Self {
        Self {
            key_cache_seconds: DEFAULT_KEY_CACHE_SECONDS,
            api_rate_limit_per_minute: DEFAULT_API_RATE_LIMIT_PER_MINUTE,
            console_session_hours: DEFAULT_CONSOLE_SESSION_HOURS,
            console_secure_cookie: false,
            console_live_poll_ms: DEFAULT_CONSOLE_LIVE_POLL_MS,
        }
    }
}

/// Where conserje reaches the guests' channels and the transcriber. Channel secrets and tokens are
/// per hotel, in the configuration file (or `CONSERJE_WHATSAPP_*` / `CONSERJE_TELEGRAM_*` for the
/// `default` hotel); with no API base set, replies stay in the outbox the transcript shows.
#[derive(Debug, Clone, Args)]
pub struct ChannelOptions {
    /// WhatsApp Cloud API base URL (https://graph.facebook.com); replies to WhatsApp guests stay in
    /// the outbox when absent.
    #[arg(long, env = "CONSERJE_WHATSAPP_API_BASE")]
    pub whatsapp_api_base: Option<String>,

    /// Graph API version in WhatsApp URLs.
    #[arg(long, env = "CONSERJE_WHATSAPP_API_VERSION", default_value = "v21.0")]
    pub whatsapp_api_version: String,

    /// Telegram Bot API base URL (https://api.telegram.org); replies to Telegram guests stay in the
    /// outbox when absent.
    #[arg(long, env = "CONSERJE_TELEGRAM_API_BASE")]
    pub telegram_api_base: Option<String>,

    /// OpenAI-compatible transcription service base URL (its `/v1/audio/transcriptions` is
    /// called); voice notes wait in the dead-letter queue when absent.
    #[arg(long, env = "CONSERJE_TRANSCRIBER_URL")]
    pub transcriber_url: Option<String>,

    /// Bearer key of the transcription service.
    #[arg(long, env = "CONSERJE_TRANSCRIBER_API_KEY", hide_env_values = true)]
    pub transcriber_api_key: Option<String>,

    /// Model name sent to the transcription service.
    #[arg(long, env = "CONSERJE_TRANSCRIBER_MODEL", default_value = "whisper-1")]
    pub transcriber_model: String,

    /// Webhook messages accepted per guest per minute; more get `429` with `Retry-After`.
    #[arg(long, env = "CONSERJE_WEBHOOK_RATE_LIMIT", default_value_t = 120)]
    pub webhook_rate_limit_per_minute: u32,

    /// Messages understood with less confidence count towards a handoff to staff; two in a row
    /// hand the conversation over.
    #[arg(
        long,
        env = "CONSERJE_LOW_CONFIDENCE_THRESHOLD",
        default_value_t = 0.45
    )]
    pub low_confidence_threshold: f32,

    /// Milliseconds before a failed voice note is transcribed again; doubles with each attempt
    /// (five in all, at most a minute apart).
    #[arg(long, env = "CONSERJE_TRANSCRIPTION_RETRY_MS", default_value_t = 5000)]
    pub transcription_retry_ms: u64,

    /// A guest message is understood and answered from its first this many characters (it is
    /// recorded whole).
    #[arg(
        long,
        env = "CONSERJE_UNDERSTANDING_MAX_CHARS",
        default_value_t = DEFAULT_UNDERSTANDING_MAX_CHARS,
        value_parser = RangedU64ValueParser::<usize>::new().range(1..)
    )]
    pub understanding_max_chars: usize,

    /// Milliseconds one message's understanding may take; past them the message is recorded
    /// unanswered and goes to the dead-letter queue (`understanding_timeout`).
    #[arg(
        long,
        env = "CONSERJE_UNDERSTANDING_BUDGET_MS",
        default_value_t = DEFAULT_UNDERSTANDING_BUDGET_MS
    )]
    pub understanding_budget_ms: u64,

    /// Milliseconds between two messages to one Telegram chat (Telegram takes about one a
    /// second); 0 turns the chat's pacing off.
    #[arg(long, env = "CONSERJE_TELEGRAM_CHAT_INTERVAL_MS", default_value_t = DEFAULT_TELEGRAM_CHAT_INTERVAL.as_millis() as u64)]
    pub telegram_chat_interval_ms: u64,

    /// Messages a second from one Telegram bot, across its chats (Telegram: about 30); 0 is off.
    #[arg(long, env = "CONSERJE_TELEGRAM_BOT_PER_SECOND", default_value_t = DEFAULT_TELEGRAM_BOT_PER_SECOND)]
    pub telegram_bot_per_second: u32,

    /// Messages a second from one WhatsApp business number (Meta's default throughput: 80);
    /// 0 is off.
    #[arg(long, env = "CONSERJE_WHATSAPP_NUMBER_PER_SECOND", default_value_t = DEFAULT_WHATSAPP_NUMBER_PER_SECOND)]
    pub whatsapp_number_per_second: u32,
}

impl ChannelOptions {
    /// The outbound pacing these options set.
    pub fn pacing(&self) -> PacingSettings {
        PacingSettings {
            telegram_chat_interval: Duration::from_millis(self.telegram_chat_interval_ms),
            telegram_bot_per_second: self.telegram_bot_per_second,
            whatsapp_number_per_second: self.whatsapp_number_per_second,
        }
    }
}

impl Default for ChannelOptions {
    fn default() -> Self {
        Self {
            whatsapp_api_base: None,
            whatsapp_api_version: "v21.0".to_owned(),
            telegram_api_base: None,
            transcriber_url: None,
            transcriber_api_key: None,
            transcriber_model: "whisper-1".to_owned(),
            webhook_rate_limit_per_minute: 120,
            low_confidence_threshold: 0.45,
            transcription_retry_ms: 5000,
            understanding_max_chars: DEFAULT_UNDERSTANDING_MAX_CHARS,
            understanding_budget_ms: DEFAULT_UNDERSTANDING_BUDGET_MS,
            telegram_chat_interval_ms: DEFAULT_TELEGRAM_CHAT_INTERVAL.as_millis() as u64,
            telegram_bot_per_second: DEFAULT_TELEGRAM_BOT_PER_SECOND,
            whatsapp_number_per_second: DEFAULT_WHATSAPP_NUMBER_PER_SECOND,
        }
    }
}

impl StoreOptions {
    /// The URL of the event store: the PostgreSQL URL if given, else SQLite in the data directory.
    pub fn store_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("conserje.db").display()),
        }
    }

    /// Whether the store, the log and the read models are all shared servers (PostgreSQL, Kafka,
    /// Redis), so that several processes can share the work.
    pub fn is_distributed(&self) -> bool {
        self.database_url.is_some() && self.kafka_brokers.is_some() && self.redis_url.is_some()
    }
}

/// Everything `conserje serve` needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub store: StoreOptions,
}
