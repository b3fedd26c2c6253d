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
use conserje_domain::api_key::Role;
use conserje_domain::data_access::PersonalData;
use conserje_domain::journal::StoredEvent;

use conserje_domain::session::{conversation_of, Reply, Session, SessionCommand};
use conserje_domain::template::TemplateName;
use conserje_domain::understanding::Language;
use conserje_domain::values::TenantId;
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

mod transcript;

pub(crate) use transcript::of as transcript_of;
pub use transcript::{Transcript, TurnLine};

/// The session's events, once `caller` may see them: staff and admins of its hotel; another
/// hotel's session is not found.
pub(crate) async fn events_of(
    rt: &Runtime,
    caller: &Caller,
    id: &str,
) -> Result<Vec<StoredEvent>, ApiError> {
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
    let events = events_of(&rt, &caller, &id).await?;
    rt.reads
        .record(&caller, hotel_of(&id)?, &id, PersonalData::Transcript)
        .await?;
    transcript::of(id, events)
        .map(Json)
        .map_err(|e| ApiError::Internal(e.to_string()))
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

/// `POST /api/v1/sessions/{id}/handoff`: staff take the conversation over from the bot.
#[utoipa::path(
    post,
    path = "/api/v1/sessions/{id}/handoff",
    operation_id = "take_over",
    tag = "sessions",
    summary = "Take a conversation over from the bot",
    description = "Roles: **staff**, **admin**. From then on the bot records the guest's messages \
        and does not answer them, until staff hand it back (`handoff/resolve`). The handoff's \
        reason is `staff_took_over`, with the key as who took it. Another hotel's session answers \
        404, like one that does not exist.",
    params(
        ("id" = String, Path, description = "The session id `tenant/channel/guest`, its slashes \
            percent-encoded (`default%2Fwhatsapp%2F34600111222`), as `GET /api/v1/sessions` \
            answers it", example = "default/whatsapp/34600111222"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Staff have the conversation; the bot is silent"),
        (status = 401, description = "`unauthenticated` (no `Authorization: Bearer <key>`) or \
            `invalid_key` (unknown, revoked or expired)", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key's role may not handle conversations", body = ErrorBody),
        (status = 404, description = "`not_found`: no such session, or another hotel's", body = ErrorBody),
        (status = 409, description = "`already_handed_off`, or `conflict` (changed concurrently; \
            try again)", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the key passed its requests per minute",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`: the event store did not answer", body = ErrorBody),
    )
)]
pub async fn take_over(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    // Not UTF-8 once decoded: no session has that id (found after the role check, as any other).
    let id = path_segment(id).unwrap_or_default();
    events_of(&rt, &caller, &id).await?;
    let meta = caller.metadata(hotel_of(&id)?);
    let command = SessionCommand::TakeOver {
        taken_by: meta.actor.as_str().to_owned(),
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
        proactive: None,
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
