//! The `Session` aggregate: one guest's conversation on one channel with one hotel.
//!
//! Its stream id is `tenant/channel/guest`. Every guest message is recorded exactly once per
//! provider message id, so a webhook delivered twice is a no-op, and each message is its own
//! event, so concurrent messages cannot overwrite each other (the old system lost updates when a
//! text and an image arrived together).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use uuid::Uuid;

use crate::values::{Channel, GuestRef, TenantId};

mod command;
pub mod dialogue;
mod error;
mod event;
mod message;
pub mod receipt;
mod window;

pub use command::{DeliveryOutcome, FailureCause, SessionCommand, Turn};
pub use dialogue::{DialogueState, Flow, Pending, Reply, Slots};
pub use error::SessionError;
pub use event::{HandoffReason, SessionEvent};
pub use message::{
    Edit, GuestMessage, MediaKind, MediaRef, Reaction, ReactionMeaning, SharedContact,
    SharedLocation, MAX_TEXT_CHARS, RECEIVED_AT_FUTURE, RECEIVED_AT_PAST,
};
pub use receipt::{Receipt, ReceiptFailure, ReceiptStatus};
pub use window::WHATSAPP_WINDOW;

/// The stream id of a conversation.
pub fn session_stream_id(tenant: &TenantId, channel: Channel, guest: &GuestRef) -> String {
    format!("{tenant}/{channel}/{guest}")
}

/// The tenant, channel and guest of a session stream id (`tenant/channel/guest`): the inverse of
/// [`session_stream_id`]. A guest ref may itself hold `/` (a Telegram `@channel/thread`), so only
/// the first two separate.
pub fn conversation_of(session_id: &str) -> Option<(TenantId, Channel, GuestRef)> {
    let mut parts = session_id.splitn(3, '/');
    let tenant = TenantId::parse(parts.next()?).ok()?;
    let channel = Channel::parse(parts.next()?).ok()?;
    let guest = GuestRef::parse(parts.next()?).ok()?;
    Some((tenant, channel, guest))
}

/// Longest reply a channel takes in one message (Telegram's limit; WhatsApp's is larger).
pub const MAX_REPLY_CHARS: usize = 4096;

/// The conversation as its events leave it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub tenant_id: Option<TenantId>,
    pub channel: Option<Channel>,
    pub guest_ref: Option<GuestRef>,
    /// The name the channel's profile last gave.
    pub guest_name: Option<String>,
    pub message_count: u64,
    /// When the guest last wrote (reactions aside): what WhatsApp's window runs from.
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
    /// The platform's id of each reply it took (`ReplyDelivered`'s provider message id): what its
    /// receipts name.
    #[serde(default)]
    pub sent: BTreeMap<String, Uuid>,
    /// The last receipt recorded for each sent message, by the platform's id; a receipt may come
    /// before our record of the send, so this is keyed by the platform's id, not ours.
    #[serde(default)]
    pub receipts: BTreeMap<String, ReceiptStatus>,
    /// The last reply that offered buttons: the question a 👍 on it answers. A reaction to any
    /// other message (an old quote, "see you soon") must not book or cancel anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_offer: Option<Uuid>,
}

impl Session {
    /// Whether `reaction` names the reply that asked the question still pending.
    pub fn reacts_to_open_question(&self, reaction: &Reaction) -> bool {
        self.dialogue.pending.is_some()
            && self.last_offer.is_some()
            && self.sent.get(&reaction.to) == self.last_offer.as_ref()
    }

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
        if !message.has_content() {
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
                    expected: session_stream_id(t, *c, g),
                });
            }
            (None, _, _) => events.push(SessionEvent::SessionStarted {
                tenant_id: message.tenant_id.clone(),
                channel: message.channel,
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
            reaction: message.reaction,
            contacts: message.contacts,
            edit: message.edit,
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
            events.push(SessionEvent::HandoffRequested {
                reason,
                taken_by: None,
            });
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
            SessionCommand::RecordStaffReply { reply, at } => {
                if self.tenant_id.is_none() {
                    return Err(SessionError::NoSession);
                }
                Self::check_reply(&reply)?;
                if self.replies.contains_key(&reply.reply_id) {
                    return Ok(vec![]);
                }
                // A message template is the one thing WhatsApp delivers outside the window.
                if !self.window_open(at) && reply.message_template.is_none() {
                    return Err(SessionError::WindowClosed {
                        closed_at: self.window_closes_at().unwrap_or(at),
                    });
                }
                Ok(vec![SessionEvent::ReplyComposed {
                    turn_key: None,
                    author: "staff".to_owned(),
                    reply,
                }])
            }
            SessionCommand::RecordProactiveMessage {
                tenant_id,
                channel,
                guest_ref,
                turn_key,
                reply,
                at,
            } => {
                Self::check_reply(&reply)?;
                let mut events = vec![];
                match (&self.tenant_id, &self.channel, &self.guest_ref) {
                    (None, _, _) => events.push(SessionEvent::SessionStarted {
                        tenant_id,
                        channel,
                        guest_ref,
                        started_at: at,
                    }),
                    (Some(t), Some(c), Some(g))
                        if (t, c, g) != (&tenant_id, &channel, &guest_ref) =>
                    {
                        return Err(SessionError::WrongConversation {
                            expected: session_stream_id(t, *c, g),
                        });
                    }
                    _ if self.answered.contains(&turn_key) => return Ok(vec![]),
                    _ => {}
                }
                events.push(SessionEvent::ReplyComposed {
                    turn_key: Some(turn_key),
                    author: "bot".to_owned(),
                    reply,
                });
                Ok(events)
            }
            // Staff may take over a conversation the bot is handling; taking one already with
            // staff would record a second handoff (and count it twice in the analysts' figures).
            SessionCommand::TakeOver { taken_by } => match self.handoff {
                Some(_) => Err(SessionError::AlreadyHandedOff),
                None => Ok(vec![SessionEvent::HandoffRequested {
                    reason: HandoffReason::StaffTookOver,
                    taken_by: Some(taken_by),
                }]),
            },
            SessionCommand::ResolveHandoff { resolved_by } => match self.handoff {
                None => Err(SessionError::NotHandedOff),
                Some(_) => Ok(vec![SessionEvent::HandoffResolved { resolved_by }]),
            },
            SessionCommand::RecordReceipts {
                receipts,
                template_fallback,
            } => self.record_receipts(receipts, template_fallback),
            SessionCommand::RecordDeliveries { deliveries } => {
                let mut events = vec![];
                let mut delivered = BTreeSet::new();
                let mut window_closed = false;
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
                    window_closed |= matches!(
                        outcome,
                        DeliveryOutcome::Failed {
                            cause: FailureCause::WindowClosed,
                            ..
                        }
                    );
                    events.push(SessionEvent::ReplyDelivered { reply_id, outcome });
                }
                events.extend(self.hand_off_for_closed_window(window_closed));
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
                reaction,
                ..
            } => {
                if media.as_ref().is_some_and(|m| m.kind == MediaKind::Audio) {
                    self.voice_notes.insert(provider_message_id.clone(), None);
                }
                self.seen_message_ids.insert(provider_message_id);
                if guest_name.is_some() {
                    self.guest_name = guest_name;
                }
                self.message_count += 1;
                // A reaction does not open WhatsApp's window: Meta documents only messages as
                // opening it, and a free-form answer to a 👍 at hour 25 would be refused.
                if reaction.is_none() {
                    self.last_message_at = Some(received_at);
                }
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
                if reply.choices.is_some() {
                    self.last_offer = Some(reply.reply_id);
                }
                self.replies.insert(reply.reply_id, false);
            }
            SessionEvent::HandoffRequested { reason, .. } => self.handoff = Some(reason),
            SessionEvent::HandoffResolved { .. } => {
                self.handoff = None;
                self.dialogue.low_confidence_streak = 0;
            }
            SessionEvent::ReplyDelivered { reply_id, outcome } => {
                // A failed attempt leaves the reply undelivered, so a redriven send can still
                // record its success.
                let delivered = !matches!(outcome, DeliveryOutcome::Failed { .. });
                self.replies.insert(reply_id, delivered);
                if let DeliveryOutcome::Sent {
                    provider_message_id: Some(id),
                    ..
                } = outcome
                {
                    self.sent.insert(id, reply_id);
                }
            }
            SessionEvent::ReceiptRecorded {
                provider_message_id,
                reply_id,
                status,
                failure,
                ..
            } => {
                // Refused for the closed window after WhatsApp had taken it: the guest never got
                // it, so it is undelivered again and a resend as a template can be recorded.
                let window_closed = failure
                    .as_ref()
                    .is_some_and(|f| f.code == receipt::WINDOW_CLOSED_CODE);
                if let (Some(reply), true) = (reply_id, window_closed) {
                    self.replies.insert(reply, false);
                }
                self.receipts.insert(provider_message_id, status);
            }
        }
    }
}

#[cfg(test)]
mod tests;
