//! Adapters: the PostgreSQL and SQLite event stores, the catch-up reader, read-model tables, the
//! PMS simulator and the hotel configuration. Each implements a trait owned by the crate that
//! calls it (`conserje-domain`, `conserje-projections`), so the layers above never name a database.

pub mod analytics;
pub mod channel_accounts;
pub mod db;
pub mod embedded_log;
pub mod error;
pub mod event_store;
pub mod feed;
pub mod hotels;
pub mod kafka;
pub mod pms_simulator;
pub mod redis_store;
pub mod reservation_rows;
pub mod shadow;
pub mod sqlite_kv;

pub use db::Database;
pub use error::InfraError;
