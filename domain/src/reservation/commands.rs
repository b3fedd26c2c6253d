use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::events::RejectionReason;
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
    },
    RecordPmsSyncFailure {
        operation: String,
        error: String,
    },
}
