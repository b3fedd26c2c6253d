/// What can go wrong in an adapter.
#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database url {0:?}: expected postgres://… or sqlite://…")]
    UnsupportedUrl(String),
    #[error("configuration file {path}: {reason}")]
    Config { path: String, reason: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Sealing or opening guests' personal data failed (see `shredding`).
    #[error("guest data keys: {0}")]
    Keys(String),
}
