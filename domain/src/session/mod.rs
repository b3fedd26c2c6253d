//! The `Session` aggregate: one guest's conversation on one channel with one hotel.
//!
//! Its stream id is `tenant/channel/guest`. Every guest message is recorded exactly once per
//! provider message id, so a webhook delivered twice is a no-op, and each message is its own
//! event, so concurrent messages cannot overwrite each other (the old system lost updates when a
//! text and an image arrived together).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use uuid::Uuid;

use crate::understanding::Understood;
use crate::values::{GuestRef, TenantId};

pub mod dialogue;

pub use dialogue::{DialogueState, Flow, Pending, Reply, Slots};

/// The stream id of a conversation.
pub fn session_stream_id(tenant: &TenantId, channel: &str, guest: &GuestRef) -> String {
    format!("{tenant}/{channel}/{guest}")
}

/// A piece of media the guest sent, referenced by the provider's media id (fetched later).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRef {
    /// `audio`, `image`, `document`…
    pub kind: String,
    pub provider_media_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Telegram says how long a voice note is; WhatsApp does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<u32>,
}

/// A place the guest shared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedLocation {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// One message as the guest sent it, after channel normalisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuestMessage {
    pub tenant_id: TenantId,
    pub channel: String,
    pub guest_ref: GuestRef,
    pub provider_message_id: String,
    /// The guest's words; for a button or list reply, the title of the option chosen.
    pub text: Option<String>,
    pub media: Option<MediaRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<SharedLocation>,
    /// The name the channel's profile gives (WhatsApp contact name, Telegram first/last name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_name: Option<String>,
    pub received_at: DateTime<Utc>,
}

/// The longest text a guest message keeps, on every way in: WhatsApp's and Telegram's own limit
/// for a text message. The API refuses longer texts; a webhook's is cut here (the provider has
/// already accepted it from the guest, and refusing would only make it retry).
pub const MAX_TEXT_CHARS: usize = 4096;

/// How far back a message's own timestamp may claim to have been sent.
pub const RECEIVED_AT_PAST: chrono::Duration = chrono::Duration::days(7);
/// How far ahead of our clock a sender's clock may be.
pub const RECEIVED_AT_FUTURE: chrono::Duration = chrono::Duration::minutes(5);

impl GuestMessage {
    /// The sender's timestamp, clamped to [now − 7 days, now + 5 minutes]. A `received_at` in
    /// year 9999 would otherwise keep the session "active" for ever, and one in 1970 would make
    /// the message older than the conversation it answers.
    pub fn bounded_received_at(claimed: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
        claimed.clamp(now - RECEIVED_AT_PAST, now + RECEIVED_AT_FUTURE)
    }

    /// Bounds the text to [`MAX_TEXT_CHARS`] characters (cut on a character boundary) and the
    /// timestamp with [`GuestMessage::bounded_received_at`].
    pub fn bounded(mut self, now: DateTime<Utc>) -> Self {
        if let Some(text) = &mut self.text {
            if let Some((cut, _)) = text.char_indices().nth(MAX_TEXT_CHARS) {
                text.truncate(cut);
            }
        }
        self.received_at = Self::bounded_received_at(self.received_at, now);
        self
    }
}

/// Why the bot handed the conversation to staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    /// The guest asked for a person.
    GuestAsked,
    /// Two turns in a row the bot was not confident it understood.
    LowConfidence,
    /// Something failed that the guest would otherwise have seen.
    Error,
    /// The guest said it is urgent outside business hours.
    Urgent,
}

/// What the dialogue decided for one guest message (or one notice about it), recorded at once so
/// a crash never leaves an intent without its reply or a reply without its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// The provider message id the turn answers, or `<id>:audio-pending` for the notice that a
    /// voice note is being transcribed: each key is answered once, so redeliveries stay silent.
    pub turn_key: String,
    pub understood: Option<Understood>,
    pub model_version: Option<String>,
    /// The dialogue state after the turn, when it changed.
    pub dialogue: Option<DialogueState>,
    pub replies: Vec<Reply>,
    pub handoff: Option<HandoffReason>,
}

/// How a reply left (or failed to leave) through the channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DeliveryOutcome {
    Sent { provider_message_id: Option<String> },
    KeptInOutbox,
    Failed { reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SessionCommand {
    RecordGuestMessage(GuestMessage),
    RecordTranscript {
        provider_message_id: String,
        text: String,
    },
    RecordTranscriptionFailure {
        provider_message_id: String,
        reason: String,
        attempt: u32,
    },
    RecordTurn(Turn),
    /// A guest message and the turn that answers it, in one commit: the worker's usual path for a
    /// typed message, half the commits of recording and answering apart.
    RecordAnsweredMessage {
        message: Box<GuestMessage>,
        turn: Box<Turn>,
    },
    /// Staff answer the guest themselves (usually during a handoff).
    RecordStaffReply(Reply),
    ResolveHandoff {
        resolved_by: String,
    },
    /// How replies left through the channel, several at once: the sender records a whole batch
    /// of one conversation in one commit.
    RecordDeliveries {
        deliveries: Vec<(Uuid, DeliveryOutcome)>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SessionEvent {
    SessionStarted {
        tenant_id: TenantId,
        channel: String,
        guest_ref: GuestRef,
        started_at: DateTime<Utc>,
    },
    GuestMessageReceived {
        provider_message_id: String,
        text: Option<String>,
        media: Option<MediaRef>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        location: Option<SharedLocation>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        guest_name: Option<String>,
        received_at: DateTime<Utc>,
    },
    AudioTranscribed {
        provider_message_id: String,
        text: String,
    },
    AudioTranscriptionFailed {
        provider_message_id: String,
        reason: String,
        attempt: u32,
    },
    IntentRecognized {
        /// The turn the intent belongs to (the provider message id).
        turn_key: String,
        #[serde(flatten)]
        understood: Understood,
        model_version: Option<String>,
    },
    SlotsUpdated {
        state: DialogueState,
    },
    ReplyComposed {
        /// The turn it answers; `None` for a staff reply.
        turn_key: Option<String>,
        /// `bot` or `staff:<id>`.
        author: String,
        #[serde(flatten)]
        reply: Reply,
    },
    HandoffRequested {
        reason: HandoffReason,
    },
    HandoffResolved {
        resolved_by: String,
    },
    ReplyDelivered {
        reply_id: Uuid,
        #[serde(flatten)]
        outcome: DeliveryOutcome,
    },
}

impl DomainEvent for SessionEvent {
    fn event_type(&self) -> String {
        match self {
            Self::SessionStarted { .. } => "SessionStarted",
            Self::GuestMessageReceived { .. } => "GuestMessageReceived",
            Self::AudioTranscribed { .. } => "AudioTranscribed",
            Self::AudioTranscriptionFailed { .. } => "AudioTranscriptionFailed",
            Self::IntentRecognized { .. } => "IntentRecognized",
            Self::SlotsUpdated { .. } => "SlotsUpdated",
            Self::ReplyComposed { .. } => "ReplyComposed",
            Self::HandoffRequested { .. } => "HandoffRequested",
            Self::HandoffResolved { .. } => "HandoffResolved",
            Self::ReplyDelivered { .. } => "ReplyDelivered",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("a message must carry text, media or a location")]
    EmptyMessage,
    #[error("message belongs to conversation {expected}, not this one")]
    WrongConversation { expected: String },
    #[error("the conversation has no message {0}")]
    UnknownMessage(String),
    #[error("the conversation has no session yet")]
    NoSession,
    #[error("the conversation is with staff; the bot does not answer until they resolve it")]
    HandedOff,
    #[error("the conversation is not handed off to staff")]
    NotHandedOff,
    #[error("a reply must have text (at most 4096 characters)")]
    InvalidReply,
    #[error("the conversation has no reply {0}")]
    UnknownReply(Uuid),
}

impl SessionError {
    /// The stable code of this refusal, for the API's error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmptyMessage => "empty_message",
            Self::WrongConversation { .. } => "wrong_conversation",
            Self::UnknownMessage(_) => "unknown_message",
            Self::NoSession => "no_session",
            Self::HandedOff => "handed_off",
            Self::NotHandedOff => "not_handed_off",
            Self::InvalidReply => "invalid_reply",
            Self::UnknownReply(_) => "unknown_reply",
        }
    }
}

/// Longest reply a channel takes in one message (Telegram's limit; WhatsApp's is larger).
pub const MAX_REPLY_CHARS: usize = 4096;

/// The conversation as its events leave it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub tenant_id: Option<TenantId>,
    pub channel: Option<String>,
    pub guest_ref: Option<GuestRef>,
    /// The name the channel's profile last gave.
    pub guest_name: Option<String>,
    pub message_count: u64,
    pub last_message_at: Option<DateTime<Utc>>,
    /// Provider message ids already recorded: the dedupe set for webhook retries.
    pub seen_message_ids: BTreeSet<String>,
    /// Voice notes by provider message id, with their transcript once there is one.
    pub voice_notes: BTreeMap<String, Option<String>>,
    /// Turn keys already answered.
    pub answered: BTreeSet<String>,
    pub dialogue: DialogueState,
    /// Set while staff have the conversation.
    pub handoff: Option<HandoffReason>,
    /// Replies composed, and whether they were delivered (sent, or kept in the outbox).
    pub replies: BTreeMap<Uuid, bool>,
}

impl Session {
    /// The transcript of a voice note, once it has one.
    pub fn transcript(&self, provider_message_id: &str) -> Option<&str> {
        self.voice_notes
            .get(provider_message_id)
            .and_then(|t| t.as_deref())
    }

    /// The conversation as it will be once `message` is recorded: what the dialogue answers from,
    /// before the message and its answer are recorded together.
    pub fn with_message(&self, message: &GuestMessage) -> Result<Session, SessionError> {
        let mut after = self.clone();
        for event in self.record_message(message.clone())? {
            after.apply(event);
        }
        Ok(after)
    }

    fn check_reply(reply: &Reply) -> Result<(), SessionError> {
        let length = reply.text.chars().count();
        if reply.text.trim().is_empty() || length > MAX_REPLY_CHARS {
            return Err(SessionError::InvalidReply);
        }
        Ok(())
    }

    fn record_message(&self, message: GuestMessage) -> Result<Vec<SessionEvent>, SessionError> {
        if message.text.as_deref().is_none_or(|t| t.trim().is_empty())
            && message.media.is_none()
            && message.location.is_none()
        {
            return Err(SessionError::EmptyMessage);
        }
        if self.seen_message_ids.contains(&message.provider_message_id) {
            return Ok(vec![]);
        }
        let mut events = vec![];
        match (&self.tenant_id, &self.channel, &self.guest_ref) {
            (Some(t), Some(c), Some(g))
                if (t, c, g) != (&message.tenant_id, &message.channel, &message.guest_ref) =>
            {
                return Err(SessionError::WrongConversation {
                    expected: session_stream_id(t, c, g),
                });
            }
            (None, _, _) => events.push(SessionEvent::SessionStarted {
                tenant_id: message.tenant_id.clone(),
                channel: message.channel.clone(),
                guest_ref: message.guest_ref.clone(),
                started_at: message.received_at,
            }),
            _ => {}
        }
        events.push(SessionEvent::GuestMessageReceived {
            provider_message_id: message.provider_message_id,
            text: message.text,
            media: message.media,
            location: message.location,
            guest_name: message.guest_name,
            received_at: message.received_at,
        });
        Ok(events)
    }

    fn record_turn(&self, turn: Turn) -> Result<Vec<SessionEvent>, SessionError> {
        if self.tenant_id.is_none() {
            return Err(SessionError::NoSession);
        }
        if self.answered.contains(&turn.turn_key) {
            return Ok(vec![]);
        }
        if self.handoff.is_some() && !turn.replies.is_empty() {
            return Err(SessionError::HandedOff);
        }
        turn.replies.iter().try_for_each(Self::check_reply)?;
        let mut events = vec![];
        if let Some(understood) = turn.understood {
            events.push(SessionEvent::IntentRecognized {
                turn_key: turn.turn_key.clone(),
                understood,
                model_version: turn.model_version,
            });
        }
        if let Some(state) = turn.dialogue.filter(|s| s != &self.dialogue) {
            events.push(SessionEvent::SlotsUpdated { state });
        }
        events.extend(
            turn.replies
                .into_iter()
                .map(|reply| SessionEvent::ReplyComposed {
                    turn_key: Some(turn.turn_key.clone()),
                    author: "bot".to_owned(),
                    reply,
                }),
        );
        if let Some(reason) = turn.handoff.filter(|_| self.handoff.is_none()) {
            events.push(SessionEvent::HandoffRequested { reason });
        }
        Ok(events)
    }

    fn decide(&self, command: SessionCommand) -> Result<Vec<SessionEvent>, SessionError> {
        match command {
            SessionCommand::RecordGuestMessage(message) => self.record_message(message),
            SessionCommand::RecordTranscript {
                provider_message_id,
                text,
            } => match self.voice_notes.get(&provider_message_id) {
                None => Err(SessionError::UnknownMessage(provider_message_id)),
                Some(Some(_)) => Ok(vec![]),
                Some(None) => Ok(vec![SessionEvent::AudioTranscribed {
                    provider_message_id,
                    text,
                }]),
            },
            SessionCommand::RecordTranscriptionFailure {
                provider_message_id,
                reason,
                attempt,
            } => match self.voice_notes.get(&provider_message_id) {
                None => Err(SessionError::UnknownMessage(provider_message_id)),
                Some(Some(_)) => Ok(vec![]),
                Some(None) => Ok(vec![SessionEvent::AudioTranscriptionFailed {
                    provider_message_id,
                    reason,
                    attempt,
                }]),
            },
            SessionCommand::RecordTurn(turn) => self.record_turn(turn),
            SessionCommand::RecordAnsweredMessage { message, turn } => {
                let mut events = self.record_message(*message)?;
                let mut after = self.clone();
                events.iter().cloned().for_each(|e| after.apply(e));
                events.extend(after.record_turn(*turn)?);
                Ok(events)
            }
            SessionCommand::RecordStaffReply(reply) => {
                if self.tenant_id.is_none() {
                    return Err(SessionError::NoSession);
                }
                Self::check_reply(&reply)?;
                if self.replies.contains_key(&reply.reply_id) {
                    return Ok(vec![]);
                }
                Ok(vec![SessionEvent::ReplyComposed {
                    turn_key: None,
                    author: "staff".to_owned(),
                    reply,
                }])
            }
            SessionCommand::ResolveHandoff { resolved_by } => match self.handoff {
                None => Err(SessionError::NotHandedOff),
                Some(_) => Ok(vec![SessionEvent::HandoffResolved { resolved_by }]),
            },
            SessionCommand::RecordDeliveries { deliveries } => {
                let mut events = vec![];
                let mut delivered = BTreeSet::new();
                for (reply_id, outcome) in deliveries {
                    match self.replies.get(&reply_id) {
                        None => return Err(SessionError::UnknownReply(reply_id)),
                        Some(true) => continue,
                        Some(false) if delivered.contains(&reply_id) => continue,
                        Some(false) => {}
                    }
                    if !matches!(outcome, DeliveryOutcome::Failed { .. }) {
                        delivered.insert(reply_id);
                    }
                    events.push(SessionEvent::ReplyDelivered { reply_id, outcome });
                }
                Ok(events)
            }
        }
    }
}

impl Aggregate for Session {
    const TYPE: &'static str = "Session";
    type Command = SessionCommand;
    type Event = SessionEvent;
    type Error = SessionError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            SessionEvent::SessionStarted {
                tenant_id,
                channel,
                guest_ref,
                ..
            } => {
                self.tenant_id = Some(tenant_id);
                self.channel = Some(channel);
                self.guest_ref = Some(guest_ref);
            }
            SessionEvent::GuestMessageReceived {
                provider_message_id,
                media,
                guest_name,
                received_at,
                ..
            } => {
                if media.as_ref().is_some_and(|m| m.kind == "audio") {
                    self.voice_notes.insert(provider_message_id.clone(), None);
                }
                self.seen_message_ids.insert(provider_message_id);
                if guest_name.is_some() {
                    self.guest_name = guest_name;
                }
                self.message_count += 1;
                self.last_message_at = Some(received_at);
            }
            SessionEvent::AudioTranscribed {
                provider_message_id,
                text,
            } => {
                self.voice_notes.insert(provider_message_id, Some(text));
            }
            SessionEvent::AudioTranscriptionFailed { .. } => {}
            SessionEvent::IntentRecognized { turn_key, .. } => {
                self.answered.insert(turn_key);
            }
            SessionEvent::SlotsUpdated { state } => self.dialogue = state,
            SessionEvent::ReplyComposed {
                turn_key, reply, ..
            } => {
                if let Some(key) = turn_key {
                    self.answered.insert(key);
                }
                self.replies.insert(reply.reply_id, false);
            }
            SessionEvent::HandoffRequested { reason } => self.handoff = Some(reason),
            SessionEvent::HandoffResolved { .. } => {
                self.handoff = None;
                self.dialogue.low_confidence_streak = 0;
            }
            SessionEvent::ReplyDelivered { reply_id, outcome } => {
                // A failed attempt leaves the reply undelivered, so a redriven send can still
                // record its success.
                let delivered = !matches!(outcome, DeliveryOutcome::Failed { .. });
                self.replies.insert(reply_id, delivered);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use cqrs_es::test::TestFramework;

    fn message(id: &str) -> GuestMessage {
        GuestMessage {
            location: None,
            guest_name: None,
            tenant_id: TenantId::parse("hotel-sol").unwrap(),
            channel: "whatsapp".into(),
            guest_ref: GuestRef::parse("5491155551234").unwrap(),
            provider_message_id: id.into(),
            text: Some("hola".into()),
            media: None,
            received_at: Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap(),
        }
    }

    fn received(id: &str) -> SessionEvent {
        let m = message(id);
        SessionEvent::GuestMessageReceived {
            provider_message_id: m.provider_message_id,
            text: m.text,
            media: None,
            location: None,
            guest_name: None,
            received_at: m.received_at,
        }
    }

    fn started() -> SessionEvent {
        let m = message("x");
        SessionEvent::SessionStarted {
            tenant_id: m.tenant_id,
            channel: m.channel,
            guest_ref: m.guest_ref,
            started_at: m.received_at,
        }
    }

    #[test]
    fn a_message_is_bounded_in_length_and_in_time() {
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
        let mut long = message("m");
        long.text = Some("ñ".repeat(MAX_TEXT_CHARS + 10));
        long.received_at = Utc.with_ymd_and_hms(9999, 1, 1, 0, 0, 0).unwrap();
        let bounded = long.bounded(now);
        assert_eq!(bounded.text.unwrap().chars().count(), MAX_TEXT_CHARS);
        assert_eq!(bounded.received_at, now + RECEIVED_AT_FUTURE);
        let old = Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            GuestMessage::bounded_received_at(old, now),
            now - RECEIVED_AT_PAST
        );
        let fine = now - chrono::Duration::hours(3);
        assert_eq!(GuestMessage::bounded_received_at(fine, now), fine);
    }

    #[test]
    fn first_message_starts_the_session() {
        TestFramework::<Session>::with(())
            .given_no_previous_events()
            .when(SessionCommand::RecordGuestMessage(message("wamid.1")))
            .then_expect_events(vec![started(), received("wamid.1")]);
    }

    #[test]
    fn a_provider_message_id_is_recorded_once() {
        TestFramework::<Session>::with(())
            .given(vec![started(), received("wamid.1")])
            .when(SessionCommand::RecordGuestMessage(message("wamid.1")))
            .then_expect_events(vec![]);
    }

    #[test]
    fn an_empty_message_is_refused() {
        let mut empty = message("wamid.2");
        empty.text = Some(String::new());
        TestFramework::<Session>::with(())
            .given_no_previous_events()
            .when(SessionCommand::RecordGuestMessage(empty))
            .then_expect_error(SessionError::EmptyMessage);
    }

    #[test]
    fn a_message_of_another_conversation_is_refused() {
        let mut other = message("wamid.3");
        other.channel = "telegram".into();
        TestFramework::<Session>::with(())
            .given(vec![started()])
            .when(SessionCommand::RecordGuestMessage(other))
            .then_expect_error(SessionError::WrongConversation {
                expected: "hotel-sol/whatsapp/5491155551234".into(),
            });
    }

    fn reply(text: &str) -> Reply {
        Reply {
            reply_id: Uuid::from_u128(7),
            text: text.into(),
            language: crate::understanding::Language::Es,
            locale: None,
            template: "greeting".into(),
        }
    }

    fn turn(key: &str, handoff: Option<HandoffReason>) -> Turn {
        Turn {
            turn_key: key.into(),
            understood: None,
            model_version: None,
            dialogue: None,
            replies: vec![reply("¡Hola!")],
            handoff,
        }
    }

    fn composed(key: &str) -> SessionEvent {
        SessionEvent::ReplyComposed {
            turn_key: Some(key.into()),
            author: "bot".into(),
            reply: reply("¡Hola!"),
        }
    }

    #[test]
    fn a_turn_is_answered_once() {
        TestFramework::<Session>::with(())
            .given(vec![started(), received("wamid.1"), composed("wamid.1")])
            .when(SessionCommand::RecordTurn(turn("wamid.1", None)))
            .then_expect_events(vec![]);
    }

    #[test]
    fn the_bot_stays_silent_while_staff_have_the_conversation() {
        TestFramework::<Session>::with(())
            .given(vec![
                started(),
                SessionEvent::HandoffRequested {
                    reason: HandoffReason::GuestAsked,
                },
            ])
            .when(SessionCommand::RecordTurn(turn("wamid.2", None)))
            .then_expect_error(SessionError::HandedOff);
    }

    #[test]
    fn a_handoff_is_requested_once_and_resolved_only_when_open() {
        TestFramework::<Session>::with(())
            .given(vec![started()])
            .when(SessionCommand::RecordTurn(turn(
                "wamid.3",
                Some(HandoffReason::GuestAsked),
            )))
            .then_expect_events(vec![
                composed("wamid.3"),
                SessionEvent::HandoffRequested {
                    reason: HandoffReason::GuestAsked,
                },
            ]);
        TestFramework::<Session>::with(())
            .given(vec![started()])
            .when(SessionCommand::ResolveHandoff {
                resolved_by: "staff:ana".into(),
            })
            .then_expect_error(SessionError::NotHandedOff);
    }

    #[test]
    fn a_delivery_is_recorded_once_and_only_for_a_known_reply() {
        let delivered = SessionEvent::ReplyDelivered {
            reply_id: Uuid::from_u128(7),
            outcome: DeliveryOutcome::KeptInOutbox,
        };
        TestFramework::<Session>::with(())
            .given(vec![started(), composed("wamid.1"), delivered.clone()])
            .when(SessionCommand::RecordDeliveries {
                deliveries: vec![(Uuid::from_u128(7), DeliveryOutcome::KeptInOutbox)],
            })
            .then_expect_events(vec![]);
        TestFramework::<Session>::with(())
            .given(vec![started()])
            .when(SessionCommand::RecordDeliveries {
                deliveries: vec![(Uuid::from_u128(8), DeliveryOutcome::KeptInOutbox)],
            })
            .then_expect_error(SessionError::UnknownReply(Uuid::from_u128(8)));
    }

    #[test]
    fn a_voice_note_is_transcribed_once() {
        let mut voice = message("wamid.9");
        voice.text = None;
        voice.media = Some(MediaRef {
            kind: "audio".into(),
            provider_media_id: "media-1".into(),
            mime_type: Some("audio/ogg".into()),
            duration_seconds: None,
        });
        let received_voice = SessionEvent::GuestMessageReceived {
            provider_message_id: "wamid.9".into(),
            text: None,
            media: voice.media.clone(),
            location: None,
            guest_name: None,
            received_at: voice.received_at,
        };
        let transcribed = SessionEvent::AudioTranscribed {
            provider_message_id: "wamid.9".into(),
            text: "hola".into(),
        };
        let command = || SessionCommand::RecordTranscript {
            provider_message_id: "wamid.9".into(),
            text: "hola".into(),
        };
        TestFramework::<Session>::with(())
            .given(vec![started(), received_voice.clone()])
            .when(command())
            .then_expect_events(vec![transcribed.clone()]);
        TestFramework::<Session>::with(())
            .given(vec![started(), received_voice, transcribed])
            .when(command())
            .then_expect_events(vec![]);
    }

    #[test]
    fn a_message_and_its_answer_are_recorded_together_and_once() {
        let command = || SessionCommand::RecordAnsweredMessage {
            message: Box::new(message("wamid.1")),
            turn: Box::new(turn("wamid.1", None)),
        };
        TestFramework::<Session>::with(())
            .given_no_previous_events()
            .when(command())
            .then_expect_events(vec![started(), received("wamid.1"), composed("wamid.1")]);
        TestFramework::<Session>::with(())
            .given(vec![started(), received("wamid.1"), composed("wamid.1")])
            .when(command())
            .then_expect_events(vec![]);
        TestFramework::<Session>::with(())
            .given(vec![started(), received("wamid.1")])
            .when(command())
            .then_expect_events(vec![composed("wamid.1")]);
    }
}
