//! `POST /api/v1/guests/forget`: the right to be forgotten (admin keys only).

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use conserje_domain::api_key::Role;
use conserje_domain::values::GuestRef;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::forget::{forget_guest, Forgetting};
use crate::openapi::ErrorBody;
use crate::Runtime;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgetBody {
    /// The key's hotel when absent; an admin of every hotel must name one.
    #[schema(value_type = String, required = false, pattern = "^[a-z0-9_-]{1,64}$")]
    pub tenant_id: Option<String>,
    /// The guest as the hotel knows them: the channel id of their conversations (WhatsApp
    /// number, Telegram chat id) or the `guest_ref` of their bookings (the e-mail by default).
    pub guest: String,
    /// Why, for the audit trail.
    #[schema(value_type = String, required = false)]
    pub reason: Option<String>,
}

/// `POST /api/v1/guests/forget`: deletes the guest's data key, records `GuestForgotten` and
/// rebuilds the read models that held their data; answers what was done.
#[utoipa::path(
    post,
    path = "/api/v1/guests/forget",
    operation_id = "forget_guest",
    tag = "guests",
    summary = "Forget a guest (the right to be forgotten)",
    description = "Roles: **admin**. Deletes the guest's data key of the key's hotel (a key of \
        every hotel names the hotel), records `GuestForgotten`, and rebuilds the read models that \
        held their data: their words and contact data read as forgotten from then on, while the \
        bookings' dates, rooms and prices stay. Naming another hotel than the key's answers 404: \
        another hotel is not found.",
    request_body = ForgetBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What was done", body = crate::openapi::Forgetting),
        (status = 400, description = "`malformed_request`, `invalid_tenant`, `tenant_required` \
            or `invalid_guest`", body = ErrorBody),
        (status = 401, description = "`unauthenticated` (no `Authorization: Bearer <key>`) or \
            `invalid_key` (unknown, revoked or expired)", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key's role is not admin", body = ErrorBody),
        (status = 404, description = "`not_found`: the hotel named is not the key's", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 256 KiB", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the key passed its requests per minute",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`: the forgetting could not be recorded, the key \
            deleted or a read model rebuilt", body = ErrorBody),
    )
)]
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
