//! WhatsApp's delivery statuses (`value.statuses[]`: sent, delivered, read, failed) and their
//! reading as receipts for the conversation with the guest they name.

use chrono::{DateTime, Utc};
use conserje_domain::session::{Receipt, ReceiptFailure, ReceiptStatus};
use conserje_domain::values::GuestRef;
use serde::Deserialize;

use super::Timestamp;
use crate::channels::non_blank;

/// A delivery status of a message the hotel sent (sent, delivered, read, failed).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Status {
    /// The `wamid` of the message it is about.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// The guest's `wa_id`.
    #[serde(default)]
    pub recipient_id: Option<String>,
    #[serde(default)]
    pub timestamp: Option<Timestamp>,
    /// A `failed` status's reasons (Graph API errors: `code`, `title`).
    #[serde(default)]
    pub errors: Vec<StatusError>,
}

/// Why WhatsApp gave up on a message.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StatusError {
    #[serde(default)]
    pub code: Option<u32>,
    #[serde(default)]
    pub title: Option<String>,
}

/// One status, as a receipt for the conversation with `guest`.
#[derive(Debug, Clone, PartialEq)]
pub struct GuestReceipt {
    pub guest: GuestRef,
    pub receipt: Receipt,
}

/// One status as a receipt, or `None` when it names no message, no guest or no status conserje
/// knows. `now` stands in for a missing timestamp.
pub(super) fn normalise_status(status: &Status, now: DateTime<Utc>) -> Option<GuestReceipt> {
    let id = non_blank(status.id.as_deref())?;
    let guest = GuestRef::parse(status.recipient_id.as_deref()?).ok()?;
    let word = status.status.as_deref()?;
    let kind = ReceiptStatus::parse(word)?;
    let failure = status
        .errors
        .first()
        .filter(|_| kind == ReceiptStatus::Failed)
        .map(|error| ReceiptFailure {
            code: error.code.unwrap_or_default(),
            title: error.title.clone().unwrap_or_default(),
        });
    Some(GuestReceipt {
        guest,
        receipt: Receipt {
            provider_message_id: id,
            status: kind,
            at: status
                .timestamp
                .as_ref()
                .and_then(Timestamp::instant)
                .unwrap_or(now),
            failure,
        },
    })
}
