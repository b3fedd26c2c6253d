//! `POST /api/v1/messages`: a channel-neutral guest message, appended to the inbound topic.
//!
//! The answer is `202` once the record is durable in the log; recording it on the conversation
//! happens in the conversation worker, which owns the conversation's partition.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use conserje_commands::inbound::inbound_record;
use conserje_domain::metadata::Actor;
use conserje_domain::session::{session_stream_id, GuestMessage};
use conserje_domain::values::{GuestRef, TenantId};
use conserje_domain::EventMetadata;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::Runtime;

/// Channels conserje speaks, plus `api` for integrations posting directly.
const CHANNELS: [&str; 3] = ["whatsapp", "telegram", "api"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    pub tenant_id: String,
    pub channel: String,
    /// The guest on that channel: WhatsApp `wa_id`, Telegram chat id…
    pub guest: String,
    /// The channel's id of the message: a redelivery with the same id is recorded once.
    pub provider_message_id: String,
    pub text: String,
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
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<MessageBody>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let tenant_id =
        TenantId::parse(&body.tenant_id).map_err(|e| bad("invalid_tenant", e.to_string()))?;
    if !CHANNELS.contains(&body.channel.as_str()) {
        return Err(bad(
            "invalid_channel",
            format!("channel must be one of {}", CHANNELS.join(", ")),
        ));
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
    let message = GuestMessage {
        location: None,
        guest_name: None,
        tenant_id: tenant_id.clone(),
        channel: body.channel,
        guest_ref: guest_ref.clone(),
        provider_message_id: id.to_owned(),
        text: Some(body.text),
        media: None,
        received_at: body.received_at.unwrap_or_else(Utc::now),
    };
    let mut meta = EventMetadata::new(
        tenant_id,
        Actor::guest(guest_ref.as_str()),
        &message.channel,
    )
    .with_source_ip(Some(peer.ip().to_string()));
    meta.traceparent = headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
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
            session_id: session_stream_id(&message.tenant_id, &message.channel, &message.guest_ref),
            partition: position.partition,
            offset: position.offset,
        }),
    ))
}
