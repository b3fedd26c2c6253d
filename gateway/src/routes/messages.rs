//! `POST /api/v1/messages`: a guest message from one of the hotel's own systems (an integration
//! key), appended to the inbound topic.
//!
//! The answer is `202` once the record is durable in the log; recording it on the conversation
//! happens in the conversation worker, which owns the conversation's partition.
//!
//! Such a message is always channel `api` and belongs to the key's hotel: only a webhook with the
//! provider's signature may speak as a WhatsApp or Telegram guest. The `api` conversation of a
//! guest is its own session, so an id posted here can never shadow (make a "duplicate" of) a
//! provider's message.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use conserje_commands::inbound::inbound_record;
use conserje_domain::api_key::Role;
use conserje_domain::session::{session_stream_id, GuestMessage, MAX_TEXT_CHARS};
use conserje_domain::values::GuestRef;
use serde::{Deserialize, Serialize};

use crate::auth::{Caller, API_CHANNEL};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::Runtime;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    /// The key's hotel when absent; a key of every hotel must name one.
    pub tenant_id: Option<String>,
    /// `api`, the only channel this endpoint speaks (may be omitted).
    pub channel: Option<String>,
    /// The guest, as the integration knows them.
    pub guest: String,
    /// The integration's id of the message: a redelivery with the same id is recorded once.
    pub provider_message_id: String,
    pub text: String,
    /// When the guest wrote it; clamped to [now − 7 days, now + 5 min]; now when absent.
    pub received_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
pub struct Accepted {
    pub status: &'static str,
    pub session_id: String,
    pub partition: i32,
    pub offset: i64,
}

fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(code, message)
}

/// `POST /api/v1/messages`
pub async fn post(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    ApiJson(body): ApiJson<MessageBody>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    caller.require(&[Role::Integration, Role::Admin])?;
    let tenant_id = caller.hotel_named(body.tenant_id.as_deref())?;
    if let Some(channel) = body.channel.as_deref().filter(|c| *c != API_CHANNEL) {
        return Err(ApiError::Forbidden {
            code: "channel_forbidden",
            message: format!(
                "the API posts on channel {API_CHANNEL} only; a {channel} guest speaks through \
                 the {channel} webhook, signed by the provider"
            ),
        });
    }
    let guest_ref =
        GuestRef::parse(&body.guest).map_err(|e| bad("invalid_guest", e.to_string()))?;
    let id = body.provider_message_id.trim();
    if id.is_empty() || id.len() > 200 {
        return Err(bad(
            "invalid_message_id",
            "provider_message_id must be 1-200 characters",
        ));
    }
    if body.text.trim().is_empty() {
        return Err(bad("empty_message", "text must not be empty"));
    }
    let chars = body.text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(bad(
            "text_too_long",
            format!("text is {chars} characters; a guest message has at most {MAX_TEXT_CHARS}"),
        ));
    }
    let now = rt.clock.now();
    let message = GuestMessage {
        location: None,
        guest_name: None,
        tenant_id: tenant_id.clone(),
        channel: API_CHANNEL.to_owned(),
        guest_ref: guest_ref.clone(),
        provider_message_id: id.to_owned(),
        text: Some(body.text),
        media: None,
        received_at: body.received_at.unwrap_or(now),
    }
    .bounded(now);
    let session_id = session_stream_id(&message.tenant_id, &message.channel, &message.guest_ref);
    rt.webhooks.admit(std::slice::from_ref(&session_id))?;
    // The actor is the key that carried the words (`integration:<name>`), not a guest the
    // body names: the body is the caller's word, the key is proven.
    let meta = caller.metadata(tenant_id);
    let record = inbound_record(&message, &meta, &rt.topics)?;
    let position = rt
        .log
        .append(record)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            status: "accepted",
            session_id,
            partition: position.partition,
            offset: position.offset,
        }),
    ))
}
