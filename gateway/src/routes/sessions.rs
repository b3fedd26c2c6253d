//! `GET /api/v1/sessions`: a guest's conversation, from the session view.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use conserje_domain::api_key::Role;
use conserje_domain::session::session_stream_id;
use conserje_domain::values::{Channel, GuestRef};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::openapi::ErrorBody;
use crate::Runtime;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionQuery {
    /// The key's hotel when absent; a key of every hotel must name one.
    #[param(value_type = String, required = false, pattern = "^[a-z0-9_-]{1,64}$")]
    pub tenant: Option<String>,
    /// `whatsapp`, `telegram` or `api`.
    #[param(value_type = String)]
    pub channel: Channel,
    /// The guest's id on that channel (WhatsApp `wa_id`, Telegram chat id, the integration's).
    pub guest: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionSummary {
    /// `tenant/channel/guest`: percent-encode its slashes in the `/api/v1/sessions/{id}` routes.
    pub session_id: String,
    pub message_count: u64,
    pub last_message_at: Option<DateTime<Utc>>,
    pub state: String,
}

/// `GET /api/v1/sessions?tenant=&channel=&guest=`: the guest's open session on that channel, as
/// a list (empty when there is none, or it expired).
#[utoipa::path(
    get,
    path = "/api/v1/sessions",
    operation_id = "find_sessions",
    tag = "sessions",
    summary = "A guest's open conversation on a channel",
    description = "Roles: **staff**, **admin**. The guest's open session with the key's hotel (a key \
        of every hotel names the hotel), as a list: empty when there is none or it expired. Naming \
        another hotel than the key's answers 404: another hotel's data is not found.",
    params(SessionQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The open session, or none", body = [SessionSummary]),
        (status = 400, description = "`malformed_request` (a missing or mistyped parameter), \
            `invalid_tenant`, `tenant_required` or `invalid_guest`", body = ErrorBody),
        (status = 401, description = "`unauthenticated` (no `Authorization: Bearer <key>`) or \
            `invalid_key` (unknown, revoked or expired)", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key's role may not read conversations", body = ErrorBody),
        (status = 404, description = "`not_found`: the hotel named is not the key's", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the key passed its requests per minute",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`: the session store did not answer", body = ErrorBody),
    )
)]
pub async fn find(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    query: Result<Query<SessionQuery>, QueryRejection>,
) -> Result<Json<Vec<SessionSummary>>, ApiError> {
    caller.require(&[Role::Staff, Role::Admin])?;
    let Query(query) =
        query.map_err(|e| ApiError::bad_request("malformed_request", e.body_text()))?;
    let tenant = caller.hotel_named(query.tenant.as_deref())?;
    let guest = GuestRef::parse(&query.guest)
        .map_err(|e| ApiError::bad_request("invalid_guest", e.to_string()))?;
    let id = session_stream_id(&tenant, query.channel, &guest);
    let view = rt.session_views.get(&id).await?;
    Ok(Json(
        view.into_iter()
            .map(|v| SessionSummary {
                session_id: v.session_id,
                message_count: v.message_count,
                last_message_at: v.last_message_at,
                state: v.state,
            })
            .collect(),
    ))
}
