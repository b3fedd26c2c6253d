//! Guest messages on `conserje.inbound.v1`: how the gateway appends them and how the
//! conversation worker turns them into `Session` commands.
//!
//! The record's key is the session id (`tenant/channel/guest`), so every message of one
//! conversation lands on one partition, owned by one worker: messages of a conversation are
//! recorded in the order the log accepted them, by a single writer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use conserje_domain::log::{LogConsumer, LogRecord, MessageLog, OutgoingRecord, Topics};
use conserje_domain::metadata::Actor;
use conserje_domain::session::{
    session_stream_id, GuestMessage, MediaKind, Session, SessionCommand, Turn,
};
use conserje_domain::understanding::Understood;
use conserje_domain::EventMetadata;
use tokio::sync::watch;
use tracing::Instrument;
use uuid::Uuid;

use crate::consumer_group::{self, BatchHandler, GroupSpec};
use crate::conversations::ConversationBatch;
use crate::dead_letters::dead_letter;
use crate::dialogue::Receptionist;
use crate::receipts::{self, ConversationReceipts, WindowFallback};
use crate::replies::ReplyKind;
use crate::voice_notes::{VoiceNotes, ATTEMPT_HEADER, TRANSCRIPTION_FAILED};
use crate::{CommandError, Conversations};

/// The consumer group of the conversation workers.
pub const WORKER_GROUP: &str = "conversation-worker";

/// Version of the inbound record's JSON schema.
pub const SCHEMA_VERSION: &str = "1";

/// Dead-letter reason of a message whose understanding took longer than its budget.
pub const UNDERSTANDING_TIMEOUT: &str = "understanding_timeout";

/// Dead-letter reason of a message whose understanding panicked.
pub const UNDERSTANDING_FAILED: &str = "understanding_failed";

/// Default of [`WorkerSettings::understanding_max_chars`]: the channels' own limit on one message
/// (Telegram's 4,096 characters; WhatsApp's is larger).
pub const DEFAULT_UNDERSTANDING_MAX_CHARS: usize = 4096;

/// Default of [`WorkerSettings::understanding_budget`], in milliseconds.
pub const DEFAULT_UNDERSTANDING_BUDGET_MS: u64 = 2000;

/// Tunables of the conversation worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerSettings {
    /// A message's text is understood and answered from its first this many characters (it is
    /// recorded whole): understanding costs more than linearly in the length.
    pub understanding_max_chars: usize,
    /// How long one message's understanding may take; past it the message is recorded
    /// unanswered and its record goes to the dead-letter queue.
    pub understanding_budget: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            understanding_max_chars: DEFAULT_UNDERSTANDING_MAX_CHARS,
            understanding_budget: Duration::from_millis(DEFAULT_UNDERSTANDING_BUDGET_MS),
        }
    }
}

/// The language model's confidence in one guest message, for the dashboards' distribution:
/// `conserje_intent_confidence{hotel,intent}`, a histogram of the process's recorder (its
/// buckets are the gateway's `telemetry`). One sample per message understood; a message
/// understood again after a failed commit counts twice, which a distribution absorbs.
fn record_confidence(hotel: String, understood: &Understood) {
    metrics::histogram!(
        "conserje_intent_confidence",
        "hotel" => hotel,
        "intent" => understood.intent.name(),
    )
    .record(f64::from(understood.confidence));
}

/// The refusal of a message whose understanding took longer than `budget`.
fn overran(budget: Duration) -> CommandError {
    CommandError::Refused {
        code: UNDERSTANDING_TIMEOUT,
        message: format!("understanding took longer than {} ms", budget.as_millis()),
    }
}

/// The first `max_chars` characters of `text` (all of it when shorter), cut on a char boundary.
fn cut_to_chars(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// The headers every inbound record carries: its hotel and kind, the schema version, and the
/// request's correlation id, trace context and source address.
pub(crate) fn record_headers(
    tenant: &conserje_domain::values::TenantId,
    event_type: &str,
    meta: &EventMetadata,
) -> Vec<(String, String)> {
    let mut headers = vec![
        ("tenant".to_owned(), tenant.to_string()),
        ("event_type".to_owned(), event_type.to_owned()),
        ("schema_version".to_owned(), SCHEMA_VERSION.to_owned()),
        ("correlation_id".to_owned(), meta.correlation_id.to_string()),
    ];
    if let Some(traceparent) = &meta.traceparent {
        headers.push(("traceparent".to_owned(), traceparent.clone()));
    }
    if let Some(ip) = &meta.source_ip {
        headers.push(("source_ip".to_owned(), ip.clone()));
    }
    headers
}

/// The inbound record for `message`, carrying the request's audit context as headers.
pub fn inbound_record(
    message: &GuestMessage,
    meta: &EventMetadata,
    topics: &Topics,
) -> Result<OutgoingRecord, CommandError> {
    let payload = serde_json::to_vec(message).map_err(|e| CommandError::Store(e.to_string()))?;
    let mut headers = record_headers(&message.tenant_id, "GuestMessage", meta);
    headers.push(("actor".to_owned(), meta.actor.as_str().to_owned()));
    Ok(OutgoingRecord {
        topic: topics.inbound.clone(),
        key: session_stream_id(&message.tenant_id, message.channel, &message.guest_ref),
        headers,
        payload,
    })
}

/// The audit context of a command caused by an inbound record: the actor the way in proved
/// (the guest for a signed webhook, `integration:<key>` for the API), the guest when a record
/// from before the header existed carries none.
fn metadata(message: &GuestMessage, record: &LogRecord) -> EventMetadata {
    let actor = record
        .header("actor")
        .and_then(Actor::parse)
        .unwrap_or_else(|| Actor::guest(message.guest_ref.as_str()));
    let meta = EventMetadata::new(message.tenant_id.clone(), actor, message.channel.as_str());
    with_record_context(meta, record)
}

/// `meta` with the context the way in put on an inbound record's headers (see
/// [`record_headers`]): its correlation id, trace context and source address.
pub(crate) fn with_record_context(mut meta: EventMetadata, record: &LogRecord) -> EventMetadata {
    if let Some(id) = record
        .header("correlation_id")
        .and_then(|v| Uuid::parse_str(v).ok())
    {
        meta.correlation_id = id;
        meta.causation_id = id;
    }
    // Called inside the record's span: the events carry its context, so the relay continues
    // this trace (the record's traceparent as it came when not tracing).
    meta.traceparent = conserje_trace::current_or(record.header(conserje_trace::TRACEPARENT));
    meta.source_ip = record.header("source_ip").map(str::to_owned);
    meta
}

/// The `worker.message` span of one inbound record: a child of the span that appended it (the
/// record's traceparent), so the guest's message keeps one trace across the log.
fn worker_span(message: &GuestMessage, record: &LogRecord) -> tracing::Span {
    let stream = session_stream_id(&message.tenant_id, message.channel, &message.guest_ref);
    let span = tracing::info_span!(
        "worker.message",
        otel.kind = "consumer",
        tenant = message.tenant_id.as_str(),
        conversation = conserje_trace::pseudonym(&stream).as_str(),
    );
    conserje_trace::follow(&span, record.header(conserje_trace::TRACEPARENT));
    span
}

/// What one polled batch writes: its conversations' commands, committed in one store
/// transaction, and the dead letters, appended only once that commit holds — a batch that fails
/// and is delivered again must not have dead-lettered its records already.
struct BatchWrites<'a> {
    conversations: ConversationBatch<'a>,
    /// Records appended once the batch's events are committed: dead letters, and replies sent
    /// again as a template (which the sender must see undelivered in the store).
    appends: Mutex<Vec<OutgoingRecord>>,
}

impl BatchWrites<'_> {
    fn append_after_commit(&self, record: OutgoingRecord) {
        self.appends
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(record);
    }

    fn dead_letter(&self, record: OutgoingRecord) {
        self.append_after_commit(record);
    }
}

/// Consumes the inbound topic, records each message on its session and answers it.
pub struct ConversationWorker {
    log: Arc<dyn MessageLog>,
    topics: Topics,
    conversations: Arc<Conversations>,
    receptionist: Arc<Receptionist>,
    voice_notes: Arc<VoiceNotes>,
    settings: WorkerSettings,
    /// Resends replies refused for the closed window as the hotel's template; without it such a
    /// refusal hands the conversation to staff.
    window_fallback: Option<WindowFallback>,
}

/// How the bot acknowledges a message it cannot read: a picture or a place is thanked for; a
/// file, a video or a contact card is explained (the guest would otherwise wait for an answer
/// to what is in it); a sticker is met with a smile.
fn acknowledgement(message: &GuestMessage) -> ReplyKind {
    if message.contacts.is_some() {
        return ReplyKind::ContactReceived;
    }
    match message.media.as_ref().map(|m| m.kind) {
        Some(MediaKind::Video | MediaKind::Document) => ReplyKind::FileNotOpened,
        Some(MediaKind::Sticker) => ReplyKind::StickerReceived,
        Some(MediaKind::Audio | MediaKind::Image) | None => ReplyKind::MediaReceived,
    }
}

fn log_error(err: conserje_domain::log::LogError) -> CommandError {
    CommandError::Store(err.to_string())
}

impl ConversationWorker {
    pub fn new(
        log: Arc<dyn MessageLog>,
        topics: Topics,
        conversations: Arc<Conversations>,
        receptionist: Arc<Receptionist>,
        voice_notes: Arc<VoiceNotes>,
        settings: WorkerSettings,
    ) -> Self {
        Self {
            log,
            topics,
            conversations,
            receptionist,
            voice_notes,
            settings,
            window_fallback: None,
        }
    }

    /// Resends replies WhatsApp refused for the closed window as the hotel's `reply` template.
    pub fn with_window_fallback(mut self, fallback: WindowFallback) -> Self {
        self.window_fallback = Some(fallback);
        self
    }

    /// Records and answers one polled batch in one store commit, then commits the batch on the
    /// log; returns how many records it took.
    ///
    /// Conversations of the batch are decided concurrently, each one's messages in log order:
    /// their streams are independent. Their events are written together — one store transaction
    /// per batch instead of one per message, which is what bounded the worker's rate. A record
    /// that can never succeed (undecodable, refused by the session, or too slow to understand)
    /// goes to the dead-letter topic with the reason, so it cannot block its conversation; a
    /// store that cannot be reached fails the batch, which is then delivered again, whole.
    async fn handle_batch(
        &self,
        consumer: &mut dyn LogConsumer,
        wait: Duration,
    ) -> Result<usize, CommandError> {
        let batch = consumer.poll(500, wait).await.map_err(log_error)?;
        if batch.is_empty() {
            return Ok(0);
        }
        let writes = BatchWrites {
            conversations: self.conversations.batch(),
            appends: Mutex::new(Vec::new()),
        };
        consumer_group::decide_per_key(&batch, |records| self.record_in_order(&writes, records))
            .await?;
        let BatchWrites {
            conversations,
            appends,
        } = writes;
        conversations.commit().await?;
        for dead in appends
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
        {
            self.log.append(dead).await.map_err(log_error)?;
        }
        consumer.commit(&batch).await.map_err(log_error)?;
        Ok(batch.len())
    }

    /// Records and answers one conversation's messages of a batch, one after the other.
    async fn record_in_order(
        &self,
        writes: &BatchWrites<'_>,
        records: Vec<&LogRecord>,
    ) -> Result<(), CommandError> {
        for record in records {
            let outcome = if receipts::is_receipts(record) {
                self.record_receipts(writes, record).await
            } else {
                self.take_message(writes, record).await
            };
            match outcome {
                Ok(()) => {}
                Err(CommandError::Refused { code, message }) => {
                    self.dead_letter(writes, record, code, &message);
                }
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }

    /// Records one conversation's delivery receipts (see [`crate::receipts`]).
    async fn record_receipts(
        &self,
        writes: &BatchWrites<'_>,
        record: &LogRecord,
    ) -> Result<(), CommandError> {
        let receipts: ConversationReceipts =
            serde_json::from_slice(&record.payload).map_err(|err| CommandError::Refused {
                code: "undecodable_receipts",
                message: err.to_string(),
            })?;
        let stream = receipts.stream();
        let meta = receipts.metadata(record);
        let fallback = self
            .window_fallback
            .as_ref()
            .and_then(|f| Some((f, f.template(&receipts.tenant_id)?)));
        let Some((fallback, template)) = fallback else {
            return writes
                .conversations
                .execute(&stream, receipts.command(false), &meta)
                .await;
        };
        let session = writes.conversations.session(&stream).await?;
        let refused = session.refused_for_window(&receipts.receipts);
        let resends = fallback
            .resends(&receipts, &refused, &template, &self.topics)
            .await?;
        writes
            .conversations
            .execute(&stream, receipts.command(true), &meta)
            .await?;
        resends
            .into_iter()
            .for_each(|r| writes.append_after_commit(r));
        Ok(())
    }

    /// Decodes one guest message and records and answers it in its `worker.message` span.
    async fn take_message(
        &self,
        writes: &BatchWrites<'_>,
        record: &LogRecord,
    ) -> Result<(), CommandError> {
        let message = serde_json::from_slice::<GuestMessage>(&record.payload).map_err(|err| {
            CommandError::Refused {
                code: "undecodable_message",
                message: err.to_string(),
            }
        })?;
        let span = worker_span(&message, record);
        async {
            let meta = metadata(&message, record);
            self.take(writes, message, &meta, record).await
        }
        .instrument(span)
        .await
    }

    /// Records and answers one message, once: a redelivered record whose turn is recorded stays
    /// silent. A typed message and its answer are recorded in one commit; a voice note or a
    /// picture is recorded first, then transcribed or acknowledged.
    async fn take(
        &self,
        writes: &BatchWrites<'_>,
        message: GuestMessage,
        meta: &EventMetadata,
        record: &LogRecord,
    ) -> Result<(), CommandError> {
        let stream = session_stream_id(&message.tenant_id, message.channel, &message.guest_ref);
        if message.edit.is_some() {
            // The bot answered the original; a second answer to a corrected typo would only
            // confuse. The edit is kept for staff and the transcript.
            return writes
                .conversations
                .record(message, meta.clone())
                .await
                .map(|_| ());
        }
        // A reaction's emoji stands for its words, so a 👍 on a quote takes the same way as "sí".
        let typed = message
            .text
            .as_deref()
            .or(message.reaction.as_ref().map(|r| r.emoji.as_str()))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        let Some(text) = typed else {
            writes
                .conversations
                .record(message.clone(), meta.clone())
                .await?;
            return self
                .answer_media(writes, &stream, &message, meta, record)
                .await;
        };
        let session = writes.conversations.session(&stream).await?;
        if session.answered.contains(&message.provider_message_id) {
            return Ok(());
        }
        let view = session
            .with_message(&message)
            .map_err(|e| CommandError::Refused {
                code: e.code(),
                message: e.to_string(),
            })?;
        if let Some(reaction) = &message.reaction {
            if self
                .receptionist
                .understand_reaction(&view, reaction)
                .is_none()
            {
                // A 👍 on "see you soon" or on an old quote needs no answer, and must not be read
                // as a yes to whatever is pending now.
                return writes
                    .conversations
                    .record(message, meta.clone())
                    .await
                    .map(|_| ());
            }
        }
        let turn = match self.turn_for(&view, &stream, &message, &text, meta).await {
            Ok(turn) => turn,
            // No turn (understanding ran out of time, say): the message is kept on the
            // conversation unanswered and the refusal dead-letters the record, from where a
            // redrive answers it; the guest's next message is answered as usual.
            Err(refused @ CommandError::Refused { .. }) => {
                writes.conversations.record(message, meta.clone()).await?;
                return Err(refused);
            }
            Err(err) => return Err(err),
        };
        let mut turn_meta = meta.clone();
        turn_meta.model_version = turn.model_version.clone();
        let command = SessionCommand::RecordAnsweredMessage {
            message: Box::new(message.clone()),
            turn: Box::new(turn),
        };
        match writes
            .conversations
            .execute(&stream, command, &turn_meta)
            .await
        {
            // Staff took the conversation meanwhile: the message is kept, the bot stays silent.
            Err(CommandError::Refused {
                code: "handed_off", ..
            }) => writes
                .conversations
                .record(message, meta.clone())
                .await
                .map(|_| ()),
            outcome => outcome,
        }
    }

    /// The dialogue's answer to `text` (its first [`WorkerSettings::understanding_max_chars`]
    /// characters); an apology and a handoff when answering failed in a way the guest would
    /// otherwise see as silence. Understanding that overruns its budget is refused with
    /// [`UNDERSTANDING_TIMEOUT`] (a panic in it with [`UNDERSTANDING_FAILED`]), for the caller to
    /// dead-letter.
    async fn turn_for(
        &self,
        session: &Session,
        stream: &str,
        message: &GuestMessage,
        text: &str,
        meta: &EventMetadata,
    ) -> Result<Turn, CommandError> {
        let whole = text;
        let text = cut_to_chars(whole, self.settings.understanding_max_chars);
        if text.len() < whole.len() {
            tracing::info!(
                %stream,
                bytes = whole.len(),
                chars = self.settings.understanding_max_chars,
                "long message understood from its first characters only"
            );
        }
        let reaction = message
            .reaction
            .as_ref()
            .and_then(|r| self.receptionist.understand_reaction(session, r));
        let understood = match (&message.choice, reaction) {
            (_, Some(exactly)) => exactly,
            (Some(choice), None) => match self.receptionist.understand_choice(session, choice) {
                Some(exactly) => exactly,
                None => self.receptionist.understand_stale_press(session, text),
            },
            (None, None) => self.understand(session, stream, text).await?,
        };
        match self
            .receptionist
            .reply(session, message, text, understood, meta)
            .await
        {
            Ok(turn) => Ok(turn),
            Err(CommandError::Store(err)) => Err(CommandError::Store(err)),
            Err(err) => {
                tracing::error!(error = %err, %stream, "answering failed; apologising and handing off");
                self.receptionist
                    .apology(session, &message.provider_message_id, meta)
            }
        }
    }

    /// Understands `text` on a blocking thread, within the budget: it is CPU work only, and on
    /// the worker's task it would hold up every other conversation of the batch.
    async fn understand(
        &self,
        session: &Session,
        stream: &str,
        text: &str,
    ) -> Result<Understood, CommandError> {
        let budget = self.settings.understanding_budget;
        let receptionist = self.receptionist.clone();
        let hotel = session
            .tenant_id
            .as_ref()
            .map_or_else(|| "unknown".to_owned(), ToString::to_string);
        let session = session.clone();
        let text = text.to_owned();
        // A timeout drops only the handle: the blocking thread runs the understanding to its end
        // regardless. That is acceptable because the text was cut to `understanding_max_chars`
        // first, which bounds what one abandoned understanding can cost.
        // The budget is also checked against the time the understanding itself took, so that an
        // overrun is refused whether or not the timer noticed first (a loaded machine can run
        // the blocking task to its end before the timer is first polled).
        let understanding = tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let understood = receptionist.understand(&session, &text);
            (understood, started.elapsed())
        });
        match tokio::time::timeout(budget, understanding).await {
            Ok(Ok((_, took))) if took > budget => Err(overran(budget)),
            Ok(Ok((understood, _))) => {
                record_confidence(hotel, &understood);
                Ok(understood)
            }
            Ok(Err(err)) => {
                tracing::error!(error = %err, %stream, "understanding a message failed");
                Err(CommandError::Refused {
                    code: UNDERSTANDING_FAILED,
                    message: format!("understanding failed: {err}"),
                })
            }
            Err(_) => Err(overran(budget)),
        }
    }

    /// Answers a recorded message without text: a voice note is transcribed first (when that
    /// fails the guest is told it is being processed and the record goes to the dead-letter
    /// queue, from where it is retried); a picture or a location is acknowledged.
    async fn answer_media(
        &self,
        writes: &BatchWrites<'_>,
        stream: &str,
        message: &GuestMessage,
        meta: &EventMetadata,
        record: &LogRecord,
    ) -> Result<(), CommandError> {
        let session = writes.conversations.session(stream).await?;
        let key = message.provider_message_id.as_str();
        if session.answered.contains(key) {
            return Ok(());
        }
        if message
            .media
            .as_ref()
            .is_none_or(|m| m.kind != MediaKind::Audio)
        {
            let turn = self
                .receptionist
                .notice(&session, key, acknowledgement(message), meta)?;
            return self.record_turn(writes, stream, turn, meta).await;
        }
        let text = match session.transcript(key) {
            Some(text) => text.to_owned(),
            None => match self
                .voice_notes
                .transcribe(message, session.dialogue.language)
                .await
            {
                Ok(text) => {
                    let command = SessionCommand::RecordTranscript {
                        provider_message_id: key.to_owned(),
                        text: text.clone(),
                    };
                    writes.conversations.execute(stream, command, meta).await?;
                    text
                }
                Err(err) => {
                    return self
                        .transcription_failed(
                            writes,
                            stream,
                            key,
                            &session,
                            record,
                            meta,
                            &err.to_string(),
                        )
                        .await
                }
            },
        };
        let turn = self
            .turn_for(&session, stream, message, &text, meta)
            .await?;
        self.record_turn(writes, stream, turn, meta).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn transcription_failed(
        &self,
        writes: &BatchWrites<'_>,
        stream: &str,
        key: &str,
        session: &Session,
        record: &LogRecord,
        meta: &EventMetadata,
        reason: &str,
    ) -> Result<(), CommandError> {
        let attempt = record
            .header(ATTEMPT_HEADER)
            .and_then(|a| a.parse().ok())
            .unwrap_or(1);
        tracing::warn!(%stream, attempt, reason, "voice note not transcribed");
        let command = SessionCommand::RecordTranscriptionFailure {
            provider_message_id: key.to_owned(),
            reason: reason.to_owned(),
            attempt,
        };
        writes.conversations.execute(stream, command, meta).await?;
        let notice_key = format!("{key}:audio-pending");
        if !session.answered.contains(&notice_key) {
            let turn =
                self.receptionist
                    .notice(session, &notice_key, ReplyKind::AudioProcessing, meta)?;
            self.record_turn(writes, stream, turn, meta).await?;
        }
        let mut dead = dead_letter(
            record,
            &self.topics.dlq,
            TRANSCRIPTION_FAILED,
            reason,
            WORKER_GROUP,
        );
        dead.headers
            .push((ATTEMPT_HEADER.to_owned(), attempt.to_string()));
        writes.dead_letter(dead);
        Ok(())
    }

    /// Records a turn; a conversation staff took over in the meantime just stays silent.
    async fn record_turn(
        &self,
        writes: &BatchWrites<'_>,
        stream: &str,
        turn: Turn,
        meta: &EventMetadata,
    ) -> Result<(), CommandError> {
        let mut meta = meta.clone();
        meta.model_version = turn.model_version.clone();
        match writes
            .conversations
            .execute(stream, SessionCommand::RecordTurn(turn), &meta)
            .await
        {
            Err(CommandError::Refused {
                code: "handed_off", ..
            }) => Ok(()),
            outcome => outcome,
        }
    }

    fn dead_letter(&self, writes: &BatchWrites<'_>, record: &LogRecord, code: &str, message: &str) {
        tracing::warn!(key = %record.key, offset = record.offset, code, message, "inbound record dead-lettered");
        writes.dead_letter(dead_letter(
            record,
            &self.topics.dlq,
            code,
            message,
            WORKER_GROUP,
        ));
    }

    /// Runs until `shutdown` turns true; a failed batch is delivered again after a pause.
    pub async fn run(self: Arc<Self>, shutdown: watch::Receiver<bool>) {
        let log = self.log.clone();
        let topic = self.topics.inbound.clone();
        let spec = GroupSpec {
            group: WORKER_GROUP,
            topic: &topic,
            wait: Duration::from_millis(200),
        };
        consumer_group::run(log, spec, self, shutdown).await;
    }
}

#[async_trait]
impl BatchHandler for ConversationWorker {
    async fn step(
        &self,
        consumer: &mut dyn LogConsumer,
        wait: Duration,
    ) -> Result<usize, CommandError> {
        self.handle_batch(consumer, wait).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_is_cut_to_its_first_characters_on_a_char_boundary() {
        let text = "habitación ".repeat(1000);
        let cut = cut_to_chars(&text, 4096);
        assert_eq!(cut.chars().count(), 4096);
        assert!(text.starts_with(cut));
        // "ó" is two bytes: a byte cut would be longer in characters or split one.
        assert!(cut.len() > 4096);
        assert_eq!(cut_to_chars("ñó", 1), "ñ");
    }

    #[test]
    fn a_text_within_the_limit_is_kept_whole() {
        assert_eq!(cut_to_chars("hola", 4), "hola");
        assert_eq!(cut_to_chars("hola", 4096), "hola");
        assert_eq!(cut_to_chars("", 4096), "");
    }

    #[test]
    fn the_defaults_are_the_channels_limit_and_two_seconds() {
        let settings = WorkerSettings::default();
        assert_eq!(settings.understanding_max_chars, 4096);
        assert_eq!(settings.understanding_budget, Duration::from_millis(2000));
    }
}
