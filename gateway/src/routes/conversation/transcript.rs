//! The transcript: a conversation's events read as the lines staff see, in order — the guest's
//! messages with what the bot understood, the replies with what became of them, the handoffs.
//!
//! Built from the session's own stream on every read, so it can never disagree with the
//! aggregate (no read model to fall behind).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use conserje_domain::journal::StoredEvent;
use conserje_domain::metadata::keys;
use conserje_domain::proactive::ProactiveKind;
use conserje_domain::session::{
    DeliveryOutcome, Edit, MediaKind, ReceiptFailure, ReceiptStatus, Reply, Session, SessionEvent,
    SharedContact,
};
use conserje_domain::understanding::{Entities, Expectation, Language, Locale};
use serde::Serialize;
use utoipa::ToSchema;

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
    #[schema(value_type = Option<String>, example = "document")]
    pub media_kind: Option<MediaKind>,
    /// Guest turns: the emoji of a reaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "👍")]
    pub reaction: Option<String>,
    /// Guest reactions: the reply reacted to (our reply id; the platform's id when the reply is
    /// not ours or its send is not recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reacted_to: Option<String>,
    /// Guest turns: the contact cards shared.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub contacts: Option<Vec<SharedContact>>,
    /// Guest turns: set when the guest edited an earlier message (`text` is its new version).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub edit: Option<Edit>,
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
    /// Replies: set on a message the hotel wrote first (`confirmation`, `pre_arrival`,
    /// `review_request`, `change_notice`, `cancellation_notice`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "pre_arrival")]
    pub proactive: Option<ProactiveKind>,
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
            reaction: None,
            reacted_to: None,
            contacts: None,
            edit: None,
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
            proactive: None,
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

/// The transcript of session `id` from its events, in order.
pub fn of(id: String, events: Vec<StoredEvent>) -> Result<Transcript, serde_json::Error> {
    let mut turns: Vec<TurnLine> = vec![];
    let mut handed_off = false;
    // The latest receipt per platform message id (the session records only receipts that tell
    // more, so the last one seen is the latest); matched to replies once every send is known,
    // since a receipt can be recorded before the send it is about.
    let mut receipts: BTreeMap<String, (ReceiptStatus, DateTime<Utc>, Option<ReceiptFailure>)> =
        Default::default();
    for stored in events {
        let event = stored.decode::<Session>()?;
        match event {
            SessionEvent::GuestMessageReceived {
                provider_message_id,
                text,
                media,
                received_at,
                reaction,
                contacts,
                edit,
                ..
            } => {
                let mut line = TurnLine::new("guest", provider_message_id, received_at, text);
                line.media_kind = media.map(|m| m.kind);
                if let Some(reaction) = reaction {
                    line.reaction = Some(reaction.emoji);
                    line.reacted_to = Some(reaction.to);
                }
                line.contacts = contacts;
                line.edit = edit;
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
                    proactive,
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
                line.proactive = proactive;
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
            SessionEvent::HandoffRequested { reason, taken_by } => {
                handed_off = true;
                let text = Some(match taken_by {
                    Some(by) => format!("taken over by {by}"),
                    None => format!("handoff requested: {}", reason.as_str()),
                });
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
    // A reaction names the platform's id of what it reacts to; staff know our replies by ours.
    let ours: BTreeMap<String, String> = turns
        .iter()
        .filter(|l| l.delivery.as_deref() == Some("sent"))
        .filter_map(|l| Some((l.delivery_detail.clone()?, l.id.clone())))
        .collect();
    for line in &mut turns {
        if let Some(reply) = line.reacted_to.as_ref().and_then(|to| ours.get(to)) {
            line.reacted_to = Some(reply.clone());
        }
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
    Ok(Transcript {
        session_id: id,
        handed_off,
        turns,
    })
}
