//! The providers' webhooks: WhatsApp Cloud API and Telegram Bot API.
//!
//! Each delivery is authenticated first (nothing from an unauthenticated body is used beyond
//! choosing which hotel's secret checks it), then normalised by `conserje_commands::channels`,
//! rate-limited per guest, and appended to the inbound topic. The answer comes once every record
//! is durable in the log; recording on the session is the conversation worker's job, and a
//! redelivery is a no-op there because the provider message id is recorded once.

pub mod telegram;
pub mod whatsapp;

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use conserje_commands::inbound::inbound_record;
use conserje_commands::receipts::{receipts_record, ConversationReceipts};
use conserje_commands::CommandError;
use conserje_domain::metadata::Actor;
use conserje_domain::session::{session_stream_id, GuestMessage};
use conserje_domain::values::TenantId;
use conserje_domain::EventMetadata;
use tracing::field::Empty;
use tracing::{Instrument, Span};

use crate::error::ApiError;
use crate::webhook_guard::{count, ChannelCounters};
use crate::Runtime;

/// The largest webhook body accepted: Meta batches at most a few messages per delivery and
/// Telegram one update, so anything near this is not a provider.
pub const BODY_LIMIT: usize = 1 << 20;

/// The raw body, exactly as signed: the signature covers these bytes, not a re-serialisation.
/// A body over the route's limit is `413 payload_too_large` in the API's error shape.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(Self(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::PayloadTooLarge {
                    limit_bytes: BODY_LIMIT,
                })
            }
            Err(rejection) => Err(ApiError::bad_request(
                "malformed_request",
                rejection.body_text(),
            )),
        }
    }
}

/// Where a delivery came from, for the records' audit headers.
pub struct Origin {
    /// The connecting address (the provider's, or a proxy's).
    pub peer: SocketAddr,
    /// The W3C trace context, when the caller sent one.
    pub traceparent: Option<String>,
}

impl Origin {
    /// The origin of a request from `peer` with `headers`.
    pub fn new(peer: SocketAddr, headers: &HeaderMap) -> Self {
        Self {
            peer,
            traceparent: headers
                .get("traceparent")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        }
    }

    /// The audit context of what this request appends for `tenant`: `actor`, the request's
    /// source address and the webhook span's trace context (the caller's traceparent as it came
    /// when not tracing).
    fn metadata(&self, tenant: TenantId, actor: Actor, channel: &str) -> EventMetadata {
        let mut meta = EventMetadata::new(tenant, actor, channel)
            .with_source_ip(Some(self.peer.ip().to_string()));
        meta.traceparent = conserje_trace::current_or(self.traceparent.as_deref());
        meta
    }
}

/// Runs a way in of guest messages (a provider's webhook, `POST /api/v1/messages`) inside its
/// `webhook.receive` span: the first span of a guest message's trace, or a child of the caller's
/// `traceparent` when one came. Its context is what the inbound records carry (see [`record`]),
/// so the worker continues this trace. Layered on the receiving handlers only: a verification
/// handshake is no message.
pub async fn traced(channel: &'static str, request: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "webhook.receive",
        otel.kind = "server",
        channel,
        tenant = Empty,
        conversation = Empty,
        messages = Empty,
    );
    let incoming = request
        .headers()
        .get(conserje_trace::TRACEPARENT)
        .and_then(|v| v.to_str().ok());
    conserje_trace::follow(&span, incoming);
    next.run(request).instrument(span).await
}

/// Names the current `webhook.receive` span's hotel and conversation: the first message's hotel,
/// the conversation when the delivery is one guest's (a delivery may batch several).
pub(crate) fn describe_receipt(tenant: &str, conversation: Option<&String>, messages: usize) {
    let span = Span::current();
    span.record("tenant", tenant);
    span.record("messages", messages);
    if let Some(session_id) = conversation {
        let pseudonym = conserje_trace::pseudonym(session_id);
        span.record("conversation", pseudonym.as_str());
    }
}

/// A payload the channel module could not decode, as `400`.
fn malformed(err: CommandError) -> ApiError {
    ApiError::bad_request("malformed_request", err.to_string())
}

/// Admits `messages` through the per-guest limit (all or none) and appends them to the inbound
/// topic, returning once they are durable.
async fn record(
    rt: &Runtime,
    counters: &ChannelCounters,
    messages: Vec<GuestMessage>,
    origin: &Origin,
) -> Result<(), ApiError> {
    if messages.is_empty() {
        return Ok(());
    }
    // Bounded like every way in: at most MAX_TEXT_CHARS of text, a timestamp within
    // [now − 7 days, now + 5 min] of our clock whatever the provider's says.
    let now = rt.clock.now();
    let messages: Vec<GuestMessage> = messages.into_iter().map(|m| m.bounded(now)).collect();
    let keys: Vec<String> = messages
        .iter()
        .map(|m| session_stream_id(&m.tenant_id, m.channel, &m.guest_ref))
        .collect();
    let one_guest = keys
        .first()
        .filter(|first| keys.iter().all(|k| k == *first));
    describe_receipt(messages[0].tenant_id.as_str(), one_guest, messages.len());
    if let Err(refusal) = rt.webhooks.admit(&keys) {
        count(&counters.rate_limited, 1);
        return Err(refusal);
    }
    let records = messages
        .iter()
        .map(|message| {
            let meta = origin.metadata(
                message.tenant_id.clone(),
                Actor::guest(message.guest_ref.as_str()),
                message.channel.as_str(),
            );
            inbound_record(message, &meta, &rt.topics)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let appended = records.len() as u64;
    let append = tracing::info_span!("log.append", otel.kind = "producer", records = appended);
    let outcome = async {
        match <[_; 1]>::try_from(records) {
            Ok([one]) => rt.log.append(one).await.map(|_| ()),
            Err(many) => rt.log.append_all(many).await,
        }
    }
    .instrument(append)
    .await;
    outcome.map_err(|e| ApiError::Unavailable(e.to_string()))?;
    count(&counters.accepted, appended);
    Ok(())
}

/// Appends delivery receipts, one record per conversation (see `conserje_commands::receipts`).
/// They are the platform's news, not the guest's words, so no guest's rate limit applies.
async fn record_receipts(
    rt: &Runtime,
    receipts: Vec<ConversationReceipts>,
    origin: &Origin,
) -> Result<(), ApiError> {
    if receipts.is_empty() {
        return Ok(());
    }
    let records = receipts
        .iter()
        .map(|conversation| {
            let meta = origin.metadata(
                conversation.tenant_id.clone(),
                Actor::system(conversation.channel.as_str()),
                conversation.channel.as_str(),
            );
            receipts_record(conversation, &meta, &rt.topics)
        })
        .collect::<Result<Vec<_>, _>>()?;
    rt.log
        .append_all(records)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))
}
