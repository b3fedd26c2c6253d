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
use tracing::Instrument;
use utoipa::ToSchema;

use crate::auth::{Caller, API_CHANNEL};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::openapi::ErrorBody;
use crate::Runtime;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    /// The key's hotel when absent; a key of every hotel must name one.
    #[schema(value_type = String, required = false, pattern = "^[a-z0-9_-]{1,64}$")]
    pub tenant_id: Option<String>,
    /// `api`, the only channel this endpoint speaks (may be omitted); another is `403
    /// channel_forbidden`.
    #[schema(value_type = String, required = false)]
    pub channel: Option<String>,
    /// The guest, as the integration knows them (at most 200 characters, no control
    /// characters; compared lower-cased).
    pub guest: String,
    /// The integration's id of the message (1-200 characters): a redelivery with the same id is
    /// recorded once.
    pub provider_message_id: String,
    /// At most 4096 characters, not blank.
    #[schema(min_length = 1, max_length = 4096)]
    pub text: String,
    /// When the guest wrote it; clamped to [now − 7 days, now + 5 min]; now when absent.
    #[schema(value_type = String, required = false, format = DateTime)]
    pub received_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// `accepted`.
    pub status: &'static str,
    /// The guest's `api` conversation, `tenant/api/guest`.
    pub session_id: String,
    pub partition: i32,
    pub offset: i64,
}

fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(code, message)
}

/// `POST /api/v1/messages`
#[utoipa::path(
    post,
    path = "/api/v1/messages",
    operation_id = "post_message",
    tag = "messages",
    summary = "A guest message from one of the hotel's own systems",
    description = "Roles: **integration**, **admin**. Appends the message to the inbound log of the \
        guest's `api` conversation with the key's hotel (a key of every hotel names the hotel) and \
        answers once it is durable; the conversation worker records it and replies. Naming another \
        hotel than the key's answers 404: another hotel is not found.",
    request_body = MessageBody,
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Durable in the log", body = Accepted),
        (status = 400, description = "`malformed_request`, `invalid_tenant`, `tenant_required`, \
            `invalid_guest`, `invalid_message_id`, `empty_message` or `text_too_long`", body = ErrorBody),
        (status = 401, description = "`unauthenticated` (no `Authorization: Bearer <key>`) or \
            `invalid_key` (unknown, revoked or expired)", body = ErrorBody),
        (status = 403, description = "`forbidden` (the key's role may not post messages) or \
            `channel_forbidden` (a channel other than `api`)", body = ErrorBody),
        (status = 404, description = "`not_found`: the hotel named is not the key's", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 256 KiB", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the key passed its requests per minute, or \
            the guest their messages per minute",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`: the log or the event store did not answer",
            body = ErrorBody),
    )
)]
pub async fn post(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    ApiJson(body): ApiJson<MessageBody>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    caller.require(&[Role::Integration, Role::Admin])?;
    let tenant_id = caller.hotel_named(body.tenant_id.as_deref())?;
    if let Some(channel) = body
        .channel
        .as_deref()
        .filter(|c| *c != API_CHANNEL.as_str())
    {
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
        channel: API_CHANNEL,
        guest_ref: guest_ref.clone(),
        provider_message_id: id.to_owned(),
        text: Some(body.text),
        media: None,
        received_at: body.received_at.unwrap_or(now),
        choice: None,
        reaction: None,
        contacts: None,
        edit: None,
    }
    .bounded(now);
    let session_id = session_stream_id(&message.tenant_id, message.channel, &message.guest_ref);
    super::webhooks::describe_receipt(tenant_id.as_str(), Some(&session_id), 1);
    rt.webhooks.admit(std::slice::from_ref(&session_id))?;
    // The actor is the key that carried the words (`integration:<name>`), not a guest the
    // body names: the body is the caller's word, the key is proven.
    let meta = caller.metadata(tenant_id);
    let record = inbound_record(&message, &meta, &rt.topics)?;
    let append = tracing::info_span!("log.append", otel.kind = "producer", records = 1);
    let position = rt
        .log
        .append(record)
        .instrument(append)
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
