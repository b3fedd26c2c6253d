//! `POST /api/v1/guests/forget`: the right to be forgotten (admin keys only).

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use conserje_domain::api_key::Role;
use conserje_domain::values::GuestRef;
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::forget::{forget_guest, Forgetting};
use crate::Runtime;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForgetBody {
    /// The key's hotel when absent; an admin of every hotel must name one.
    pub tenant_id: Option<String>,
    /// The guest as the hotel knows them: the channel id of their conversations (WhatsApp
    /// number, Telegram chat id) or the `guest_ref` of their bookings (the e-mail by default).
    pub guest: String,
    pub reason: Option<String>,
}

/// `POST /api/v1/guests/forget`: deletes the guest's data key, records `GuestForgotten` and
/// rebuilds the read models that held their data; answers what was done.
pub async fn forget(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    ApiJson(body): ApiJson<ForgetBody>,
) -> Result<Json<Forgetting>, ApiError> {
    caller.require(&[Role::Admin])?;
    let tenant = caller.hotel_named(body.tenant_id.as_deref())?;
    let guest = GuestRef::parse(&body.guest)
        .map_err(|e| ApiError::bad_request("invalid_guest", e.to_string()))?;
    let meta = caller.metadata(tenant.clone());
    Ok(Json(
        forget_guest(&rt, &tenant, &guest, body.reason, meta, false).await?,
    ))
}
