//! Turning what guests and staff ask for into commands on the aggregates.
//!
//! The handlers here own the *order* of steps across aggregates (request a reservation, hold it
//! on the guest, book it in the PMS) and the retries that optimistic concurrency asks for; the
//! rules themselves stay in `conserje-domain`.

pub mod batch_metrics;
pub mod booking_process;
pub mod channels;
pub mod consumer_group;
pub mod conversations;
pub mod dead_letter_index;
pub mod dead_letters;
pub mod dialogue;
pub mod error;
pub mod inbound;
pub mod outbound;
pub mod proactive;
pub mod receipts;
pub mod replies;
pub mod reservation_desk;
pub mod retry;
pub mod understanding;
pub mod voice_notes;

pub use booking_process::BookingProcess;
pub use conversations::{ConversationBatch, Conversations};
pub use error::CommandError;
pub use reservation_desk::ReservationDesk;
pub use understanding::{ParseContext, Understanding};
