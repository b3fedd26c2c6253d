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

use crate::values::{GuestRef, TenantId};

mod command;
pub mod dialogue;
mod error;
mod event;
mod message;
pub mod receipt;

pub use command::{DeliveryOutcome, SessionCommand, Turn};
pub use dialogue::{DialogueState, Flow, Pending, Reply, Slots};
pub use error::SessionError;
pub use event::{HandoffReason, SessionEvent};
pub use message::{
    GuestMessage, MediaRef, SharedLocation, MAX_TEXT_CHARS, RECEIVED_AT_FUTURE, RECEIVED_AT_PAST,
};
pub use receipt::{Receipt, ReceiptFailure, ReceiptStatus};

/// WhatsApp's customer-service window: a business may send free-form messages to a guest for 24
/// hours after the guest's last message; after that only an approved template goes.
pub const WHATSAPP_WINDOW: chrono::Duration = chrono::Duration::hours(24);

/// The stream id of a conversation.
pub fn session_stream_id(tenant: &TenantId, channel: &str, guest: &GuestRef) -> String {
    format!("{tenant}/{channel}/{guest}")
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
    /// The platform's id of each reply it took (`ReplyDelivered`'s provider message id): what its
    /// receipts name.
    #[serde(default)]
    pub sent: BTreeMap<String, Uuid>,
    /// The last receipt recorded for each sent message, by the platform's id; a receipt may come
    /// before our record of the send, so this is keyed by the platform's id, not ours.
    #[serde(default)]
    pub receipts: BTreeMap<String, ReceiptStatus>,
}

impl Session {
    /// Whether a free-form message may go to the guest at `now`. On WhatsApp that is within
    /// [`WHATSAPP_WINDOW`] of the guest's last message (outside it only a template goes, and
    /// WhatsApp refuses anything else with 131047); other channels have no window.
    pub fn window_open(&self, now: DateTime<Utc>) -> bool {
        match self.channel.as_deref() {
            Some("whatsapp") => self
                .last_message_at
                .is_some_and(|last| now < last + WHATSAPP_WINDOW),
            _ => true,
        }
    }

    /// When WhatsApp's window closes (`None` on a channel without one, or before any message).
    pub fn window_closes_at(&self) -> Option<DateTime<Utc>> {
        match self.channel.as_deref() {
            Some("whatsapp") => self.last_message_at.map(|last| last + WHATSAPP_WINDOW),
            _ => None,
        }
    }

    /// The handoff when WhatsApp refused a reply for a closed window (on the send, or later in a
    /// `failed` receipt): the guest never got it and only a person or a template can reach them,
    /// so staff are told with the reason rather than the failure sitting in a log.
    fn hand_off_for_closed_window(&self, window_closed: bool) -> Option<SessionEvent> {
        (window_closed && self.handoff.is_none()).then_some(SessionEvent::HandoffRequested {
            reason: HandoffReason::WindowClosed,
        })
    }

    /// The events for `receipts`: one per receipt that tells more than the last recorded for its
    /// message (see [`receipt`]), in the order given, so a batch with a message's `sent` and
    /// `read` records both and a batch that repeats itself records each once.
    fn record_receipts(&self, receipts: Vec<Receipt>) -> Result<Vec<SessionEvent>, SessionError> {
        if self.tenant_id.is_none() {
            return Err(SessionError::NoSession);
        }
        let mut latest: BTreeMap<&str, ReceiptStatus> = BTreeMap::new();
        let mut events = vec![];
        let mut window_closed = false;
        for receipt in &receipts {
            let id = receipt.provider_message_id.as_str();
            let current = latest.get(id).or_else(|| self.receipts.get(id)).copied();
            if !receipt.status.supersedes(current) {
                continue;
            }
            latest.insert(id, receipt.status);
            window_closed |= receipt
                .failure
                .as_ref()
                .is_some_and(|f| f.code == receipt::WINDOW_CLOSED_CODE);
            events.push(SessionEvent::ReceiptRecorded {
                provider_message_id: receipt.provider_message_id.clone(),
                reply_id: self.sent.get(id).copied(),
                status: receipt.status,
                at: receipt.at,
                failure: receipt.failure.clone(),
            });
        }
        events.extend(self.hand_off_for_closed_window(window_closed));
        Ok(events)
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
            SessionCommand::RecordStaffReply { reply, at } => {
                if self.tenant_id.is_none() {
                    return Err(SessionError::NoSession);
                }
                Self::check_reply(&reply)?;
                if self.replies.contains_key(&reply.reply_id) {
                    return Ok(vec![]);
                }
                if !self.window_open(at) {
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
            SessionCommand::ResolveHandoff { resolved_by } => match self.handoff {
                None => Err(SessionError::NotHandedOff),
                Some(_) => Ok(vec![SessionEvent::HandoffResolved { resolved_by }]),
            },
            SessionCommand::RecordReceipts { receipts } => self.record_receipts(receipts),
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
                            window_closed: true,
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
                if let DeliveryOutcome::Sent {
                    provider_message_id: Some(id),
                } = outcome
                {
                    self.sent.insert(id, reply_id);
                }
            }
            SessionEvent::ReceiptRecorded {
                provider_message_id,
                status,
                ..
            } => {
                self.receipts.insert(provider_message_id, status);
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

    fn receipt(id: &str, status: ReceiptStatus, minute: u32) -> Receipt {
        Receipt {
            provider_message_id: id.into(),
            status,
            at: Utc.with_ymd_and_hms(2026, 11, 22, 12, minute, 0).unwrap(),
            failure: None,
        }
    }

    fn recorded(id: &str, reply: Option<u128>, status: ReceiptStatus, minute: u32) -> SessionEvent {
        SessionEvent::ReceiptRecorded {
            provider_message_id: id.into(),
            reply_id: reply.map(Uuid::from_u128),
            status,
            at: Utc.with_ymd_and_hms(2026, 11, 22, 12, minute, 0).unwrap(),
            failure: None,
        }
    }

    #[test]
    fn receipts_are_recorded_when_they_tell_more_in_any_order() {
        let sent = SessionEvent::ReplyDelivered {
            reply_id: Uuid::from_u128(7),
            outcome: DeliveryOutcome::Sent {
                provider_message_id: Some("wamid.out".into()),
            },
        };
        // A read before its delivered, then the delivered, then the read again: one event, and
        // it names our reply.
        TestFramework::<Session>::with(())
            .given(vec![started(), composed("wamid.1"), sent.clone()])
            .when(SessionCommand::RecordReceipts {
                receipts: vec![
                    receipt("wamid.out", ReceiptStatus::Read, 2),
                    receipt("wamid.out", ReceiptStatus::Delivered, 1),
                    receipt("wamid.out", ReceiptStatus::Read, 2),
                ],
            })
            .then_expect_events(vec![recorded("wamid.out", Some(7), ReceiptStatus::Read, 2)]);
        // After delivered, a failed (another device) records nothing.
        TestFramework::<Session>::with(())
            .given(vec![
                started(),
                composed("wamid.1"),
                sent,
                recorded("wamid.out", Some(7), ReceiptStatus::Delivered, 1),
            ])
            .when(SessionCommand::RecordReceipts {
                receipts: vec![receipt("wamid.out", ReceiptStatus::Failed, 3)],
            })
            .then_expect_events(vec![]);
        // A receipt before our record of the send is kept by the platform's id, with no reply.
        TestFramework::<Session>::with(())
            .given(vec![started()])
            .when(SessionCommand::RecordReceipts {
                receipts: vec![receipt("wamid.early", ReceiptStatus::Sent, 1)],
            })
            .then_expect_events(vec![recorded("wamid.early", None, ReceiptStatus::Sent, 1)]);
        TestFramework::<Session>::with(())
            .given_no_previous_events()
            .when(SessionCommand::RecordReceipts {
                receipts: vec![receipt("wamid.x", ReceiptStatus::Sent, 1)],
            })
            .then_expect_error(SessionError::NoSession);
    }

    #[test]
    fn a_reply_refused_for_a_closed_window_hands_the_conversation_to_staff_once() {
        let refused = DeliveryOutcome::Failed {
            reason: "131047".into(),
            window_closed: true,
        };
        let handoff = SessionEvent::HandoffRequested {
            reason: HandoffReason::WindowClosed,
        };
        TestFramework::<Session>::with(())
            .given(vec![started(), composed("wamid.1")])
            .when(SessionCommand::RecordDeliveries {
                deliveries: vec![(Uuid::from_u128(7), refused.clone())],
            })
            .then_expect_events(vec![
                SessionEvent::ReplyDelivered {
                    reply_id: Uuid::from_u128(7),
                    outcome: refused.clone(),
                },
                handoff.clone(),
            ]);
        // Already with staff: the failure is recorded, no second handoff.
        TestFramework::<Session>::with(())
            .given(vec![started(), composed("wamid.1"), handoff.clone()])
            .when(SessionCommand::RecordDeliveries {
                deliveries: vec![(Uuid::from_u128(7), refused.clone())],
            })
            .then_expect_events(vec![SessionEvent::ReplyDelivered {
                reply_id: Uuid::from_u128(7),
                outcome: refused,
            }]);
        // A `failed` receipt with 131047 does the same.
        let mut failed = receipt("wamid.out", ReceiptStatus::Failed, 3);
        failed.failure = Some(ReceiptFailure {
            code: receipt::WINDOW_CLOSED_CODE,
            title: "Re-engagement message".into(),
        });
        let SessionEvent::ReceiptRecorded { at, .. } =
            recorded("wamid.out", None, ReceiptStatus::Failed, 3)
        else {
            unreachable!()
        };
        TestFramework::<Session>::with(())
            .given(vec![started()])
            .when(SessionCommand::RecordReceipts {
                receipts: vec![failed.clone()],
            })
            .then_expect_events(vec![
                SessionEvent::ReceiptRecorded {
                    provider_message_id: "wamid.out".into(),
                    reply_id: None,
                    status: ReceiptStatus::Failed,
                    at,
                    failure: failed.failure,
                },
                handoff,
            ]);
    }

    #[test]
    fn the_whatsapp_window_closes_24_hours_after_the_guests_last_message() {
        let mut session = Session::default();
        for event in [started(), received("wamid.1")] {
            session.apply(event);
        }
        let last = message("wamid.1").received_at;
        assert!(session.window_open(last + chrono::Duration::hours(23)));
        assert!(!session.window_open(last + chrono::Duration::hours(24)));
        assert_eq!(
            session.window_closes_at(),
            Some(last + chrono::Duration::hours(24))
        );
        session.channel = Some("telegram".into());
        assert!(session.window_open(last + chrono::Duration::days(30)));
        assert_eq!(session.window_closes_at(), None);
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
