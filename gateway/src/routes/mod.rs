//! One module per resource.

pub mod audit;
pub mod conversation;
pub mod health;
pub mod keys;
pub mod messages;
pub mod metrics;
pub mod reservations;
pub mod sessions;
pub mod webhooks;
