//! Adapters: the PostgreSQL and SQLite event stores, the catch-up reader, read-model tables, the
//! PMS simulator, the hotel configuration and the HTTP clients of WhatsApp, Telegram and the
//! transcriber. Each implements a trait owned by the crate that calls it (`conserje-domain`,
//! `conserje-projections`), so the layers above never name a database or a provider.

pub mod analytics;
pub mod api_key_rows;
pub mod audit_rows;
pub mod business_figures;
pub mod channel_accounts;
pub mod channel_router;
pub mod clock;
pub mod config;
pub mod db;
pub mod dead_letter_rows;
pub mod embedded_log;
pub mod error;
pub mod event_store;
pub mod feed;
pub mod hotel_figures;
pub mod hotels;
pub mod http;
pub mod inbox_rows;
pub mod kafka;
pub mod leases;
pub mod pms;
pub mod pms_sync_queue;
pub mod proactive_timers;
pub mod redis_store;
pub mod reservation_rows;
pub mod send_results;
pub mod shadow;
pub mod shredding;
pub mod sqlite_kv;
pub mod telegram;
pub mod transcriber;
pub mod whatsapp;

pub use db::{redact, Database};
pub use error::InfraError;
