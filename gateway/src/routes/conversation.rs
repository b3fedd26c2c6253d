//! One conversation as staff see it: its transcript, handing it back to the bot, and replying to
//! the guest in person.
//!
//! `{id}` is the session id `tenant/channel/guest` with its slashes percent-encoded
//! (`default%2Fwhatsapp%2F34600111222`), as `GET /api/v1/sessions` returns it.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use conserje_domain::api_key::Role;
use conserje_domain::data_access::PersonalData;
use conserje_domain::journal::StoredEvent;
use conserje_domain::metadata::keys;
use conserje_domain::session::{DeliveryOutcome, Reply, Session, SessionCommand, SessionEvent};
use conserje_domain::understanding::{Entities, Expectation, Language, Locale};
use conserje_domain::values::TenantId;
use conserje_projections::outbound::conversation_of;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::Runtime;

/// One line of the transcript.
#[derive(Debug, Serialize)]
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
    pub language: Option<Language>,
    /// The variant: `es`, `en`, `pt-BR` or `pt-PT`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
    /// Guest turns: the question of the bot's this message was read as the answer to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_context: Option<Expectation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entities: Option<Entities>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    /// Replies: the template it came from (`staff` for a person's words).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Replies: whether it left through the channel or sits in the outbox.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered: Option<bool>,
    /// Replies: `pending`, `sent`, `outbox` or `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_detail: Option<String>,
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
            delivered: None,
            delivery: None,
            delivery_detail: None,
        }
    }
}

#[derive(Debug, Serialize)]
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
pub async fn transcript(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Transcript>, ApiError> {
    let mut turns: Vec<TurnLine> = vec![];
    let mut handed_off = false;
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
                } = reply;
                let role = if author == "bot" { "bot" } else { "staff" };
                let mut line =
                    TurnLine::new(role, reply_id.to_string(), stored.recorded_at, Some(text));
                line.language = Some(language);
                line.locale = Some(locale.unwrap_or(Locale::of(language)));
                line.template = Some(template);
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
                        } => (true, "sent", provider_message_id),
                        DeliveryOutcome::KeptInOutbox => (false, "outbox", None),
                        DeliveryOutcome::Failed { reason } => (false, "failed", Some(reason)),
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
            SessionEvent::SessionStarted { .. }
            | SessionEvent::AudioTranscriptionFailed { .. }
            | SessionEvent::SlotsUpdated { .. } => {}
        }
    }
    Ok(Json(Transcript {
        session_id: id,
        handed_off,
        turns,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffReplyBody {
    pub text: String,
    /// The reply's language; the conversation's when absent.
    pub language: Option<Language>,
}

#[derive(Debug, Serialize)]
pub struct StaffReplyAccepted {
    pub reply_id: Uuid,
}

/// The hotel of session `id` (`tenant/channel/guest`).
fn hotel_of(id: &str) -> Result<TenantId, ApiError> {
    conversation_of(id)
        .map(|(tenant, _, _)| tenant)
        .ok_or_else(|| ApiError::NotFound(format!("session {id} not found")))
}

/// `POST /api/v1/sessions/{id}/handoff/resolve`: staff give the conversation back to the bot.
pub async fn resolve_handoff(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
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
pub async fn staff_reply(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StaffReplyBody>,
) -> Result<(StatusCode, Json<StaffReplyAccepted>), ApiError> {
    events_of(&rt, &caller, &id).await?;
    let text = body.text.trim();
    if text.is_empty() {
        return Err(ApiError::bad_request(
            "empty_message",
            "text must not be empty",
        ));
    }
    let meta = caller.metadata(hotel_of(&id)?);
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
    };
    let reply_id = reply.reply_id;
    rt.conversations
        .execute(&id, SessionCommand::RecordStaffReply(reply), &meta)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(StaffReplyAccepted { reply_id })))
}
