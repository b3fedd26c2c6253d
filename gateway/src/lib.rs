//! conserje's HTTP surface and the wiring of one running service.
//!
//! [`runtime::Runtime`] assembles the store, the aggregates, the booking process and the
//! projections from [`settings::Settings`]; [`app::router`] exposes them over HTTP. The binary and
//! the end-to-end tests start the service the same way.

pub mod app;
pub mod audit_cli;
pub mod auth;
pub mod console;
pub mod dead_letters;
pub mod error;
pub mod extract;
pub mod forget;
pub mod guests_cli;
pub mod keys_cli;
pub mod nlu;
pub mod openapi;
pub mod operations;
pub mod pms_cli;
pub mod readiness;
pub mod role;
pub mod routes;
pub mod runtime;
pub mod secrets_cli;
pub mod settings;
pub mod telemetry;
pub mod webhook_guard;

pub use runtime::Runtime;
pub use settings::Settings;
