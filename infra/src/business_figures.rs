//! The figures hotels ask for — reservations, revenue, conversion, automation, handoffs and
//! languages — read from the read models at scrape time, in PostgreSQL or SQLite.
//!
//! Read, not counted in memory: the tables are shared by every process on the store, so any
//! instance (whatever its role, however recently started) reports the same truth, and a replay
//! that rebuilds the tables rebuilds the figures with them. Every figure is per hotel
//! (`tenant_id`) and covers the store's whole history; rates over time are for the dashboard.
//!
//! Two facts the read models lack are taken from the first event of each reservation (its
//! `ReservationRequested`, never sealed in these fields): the channel it was requested on
//! (the event metadata's `channel`: `api`, `whatsapp`, `telegram`…) and the conversation it was
//! booked in (`conversation`, the session stream id; absent for API bookings). The lookup is by
//! the event store's primary key, one row per reservation.

use sqlx::FromRow;

use crate::{on_pool, Database, InfraError};

/// The intents that ask what a stay would cost: a conversation with one of them was quoted (or
/// asked to be). The names are `Intent::name`'s.
pub const QUOTE_INTENTS: [&str; 3] = ["check_availability", "ask_price", "make_reservation"];

/// Reservations of a hotel in one status, requested on one channel.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ReservationCount {
    pub hotel: String,
    /// `requested`, `confirmed`, `rejected` or `cancelled`.
    pub status: String,
    /// The metadata channel of the reservation's first event; `unknown` when it has none.
    pub channel: String,
    pub reservations: i64,
}

/// The total of a hotel's confirmed reservations in one currency, in its minor units.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Revenue {
    pub hotel: String,
    pub currency: String,
    pub total_minor: i64,
}

/// Conversations of a hotel that asked for a quote, and how many of them booked.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Conversion {
    pub hotel: String,
    /// Conversations (sessions) with at least one guest message read as one of [`QUOTE_INTENTS`].
    pub quoted: i64,
    /// Of those, the ones in which a reservation was booked that the PMS confirmed (it may have
    /// been cancelled since).
    pub booked: i64,
}

/// A hotel's conversations, and how many were handed to staff.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Automation {
    pub hotel: String,
    /// Conversations (sessions: one guest on one channel) with at least one guest message.
    pub conversations: i64,
    /// Of those, the ones handed to staff at least once.
    pub handed_off: i64,
}

/// Handoffs to staff of a hotel for one reason.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct HandoffCount {
    pub hotel: String,
    pub reason: String,
    pub handoffs: i64,
}

/// Guest messages of a hotel the bot read in one language.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct LanguageCount {
    pub hotel: String,
    /// `es`, `en`, `pt`.
    pub language: String,
    pub messages: i64,
}

/// Every figure of every hotel, sorted by their labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusinessFigures {
    pub reservations: Vec<ReservationCount>,
    pub revenue: Vec<Revenue>,
    pub conversion: Vec<Conversion>,
    pub automation: Vec<Automation>,
    pub handoffs: Vec<HandoffCount>,
    pub languages: Vec<LanguageCount>,
}

/// The two stores' spellings of what differs between them: the reservation id as the event
/// store's aggregate id, and a JSON field of an event column.
struct Dialect {
    aggregate_id: &'static str,
    channel: &'static str,
    conversation: &'static str,
}

const POSTGRES: Dialect = Dialect {
    aggregate_id: "CAST(r.reservation_id AS text)",
    channel: "e.metadata ->> 'channel'",
    conversation: "e.payload -> 'ReservationRequested' ->> 'conversation'",
};

const SQLITE: Dialect = Dialect {
    aggregate_id: "r.reservation_id",
    channel: "json_extract(e.metadata, '$.channel')",
    conversation: "json_extract(e.payload, '$.ReservationRequested.conversation')",
};

impl Dialect {
    /// Joins each reservation `r` to its first event `e`.
    fn first_event(&self) -> String {
        format!(
            "events e ON e.aggregate_type = 'Reservation' AND e.aggregate_id = {} \
             AND e.sequence = 1",
            self.aggregate_id
        )
    }

    fn reservations(&self) -> String {
        let channel = format!("COALESCE({}, 'unknown')", self.channel);
        format!(
            "SELECT r.tenant_id AS hotel, r.status, {channel} AS channel, \
             count(*) AS reservations \
             FROM reservations r LEFT JOIN {} \
             GROUP BY r.tenant_id, r.status, {channel} \
             ORDER BY hotel, status, channel",
            self.first_event()
        )
    }

    fn conversion(&self) -> String {
        let intents = QUOTE_INTENTS.map(|i| format!("'{i}'")).join(", ");
        format!(
            "WITH quoted AS ( \
                 SELECT DISTINCT tenant_id, session_id FROM analytics_turns \
                 WHERE kind = 'intent' AND intent IN ({intents}) \
             ), booked AS ( \
                 SELECT DISTINCT {conversation} AS session_id \
                 FROM reservations r JOIN {first_event} \
                 WHERE r.pms_ref IS NOT NULL \
             ) \
             SELECT q.tenant_id AS hotel, count(*) AS quoted, count(b.session_id) AS booked \
             FROM quoted q LEFT JOIN booked b ON b.session_id = q.session_id \
             GROUP BY q.tenant_id ORDER BY hotel",
            conversation = self.conversation,
            first_event = self.first_event()
        )
    }
}

/// Confirmed reservations only: a request may still be refused, a cancellation is not revenue
/// (its fee is the analysts' `cancellation_fee_minor`).
const REVENUE: &str = "SELECT tenant_id AS hotel, currency, \
     CAST(sum(total_minor) AS bigint) AS total_minor \
     FROM reservations \
     WHERE status = 'confirmed' AND currency IS NOT NULL AND total_minor IS NOT NULL \
     GROUP BY tenant_id, currency ORDER BY hotel, currency";

const AUTOMATION: &str = "SELECT m.tenant_id AS hotel, \
     count(DISTINCT m.session_id) AS conversations, \
     count(DISTINCT h.session_id) AS handed_off \
     FROM analytics_messages m \
     LEFT JOIN (SELECT DISTINCT session_id FROM analytics_turns WHERE kind = 'handoff') h \
     ON h.session_id = m.session_id \
     GROUP BY m.tenant_id ORDER BY hotel";

/// The analysts' `handoff_counts` view, over every day.
const HANDOFFS: &str = "SELECT tenant_id AS hotel, COALESCE(handoff_reason, 'unknown') AS reason, \
     CAST(sum(handoffs) AS bigint) AS handoffs \
     FROM handoff_counts \
     GROUP BY tenant_id, COALESCE(handoff_reason, 'unknown') ORDER BY hotel, reason";

/// The analysts' `intent_mix` view, over every day and intent.
const LANGUAGES: &str = "SELECT tenant_id AS hotel, COALESCE(language, 'unknown') AS language, \
     CAST(sum(messages) AS bigint) AS messages \
     FROM intent_mix \
     GROUP BY tenant_id, COALESCE(language, 'unknown') ORDER BY hotel, language";

/// Reads every figure of every hotel from `db`.
pub async fn read(db: &Database) -> Result<BusinessFigures, InfraError> {
    let dialect = match db {
        Database::Postgres(_) => &POSTGRES,
        Database::Sqlite(_) => &SQLITE,
    };
    let (reservations, conversion) = (dialect.reservations(), dialect.conversion());
    Ok(on_pool!(db, pool => BusinessFigures {
        reservations: sqlx::query_as(&reservations).fetch_all(pool).await?,
        revenue: sqlx::query_as(REVENUE).fetch_all(pool).await?,
        conversion: sqlx::query_as(&conversion).fetch_all(pool).await?,
        automation: sqlx::query_as(AUTOMATION).fetch_all(pool).await?,
        handoffs: sqlx::query_as(HANDOFFS).fetch_all(pool).await?,
        languages: sqlx::query_as(LANGUAGES).fetch_all(pool).await?,
    }))
}
