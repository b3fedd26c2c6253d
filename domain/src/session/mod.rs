//! The `Session` aggregate: one guest's conversation on one channel with one hotel.
//!
//! Its stream id is `tenant/channel/guest`. Every guest message is recorded exactly once per
//! provider message id, so a webhook delivered twice is a no-op, and each message is its own
//! event, so concurrent messages cannot overwrite each other (the old system lost updates when a
//! text and an image arrived together).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::values::{GuestRef, TenantId};

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SessionCommand {
    RecordGuestMessage(GuestMessage),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
        received_at: DateTime<Utc>,
    },
}

impl DomainEvent for SessionEvent {
    fn event_type(&self) -> String {
        match self {
            Self::SessionStarted { .. } => "SessionStarted",
            Self::GuestMessageReceived { .. } => "GuestMessageReceived",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("a message must carry text or media")]
    EmptyMessage,
    #[error("message belongs to conversation {expected}, not this one")]
    WrongConversation { expected: String },
}

/// The conversation as its events leave it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub tenant_id: Option<TenantId>,
    pub channel: Option<String>,
    pub guest_ref: Option<GuestRef>,
    pub message_count: u64,
    pub last_message_at: Option<DateTime<Utc>>,
    /// Provider message ids already recorded: the dedupe set for webhook retries.
    pub seen_message_ids: BTreeSet<String>,
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
        let SessionCommand::RecordGuestMessage(message) = command;
        if message.text.as_deref().is_none_or(str::is_empty) && message.media.is_none() {
            return Err(SessionError::EmptyMessage);
        }
        if self.seen_message_ids.contains(&message.provider_message_id) {
            return Ok(());
        }
        match (&self.tenant_id, &self.channel, &self.guest_ref) {
            (Some(t), Some(c), Some(g))
                if (t, c, g) != (&message.tenant_id, &message.channel, &message.guest_ref) =>
            {
                return Err(SessionError::WrongConversation {
                    expected: session_stream_id(t, c, g),
                });
            }
            (None, _, _) => {
                sink.write(
                    SessionEvent::SessionStarted {
                        tenant_id: message.tenant_id.clone(),
                        channel: message.channel.clone(),
                        guest_ref: message.guest_ref.clone(),
                        started_at: message.received_at,
                    },
                    self,
                )
                .await;
            }
            _ => {}
        }
        sink.write(
            SessionEvent::GuestMessageReceived {
                provider_message_id: message.provider_message_id,
                text: message.text,
                media: message.media,
                received_at: message.received_at,
            },
            self,
        )
        .await;
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
                received_at,
                ..
            } => {
                self.seen_message_ids.insert(provider_message_id);
                self.message_count += 1;
                self.last_message_at = Some(received_at);
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
}
