//! Who is calling: API keys, the caller they make, and the first admin key.
//!
//! Every `/api/v1` route takes a [`Caller`]: the extractor reads `Authorization: Bearer <key>`,
//! checks it against the key's own event stream and answers 401 before the handler runs. The
//! handler then asks the caller what it needs — a role ([`Caller::require`]), a hotel
//! ([`Caller::hotel`], 404 for another hotel's data) — and takes the events' audit metadata from
//! it ([`Caller::metadata`]), so the actor of an event is the key that caused it and nothing a
//! client writes in a header or a body.

mod caller;
mod first_key;
mod key_ring;
mod rate;
mod reads;

pub(crate) use caller::source_ip;
pub use caller::{Caller, KeyState, Via, API_CHANNEL};
pub use first_key::{ensure_first_admin_key, FirstKey, ADMIN_KEY_FILE};
pub use key_ring::{Grant, IssuedKey, KeyRing, KeySettings};
pub use reads::ReadLog;
