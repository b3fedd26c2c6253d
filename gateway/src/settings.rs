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
    #[arg(long, env = "CONSERJE_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Hotel configuration file (time zones, blacklists, simulator rooms); built-in when absent.
    #[arg(long, env = "CONSERJE_CONFIG")]
    pub config: Option<PathBuf>,
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
