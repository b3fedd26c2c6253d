//! The `inbox` read model: one row per conversation with what the staff console's inbox shows —
//! who, on which channel, in what language, whether staff have it and since when the guest has
//! waited for an answer — in a SQL table (`inbox`), so the console lists a hotel's conversations
//! with one indexed query instead of reading every session's events.
//!
//! It holds the guest's display name (as the channel gave it), so it is one of the read models
//! rebuilt after a guest is forgotten. It holds no message text: the console reads the thread
//! from the session's events, where the text is sealed.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use conserje_domain::journal::StoredEvent;
use conserje_domain::session::{Session, SessionEvent};
use cqrs_es::Aggregate;

use crate::{EventHandler, ProjectionError};

/// The name of this projection's consumer and checkpoint.
pub const PROJECTION: &str = "inbox";

/// One conversation as the inbox lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRow {
    /// `tenant/channel/guest`.
    pub session_id: String,
    pub tenant_id: String,
    pub channel: String,
    pub guest_ref: String,
    /// The name the guest's platform gave (WhatsApp profile name), as last seen.
    pub guest_name: Option<String>,
    /// The language of the guest's last understood message (`es`, `en`, `pt`).
    pub language: Option<String>,
    pub handed_off: bool,
    /// Why, while handed off (`guest_asked`, `staff_took_over`…).
    pub handoff_reason: Option<String>,
    pub handed_off_at: Option<DateTime<Utc>>,
    /// The guest's oldest message nobody (bot or staff) has answered since; `None` when the last
    /// word was ours. What the inbox sorts handed-off conversations by.
    pub waiting_since: Option<DateTime<Utc>>,
    pub started_at: DateTime<Utc>,
    pub last_message_at: Option<DateTime<Utc>>,
    /// The last event of any kind (a reply, a receipt, a handoff).
    pub last_activity_at: DateTime<Utc>,
    pub message_count: i64,
    /// The last event applied: an event at or below it was already applied and is skipped.
    pub last_sequence: i64,
}

/// Applies one session event to its conversation's row (`None` before `SessionStarted`).
pub fn apply(
    row: Option<InboxRow>,
    session_id: &str,
    event: &SessionEvent,
    sequence: i64,
    at: DateTime<Utc>,
) -> Option<InboxRow> {
    if row.as_ref().is_some_and(|r| sequence <= r.last_sequence) {
        return row;
    }
    let mut row = match (row, event) {
        (Some(row), _) => row,
        (
            None,
            SessionEvent::SessionStarted {
                tenant_id,
                channel,
                guest_ref,
                started_at,
            },
        ) => InboxRow {
            session_id: session_id.to_owned(),
            tenant_id: tenant_id.to_string(),
            channel: channel.to_string(),
            guest_ref: guest_ref.to_string(),
            guest_name: None,
            language: None,
            handed_off: false,
            handoff_reason: None,
            handed_off_at: None,
            waiting_since: None,
            started_at: *started_at,
            last_message_at: None,
            last_activity_at: *started_at,
            message_count: 0,
            last_sequence: 0,
        },
        (None, _) => return None,
    };
    match event {
        SessionEvent::SessionStarted { .. } => {}
        SessionEvent::GuestMessageReceived {
            guest_name,
            received_at,
            edit,
            ..
        } => {
            if guest_name.is_some() {
                row.guest_name.clone_from(guest_name);
            }
            // An edit is a new version of a message already counted (and not answered again).
            if edit.is_none() {
                row.message_count += 1;
                row.waiting_since = row.waiting_since.or(Some(*received_at));
                row.last_message_at = Some(*received_at);
            }
        }
        SessionEvent::IntentRecognized { understood, .. } => {
            row.language = Some(understood.language.code().to_owned());
        }
        SessionEvent::ReplyComposed { .. } => row.waiting_since = None,
        SessionEvent::HandoffRequested { reason, taken_by } => {
            row.handed_off = true;
            row.handoff_reason = Some(reason.as_str().to_owned());
            row.handed_off_at = Some(at);
            // The bot's "a person will answer you" is not the answer the guest waits for: they
            // wait from their last message. Staff who take over unasked leave nobody waiting.
            if taken_by.is_none() {
                row.waiting_since = row.waiting_since.or(row.last_message_at);
            }
        }
        SessionEvent::HandoffResolved { .. } => {
            row.handed_off = false;
            row.handoff_reason = None;
            row.handed_off_at = None;
        }
        SessionEvent::AudioTranscribed { .. }
        | SessionEvent::AudioTranscriptionFailed { .. }
        | SessionEvent::SlotsUpdated { .. }
        | SessionEvent::ReplyDelivered { .. }
        | SessionEvent::ReceiptRecorded { .. } => {}
    }
    row.last_activity_at = row.last_activity_at.max(at);
    row.last_sequence = sequence;
    Some(row)
}

/// What the inbox shows: the filters of its form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxFilter {
    pub handed_off_only: bool,
    pub channel: Option<String>,
    pub language: Option<String>,
    /// Only conversations with activity at or after this instant (the console's "today").
    pub active_since: Option<DateTime<Utc>>,
}

/// A hotel's inbox at a glance: what the console's live updates compare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InboxPulse {
    pub conversations: i64,
    /// Handed off with the guest waiting for an answer.
    pub waiting: i64,
    /// Grows with every event applied to any of the hotel's rows (sequences only grow), so an
    /// unchanged pulse means an unchanged inbox.
    pub version: i64,
}

/// Where the rows live (PostgreSQL or SQLite table `inbox`, implemented in infra).
#[async_trait]
pub trait InboxRows: Send + Sync {
    async fn get(&self, session_id: &str) -> Result<Option<InboxRow>, ProjectionError>;
    async fn upsert(&self, row: &InboxRow) -> Result<(), ProjectionError>;
    /// A hotel's conversations: handed off first, the longest-waiting guest first among them,
    /// then the most recently active; at most `limit`.
    async fn list(
        &self,
        tenant_id: &str,
        filter: &InboxFilter,
        limit: u32,
    ) -> Result<Vec<InboxRow>, ProjectionError>;
    async fn pulse(&self, tenant_id: &str) -> Result<InboxPulse, ProjectionError>;
}

/// The projection: session events in, inbox rows out.
pub struct InboxProjection {
    rows: Arc<dyn InboxRows>,
}

impl InboxProjection {
    pub fn new(rows: Arc<dyn InboxRows>) -> Self {
        Self { rows }
    }
}

#[async_trait]
impl EventHandler for InboxProjection {
    async fn handle(&self, stored: &StoredEvent) -> Result<(), ProjectionError> {
        if stored.aggregate_type != Session::TYPE {
            return Ok(());
        }
        let event = ProjectionError::decode::<Session>(stored)?;
        let current = self.rows.get(&stored.aggregate_id).await?;
        let unchanged = current.clone();
        let next = apply(
            current,
            &stored.aggregate_id,
            &event,
            stored.sequence,
            stored.recorded_at,
        );
        match next {
            Some(row) if Some(&row) != unchanged.as_ref() => self.rows.upsert(&row).await,
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use conserje_domain::session::{HandoffReason, Reply};
    use conserje_domain::understanding::Language;
    use conserje_domain::values::{Channel, GuestRef, TenantId};

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 4, 10, minute, 0).unwrap()
    }

    fn started() -> SessionEvent {
        SessionEvent::SessionStarted {
            tenant_id: TenantId::parse("sol").unwrap(),
            channel: Channel::WhatsApp,
            guest_ref: GuestRef::parse("34600111222").unwrap(),
            started_at: at(0),
        }
    }

    fn message(minute: u32, name: Option<&str>) -> SessionEvent {
        SessionEvent::GuestMessageReceived {
            provider_message_id: format!("wamid.{minute}"),
            text: Some("hola".into()),
            media: None,
            location: None,
            guest_name: name.map(str::to_owned),
            received_at: at(minute),
            reaction: None,
            contacts: None,
            edit: None,
        }
    }

    fn reply() -> SessionEvent {
        SessionEvent::ReplyComposed {
            turn_key: None,
            author: "bot".into(),
            reply: Reply {
                reply_id: uuid::Uuid::now_v7(),
                text: "ok".into(),
                language: Language::Es,
                locale: None,
                template: "x".into(),
                message_template: None,
                choices: None,
                proactive: None,
            },
        }
    }

    fn run(events: &[(SessionEvent, u32)]) -> InboxRow {
        let mut row = None;
        for (n, (event, minute)) in events.iter().enumerate() {
            row = apply(
                row,
                "sol/whatsapp/34600111222",
                event,
                n as i64 + 1,
                at(*minute),
            );
        }
        row.expect("a row")
    }

    #[test]
    fn a_guest_handed_to_staff_waits_from_their_last_unanswered_message() {
        let row = run(&[
            (started(), 0),
            (message(1, Some("Ana")), 1),
            (reply(), 1),
            (message(5, None), 5),
            (reply(), 5),
            (
                SessionEvent::HandoffRequested {
                    reason: HandoffReason::GuestAsked,
                    taken_by: None,
                },
                5,
            ),
            (message(7, None), 7),
        ]);
        assert!(row.handed_off);
        assert_eq!(row.handoff_reason.as_deref(), Some("guest_asked"));
        assert_eq!(row.waiting_since, Some(at(5)));
        assert_eq!(row.guest_name.as_deref(), Some("Ana"));
        assert_eq!(row.message_count, 3);
        assert_eq!(row.last_message_at, Some(at(7)));
    }

    #[test]
    fn a_staff_reply_ends_the_wait_and_handing_back_clears_the_handoff() {
        let row = run(&[
            (started(), 0),
            (message(1, None), 1),
            (
                SessionEvent::HandoffRequested {
                    reason: HandoffReason::StaffTookOver,
                    taken_by: Some("staff:ana".into()),
                },
                2,
            ),
            (reply(), 3),
        ]);
        assert!(row.handed_off);
        assert_eq!(row.waiting_since, None);
        let events = vec![
            (started(), 0),
            (
                SessionEvent::HandoffRequested {
                    reason: HandoffReason::GuestAsked,
                    taken_by: None,
                },
                1,
            ),
            (
                SessionEvent::HandoffResolved {
                    resolved_by: "staff:ana".into(),
                },
                2,
            ),
        ];
        let row = run(&events);
        assert!(!row.handed_off);
        assert_eq!(row.handoff_reason, None);
        assert_eq!(row.last_activity_at, at(2));
    }

    #[test]
    fn an_event_applied_twice_changes_nothing() {
        let row = run(&[(started(), 0), (message(1, None), 1)]);
        let again = apply(
            Some(row.clone()),
            "sol/whatsapp/34600111222",
            &message(1, None),
            2,
            at(1),
        );
        assert_eq!(again, Some(row));
    }
}
