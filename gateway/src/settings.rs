//! Where the service listens and what it stores into, from flags, environment or defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::builder::RangedU64ValueParser;
use clap::Args;
use conserje_commands::inbound::{
    DEFAULT_UNDERSTANDING_BUDGET_MS, DEFAULT_UNDERSTANDING_MAX_CHARS,
};

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

    #[command(flatten)]
    pub channels: ChannelOptions,

    #[command(flatten)]
    pub access: AccessOptions,

    #[command(flatten)]
    pub http: HttpOptions,
}

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

/// Seconds a checked API key is trusted before its stream is read again.
pub const DEFAULT_KEY_CACHE_SECONDS: u64 = 5;
/// Requests per minute one API key may make.
pub const DEFAULT_API_RATE_LIMIT_PER_MINUTE: u32 = 600;

/// How the API's keys are checked and limited.
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
}

impl Default for AccessOptions {
    fn default() -> Self {
        Self {
            key_cache_seconds: DEFAULT_KEY_CACHE_SECONDS,
            api_rate_limit_per_minute: DEFAULT_API_RATE_LIMIT_PER_MINUTE,
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
}

/// Everything `conserje serve` needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub store: StoreOptions,
}
