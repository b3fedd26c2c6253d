//! The `Reservation` aggregate: one guest's stay from request to confirmation, modification or
//! cancellation. Its stream id is the reservation's UUIDv7.

mod aggregate;
mod commands;
mod error;
mod events;

pub use aggregate::{PendingSync, Reservation, ReservationServices, ReservationStatus, MAX_GUESTS};
pub use commands::{ModificationRequest, ReservationCommand, ReservationRequest};
pub use error::ReservationError;
pub use events::{GuestDetails, PmsOperation, RejectionReason, ReservationEvent, StayTerms};

#[cfg(test)]
mod tests;
