//! The channel senders' side of `conserje.outbound.v1`: each reply is sent through the guest's
//! channel, retried while the provider fails for now, and its delivery recorded on the session —
//! or, when the provider refuses it or keeps failing, recorded as failed and dead-lettered.
//!
//! Replies of one conversation are sent in order; conversations of a batch go out concurrently.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use conserje_domain::channel::{ChannelSender, Delivery, OutboundReply, SendError};
use conserje_domain::hotel::{HotelProfile, HotelProfiles};
use conserje_domain::log::{LogConsumer, LogRecord, MessageLog, Topics};
use conserje_domain::metadata::Actor;
use conserje_domain::ports::Clock;
use conserje_domain::session::{
    session_stream_id, DeliveryOutcome, FailureCause, Session, SessionCommand,
};
use conserje_domain::template::TemplateMessage;
use conserje_domain::EventMetadata;
use tokio::sync::watch;
use tracing::{Instrument, Span};
use uuid::Uuid;

use crate::consumer_group::{self, BatchHandler, GroupSpec};
use route::Route;

mod pacing;
mod route;

use crate::dead_letters::dead_letter;
use crate::{CommandError, Conversations};
pub use pacing::{
    Pacer, PacingSettings, DEFAULT_TELEGRAM_BOT_PER_SECOND, DEFAULT_TELEGRAM_CHAT_INTERVAL,
    DEFAULT_WHATSAPP_NUMBER_PER_SECOND,
};

/// The consumer group of the channel senders.
pub const SENDER_GROUP: &str = "channel-sender";

/// Sends the replies of the outbound topic.
pub struct ChannelDispatcher {
    log: Arc<dyn MessageLog>,
    topics: Topics,
    sender: Arc<dyn ChannelSender>,
    conversations: Arc<Conversations>,
    /// The hotels' templates and names, for replies that must go as a template.
    hotels: Arc<dyn HotelProfiles>,
    /// "Now" for the guest's 24-hour window.
    clock: Arc<dyn Clock>,
    /// Attempts of a transiently failing send before it is dead-lettered.
    pub max_attempts: u32,
    /// The pause after the first transient failure; it doubles with each attempt.
    pub base_delay: Duration,
    /// The platforms' rate limits, kept before each send.
    pacer: Pacer,
    /// How many times one send waits out the platform's rate limit before it is dead-lettered
    /// (from where a redrive sends it): the limit is waited out, never a reason to drop.
    pub max_rate_limit_waits: u32,
}

/// The longest one rate-limit wait without the platform's `retry_after`.
const MAX_RATE_LIMIT_PAUSE: Duration = Duration::from_secs(30);

/// The `outbound.send` span of one reply: a child of its record's traceparent (the relay's
/// span, through `outbound-replies`), and the parent of the provider call.
fn send_span(record: &LogRecord, reply: &OutboundReply, stream: &str) -> Span {
    let span = tracing::info_span!(
        "outbound.send",
        otel.kind = "consumer",
        channel = reply.channel.as_str(),
        tenant = reply.tenant_id.as_str(),
        conversation = conserje_trace::pseudonym(stream).as_str(),
        outcome = tracing::field::Empty,
    );
    conserje_trace::follow(&span, record.header(conserje_trace::TRACEPARENT));
    span
}

fn outcome_name(outcome: &DeliveryOutcome) -> &'static str {
    match outcome {
        DeliveryOutcome::Sent { .. } => "sent",
        DeliveryOutcome::KeptInOutbox => "outbox",
        DeliveryOutcome::Failed { .. } => "failed",
    }
}

fn log_error(err: conserje_domain::log::LogError) -> CommandError {
    CommandError::Store(err.to_string())
}

impl ChannelDispatcher {
    pub fn new(
        log: Arc<dyn MessageLog>,
        topics: Topics,
        sender: Arc<dyn ChannelSender>,
        conversations: Arc<Conversations>,
        hotels: Arc<dyn HotelProfiles>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            log,
            topics,
            sender,
            conversations,
            hotels,
            clock,
            max_attempts: 5,
            base_delay: Duration::from_millis(200),
            pacer: Pacer::new(PacingSettings::default()),
            max_rate_limit_waits: 30,
        }
    }

    /// Paces sends by `settings` instead of the platforms' documented limits.
    pub fn with_pacing(mut self, settings: PacingSettings) -> Self {
        self.pacer = Pacer::new(settings);
        self
    }

    /// Sends one polled batch and commits it.
    async fn handle_batch(
        &self,
        consumer: &mut dyn LogConsumer,
        wait: Duration,
    ) -> Result<usize, CommandError> {
        let batch = consumer.poll(200, wait).await.map_err(log_error)?;
        consumer_group::handle_per_key(consumer, &batch, |records| self.send_in_order(records))
            .await
    }

    /// Sends one conversation's replies of a batch in order (the records of one key), then
    /// records how each left in one command. A crash before that record resends them: delivery
    /// is at least once.
    async fn send_in_order(&self, records: Vec<&LogRecord>) -> Result<(), CommandError> {
        let mut conversation: Option<(String, Session, EventMetadata, HotelProfile)> = None;
        let mut outcomes = Vec::new();
        let mut last_send = None;
        for record in records {
            let reply: OutboundReply = match serde_json::from_slice(&record.payload) {
                Ok(reply) => reply,
                Err(err) => {
                    self.give_up(record, "undecodable_reply", &err.to_string())
                        .await?;
                    continue;
                }
            };
            let stream = session_stream_id(&reply.tenant_id, reply.channel, &reply.guest_ref);
            if conversation.is_none() {
                let session = self.conversations.session(&stream).await?;
                let meta = EventMetadata::new(
                    reply.tenant_id.clone(),
                    Actor::system(SENDER_GROUP),
                    reply.channel.as_str(),
                );
                let profile = self.hotels.profile(&reply.tenant_id);
                conversation = Some((stream.clone(), session, meta, profile));
            }
            let Some((expected, session, _, profile)) = &conversation else {
                continue;
            };
            if &stream != expected {
                let detail = format!("reply for {stream} keyed {}", record.key);
                self.give_up(record, "wrong_conversation", &detail).await?;
                continue;
            }
            if session.replies.get(&reply.reply_id) == Some(&true) {
                continue;
            }
            let span = send_span(record, &reply, &stream);
            let outcome = self
                .send(record, &reply, session, profile)
                .instrument(span.clone())
                .await?;
            span.record("outcome", outcome_name(&outcome));
            outcomes.push((reply.reply_id, outcome));
            last_send = Some(span);
        }
        match conversation {
            // Recorded in the last send's span, so the deliveries' events continue its trace.
            Some((stream, _, mut meta, _)) => {
                let span = last_send.unwrap_or_else(Span::none);
                meta.traceparent = conserje_trace::traceparent_of(&span);
                self.record(&stream, outcomes, &meta).instrument(span).await
            }
            None => Ok(()),
        }
    }

    async fn record(
        &self,
        stream: &str,
        deliveries: Vec<(Uuid, DeliveryOutcome)>,
        meta: &EventMetadata,
    ) -> Result<(), CommandError> {
        if deliveries.is_empty() {
            return Ok(());
        }
        self.conversations
            .execute(
                stream,
                SessionCommand::RecordDeliveries { deliveries },
                meta,
            )
            .await
    }

    /// Sends one reply by its route (text, or a template outside WhatsApp's window), falling
    /// back to the hotel's `reply` template when WhatsApp refuses the text for a closed window; a
    /// refusal (or too many failures) is dead-lettered and reported as `Failed`.
    async fn send(
        &self,
        record: &LogRecord,
        reply: &OutboundReply,
        session: &Session,
        profile: &HotelProfile,
    ) -> Result<DeliveryOutcome, CommandError> {
        let mut route = route::route(reply, session, profile, self.clock.now());
        let outcome = loop {
            let template = match &route {
                Route::Text => None,
                Route::Template(template) => Some(template),
                Route::Fails { reason, cause } => {
                    break DeliveryOutcome::Failed {
                        reason: reason.clone(),
                        cause: *cause,
                    }
                }
            };
            match self.attempt(reply, template, &record.key).await {
                Ok(Delivery::Sent {
                    provider_message_id,
                }) => {
                    break DeliveryOutcome::Sent {
                        provider_message_id,
                        template: template.map(Into::into),
                    }
                }
                Ok(Delivery::KeptInOutbox) => break DeliveryOutcome::KeptInOutbox,
                Err(SendError::WindowClosed(reason)) if template.is_none() => {
                    tracing::info!(key = %record.key, reason, "window closed; sending the reply template");
                    route = route::fallback(reply, session, profile);
                }
                Err(err) => {
                    break DeliveryOutcome::Failed {
                        cause: FailureCause::from(&err),
                        reason: err.to_string(),
                    }
                }
            }
        };
        if let DeliveryOutcome::Failed { reason, cause } = &outcome {
            // Dead-lettered under what it means: `send_failed`, `window_closed` or
            // `guest_unreachable`.
            self.give_up(record, cause.code(), reason).await?;
        }
        Ok(outcome)
    }

    /// One send of `reply` (as `template` when given), retried while the provider fails for now.
    async fn attempt(
        &self,
        reply: &OutboundReply,
        template: Option<&TemplateMessage>,
        key: &str,
    ) -> Result<Delivery, SendError> {
        let mut attempt = 1;
        let mut waits = 0;
        loop {
            self.pacer.wait_turn(reply).await;
            let sent = match template {
                Some(template) => self.sender.send_template(reply, template).await,
                None => self.sender.send(reply).await,
            };
            self.pacer.sent(reply);
            match sent {
                Err(SendError::RateLimited {
                    reason,
                    retry_after,
                }) if waits < self.max_rate_limit_waits => {
                    let pause = retry_after
                        .unwrap_or(self.base_delay * 2u32.pow(waits.min(8)))
                        .min(MAX_RATE_LIMIT_PAUSE);
                    tracing::info!(%key, waits, ?pause, reason, "rate limited; waiting it out");
                    metrics::counter!("conserje_send_rate_limited_total", "channel" => reply.channel.as_str())
                        .increment(1);
                    tokio::time::sleep(pause).await;
                    waits += 1;
                }
                Err(SendError::Transient(reason)) if attempt < self.max_attempts => {
                    tracing::warn!(%key, attempt, reason, "send failed for now; retrying");
                    tokio::time::sleep(self.base_delay * 2u32.pow(attempt - 1)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn give_up(
        &self,
        record: &LogRecord,
        code: &str,
        detail: &str,
    ) -> Result<(), CommandError> {
        tracing::error!(key = %record.key, code, detail, "reply dead-lettered");
        self.log
            .append(dead_letter(
                record,
                &self.topics.dlq,
                code,
                detail,
                SENDER_GROUP,
            ))
            .await
            .map(|_| ())
            .map_err(log_error)
    }

    /// Runs until `shutdown` turns true; a failed batch is delivered again after a pause.
    pub async fn run(self: Arc<Self>, shutdown: watch::Receiver<bool>) {
        let log = self.log.clone();
        let topic = self.topics.outbound.clone();
        let spec = GroupSpec {
            group: SENDER_GROUP,
            topic: &topic,
            wait: Duration::from_millis(200),
        };
        consumer_group::run(log, spec, self, shutdown).await;
    }
}

#[async_trait]
impl BatchHandler for ChannelDispatcher {
    async fn step(
        &self,
        consumer: &mut dyn LogConsumer,
        wait: Duration,
    ) -> Result<usize, CommandError> {
        self.handle_batch(consumer, wait).await
    }
}
