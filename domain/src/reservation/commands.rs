use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::events::{PmsOperation, RejectionReason};
use crate::values::{GuestRef, TenantId};

/// A guest's request for a stay, as received: the aggregate validates every field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationRequest {
    pub reservation_id: Uuid,
    pub tenant_id: TenantId,
    pub guest_ref: GuestRef,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub room_type: String,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    pub guests: u32,
    pub special_requests: Option<String>,
    /// The conversation (session stream) it is booked in, when a guest books by chat.
    #[serde(default)]
    pub conversation: Option<String>,
}

/// New terms for an existing reservation; what is `None` stays as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ModificationRequest {
    /// When set, the reservation must belong to this guest (a guest can only change their own).
    pub requested_by: Option<GuestRef>,
    pub room_type: Option<String>,
    pub check_in: Option<NaiveDate>,
    pub check_out: Option<NaiveDate>,
    pub guests: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReservationCommand {
    Request(ReservationRequest),
    Confirm {
        pms_ref: String,
    },
    Reject {
        reason: RejectionReason,
    },
    RequestModification(ModificationRequest),
    ConfirmModification,
    Cancel {
        requested_by: Option<GuestRef>,
        reason: Option<String>,
        /// The fee the canceller was told and accepts. A cancellation that costs more than this
        /// (or anything, when `None`) is refused with the fee, so nobody is charged unasked.
        accepted_fee_minor: Option<i64>,
    },
    RecordPmsSyncFailure {
        operation: PmsOperation,
        error: String,
        attempt: u32,
        retry_at: Option<DateTime<Utc>>,
    },
    /// A failed operation went through on a retry.
    RecordPmsSynced {
        operation: PmsOperation,
    },
}
