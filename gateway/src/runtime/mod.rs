//! One running conserje: the store, the aggregates, the booking process and the projections,
//! assembled from settings. `serve`, the CLI tools and the end-to-end tests all build it here.
//!
//! This module assembles; [`background`] runs the consumers a role starts, [`reactions`] holds
//! the small adapters between the read models, the event feed and the processes, and [`stores`]
//! opens the message log and key-value store the settings choose.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use anyhow::Context;
use conserje_commands::dead_letter_index::DeadLetterIndexer;
use conserje_commands::dialogue::{DialogueSettings, Receptionist, ReservationNotices};
use conserje_commands::inbound::{ConversationWorker, WorkerSettings};
use conserje_commands::outbound::ChannelDispatcher;
use conserje_commands::proactive::ProactiveMessages;
use conserje_commands::receipts::WindowFallback;
use conserje_commands::replies::ReplyBook;
use conserje_commands::voice_notes::{TranscriptionRetry, VoiceNotes};
use conserje_commands::{BookingProcess, Conversations, ReservationDesk, Understanding};
use conserje_domain::api_key::ApiKey;
use conserje_domain::channel::Transcriber;
use conserje_domain::data_access::DataAccess;
use conserje_domain::dead_letter::DeadLetterIndex;
use conserje_domain::guest::{Guest, GuestServices};
use conserje_domain::hotel::HotelProfiles;
use conserje_domain::journal::{AggregateStore, EventFeed, Leases};
use conserje_domain::log::{MessageLog, Topics};
use conserje_domain::ports::{Clock, Pms};
use conserje_domain::reservation::{Reservation, ReservationServices};
use conserje_domain::session::Session;
use conserje_domain::values::{Phone, TenantId};
use conserje_infra::analytics::{SqlMessageFacts, SqlTurnFacts};
use conserje_infra::api_key_rows::SqlApiKeyRows;
use conserje_infra::audit_rows::SqlAuditRows;
use conserje_infra::channel_accounts::ChannelAccounts;
use conserje_infra::channel_router::ChannelRouter;
use conserje_infra::clock::SystemClock;
use conserje_infra::config::ConfigFile;
use conserje_infra::dead_letter_rows::SqlDeadLetterIndex;
use conserje_infra::event_store::SqlAggregateStore;
use conserje_infra::feed::{SqlCheckpoints, SqlEventFeed};
use conserje_infra::hotels::HotelRegistry;
use conserje_infra::inbox_rows::SqlInboxRows;
use conserje_infra::leases::SqlLeases;
use conserje_infra::pms::router::PmsRouter;
use conserje_infra::pms::simulator::PmsSimulator;
use conserje_infra::pms_sync_queue::SqlSyncQueue;
use conserje_infra::proactive_timers::SqlProactiveTimers;
pub use conserje_infra::redact;
use conserje_infra::reservation_rows::SqlReservationRows;
use conserje_infra::shredding::Shredder;
use conserje_infra::sqlite_kv::SqliteKeyValue;
use conserje_infra::transcriber::OpenAiTranscriber;
use conserje_infra::Database;
use conserje_projections::api_keys::{self, ApiKeyRows, ApiKeysProjection};
use conserje_projections::audit::{self, AuditProjection, AuditRows};
use conserje_projections::conversation_stats::{self, ConversationStats};
use conserje_projections::guest_reservations::{self, GuestReservations};
use conserje_projections::inbox::{self, InboxProjection, InboxRows};
use conserje_projections::key_space::KeySpace;
use conserje_projections::log_subscription::LogSubscription;
use conserje_projections::message_stats::{self, MessageStats};
use conserje_projections::outbound::{self, OutboundReplies};
use conserje_projections::relay::{EventRelay, RELAY};
use conserje_projections::reservations::{
    self, ReservationRows, ReservationViews, ReservationsProjection,
};
use conserje_projections::sessions::{self, SessionViews};
use conserje_projections::{ProjectionError, Subscription};
use cqrs_es::Aggregate;
use tokio::sync::{watch, Notify};
use uuid::Uuid;

use crate::auth::{KeyRing, KeySettings, ReadLog};
use crate::readiness::{Readiness, TrackedLog};
use crate::settings::{HttpOptions, StoreOptions};
use crate::webhook_guard::WebhookGuard;

/// The consumer name of the booking process's recovery subscription.
pub const BOOKING_PROCESS: &str = "booking-process";

/// The lease of the PMS sync's retry rounds (one process at a time retries a due operation).
pub const PMS_RETRIES: &str = "pms-retries";

/// The consumer name of the proactive messages' subscription.
pub const PROACTIVE: &str = "proactive-messages";

/// The lease of the proactive messages' timer rounds.
pub const PROACTIVE_TIMERS: &str = "proactive-timers";

/// How long a write waits for the read model to show it before answering anyway.
pub const READ_YOUR_WRITE_WAIT: Duration = Duration::from_secs(2);

mod background;
mod reactions;
mod stores;

use reactions::{BookingReactions, GuestBookingsView, ProactiveReactions};
use stores::{language_model, open_log_and_key_value};

pub struct Runtime {
    pub db: Database,
    /// The reservation streams themselves, for tools that must bypass the desk (and tests that
    /// simulate a crash between the desk's steps).
    pub reservations: Arc<dyn AggregateStore<Reservation>>,
    pub desk: Arc<ReservationDesk>,
    pub conversations: Arc<Conversations>,
    pub log: Arc<dyn MessageLog>,
    pub topics: Topics,
    pub session_views: Arc<SessionViews>,
    pub guest_reservations: Arc<GuestReservations>,
    pub reservation_views: Arc<ReservationViews>,
    pub relay: Arc<Subscription>,
    pub worker: Arc<ConversationWorker>,
    /// Sends the replies of the outbound topic through the guests' channels.
    pub dispatcher: Arc<ChannelDispatcher>,
    /// Sends failed voice notes back for another transcription attempt.
    pub transcription_retry: Arc<TranscriptionRetry>,
    /// The dead letters waiting for an operator, by reason (the queue's depth).
    pub dead_letter_index: Arc<dyn DeadLetterIndex>,
    /// Keeps [`Runtime::dead_letter_index`] up with the dead-letter topic.
    pub dead_letter_indexer: Arc<DeadLetterIndexer>,
    /// The language model, for tools that parse without a conversation.
    pub understanding: Arc<Understanding>,
    /// The projections fed from the events topic, each its own consumer group.
    pub log_projections: Vec<Arc<LogSubscription>>,
    /// The embedded key-value store, whose expired rows a background task purges.
    embedded_kv: Option<SqliteKeyValue>,
    pub feed: Arc<dyn EventFeed>,
    /// The same feed with its operator queries (counts for lag and replay progress).
    pub store_feed: SqlEventFeed,
    pub checkpoints: Arc<SqlCheckpoints>,
    pub reservation_rows: Arc<dyn ReservationRows>,
    pub reservations_projection: Arc<Subscription>,
    /// The staff console's inbox (`inbox`), fed by [`Runtime::inbox_projection`].
    pub inbox: Arc<dyn InboxRows>,
    pub inbox_projection: Arc<Subscription>,
    pub booking_subscription: Arc<Subscription>,
    /// The `api_keys` read model, for listing keys.
    pub api_keys_projection: Arc<Subscription>,
    /// The events exactly as stored (guests' personal fields sealed), for the audit chain.
    pub sealed_feed: Arc<dyn EventFeed>,
    /// The guests' data keys: forgetting a guest deletes theirs.
    pub shredder: Arc<Shredder>,
    /// The audit trail and its hash chains, sealed from the global order.
    pub audit_projection: Arc<Subscription>,
    pub audit_rows: Arc<dyn AuditRows>,
    /// Who read whose personal data.
    pub reads: Arc<ReadLog>,
    /// The API's keys: issue, revoke, check.
    pub keys: Arc<KeyRing>,
    /// How long the HTTP server waits for slow clients.
    pub http: HttpOptions,
    /// The staff console's sessions and live updates.
    pub console: crate::console::ConsoleSettings,
    /// Replays started from the console in this process, with their progress.
    pub replays: crate::operations::ReplayJobs,
    /// The service's clock ("now" for bounds on timestamps; fixed in tests).
    pub clock: Arc<dyn Clock>,
    /// The hotels' profiles: names, facts, wording and WhatsApp templates.
    pub hotels: Arc<dyn HotelProfiles>,
    /// Each hotel's WhatsApp and Telegram accounts: webhook secrets and send tokens.
    pub channel_accounts: Arc<ChannelAccounts>,
    /// The webhooks' per-guest rate limit and counters.
    pub webhooks: Arc<WebhookGuard>,
    /// Which of the consumer groups this process runs have joined, for `/health/ready`.
    pub readiness: Arc<Readiness>,
    /// Each hotel's PMS (its own behind breaker, bulkhead and cache, or the simulator).
    pub pms: Arc<PmsRouter>,
    /// The PMS sync: confirms, retries and reconciles what the PMS holds.
    pub process: Arc<BookingProcess>,
    pms_retry_poll: Duration,
    /// The messages the hotel writes first, and their timers.
    pub proactive: Arc<ProactiveMessages>,
    proactive_subscription: Arc<Subscription>,
    proactive_poll: Duration,
    /// Who runs each store-fed consumer when several processes share the store.
    leases: Arc<dyn Leases>,
    wake: Arc<Notify>,
    shutdown: watch::Sender<bool>,
}

impl crate::auth::KeyState for Arc<Runtime> {
    fn key_ring(&self) -> &KeyRing {
        &self.keys
    }
}

impl Runtime {
    /// Opens the configured store (migrating it) with the system clock.
    pub async fn open(options: &StoreOptions) -> anyhow::Result<Self> {
        Self::open_with_clock(options, Arc::new(SystemClock)).await
    }

    /// Opens the store with a given clock: tests fix "today" this way.
    pub async fn open_with_clock(
        options: &StoreOptions,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let config = ConfigFile::load(options.config.as_deref())?;
        // Installed before anything records a metric.
        crate::telemetry::prometheus();
        std::fs::create_dir_all(&options.data_dir).with_context(|| {
            format!(
                "cannot create data directory {}",
                options.data_dir.display()
            )
        })?;
        let db = Database::connect(&options.store_url())
            .await
            .with_context(|| {
                format!(
                    "cannot open the event store at {}",
                    redact(&options.store_url())
                )
            })?;
        db.migrate()
            .await
            .context("cannot migrate the event store")?;
        Phone::warm_up();

        let channel_accounts = Arc::new(ChannelAccounts::new(&config.hotels));
        let webhooks = Arc::new(WebhookGuard::new(
            options.channels.webhook_rate_limit_per_minute,
            config
                .hotels
                .keys()
                .filter_map(|tenant| TenantId::parse(tenant).ok())
                .filter_map(|tenant| channel_accounts.whatsapp(&tenant)?.verify_token.clone())
                .filter(|token| !token.is_empty())
                .collect(),
        ));
        let simulator: Arc<dyn Pms> = Arc::new(PmsSimulator::persistent(
            config.pms_simulator,
            options.data_dir.join("pms-simulator.json"),
        )?);
        let pms_router = Arc::new(
            PmsRouter::new(
                &config.hotels,
                simulator,
                options.pms.options(),
                clock.clone(),
            )
            .map_err(|e| anyhow::anyhow!("the hotels' PMS settings: {e}"))?,
        );
        let pms: Arc<dyn Pms> = pms_router.clone();
        let hotels = Arc::new(HotelRegistry::new(config.hotels));
        let reservations: Arc<dyn AggregateStore<Reservation>> =
            Arc::new(SqlAggregateStore::<Reservation>::new(
                &db,
                ReservationServices {
                    clock: clock.clone(),
                    hotels: hotels.clone(),
                    pms: pms.clone(),
                    screening: hotels.clone(),
                },
            ));
        let guests = Arc::new(SqlAggregateStore::<Guest>::new(
            &db,
            GuestServices {
                clock: clock.clone(),
                hotels: hotels.clone(),
            },
        ));
        let sessions = Arc::new(SqlAggregateStore::<Session>::new(&db, ()));
        let api_key_rows: Arc<dyn ApiKeyRows> = Arc::new(SqlApiKeyRows::new(db.clone()));
        let keys = Arc::new(KeyRing::new(
            Arc::new(SqlAggregateStore::<ApiKey>::new(&db, ())),
            api_key_rows.clone(),
            clock.clone(),
            KeySettings {
                cache: Duration::from_secs(options.access.key_cache_seconds),
                rate_per_minute: options.access.api_rate_limit_per_minute,
            },
        ));
        let conversations = Arc::new(Conversations::new(sessions));
        let (log, kv, embedded_kv) = open_log_and_key_value(options).await?;
        let readiness = Arc::new(Readiness::default());
        let log: Arc<dyn MessageLog> = Arc::new(TrackedLog::new(log, readiness.clone()));
        let topics = Topics::prefixed(&options.topic_prefix);
        log.ensure_topics(&topics.all())
            .await
            .context("cannot create the topics")?;
        let session_views = Arc::new(SessionViews::new(
            KeySpace::live(kv.clone(), &options.key_prefix, sessions::PROJECTION),
            Duration::from_secs(u64::from(options.session_ttl_minutes) * 60),
            clock.clone(),
        ));
        let reservation_views = Arc::new(ReservationViews::new(KeySpace::live(
            kv.clone(),
            &options.key_prefix,
            reservations::MIRROR,
        )));
        let guest_reservations = Arc::new(GuestReservations::new(KeySpace::live(
            kv,
            &options.key_prefix,
            guest_reservations::PROJECTION,
        )));
        let process = Arc::new(BookingProcess::new(
            reservations.clone(),
            guests,
            pms.clone(),
            clock.clone(),
            options.pms.pms_retry_delays_seconds.clone(),
            Arc::new(SqlSyncQueue::new(db.clone())),
        ));
        let desk = Arc::new(ReservationDesk::new(reservations.clone(), process.clone()));
        let understanding = language_model()?;
        let replies = || ReplyBook::built_in().context("cannot load the reply templates");
        process.tell_guests_with(Arc::new(ReservationNotices::new(
            replies()?,
            hotels.clone(),
            conversations.clone(),
        )));
        let receptionist = Arc::new(Receptionist::new(
            understanding.clone(),
            replies()?,
            pms.clone(),
            hotels.clone(),
            hotels.clone(),
            clock.clone(),
            desk.clone(),
            Arc::new(GuestBookingsView(guest_reservations.clone())),
            DialogueSettings {
                low_confidence_threshold: options.channels.low_confidence_threshold,
            },
        ));
        let channels = Arc::new(ChannelRouter::from_options(
            options.channels.whatsapp_api_base.clone(),
            options.channels.whatsapp_api_version.clone(),
            options.channels.telegram_api_base.clone(),
            channel_accounts.clone(),
        ));
        let transcriber = options.channels.transcriber_url.as_ref().map(|url| {
            Arc::new(OpenAiTranscriber::new(
                url.clone(),
                options.channels.transcriber_api_key.clone(),
                options.channels.transcriber_model.clone(),
            )) as Arc<dyn Transcriber>
        });
        let voice_notes = Arc::new(VoiceNotes::new(channels.clone(), transcriber));

        let store_feed = SqlEventFeed::new(db.clone());
        let sealed_feed: Arc<dyn EventFeed> = Arc::new(SqlEventFeed::sealed(db.clone()));
        let shredder = Arc::new(Shredder::new(db.clone()));
        let feed: Arc<dyn EventFeed> = Arc::new(store_feed.clone());
        let checkpoints = Arc::new(SqlCheckpoints::new(db.clone()));
        let leases: Arc<dyn Leases> = Arc::new(SqlLeases::new(db.clone()));
        let reservation_rows: Arc<dyn ReservationRows> =
            Arc::new(SqlReservationRows::new(db.clone()));
        let reservations_projection = Arc::new(
            Subscription::new(
                reservations::PROJECTION,
                feed.clone(),
                checkpoints.clone(),
                Arc::new(ReservationsProjection::new(reservation_rows.clone())),
            )
            .with_lease(leases.clone()),
        );
        let inbox: Arc<dyn InboxRows> = Arc::new(SqlInboxRows::new(db.clone()));
        let inbox_projection = Arc::new(
            Subscription::new(
                inbox::PROJECTION,
                feed.clone(),
                checkpoints.clone(),
                Arc::new(InboxProjection::new(inbox.clone())),
            )
            .with_lease(leases.clone()),
        );
        let audit_rows: Arc<dyn AuditRows> = Arc::new(SqlAuditRows::new(db.clone()));
        let reads = Arc::new(ReadLog::new(Arc::new(
            SqlAggregateStore::<DataAccess>::new(&db, ()),
        )));
        let audit_projection = Arc::new(
            Subscription::new(
                audit::PROJECTION,
                sealed_feed.clone(),
                checkpoints.clone(),
                Arc::new(AuditProjection::new(audit_rows.clone())),
            )
            .with_lease(leases.clone()),
        );
        let api_keys_projection = Arc::new(
            Subscription::new(
                api_keys::PROJECTION,
                feed.clone(),
                checkpoints.clone(),
                Arc::new(ApiKeysProjection::new(api_key_rows)),
            )
            .with_lease(leases.clone()),
        );
        let booking_subscription = Arc::new(
            Subscription::new(
                BOOKING_PROCESS,
                feed.clone(),
                checkpoints.clone(),
                Arc::new(BookingReactions(process.clone())),
            )
            .with_lease(leases.clone()),
        );
        let proactive = Arc::new(ProactiveMessages::new(
            reservations.clone(),
            conversations.clone(),
            replies()?,
            hotels.clone(),
            hotels.clone(),
            Arc::new(SqlProactiveTimers::new(db.clone())),
            clock.clone(),
        ));
        let proactive_subscription = Arc::new(
            Subscription::new(
                PROACTIVE,
                feed.clone(),
                checkpoints.clone(),
                Arc::new(ProactiveReactions(proactive.clone())),
            )
            .with_lease(leases.clone()),
        );
        let relay = Arc::new(
            Subscription::new(
                RELAY,
                sealed_feed.clone(),
                checkpoints.clone(),
                Arc::new(EventRelay::new(log.clone(), &topics.events)),
            )
            .with_lease(leases.clone()),
        );
        let worker = Arc::new(
            ConversationWorker::new(
                log.clone(),
                topics.clone(),
                conversations.clone(),
                receptionist,
                voice_notes,
                WorkerSettings {
                    understanding_max_chars: options.channels.understanding_max_chars,
                    understanding_budget: Duration::from_millis(
                        options.channels.understanding_budget_ms,
                    ),
                },
            )
            .with_window_fallback(WindowFallback::new(feed.clone(), hotels.clone())),
        );
        let dispatcher = Arc::new(
            ChannelDispatcher::new(
                log.clone(),
                topics.clone(),
                channels,
                conversations.clone(),
                hotels.clone(),
                clock.clone(),
            )
            .with_pacing(options.channels.pacing()),
        );
        let transcription_retry = Arc::new(TranscriptionRetry::new(
            log.clone(),
            topics.clone(),
            Duration::from_millis(options.channels.transcription_retry_ms),
        ));
        let dead_letter_index: Arc<dyn DeadLetterIndex> =
            Arc::new(SqlDeadLetterIndex::new(db.clone()));
        let dead_letter_indexer = Arc::new(DeadLetterIndexer::new(
            log.clone(),
            &topics.dlq,
            dead_letter_index.clone(),
            transcription_retry.max_attempts,
        ));
        let log_projections = vec![
            Arc::new(LogSubscription::new(
                sessions::PROJECTION,
                &topics.events,
                log.clone(),
                session_views.clone(),
                shredder.clone(),
            )),
            Arc::new(LogSubscription::new(
                reservations::MIRROR,
                &topics.events,
                log.clone(),
                reservation_views.clone(),
                shredder.clone(),
            )),
            Arc::new(LogSubscription::new(
                guest_reservations::PROJECTION,
                &topics.events,
                log.clone(),
                guest_reservations.clone(),
                shredder.clone(),
            )),
            Arc::new(LogSubscription::new(
                message_stats::PROJECTION,
                &topics.events,
                log.clone(),
                Arc::new(MessageStats::new(Arc::new(SqlMessageFacts::new(
                    db.clone(),
                )))),
                shredder.clone(),
            )),
            Arc::new(LogSubscription::new(
                conversation_stats::PROJECTION,
                &topics.events,
                log.clone(),
                Arc::new(ConversationStats::new(Arc::new(SqlTurnFacts::new(
                    db.clone(),
                )))),
                shredder.clone(),
            )),
            Arc::new(LogSubscription::new(
                outbound::PROJECTION,
                &topics.events,
                log.clone(),
                Arc::new(OutboundReplies::new(log.clone(), &topics.outbound)),
                shredder.clone(),
            )),
        ];
        let (shutdown, _) = watch::channel(false);
        Ok(Self {
            desk,
            dispatcher,
            transcription_retry,
            dead_letter_index,
            dead_letter_indexer,
            understanding,
            reservations,
            conversations,
            log,
            topics,
            store_feed,
            checkpoints,
            session_views,
            guest_reservations,
            reservation_views,
            relay,
            worker,
            log_projections,
            embedded_kv,
            db,
            feed,
            reservation_rows,
            reservations_projection,
            inbox,
            inbox_projection,
            booking_subscription,
            api_keys_projection,
            audit_projection,
            sealed_feed,
            shredder,
            audit_rows,
            reads,
            keys,
            http: options.http.clone(),
            console: crate::console::ConsoleSettings::from(&options.access),
            replays: Default::default(),
            clock,
            hotels,
            channel_accounts,
            webhooks,
            readiness,
            wake: Arc::new(Notify::new()),
            shutdown,
            pms: pms_router,
            process,
            pms_retry_poll: options.pms.retry_poll(),
            proactive,
            proactive_subscription,
            proactive_poll: Duration::from_millis(options.proactive_poll_ms),
            leases,
        })
    }

    /// Wakes the background subscriptions and waits (at most [`READ_YOUR_WRITE_WAIT`]) until the
    /// `reservations` read model has applied every event of `reservation`, so that a client that
    /// just wrote can read its write. On PostgreSQL the catch-up reader holds back events while
    /// an older transaction is still open anywhere in the cluster, so one pass is not enough.
    pub async fn after_write(&self, reservation: Option<Uuid>) -> Result<(), ProjectionError> {
        self.wake.notify_waiters();
        let Some(id) = reservation else {
            return self.reservations_projection.catch_up().await.map(|_| ());
        };
        let written = self
            .feed
            .stream(Reservation::TYPE, &id.to_string())
            .await?
            .last()
            .map(|event| event.sequence);
        let deadline = Instant::now() + READ_YOUR_WRITE_WAIT;
        loop {
            self.reservations_projection.catch_up().await?;
            let applied = self
                .reservation_rows
                .get(id)
                .await?
                .map(|row| row.last_sequence);
            if applied >= written || Instant::now() >= deadline {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Turns true when [`Runtime::shutdown`] is called: long-lived responses (the console's
    /// live updates) end on it.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }
}
