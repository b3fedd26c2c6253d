//! One running conserje: the store, the aggregates, the booking process and the projections,
//! assembled from settings. `serve`, the CLI tools and the end-to-end tests all build it here.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use anyhow::Context;
use async_trait::async_trait;
use conserje_commands::{BookingProcess, Conversations, ReservationDesk};
use conserje_domain::guest::{Guest, GuestServices};
use conserje_domain::journal::{AggregateStore, EventFeed, StoredEvent};
use conserje_domain::ports::{Clock, Pms, SystemClock};
use conserje_domain::reservation::{Reservation, ReservationServices};
use conserje_domain::session::Session;
use conserje_domain::values::Phone;
use conserje_infra::event_store::SqlAggregateStore;
use conserje_infra::feed::{SqlCheckpoints, SqlEventFeed};
use conserje_infra::hotels::{ConfigFile, HotelRegistry};
use conserje_infra::pms_simulator::PmsSimulator;
use conserje_infra::reservation_rows::SqlReservationRows;
use conserje_infra::Database;
use conserje_projections::reservations::{self, ReservationRows, ReservationsProjection};
use conserje_projections::{EventHandler, ProjectionError, Subscription};
use cqrs_es::Aggregate;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::settings::StoreOptions;

/// The consumer name of the booking process's recovery subscription.
pub const BOOKING_PROCESS: &str = "booking-process";

/// How long a write waits for the read model to show it before answering anyway.
pub const READ_YOUR_WRITE_WAIT: Duration = Duration::from_secs(2);

/// How often subscriptions look for events written by other processes.
const POLL: Duration = Duration::from_millis(500);

pub struct Runtime {
    pub db: Database,
    /// The reservation streams themselves, for tools that must bypass the desk (and tests that
    /// simulate a crash between the desk's steps).
    pub reservations: Arc<dyn AggregateStore<Reservation>>,
    pub desk: ReservationDesk,
    pub conversations: Conversations,
    pub feed: Arc<dyn EventFeed>,
    pub reservation_rows: Arc<dyn ReservationRows>,
    pub reservations_projection: Arc<Subscription>,
    pub booking_subscription: Arc<Subscription>,
    wake: Arc<Notify>,
    shutdown: watch::Sender<bool>,
}

/// Feeds stored reservation events to the booking process, finishing what a crash interrupted.
struct BookingReactions(Arc<BookingProcess>);

#[async_trait]
impl EventHandler for BookingReactions {
    async fn handle(&self, event: &StoredEvent) -> Result<(), ProjectionError> {
        self.0
            .react(event)
            .await
            .map_err(|e| ProjectionError::Handler(e.to_string()))
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

        let hotels = Arc::new(HotelRegistry::new(config.hotels));
        let pms: Arc<dyn Pms> = Arc::new(PmsSimulator::persistent(
            config.pms_simulator,
            options.data_dir.join("pms-simulator.json"),
        )?);
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
                clock,
                hotels: hotels.clone(),
            },
        ));
        let sessions = Arc::new(SqlAggregateStore::<Session>::new(&db, ()));
        let process = Arc::new(BookingProcess::new(reservations.clone(), guests, pms));

        let feed: Arc<dyn EventFeed> = Arc::new(SqlEventFeed::new(db.clone()));
        let checkpoints = Arc::new(SqlCheckpoints::new(db.clone()));
        let reservation_rows: Arc<dyn ReservationRows> =
            Arc::new(SqlReservationRows::new(db.clone()));
        let reservations_projection = Arc::new(Subscription::new(
            reservations::PROJECTION,
            feed.clone(),
            checkpoints.clone(),
            Arc::new(ReservationsProjection::new(reservation_rows.clone())),
        ));
        let booking_subscription = Arc::new(Subscription::new(
            BOOKING_PROCESS,
            feed.clone(),
            checkpoints,
            Arc::new(BookingReactions(process.clone())),
        ));
        let (shutdown, _) = watch::channel(false);
        Ok(Self {
            desk: ReservationDesk::new(reservations.clone(), process),
            reservations,
            conversations: Conversations::new(sessions),
            db,
            feed,
            reservation_rows,
            reservations_projection,
            booking_subscription,
            wake: Arc::new(Notify::new()),
            shutdown,
        })
    }

    /// Starts the subscriptions in the background; they stop on [`Runtime::shutdown`].
    pub fn start_background(&self) -> Vec<JoinHandle<()>> {
        [&self.reservations_projection, &self.booking_subscription]
            .into_iter()
            .map(|subscription| {
                tokio::spawn(subscription.clone().run(
                    self.wake.clone(),
                    POLL,
                    self.shutdown.subscribe(),
                ))
            })
            .collect()
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

    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
