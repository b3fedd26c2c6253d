//! The hotel's domain for conserje: what a reservation, a guest and a conversation *are*,
//! and the rules they obey.
//!
//! This crate is pure: it knows nothing of databases, brokers or HTTP. Everything it needs from the
//! outside world — the clock, the hotel's PMS, the blacklist — arrives through the traits in
//! [`ports`], injected as cqrs-es `Services`, so every rule can be tested with fixed inputs.

pub mod api_key;
pub mod cancellation;
pub mod channel;
pub mod choice;
pub mod data_access;
pub mod dead_letter;
pub mod erasure;
pub mod guest;
pub mod hotel;
pub mod journal;
pub mod lenient;
pub mod log;
pub mod metadata;
pub mod pms;
pub mod ports;
pub mod pricing;
pub mod proactive;
pub mod reservation;
pub mod session;
pub mod stay;
pub mod template;
pub mod understanding;
pub mod values;

#[cfg(test)]
mod testing;

pub use metadata::EventMetadata;
