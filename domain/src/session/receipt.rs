//! Delivery receipts: what the guest's platform says became of a reply once it was sent
//! (WhatsApp's `statuses`: sent, delivered, read, failed).
//!
//! Receipts arrive late, twice, and out of order — a `read` before its `delivered`, a `failed`
//! after a `delivered` when the guest has several devices, a status before our own record that
//! the reply was sent. The rule that keeps the transcript right whatever the order: a receipt
//! is recorded only when it tells more than the last one recorded for that message
//! ([`ReceiptStatus::supersedes`]), so the stream of a message's receipts only ever climbs and a
//! redelivered or stale one records nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Session, SessionError, SessionEvent};

/// Where a sent message stands on the guest's platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// The platform took it (it has not reached the guest's phone yet).
    Sent,
    /// It reached the guest's phone.
    Delivered,
    /// The guest opened it.
    Read,
    /// The platform gave up on it, with a code ([`ReceiptFailure`]).
    Failed,
}

impl ReceiptStatus {
    /// How much the status tells. `failed` sits above `sent` (the platform gave up on what it had
    /// taken) but below `delivered`: on a multi-device account a message can reach one phone and
    /// fail on another, and the guest has it.
    fn rank(self) -> u8 {
        match self {
            Self::Sent => 1,
            Self::Failed => 2,
            Self::Delivered => 3,
            Self::Read => 4,
        }
    }

    /// Whether a receipt with this status tells more than `current`, the last one recorded.
    pub fn supersedes(self, current: Option<ReceiptStatus>) -> bool {
        current.is_none_or(|current| self.rank() > current.rank())
    }

    /// The platform's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Failed => "failed",
        }
    }

    /// The status named by the platform's word; `None` for a word conserje does not know
    /// (WhatsApp adds statuses from time to time: `deleted`, `warning`).
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "sent" => Some(Self::Sent),
            "delivered" => Some(Self::Delivered),
            "read" => Some(Self::Read),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// Why the platform gave up on a message: its error code and title (WhatsApp's `errors[0]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptFailure {
    pub code: u32,
    pub title: String,
}

/// WhatsApp's code for a free-form message sent outside the 24-hour customer-service window.
pub const WINDOW_CLOSED_CODE: u32 = 131047;

/// One receipt as the platform sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The platform's id of the message it is about (the `wamid` WhatsApp answered the send with).
    pub provider_message_id: String,
    pub status: ReceiptStatus,
    /// When the platform says it happened.
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<ReceiptFailure>,
}

impl Session {
    /// The events for `receipts`: one per receipt that tells more than the last recorded for its
    /// message (see [`receipt`]), in the order given, so a batch with a message's `sent` and
    /// `read` records both and a batch that repeats itself records each once.
    pub(super) fn record_receipts(
        &self,
        receipts: Vec<Receipt>,
        template_fallback: bool,
    ) -> Result<Vec<SessionEvent>, SessionError> {
        if self.tenant_id.is_none() {
            return Err(SessionError::NoSession);
        }
        let mut latest: BTreeMap<&str, ReceiptStatus> = BTreeMap::new();
        let mut events = vec![];
        let mut window_closed = false;
        for receipt in &receipts {
            let id = receipt.provider_message_id.as_str();
            let current = latest.get(id).or_else(|| self.receipts.get(id)).copied();
            if !receipt.status.supersedes(current) {
                continue;
            }
            latest.insert(id, receipt.status);
            window_closed |= receipt
                .failure
                .as_ref()
                .is_some_and(|f| f.code == WINDOW_CLOSED_CODE);
            events.push(SessionEvent::ReceiptRecorded {
                provider_message_id: receipt.provider_message_id.clone(),
                reply_id: self.sent.get(id).copied(),
                status: receipt.status,
                at: receipt.at,
                failure: receipt.failure.clone(),
            });
        }
        events.extend(self.hand_off_for_closed_window(window_closed && !template_fallback));
        Ok(events)
    }

    /// The replies `receipts` report refused for the closed window that were not known refused
    /// yet: what a template fallback sends again.
    pub fn refused_for_window(&self, receipts: &[Receipt]) -> Vec<uuid::Uuid> {
        let mut refused = vec![];
        for receipt in receipts {
            let closed = receipt
                .failure
                .as_ref()
                .is_some_and(|f| f.code == WINDOW_CLOSED_CODE);
            let current = self.receipts.get(&receipt.provider_message_id).copied();
            if !closed || !receipt.status.supersedes(current) {
                continue;
            }
            if let Some(reply) = self.sent.get(&receipt.provider_message_id) {
                if !refused.contains(reply) {
                    refused.push(*reply);
                }
            }
        }
        refused
    }
}

#[cfg(test)]
mod tests {
    use super::ReceiptStatus::*;
    use super::*;

    #[test]
    fn a_receipt_is_recorded_only_when_it_tells_more() {
        assert!(Sent.supersedes(None));
        assert!(Delivered.supersedes(Some(Sent)));
        assert!(Read.supersedes(Some(Delivered)));
        // A read before its delivered: the late delivered tells nothing new.
        assert!(!Delivered.supersedes(Some(Read)));
        // The same receipt twice records once.
        assert!(!Read.supersedes(Some(Read)));
        // Failed after sent is news; after delivered (another device) it is not.
        assert!(Failed.supersedes(Some(Sent)));
        assert!(!Failed.supersedes(Some(Delivered)));
        // Delivered after a failed on another device: the guest has it after all.
        assert!(Delivered.supersedes(Some(Failed)));
    }

    #[test]
    fn statuses_read_and_write_the_platforms_words() {
        for status in [Sent, Delivered, Read, Failed] {
            assert_eq!(ReceiptStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ReceiptStatus::parse("deleted"), None);
    }
}
