//! Where the service listens and what it stores into, from flags, environment or defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

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
