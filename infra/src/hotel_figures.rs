//! One hotel's figures for the staff console's charts, read from the analysts' SQL views —
//! `daily_occupancy`, `intent_mix`, `reply_read_rate` — so each chart can name the view an
//! analyst would query to reproduce it. (Reservations, revenue, automation and handoffs come
//! from [`crate::business_figures`], as `/metrics` reports them.)

use chrono::NaiveDate;
use sqlx::FromRow;

use crate::{on_pool, Database, InfraError};

/// Rooms of one type sold for one night (`daily_occupancy`).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct NightOccupancy {
    pub night: NaiveDate,
    pub room_type: String,
    pub rooms: i64,
}

/// Guest messages read as one intent (`intent_mix`, every day).
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct IntentShare {
    pub intent: String,
    pub messages: i64,
    pub avg_confidence: Option<f64>,
}

/// What became of the replies sent on one channel (`reply_read_rate`, every day).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ReadRate {
    pub channel: String,
    pub replies: i64,
    pub delivered: i64,
    pub read: i64,
    pub failed: i64,
}

/// The views' figures of one hotel.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HotelFigures {
    pub occupancy: Vec<NightOccupancy>,
    pub intents: Vec<IntentShare>,
    pub read_rates: Vec<ReadRate>,
}

const OCCUPANCY: &str = "SELECT night, room_type, CAST(rooms AS bigint) AS rooms \
     FROM daily_occupancy WHERE tenant_id = $1 AND night >= $2 AND night < $3 \
     ORDER BY night, room_type";

const INTENTS: &str = "SELECT intent, CAST(sum(messages) AS bigint) AS messages, \
     CAST(sum(avg_confidence * messages) / sum(messages) AS double precision) AS avg_confidence \
     FROM intent_mix WHERE tenant_id = $1 AND intent IS NOT NULL \
     GROUP BY intent ORDER BY messages DESC, intent";

const READ_RATES: &str = "SELECT channel, CAST(sum(replies) AS bigint) AS replies, \
     CAST(sum(delivered_replies) AS bigint) AS delivered, \
     CAST(sum(read_replies) AS bigint) AS read, CAST(sum(failed_replies) AS bigint) AS failed \
     FROM reply_read_rate WHERE tenant_id = $1 GROUP BY channel ORDER BY channel";

/// `hotel`'s occupancy for the nights from `from` (included) to `until` (excluded), its intent
/// mix and its replies' read rates.
pub async fn read(
    db: &Database,
    hotel: &str,
    from: NaiveDate,
    until: NaiveDate,
) -> Result<HotelFigures, InfraError> {
    // SQLite spells `double precision` as a type name it does not know but accepts as REAL.
    Ok(on_pool!(db, pool => HotelFigures {
        occupancy: sqlx::query_as(OCCUPANCY)
            .bind(hotel)
            .bind(from)
            .bind(until)
            .fetch_all(pool)
            .await?,
        intents: sqlx::query_as(INTENTS).bind(hotel).fetch_all(pool).await?,
        read_rates: sqlx::query_as(READ_RATES).bind(hotel).fetch_all(pool).await?,
    }))
}
