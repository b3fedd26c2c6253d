//! WhatsApp's customer-service window: a business may send free-form messages to a guest for 24
//! hours after the guest's last message; after that only an approved template goes, and WhatsApp
//! refuses anything else with 131047.

use chrono::{DateTime, Utc};

use super::{HandoffReason, Session, SessionEvent};
use crate::values::Channel;

/// How long the window stays open after the guest's last message.
pub const WHATSAPP_WINDOW: chrono::Duration = chrono::Duration::hours(24);

impl Session {
    /// Whether a free-form message may go to the guest at `now`. On WhatsApp that is within
    /// [`WHATSAPP_WINDOW`] of the guest's last message (outside it only a template goes, and
    /// WhatsApp refuses anything else with 131047); other channels have no window.
    pub fn window_open(&self, now: DateTime<Utc>) -> bool {
        match self.channel {
            Some(Channel::WhatsApp) => self
                .last_message_at
                .is_some_and(|last| now < last + WHATSAPP_WINDOW),
            _ => true,
        }
    }

    /// When WhatsApp's window closes (`None` on a channel without one, or before any message).
    pub fn window_closes_at(&self) -> Option<DateTime<Utc>> {
        match self.channel {
            Some(Channel::WhatsApp) => self.last_message_at.map(|last| last + WHATSAPP_WINDOW),
            _ => None,
        }
    }

    /// The handoff when WhatsApp refused a reply for a closed window (on the send, or later in a
    /// `failed` receipt): the guest never got it and only a person or a template can reach them,
    /// so staff are told with the reason rather than the failure sitting in a log.
    pub(super) fn hand_off_for_closed_window(&self, window_closed: bool) -> Option<SessionEvent> {
        (window_closed && self.handoff.is_none()).then_some(SessionEvent::HandoffRequested {
            reason: HandoffReason::WindowClosed,
            taken_by: None,
        })
    }
}
