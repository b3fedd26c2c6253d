//! The proactive messages as a process manager over the reservation events (the rules are in
//! `conserje_domain::proactive`).
//!
//! Fed from the event store like the booking process: a confirmed reservation sets its
//! pre-arrival and review timers (rows in the store, so a restart in the middle of a wait loses
//! none) and, when it was booked outside a conversation, is confirmed to the guest's WhatsApp at
//! once; a change moves the timers and, when staff or the PMS made it, is told to the guest; a
//! cancellation drops every timer and is told the same way. [`ProactiveMessages::send_due`] fires
//! the timers that are due, in the one process holding its lease.
//!
//! Exactly once: each message is recorded on the conversation under a turn key of its
//! reservation and kind, which the `Session` records once, so a replayed event or a timer fired
//! again after a crash (between the send and the clearing of its row) says nothing twice. A
//! timer whose reservation is no longer confirmed is dropped, never fired.

use std::sync::Arc;

use conserje_domain::hotel::{HotelProfile, HotelProfiles};
use conserje_domain::journal::{AggregateStore, StoredEvent};
use conserje_domain::metadata::{keys, Actor};
use conserje_domain::ports::{Clock, HotelDirectory};
use conserje_domain::proactive::{ProactiveKind, ProactiveTimers};
use conserje_domain::reservation::{Reservation, ReservationEvent, ReservationStatus};
use conserje_domain::session::{conversation_of, session_stream_id, SessionCommand};
use conserje_domain::template::TemplatePurpose;
use conserje_domain::values::{Channel, GuestRef, TenantId};
use conserje_domain::EventMetadata;
use cqrs_es::Aggregate;
use uuid::Uuid;

use crate::dialogue::proactive_reply;
use crate::replies::ReplyBook;
use crate::{CommandError, Conversations};

/// The actor recorded on the messages this process writes.
pub const COMPONENT: &str = "proactive-messages";

/// How many due timers one round fires.
const ROUND: u32 = 100;

pub struct ProactiveMessages {
    reservations: Arc<dyn AggregateStore<Reservation>>,
    conversations: Arc<Conversations>,
    book: ReplyBook,
    profiles: Arc<dyn HotelProfiles>,
    directory: Arc<dyn HotelDirectory>,
    timers: Arc<dyn ProactiveTimers>,
    clock: Arc<dyn Clock>,
}

fn timers_error(err: String) -> CommandError {
    CommandError::Store(format!("proactive timers: {err}"))
}

impl ProactiveMessages {
    pub fn new(
        reservations: Arc<dyn AggregateStore<Reservation>>,
        conversations: Arc<Conversations>,
        book: ReplyBook,
        profiles: Arc<dyn HotelProfiles>,
        directory: Arc<dyn HotelDirectory>,
        timers: Arc<dyn ProactiveTimers>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            reservations,
            conversations,
            book,
            profiles,
            directory,
            timers,
            clock,
        }
    }

    async fn load(&self, id: Uuid) -> Result<Reservation, CommandError> {
        self.reservations
            .load(&id.to_string())
            .await
            .map_err(|e| CommandError::Store(e.to_string()))
    }

    /// Keeps the timers in step with a stored reservation event and sends what it calls for at
    /// once; other events are ignored.
    pub async fn react(&self, event: &StoredEvent) -> Result<(), CommandError> {
        if event.aggregate_type != Reservation::TYPE {
            return Ok(());
        }
        let Ok(id) = Uuid::parse_str(&event.aggregate_id) else {
            return Ok(());
        };
        let Ok(decoded) = event.decode::<Reservation>() else {
            return Ok(());
        };
        // A change the guest made in their conversation was answered there; one by staff, an
        // integration or the PMS is news to them.
        let by_guest = event
            .meta(keys::ACTOR)
            .is_some_and(|actor| actor.starts_with("guest:"));
        match decoded {
            ReservationEvent::ReservationConfirmed { .. } => {
                let reservation = self.load(id).await?;
                self.schedule(id, &reservation).await?;
                if reservation.conversation.is_none() {
                    self.send(&reservation, ProactiveKind::Confirmation, None)
                        .await?;
                }
            }
            ReservationEvent::ReservationModified { .. } => {
                let reservation = self.load(id).await?;
                self.schedule(id, &reservation).await?;
                if !by_guest {
                    self.send(
                        &reservation,
                        ProactiveKind::ChangeNotice,
                        Some(event.sequence),
                    )
                    .await?;
                }
            }
            ReservationEvent::ReservationCancelled { .. } => {
                self.timers.clear_all(id).await.map_err(timers_error)?;
                if !by_guest {
                    let reservation = self.load(id).await?;
                    self.send(&reservation, ProactiveKind::CancellationNotice, None)
                        .await?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Sets (or moves, or drops) the reservation's pre-arrival and review timers from its
    /// current dates and its hotel's settings.
    async fn schedule(&self, id: Uuid, reservation: &Reservation) -> Result<(), CommandError> {
        let (Some(tenant), Some(terms)) = (&reservation.tenant_id, &reservation.terms) else {
            return Ok(());
        };
        if reservation.status != ReservationStatus::Confirmed {
            return Ok(());
        }
        let settings = self.profiles.profile(tenant).proactive;
        let zone = self.directory.time_zone(tenant);
        let now = self.clock.now();
        for kind in [ProactiveKind::PreArrival, ProactiveKind::ReviewRequest] {
            let due = settings.due_at(kind, terms.stay.check_in, terms.stay.check_out, zone, now);
            match due {
                Some(due) => self.timers.schedule(id, kind, due).await,
                None => self.timers.clear(id, kind).await,
            }
            .map_err(timers_error)?;
        }
        Ok(())
    }

    /// Fires the timers that are due now: one round. The caller runs the rounds (one process at
    /// a time among those on the store: the runtime holds a lease for it).
    pub async fn send_due(&self) {
        let due = match self.timers.due(self.clock.now(), ROUND).await {
            Ok(due) => due,
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the proactive timers");
                return;
            }
        };
        for timer in due {
            let id = timer.reservation_id;
            let sent = match self.load(id).await {
                // A timer of a reservation cancelled (or never confirmed) is dropped unsent.
                Ok(r) if r.status != ReservationStatus::Confirmed => Ok(()),
                Ok(reservation) => self.send(&reservation, timer.kind, None).await,
                Err(err) => Err(err),
            };
            match sent {
                Ok(()) => {
                    if let Err(err) = self.timers.clear(id, timer.kind).await {
                        tracing::warn!(reservation = %id, kind = %timer.kind, error = %err, "cannot clear a fired timer; it fires again, and says nothing twice");
                    }
                }
                Err(err) => {
                    tracing::warn!(reservation = %id, kind = %timer.kind, error = %err, "proactive message not sent; retried next round");
                }
            }
        }
    }

    /// Records the message of `kind` on the guest's conversation, once; the outbound relay
    /// sends it (as text inside WhatsApp's window, as the kind's template outside it). Nothing
    /// is recorded when the hotel has the kind off, when there is no conversation to write to,
    /// or when the window is closed and the hotel registers no template that could carry it —
    /// a message that could never arrive would only hand the guest to staff for nothing.
    async fn send(
        &self,
        reservation: &Reservation,
        kind: ProactiveKind,
        change: Option<i64>,
    ) -> Result<(), CommandError> {
        let (Some(tenant), Some(id)) = (&reservation.tenant_id, reservation.reservation_id) else {
            return Ok(());
        };
        let profile = self.profiles.profile(tenant);
        if !profile.proactive.enabled(kind) {
            return Ok(());
        }
        let Some((stream, channel, guest)) = destination(tenant, reservation) else {
            tracing::info!(reservation = %id, %kind, "no conversation to send a proactive message to");
            return Ok(());
        };
        let session = self.conversations.session(&stream).await?;
        let now = self.clock.now();
        if channel == Channel::WhatsApp && !session.window_open(now) && !carries(&profile, kind) {
            tracing::warn!(reservation = %id, %kind, hotel = %tenant, "the guest's WhatsApp window is closed and the hotel registers no template for this message; not sent");
            metrics::counter!("conserje_proactive_unsendable_total", "kind" => kind.as_str())
                .increment(1);
            return Ok(());
        }
        let reply = proactive_reply(&self.book, &profile, &session, reservation, kind)?;
        let command = SessionCommand::RecordProactiveMessage {
            tenant_id: tenant.clone(),
            channel,
            guest_ref: guest,
            turn_key: kind.turn_key(id, change),
            reply,
            at: now,
        };
        let meta = EventMetadata::new(tenant.clone(), Actor::system(COMPONENT), channel.as_str());
        self.conversations.execute(&stream, command, &meta).await?;
        metrics::counter!("conserje_proactive_messages_total", "kind" => kind.as_str())
            .increment(1);
        Ok(())
    }
}

/// Whether a template of the hotel's can carry `kind` outside the window: its own, or the
/// hotel's `reply` template.
fn carries(profile: &HotelProfile, kind: ProactiveKind) -> bool {
    [kind.purpose(), TemplatePurpose::Reply]
        .into_iter()
        .any(|purpose| profile.templates.for_purpose(purpose).is_some())
}

/// Where a message about `reservation` goes: the conversation it was booked in, else the
/// WhatsApp of its guest's phone (their phone is their WhatsApp id, and a Telegram bot cannot
/// write first).
fn destination(
    tenant: &TenantId,
    reservation: &Reservation,
) -> Option<(String, Channel, GuestRef)> {
    if let Some(stream) = &reservation.conversation {
        let (_, channel, guest) = conversation_of(stream)?;
        return Some((stream.clone(), channel, guest));
    }
    let phone = reservation.guest.as_ref()?.phone.as_str();
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let guest = GuestRef::parse(&digits).ok()?;
    Some((
        session_stream_id(tenant, Channel::WhatsApp, &guest),
        Channel::WhatsApp,
        guest,
    ))
}
