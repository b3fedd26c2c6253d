//! Read models built from the event store's global order, never from inline cqrs-es queries
//! (those run after commit in the writer's process and are lost if it crashes).
//!
//! A [`catch_up::Subscription`] feeds events to an [`EventHandler`] and stores a checkpoint after
//! each batch; handlers are idempotent on (aggregate, sequence), so a batch replayed after a
//! crash changes nothing.

pub mod api_keys;
pub mod audit;
pub mod catch_up;
pub mod conversation_stats;
pub mod error;
pub mod guest_reservations;
pub mod inbox;
pub mod key_space;
pub mod key_value;
pub mod log_subscription;
pub mod message_stats;
pub mod outbound;
pub mod relay;
pub mod replay;
pub mod reservations;
pub mod sessions;
pub mod write_behind;

pub use catch_up::{EventHandler, LeaseHolder, Subscription};
pub use error::ProjectionError;
