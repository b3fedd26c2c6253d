use crate::ports::PmsError;
use crate::stay::StayError;
use crate::values::ValueError;

/// A command the reservation refused. [`ReservationError::code`] is the stable machine-readable
/// code the API and the dialogue use to explain it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReservationError {
    #[error(transparent)]
    Stay(#[from] StayError),
    #[error("a reservation needs at least one guest")]
    NoGuests,
    #[error("a room takes at most {max} guests; {requested} were asked")]
    TooManyGuests { requested: u32, max: u32 },
    #[error("{0}")]
    InvalidEmail(ValueError),
    #[error("{0}")]
    InvalidPhone(ValueError),
    #[error("{0}")]
    InvalidRoomType(ValueError),
    #[error("the guest name must be 1-200 characters")]
    InvalidName,
    #[error("{0}")]
    RoomUnavailable(String),
    #[error("the guest already has {max} active reservations")]
    TooManyActiveReservations { max: usize },
    #[error("this reservation already exists")]
    AlreadyExists,
    #[error("no such reservation")]
    NotFound,
    #[error("the reservation belongs to another guest")]
    NotYourReservation,
    #[error("the reservation is already cancelled")]
    AlreadyCancelled,
    #[error("a {0} reservation cannot be changed")]
    NotModifiable(&'static str),
    #[error("there is no quoted modification to confirm")]
    NoPendingModification,
    #[error("the reservation is already confirmed with PMS booking {0}")]
    AlreadyConfirmed(String),
    #[error("the PMS cannot be reached: {0}")]
    PmsUnavailable(String),
    /// Cancelling now costs something under the hotel's policy, and that fee was not accepted.
    #[error("cancelling now costs {fee_minor} (minor units of {currency}) under the hotel's policy; accept that fee to cancel")]
    CancellationFeeApplies { fee_minor: i64, currency: String },
}

impl ReservationError {
    /// The stable code of this refusal (`check_in_in_past`, `stay_too_long`…).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Stay(StayError::CheckInInPast(_)) => "check_in_in_past",
            Self::Stay(StayError::CheckOutNotAfterCheckIn) => "check_out_not_after_check_in",
            Self::Stay(StayError::StayTooLong { .. }) => "stay_too_long",
            Self::Stay(StayError::BookingTooFarAhead { .. }) => "booking_too_far_ahead",
            Self::NoGuests => "no_guests",
            Self::TooManyGuests { .. } => "too_many_guests",
            Self::InvalidEmail(_) => "invalid_email",
            Self::InvalidPhone(_) => "invalid_phone",
            Self::InvalidRoomType(_) => "invalid_room_type",
            Self::InvalidName => "invalid_name",
            Self::RoomUnavailable(_) => "room_unavailable",
            Self::TooManyActiveReservations { .. } => "too_many_active_reservations",
            Self::AlreadyExists => "already_exists",
            Self::NotFound => "not_found",
            Self::NotYourReservation => "not_your_reservation",
            Self::AlreadyCancelled => "already_cancelled",
            Self::NotModifiable(_) => "not_modifiable",
            Self::NoPendingModification => "no_pending_modification",
            Self::AlreadyConfirmed(_) => "already_confirmed",
            Self::PmsUnavailable(_) => "pms_unavailable",
            Self::CancellationFeeApplies { .. } => "cancellation_fee_applies",
        }
    }

    /// Maps a PMS answer about availability to the refusal the guest sees.
    pub(crate) fn from_pms(err: PmsError) -> Self {
        match err {
            PmsError::UnknownRoomType(code) => {
                Self::RoomUnavailable(format!("the hotel has no room type {code}"))
            }
            PmsError::Unavailable(code) => {
                Self::RoomUnavailable(format!("no {code} room is free for those dates"))
            }
            PmsError::BookingNotFound(r) => Self::PmsUnavailable(format!("booking {r} not found")),
            other => Self::PmsUnavailable(other.to_string()),
        }
    }
}
