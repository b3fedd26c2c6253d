//! What `conserje-loadgen` is told: the command line, and the settings resolved from it.
//!
//! Kept apart from the code that uses them so `--help` reads as one page and the resolution
//! rules (which key, which store) live in one place: a run that silently measured another
//! store than the target's would print figures about nothing.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use conserje_domain::values::TenantId;
use reqwest::Url;

/// The file of the first admin key in a data directory (the gateway's `ADMIN_KEY_FILE`; loadgen
/// does not link the gateway).
const ADMIN_KEY_FILE: &str = "admin.key";

/// The embedded default's event store in a data directory (the gateway's `store_url`).
const EMBEDDED_STORE: &str = "conserje.db";

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
    #[arg(long, alias = "key", env = "CONSERJE_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,

    /// A file holding the API key alone on a line; read when --api-key is absent.
    #[arg(long)]
    pub key_file: Option<PathBuf>,

    /// The target's data directory (`conserje serve --data-dir`, `.conserje` by default):
    /// its `admin.key` is the key when neither --api-key nor --key-file is given, and on the
    /// embedded default its `conserje.db` is the store when --database-url is not given.
    #[arg(long, env = "CONSERJE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

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

    /// The service's event store (postgres://… or sqlite://…): the raw INSERT baseline runs
    /// there, and the replies are counted there (answered, delivered, reply latency) along with
    /// the event relay's pace.
    #[arg(long, env = "CONSERJE_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// After the load, how long to wait at most for the last replies to be answered and
    /// delivered before reporting what arrived.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub drain_timeout: u64,

    /// The target's process id, to report its resident memory (RSS) before, at peak and after
    /// the load, read from /proc (the target runs on this machine).
    #[arg(long)]
    pub server_pid: Option<u32>,
}

impl LoadgenArgs {
    /// The API key: --api-key, else --key-file, else the data directory's `admin.key`.
    pub fn api_key(&self) -> anyhow::Result<String> {
        let file = match (&self.api_key, &self.key_file, &self.data_dir) {
            (Some(key), _, _) => return Ok(key.trim().to_owned()),
            (None, Some(path), _) => path.clone(),
            (None, None, Some(dir)) => dir.join(ADMIN_KEY_FILE),
            (None, None, None) => bail!(
                "loadgen needs an API key: --api-key (or CONSERJE_API_KEY), --key-file, or \
                 --data-dir of the target (its admin.key), such as --data-dir .conserje"
            ),
        };
        read_key(&file)
    }

    /// The store to count replies in and to measure INSERTs on: --database-url, else the data
    /// directory's embedded store when it has one.
    pub fn store_url(&self) -> Option<String> {
        if let Some(url) = &self.database_url {
            return Some(url.clone());
        }
        let store = self.data_dir.as_deref()?.join(EMBEDDED_STORE);
        store
            .is_file()
            .then(|| format!("sqlite://{}", store.display()))
    }
}

fn read_key(path: &Path) -> anyhow::Result<String> {
    let key = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the API key file {}", path.display()))?;
    Ok(key.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: LoadgenArgs,
    }

    fn parse(args: &[&str]) -> LoadgenArgs {
        Cli::try_parse_from(["conserje-loadgen"].iter().chain(args))
            .expect("valid arguments")
            .args
    }

    #[test]
    fn the_key_comes_from_the_flag_then_the_file_then_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(ADMIN_KEY_FILE), "cjk_admin\n").unwrap();
        let other = dir.path().join("other.key");
        std::fs::write(&other, " cjk_other \n").unwrap();
        let data_dir = dir.path().to_str().unwrap();
        let key_file = other.to_str().unwrap();

        let flag = parse(&["--api-key", "cjk_flag", "--data-dir", data_dir]);
        assert_eq!(flag.api_key().unwrap(), "cjk_flag");
        let old_name = parse(&["--key", "cjk_flag"]);
        assert_eq!(old_name.api_key().unwrap(), "cjk_flag");
        let file = parse(&["--key-file", key_file, "--data-dir", data_dir]);
        assert_eq!(file.api_key().unwrap(), "cjk_other");
        assert_eq!(
            parse(&["--data-dir", data_dir]).api_key().unwrap(),
            "cjk_admin"
        );
    }

    #[test]
    fn the_store_is_the_flag_or_the_data_dirs_embedded_store() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().to_str().unwrap();
        assert_eq!(parse(&["--data-dir", data_dir]).store_url(), None);
        std::fs::write(dir.path().join(EMBEDDED_STORE), b"").unwrap();
        assert_eq!(
            parse(&["--data-dir", data_dir]).store_url(),
            Some(format!("sqlite://{data_dir}/{EMBEDDED_STORE}"))
        );
        let url = "postgres://conserje@db/conserje";
        let given = parse(&["--data-dir", data_dir, "--database-url", url]);
        assert_eq!(given.store_url().as_deref(), Some(url));
    }
}
