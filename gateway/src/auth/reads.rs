//! Reads of guests' personal data, recorded before the data is answered.

use std::sync::Arc;

use conserje_domain::data_access::{DataAccess, DataAccessCommand, PersonalData};
use conserje_domain::journal::AggregateStore;
use conserje_domain::values::TenantId;
use uuid::Uuid;

use super::Caller;
use crate::error::ApiError;

/// Records who read whose data. A read that cannot be recorded is not answered: an
/// unrecorded look at a guest's data is exactly what the audit trail exists to rule out.
pub struct ReadLog {
    store: Arc<dyn AggregateStore<DataAccess>>,
}

impl ReadLog {
    pub fn new(store: Arc<dyn AggregateStore<DataAccess>>) -> Self {
        Self { store }
    }

    /// Records that `caller` read `data` of `subject` (a session or reservation id) of `tenant`.
    pub async fn record(
        &self,
        caller: &Caller,
        tenant: TenantId,
        subject: &str,
        data: PersonalData,
    ) -> Result<(), ApiError> {
        let command = DataAccessCommand::RecordRead {
            subject: subject.to_owned(),
            data,
        };
        self.store
            .execute(
                &Uuid::now_v7().to_string(),
                command,
                caller.metadata(tenant),
            )
            .await
            .map_err(|e| ApiError::Unavailable(format!("cannot record the read: {e}")))
    }
}
