//! One conversation as staff see it: its transcript, handing it back to the bot, and replying to
//! the guest in person.
//!
//! `{id}` is the session id `tenant/channel/guest` with its slashes percent-encoded
//! (`default%2Fwhatsapp%2F34600111222`), as `GET /api/v1/sessions` returns it.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use conserje_domain::api_key::Role;
use conserje_domain::data_access::PersonalData;
use conserje_domain::journal::StoredEvent;
use conserje_domain::metadata::keys;
use conserje_domain::session::{
    DeliveryOutcome, ReceiptFailure, ReceiptStatus, Reply, Session, SessionCommand, SessionEvent,
};
use conserje_domain::template::TemplateName;
use conserje_domain::understanding::{Entities, Expectation, Language, Locale};
use conserje_domain::values::TenantId;
use conserje_projections::outbound::conversation_of;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::openapi::ErrorBody;
use crate::routes::path_segment;
use crate::Runtime;

/// One line of the transcript.
#[derive(Debug, Serialize, ToSchema)]
pub struct TurnLine {
    /// `guest`, `bot`, `staff` or `system` (handoffs).
    pub role: &'static str,
    pub text: Option<String>,
    pub at: DateTime<Utc>,
    /// The guest's message id at the provider, or our reply id.
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_kind: Option<String>,
    /// Guest turns: true when `text` is the transcript of a voice note.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub transcribed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = crate::openapi::Language)]
    pub language: Option<Language>,
    /// The variant: `es`, `en`, `pt-BR` or `pt-PT`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = crate::openapi::Locale)]
    pub locale: Option<Locale>,
    /// Guest turns: the question of the bot's this message was read as the answer to.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = crate::openapi::Expectation)]
    pub from_context: Option<Expectation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = crate::openapi::Entities)]
    pub entities: Option<Entities>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    /// Replies: the template it came from (`staff` for a person's words).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Replies: the WhatsApp message template it goes or went as — chosen by staff, or the
    /// hotel's `reply` template when the guest's 24-hour window had closed — and its language.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "respuesta_pendiente (es)")]
    pub message_template: Option<String>,
    /// Replies: the titles of the buttons it offered, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<String>,
    /// Replies: whether it left through the channel or sits in the outbox.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered: Option<bool>,
    /// Replies: `pending`, `sent`, `outbox` or `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_detail: Option<String>,
    /// Sent replies: the latest the guest's platform said of it (`sent`, `delivered`, `read` or
    /// `failed`), whatever order its receipts came in.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "read")]
    pub receipt: Option<ReceiptStatus>,
    /// When the platform says that happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_at: Option<DateTime<Utc>>,
    /// A `failed` receipt's code and title (`131047: Re-engagement message`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_detail: Option<String>,
}

impl TurnLine {
    fn new(role: &'static str, id: String, at: DateTime<Utc>, text: Option<String>) -> Self {
        Self {
            role,
            text,
            at,
            id,
            media_kind: None,
            transcribed: false,
            intent: None,
            confidence: None,
            language: None,
            locale: None,
            from_context: None,
            entities: None,
            model_version: None,
            template: None,
            message_template: None,
            buttons: vec![],
            delivered: None,
            delivery: None,
            delivery_detail: None,
            receipt: None,
            receipt_at: None,
            receipt_detail: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Transcript {
    pub session_id: String,
    /// True while staff have the conversation and the bot is silent.
    pub handed_off: bool,
    pub turns: Vec<TurnLine>,
}

/// The session's events, once `caller` may see them: staff and admins of its hotel; another
/// hotel's session is not found.
async fn events_of(rt: &Runtime, caller: &Caller, id: &str) -> Result<Vec<StoredEvent>, ApiError> {
    caller.require(&[Role::Staff, Role::Admin])?;
    let tenant = hotel_of(id)?;
    caller.hotel(&tenant, &format!("session {id}"))?;
    let events = rt
        .feed
        .stream(Session::TYPE, id)
        .await
        .map_err(|e| ApiError::Unavailable(format!("event store: {e}")))?;
    if events.is_empty() {
        return Err(ApiError::NotFound(format!("session {id} not found")));
    }
    Ok(events)
}

/// `GET /api/v1/sessions/{id}/transcript`: the conversation in order, from its events.
#[utoipa::path(
    get,
    path = "/api/v1/sessions/{id}/transcript",
    operation_id = "session_transcript",
    tag = "sessions",
    summary = "A conversation's transcript",
    description = "Roles: **staff**, **admin**. The conversation in order, from its events: the \
        guest's messages with what was understood, the replies with their delivery, the handoffs. \
        The read is recorded in the audit trail first. Another hotel's session answers 404, like \
        one that does not exist.",
    params(
        ("id" = String, Path, description = "The session id `tenant/channel/guest`, its slashes \
            percent-encoded (`default%2Fwhatsapp%2F34600111222`), as `GET /api/v1/sessions` \
            answers it", example = "default/whatsapp/34600111222"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The transcript", body = Transcript),
        (status = 401, description = "`unauthenticated` (no `Authorization: Bearer <key>`) or \
            `invalid_key` (unknown, revoked or expired)", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key's role may not read conversations", body = ErrorBody),
        (status = 404, description = "`not_found`: no such session, or another hotel's", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the key passed its requests per minute",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`: the event store did not answer, or the read \
            could not be recorded", body = ErrorBody),
    )
)]
pub async fn transcript(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Transcript>, ApiError> {
    // Not UTF-8 once decoded: no session has that id (found after the role check, as any other).
    let id = path_segment(id).unwrap_or_default();
    let mut turns: Vec<TurnLine> = vec![];
    let mut handed_off = false;
    // The latest receipt per platform message id (the session records only receipts that tell
    // more, so the last one seen is the latest); matched to replies once every send is known,
    // since a receipt can be recorded before the send it is about.
    let mut receipts: std::collections::BTreeMap<
        String,
        (ReceiptStatus, DateTime<Utc>, Option<ReceiptFailure>),
    > = Default::default();
    let events = events_of(&rt, &caller, &id).await?;
    rt.reads
        .record(&caller, hotel_of(&id)?, &id, PersonalData::Transcript)
        .await?;
    for stored in events {
        let event = stored
            .decode::<Session>()
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        match event {
            SessionEvent::GuestMessageReceived {
                provider_message_id,
                text,
                media,
                received_at,
                ..
            } => {
                let mut line = TurnLine::new("guest", provider_message_id, received_at, text);
                line.media_kind = media.map(|m| m.kind);
                turns.push(line);
            }
            SessionEvent::AudioTranscribed {
                provider_message_id,
                text,
            } => {
                if let Some(line) = turns
                    .iter_mut()
                    .find(|l| l.role == "guest" && l.id == provider_message_id)
                {
                    line.text = Some(text);
                    line.transcribed = true;
                }
            }
            SessionEvent::IntentRecognized {
                turn_key,
                understood,
                model_version,
            } => {
                if let Some(line) = turns
                    .iter_mut()
                    .rev()
                    .find(|l| l.role == "guest" && l.id == turn_key)
                {
                    line.intent = Some(understood.intent.name().to_owned());
                    line.confidence = Some(understood.confidence);
                    line.language = Some(understood.language);
                    line.locale = Some(understood.locale());
                    line.from_context = understood.from_context;
                    line.entities = Some(understood.entities).filter(|e| !e.is_empty());
                    line.model_version = model_version;
                }
            }
            SessionEvent::ReplyComposed { author, reply, .. } => {
                let Reply {
                    reply_id,
                    text,
                    language,
                    locale,
                    template,
                    message_template,
                    choices,
                } = reply;
                let role = if author == "bot" { "bot" } else { "staff" };
                let mut line =
                    TurnLine::new(role, reply_id.to_string(), stored.recorded_at, Some(text));
                line.language = Some(language);
                line.locale = Some(locale.unwrap_or(Locale::of(language)));
                line.template = Some(template);
                line.message_template = message_template.map(|t| t.to_string());
                line.buttons = choices
                    .map(|c| c.buttons.into_iter().map(|b| b.title).collect())
                    .unwrap_or_default();
                line.delivered = Some(false);
                line.delivery = Some("pending".into());
                turns.push(line);
            }
            SessionEvent::ReplyDelivered { reply_id, outcome } => {
                let id = reply_id.to_string();
                if let Some(line) = turns.iter_mut().find(|l| l.id == id) {
                    let (delivered, status, detail) = match outcome {
                        DeliveryOutcome::Sent {
                            provider_message_id,
                            template,
                        } => {
                            if let Some(used) = template {
                                line.message_template =
                                    Some(format!("{} ({})", used.name, used.language));
                            }
                            (true, "sent", provider_message_id)
                        }
                        DeliveryOutcome::KeptInOutbox => (false, "outbox", None),
                        DeliveryOutcome::Failed { reason, .. } => (false, "failed", Some(reason)),
                    };
                    line.delivered = Some(delivered);
                    line.delivery = Some(status.into());
                    line.delivery_detail = detail;
                }
            }
            SessionEvent::HandoffRequested { reason } => {
                handed_off = true;
                let text = serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.as_str().map(|r| format!("handoff requested: {r}")));
                turns.push(TurnLine::new(
                    "system",
                    stored.meta(keys::EVENT_ID).unwrap_or_default().to_owned(),
                    stored.recorded_at,
                    text,
                ));
            }
            SessionEvent::HandoffResolved { resolved_by } => {
                handed_off = false;
                turns.push(TurnLine::new(
                    "system",
                    stored.meta(keys::EVENT_ID).unwrap_or_default().to_owned(),
                    stored.recorded_at,
                    Some(format!("handoff resolved by {resolved_by}")),
                ));
            }
            SessionEvent::ReceiptRecorded {
                provider_message_id,
                status,
                at,
                failure,
                ..
            } => {
                receipts.insert(provider_message_id, (status, at, failure));
            }
            SessionEvent::SessionStarted { .. }
            | SessionEvent::AudioTranscriptionFailed { .. }
            | SessionEvent::SlotsUpdated { .. } => {}
        }
    }
    for line in &mut turns {
        let sent = line.delivery.as_deref() == Some("sent");
        let Some((status, at, failure)) = line
            .delivery_detail
            .as_ref()
            .filter(|_| sent)
            .and_then(|id| receipts.remove(id))
        else {
            continue;
        };
        line.receipt = Some(status);
        line.receipt_at = Some(at);
        line.receipt_detail = failure.map(|f| format!("{}: {}", f.code, f.title));
    }
    Ok(Json(Transcript {
        session_id: id,
        handed_off,
        turns,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffReplyBody {
    /// Not blank.
    #[schema(min_length = 1)]
    pub text: String,
    /// The reply's language; the conversation's when absent.
    #[schema(value_type = crate::openapi::Language, required = false)]
    pub language: Option<Language>,
    /// The name of one of the hotel's registered WhatsApp templates to send the reply as (its
    /// `reply` parameter carries `text`): required once the guest's 24-hour window has closed.
    #[schema(example = "respuesta_pendiente")]
    pub template: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffReplyAccepted {
    pub reply_id: Uuid,
}

/// `name` as one of `hotel`'s registered WhatsApp templates, or a 422 naming the ones it has.
fn registered_template(
    rt: &Runtime,
    hotel: &TenantId,
    name: &str,
) -> Result<TemplateName, ApiError> {
    let templates = rt.hotels.profile(hotel).templates;
    TemplateName::parse(name.trim())
        .ok()
        .filter(|name| templates.named(name).is_some())
        .ok_or_else(|| {
            let known: Vec<&str> = templates.names().map(TemplateName::as_str).collect();
            ApiError::Refused {
                code: "unknown_template",
                message: format!(
                    "{name:?} is not one of the hotel's registered WhatsApp templates ({})",
                    if known.is_empty() {
                        "it registers none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            }
        })
}

/// The hotel of session `id` (`tenant/channel/guest`).
fn hotel_of(id: &str) -> Result<TenantId, ApiError> {
    conversation_of(id)
        .map(|(tenant, _, _)| tenant)
        .ok_or_else(|| ApiError::NotFound(format!("session {id} not found")))
}

/// `POST /api/v1/sessions/{id}/handoff/resolve`: staff give the conversation back to the bot.
#[utoipa::path(
    post,
    path = "/api/v1/sessions/{id}/handoff/resolve",
    operation_id = "resolve_handoff",
    tag = "sessions",
    summary = "Give a handed-off conversation back to the bot",
    description = "Roles: **staff**, **admin**. Another hotel's session answers 404, like one that \
        does not exist.",
    params(
        ("id" = String, Path, description = "The session id `tenant/channel/guest`, its slashes \
            percent-encoded (`default%2Fwhatsapp%2F34600111222`), as `GET /api/v1/sessions` \
            answers it", example = "default/whatsapp/34600111222"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The bot answers the guest again"),
        (status = 401, description = "`unauthenticated` (no `Authorization: Bearer <key>`) or \
            `invalid_key` (unknown, revoked or expired)", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key's role may not handle conversations", body = ErrorBody),
        (status = 404, description = "`not_found`: no such session, or another hotel's", body = ErrorBody),
        (status = 409, description = "`not_handed_off`, or `conflict` (changed concurrently; try \
            again)", body = ErrorBody),
        (status = 422, description = "Another rule of the conversation refused it", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the key passed its requests per minute",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`: the event store did not answer", body = ErrorBody),
    )
)]
pub async fn resolve_handoff(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    // Not UTF-8 once decoded: no session has that id (found after the role check, as any other).
    let id = path_segment(id).unwrap_or_default();
    events_of(&rt, &caller, &id).await?;
    let meta = caller.metadata(hotel_of(&id)?);
    let command = SessionCommand::ResolveHandoff {
        resolved_by: meta.actor.as_str().to_owned(),
    };
    rt.conversations.execute(&id, command, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/sessions/{id}/replies`: a staff member writes to the guest; the reply goes out
/// through the guest's channel like the bot's.
#[utoipa::path(
    post,
    path = "/api/v1/sessions/{id}/replies",
    operation_id = "staff_reply",
    tag = "sessions",
    summary = "Reply to the guest in person",
    description = "Roles: **staff**, **admin**. The reply goes out through the guest's channel like \
        the bot's. Another hotel's session answers 404, like one that does not exist.",
    params(
        ("id" = String, Path, description = "The session id `tenant/channel/guest`, its slashes \
            percent-encoded (`default%2Fwhatsapp%2F34600111222`), as `GET /api/v1/sessions` \
            answers it", example = "default/whatsapp/34600111222"),
    ),
    request_body = StaffReplyBody,
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Recorded; delivery follows", body = StaffReplyAccepted),
        (status = 400, description = "`malformed_request` or `empty_message`", body = ErrorBody),
        (status = 401, description = "`unauthenticated` (no `Authorization: Bearer <key>`) or \
            `invalid_key` (unknown, revoked or expired)", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key's role may not handle conversations", body = ErrorBody),
        (status = 404, description = "`not_found`: no such session, or another hotel's", body = ErrorBody),
        (status = 409, description = "`conflict`: changed concurrently; try again", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 256 KiB", body = ErrorBody),
        (status = 422, description = "A rule of the conversation refused the reply: \
            `invalid_reply`, `window_closed` (WhatsApp, more than 24 hours after the guest's \
            last message: only a template can reach them, so name one in `template`), or \
            `unknown_template` (not one of the hotel's registered templates)", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the key passed its requests per minute",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`: the event store did not answer", body = ErrorBody),
    )
)]
pub async fn staff_reply(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<StaffReplyBody>,
) -> Result<(StatusCode, Json<StaffReplyAccepted>), ApiError> {
    // Not UTF-8 once decoded: no session has that id (found after the role check, as any other).
    let id = path_segment(id).unwrap_or_default();
    events_of(&rt, &caller, &id).await?;
    let text = body.text.trim();
    if text.is_empty() {
        return Err(ApiError::bad_request(
            "empty_message",
            "text must not be empty",
        ));
    }
    let hotel = hotel_of(&id)?;
    let message_template = body
        .template
        .as_deref()
        .map(|name| registered_template(&rt, &hotel, name))
        .transpose()?;
    let meta = caller.metadata(hotel);
    let session = rt.conversations.session(&id).await?;
    let reply = Reply {
        reply_id: Uuid::now_v7(),
        text: text.to_owned(),
        language: body
            .language
            .or(session.dialogue.language)
            .unwrap_or(Language::Es),
        locale: None,
        template: "staff".to_owned(),
        message_template,
        choices: None,
    };
    let reply_id = reply.reply_id;
    rt.conversations
        .execute(
            &id,
            SessionCommand::RecordStaffReply {
                reply,
                at: rt.clock.now(),
            },
            &meta,
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(StaffReplyAccepted { reply_id })))
}
