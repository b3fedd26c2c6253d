//! One module per resource.

pub mod health;
pub mod messages;
pub mod reservations;
pub mod sessions;
