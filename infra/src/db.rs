//! One handle for either store: PostgreSQL for the distributed profile, SQLite for the embedded
//! default. The URL's scheme chooses; nothing above this module needs to know which.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::InfraError;

static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// Evaluates `$body` with `$pool` bound to whichever pool `$db` holds. The two pool types differ,
/// so a query that is the same text in both dialects is written once and expanded per arm.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::Database::Postgres($pool) => $body,
            $crate::Database::Sqlite($pool) => $body,
        }
    };
}

/// A connection pool to the event store and the read-model tables beside it.
#[derive(Clone, Debug)]
pub enum Database {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

impl Database {
    /// Connects to `postgres://…` or `sqlite://…` (the SQLite file is created when missing).
    pub async fn connect(url: &str) -> Result<Self, InfraError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            Ok(Self::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            // WAL lets readers proceed while one writer commits; the busy timeout makes concurrent
            // writers queue instead of failing, since SQLite has a single write lock.
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await?;
            Ok(Self::Sqlite(pool))
        } else {
            Err(InfraError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// Applies the migrations of `migrations/` that this store has not seen yet; returns how many
    /// were applied.
    pub async fn migrate(&self) -> Result<usize, InfraError> {
        let before = self.applied_migrations().await;
        match self {
            Self::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
            Self::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
        }
        Ok(self.applied_migrations().await.saturating_sub(before))
    }

    /// Migrations recorded as applied (0 on a store never migrated).
    async fn applied_migrations(&self) -> usize {
        let sql = "SELECT count(*) FROM _sqlx_migrations WHERE success";
        let count: Result<i64, _> =
            on_pool!(self, pool => sqlx::query_scalar(sql).fetch_one(pool).await);
        count.map_or(0, |n| n as usize)
    }

    /// The migrations this build carries, as (version, description).
    pub fn known_migrations(&self) -> Vec<(i64, String)> {
        let migrator = match self {
            Self::Postgres(_) => &POSTGRES_MIGRATIONS,
            Self::Sqlite(_) => &SQLITE_MIGRATIONS,
        };
        migrator
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect()
    }

    /// Answers only when the store does: the readiness probe.
    pub async fn ping(&self) -> Result<(), InfraError> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ())?);
        Ok(())
    }

    /// `postgres` or `sqlite`, for logs and the readiness answer.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Sqlite(_) => "sqlite",
        }
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
