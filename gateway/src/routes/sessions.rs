//! `GET /api/v1/sessions`: a guest's conversation, from the session view.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use conserje_domain::api_key::Role;
use conserje_domain::session::session_stream_id;
use conserje_domain::values::GuestRef;
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::Runtime;

#[derive(Debug, Deserialize)]
pub struct SessionQuery {
    /// The key's hotel when absent.
    pub tenant: Option<String>,
    pub channel: String,
    pub guest: String,
}

#[derive(Debug, Serialize)]
pub struct SessionSummary {
    pub session_id: String,
    pub message_count: u64,
    pub last_message_at: Option<DateTime<Utc>>,
    pub state: String,
}

/// `GET /api/v1/sessions?tenant=&channel=&guest=`: the guest's open session on that channel, as
/// a list (empty when there is none, or it expired).
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
    let id = session_stream_id(&tenant, &query.channel, &guest);
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
