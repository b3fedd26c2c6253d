//! The `session-view` read model: each conversation's recent messages and state, by session id,
//! in the key-value store.
//!
//! A view lives as long as its session: its key expires `session_ttl` after the last guest
//! message, so abandoned conversations leave nothing behind, and a replay does not resurrect
//! sessions that have already expired.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use conserje_domain::journal::StoredEvent;
use conserje_domain::ports::Clock;
use conserje_domain::session::{MediaKind, Session, SessionEvent};
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use crate::key_space::KeySpace;
use crate::write_behind::WriteBehind;
use crate::{EventHandler, ProjectionError};

/// The consumer group of this projection.
pub const PROJECTION: &str = "session-view";

/// How many recent messages a view keeps.
pub const RECENT_MESSAGES: usize = 20;

/// One guest message as the view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageLine {
    pub provider_message_id: String,
    pub text: Option<String>,
    pub media_kind: Option<MediaKind>,
    /// The emoji of a reaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction: Option<String>,
    pub received_at: DateTime<Utc>,
}

/// A conversation as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub session_id: String,
    pub tenant_id: String,
    pub channel: String,
    pub guest_ref: String,
    /// `active` until handoff and expiry arrive with the conversation features.
    pub state: String,
    pub language: Option<String>,
    pub started_at: DateTime<Utc>,
    pub message_count: u64,
    pub last_message_at: Option<DateTime<Utc>>,
    pub recent_messages: Vec<MessageLine>,
    /// The last event applied: a redelivered event at or below it is skipped.
    pub last_sequence: i64,
}

/// The state of a conversation the bot answers.
pub const ACTIVE: &str = "active";
/// The state of a conversation staff have taken over.
pub const HANDED_OFF: &str = "handed_off";

/// Applies a session event to its view (`None` before `SessionStarted`).
pub fn apply(
    view: Option<SessionView>,
    session_id: &str,
    event: &SessionEvent,
    sequence: i64,
) -> Option<SessionView> {
    if view.as_ref().is_some_and(|v| sequence <= v.last_sequence) {
        return view;
    }
    let mut view = match (view, event) {
        (Some(view), _) => view,
        (
            None,
            SessionEvent::SessionStarted {
                tenant_id,
                channel,
                guest_ref,
                started_at,
            },
        ) => SessionView {
            session_id: session_id.to_owned(),
            tenant_id: tenant_id.to_string(),
            channel: channel.to_string(),
            guest_ref: guest_ref.to_string(),
            state: ACTIVE.to_owned(),
            language: None,
            started_at: *started_at,
            message_count: 0,
            last_message_at: None,
            recent_messages: Vec::new(),
            last_sequence: 0,
        },
        (None, _) => return None,
    };
    match event {
        SessionEvent::IntentRecognized { understood, .. } => {
            view.language = Some(understood.language.code().to_owned());
        }
        SessionEvent::HandoffRequested { .. } => view.state = HANDED_OFF.to_owned(),
        SessionEvent::HandoffResolved { .. } => view.state = ACTIVE.to_owned(),
        _ => {}
    }
    if let SessionEvent::GuestMessageReceived {
        provider_message_id,
        text,
        media,
        received_at,
        reaction,
        ..
    } = event
    {
        view.message_count += 1;
        view.last_message_at = Some(*received_at);
        view.recent_messages.push(MessageLine {
            provider_message_id: provider_message_id.clone(),
            text: text.clone(),
            media_kind: media.as_ref().map(|m| m.kind),
            reaction: reaction.as_ref().map(|r| r.emoji.clone()),
            received_at: *received_at,
        });
        let excess = view.recent_messages.len().saturating_sub(RECENT_MESSAGES);
        view.recent_messages.drain(..excess);
    }
    view.last_sequence = sequence;
    Some(view)
}

/// Reads and writes session views in a key space.
pub struct SessionViews {
    keys: KeySpace,
    session_ttl: Duration,
    clock: Arc<dyn Clock>,
    /// Views the batch being applied changed, written at its flush.
    batch: WriteBehind<SessionView>,
}

impl SessionViews {
    pub fn new(keys: KeySpace, session_ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            keys,
            session_ttl,
            clock,
            batch: WriteBehind::default(),
        }
    }

    /// The same views written into another key space: what a replay builds.
    pub fn in_space(&self, keys: KeySpace) -> Self {
        Self {
            keys,
            session_ttl: self.session_ttl,
            clock: self.clock.clone(),
            batch: WriteBehind::default(),
        }
    }

    pub fn keys(&self) -> &KeySpace {
        &self.keys
    }

    /// The view of one conversation, if it exists and has not expired.
    pub async fn get(&self, session_id: &str) -> Result<Option<SessionView>, ProjectionError> {
        self.view_at(&self.keys.key(session_id).await?).await
    }

    async fn view_at(&self, key: &str) -> Result<Option<SessionView>, ProjectionError> {
        match self.keys.store().get(key).await? {
            Some(json) => serde_json::from_str(&json)
                .map(Some)
                .map_err(|e| ProjectionError::Storage(format!("session view: {e}"))),
            None => Ok(None),
        }
    }

    /// Time left before the view expires: the session TTL counted from its last message.
    fn remaining(&self, view: &SessionView) -> Option<Duration> {
        let last = view.last_message_at.unwrap_or(view.started_at);
        let expires = last + chrono::Duration::from_std(self.session_ttl).ok()?;
        (expires - self.clock.now()).to_std().ok()
    }
}

#[async_trait]
impl EventHandler for SessionViews {
    async fn handle(&self, stored: &StoredEvent) -> Result<(), ProjectionError> {
        if stored.aggregate_type != Session::TYPE {
            return Ok(());
        }
        let event = ProjectionError::decode::<Session>(stored)?;
        let key = self.keys.key(&stored.aggregate_id).await?;
        // The batch's own copy is taken, not cloned: a view holds up to 20 messages, and a copy
        // per event was most of a replay's time.
        let (current, buffered) = match self.batch.take(&key) {
            Some(view) => (Some(view), true),
            None => (self.view_at(&key).await?, false),
        };
        let before = current.as_ref().map(|view| view.last_sequence);
        let Some(next) = apply(current, &stored.aggregate_id, &event, stored.sequence) else {
            return Ok(());
        };
        // `apply` moves `last_sequence` whenever it changes the view, so this is "changed".
        let changed = before != Some(next.last_sequence);
        if changed || buffered {
            if let Some(ttl) = self.remaining(&next).filter(|ttl| !ttl.is_zero()) {
                self.batch.put(key, next, ttl);
            }
        }
        Ok(())
    }

    async fn flush(&self) -> Result<(), ProjectionError> {
        self.batch.flush(self.keys.store().as_ref()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use conserje_domain::values::{Channel, GuestRef, TenantId};

    fn started() -> SessionEvent {
        SessionEvent::SessionStarted {
            tenant_id: TenantId::parse("hotel-sol").unwrap(),
            channel: Channel::WhatsApp,
            guest_ref: GuestRef::parse("5491155551234").unwrap(),
            started_at: Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap(),
        }
    }

    fn received(n: u32) -> SessionEvent {
        SessionEvent::GuestMessageReceived {
            provider_message_id: format!("wamid.{n}"),
            text: Some(format!("hola {n}")),
            media: None,
            location: None,
            guest_name: None,
            received_at: Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, n).unwrap(),
            reaction: None,
            contacts: None,
            edit: None,
        }
    }

    #[test]
    fn the_view_counts_messages_keeps_the_recent_ones_and_ignores_repeats() {
        let id = "hotel-sol/whatsapp/5491155551234";
        let mut view = apply(None, id, &started(), 1);
        for n in 0..25 {
            view = apply(view, id, &received(n), i64::from(n) + 2);
        }
        let again = apply(view.clone(), id, &received(3), 5);
        assert_eq!(again, view, "a redelivered event changes nothing");
        let view = view.unwrap();
        assert_eq!(view.message_count, 25);
        assert_eq!(view.recent_messages.len(), RECENT_MESSAGES);
        assert_eq!(view.recent_messages[0].provider_message_id, "wamid.5");
        assert_eq!(view.last_sequence, 26);
    }

    #[test]
    fn no_view_before_the_session_started() {
        assert_eq!(apply(None, "s", &received(1), 2), None);
    }
}
