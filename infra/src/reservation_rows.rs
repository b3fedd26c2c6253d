//! The `reservations` read-model table, in PostgreSQL or SQLite.

use async_trait::async_trait;
use conserje_projections::reservations::{ReservationRow, ReservationRows};
use conserje_projections::ProjectionError;
use sqlx::FromRow;
use uuid::Uuid;

use crate::Database;

/// The `reservations` table of `db`.
#[derive(Clone, Debug)]
pub struct SqlReservationRows {
    db: Database,
    table: &'static str,
}

impl SqlReservationRows {
    pub const TABLE: &'static str = "reservations";

    pub fn new(db: Database) -> Self {
        Self::into_table(db, Self::TABLE)
    }

    /// Writes into `table` instead: the shadow a replay builds.
    pub fn into_table(db: Database, table: &'static str) -> Self {
        Self { db, table }
    }

    fn select(&self) -> String {
        format!("SELECT {COLUMNS} FROM {}", self.table)
    }

    fn upsert(&self, id_placeholder: &str) -> String {
        format!(
            "INSERT INTO {table} ({UPSERT_COLUMNS}) VALUES ({}) {UPSERT_UPDATE} \
             WHERE {table}.last_sequence < excluded.last_sequence",
            placeholders(id_placeholder),
            table = self.table
        )
    }
}

fn storage(err: sqlx::Error) -> ProjectionError {
    ProjectionError::Storage(err.to_string())
}

/// The table's columns, shared by both stores so their rows cannot drift apart.
#[derive(Debug, FromRow)]
struct Columns {
    reservation_id: String,
    tenant_id: String,
    guest_ref: String,
    guest_name: Option<String>,
    guest_email: Option<String>,
    guest_phone: Option<String>,
    status: String,
    room_type: Option<String>,
    check_in: Option<chrono::NaiveDate>,
    check_out: Option<chrono::NaiveDate>,
    nights: Option<i32>,
    guests: Option<i32>,
    nightly_rate_minor: Option<i64>,
    subtotal_minor: Option<i64>,
    discount_percent: Option<i32>,
    discount_minor: Option<i64>,
    total_minor: Option<i64>,
    currency: Option<String>,
    special_requests: Option<String>,
    pms_ref: Option<String>,
    rejection_reason: Option<String>,
    cancellation_fee_minor: Option<i64>,
    requested_on: Option<chrono::NaiveDate>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    last_sequence: i64,
}

impl Columns {
    fn into_row(self) -> Result<ReservationRow, ProjectionError> {
        Ok(ReservationRow {
            reservation_id: Uuid::parse_str(&self.reservation_id)
                .map_err(|e| ProjectionError::Storage(e.to_string()))?,
            tenant_id: self.tenant_id,
            guest_ref: self.guest_ref,
            guest_name: self.guest_name,
            guest_email: self.guest_email,
            guest_phone: self.guest_phone,
            status: self.status,
            room_type: self.room_type,
            check_in: self.check_in,
            check_out: self.check_out,
            nights: self.nights.map(i64::from),
            guests: self.guests.map(i64::from),
            nightly_rate_minor: self.nightly_rate_minor,
            subtotal_minor: self.subtotal_minor,
            discount_percent: self.discount_percent.map(i64::from),
            discount_minor: self.discount_minor,
            total_minor: self.total_minor,
            currency: self.currency,
            special_requests: self.special_requests,
            pms_ref: self.pms_ref,
            rejection_reason: self.rejection_reason,
            cancellation_fee_minor: self.cancellation_fee_minor,
            requested_on: self.requested_on,
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_sequence: self.last_sequence,
        })
    }
}

const COLUMNS: &str = "CAST(reservation_id AS text) AS reservation_id, tenant_id, guest_ref, guest_name, \
     guest_email, guest_phone, status, room_type, check_in, check_out, nights, guests, \
     nightly_rate_minor, subtotal_minor, discount_percent, discount_minor, total_minor, currency, \
     special_requests, pms_ref, rejection_reason, cancellation_fee_minor, requested_on, created_at, \
     updated_at, last_sequence";

const UPSERT_COLUMNS: &str = "reservation_id, tenant_id, guest_ref, guest_name, guest_email, \
     guest_phone, status, room_type, check_in, check_out, nights, guests, nightly_rate_minor, \
     subtotal_minor, discount_percent, discount_minor, total_minor, currency, special_requests, \
     pms_ref, rejection_reason, cancellation_fee_minor, requested_on, created_at, updated_at, \
     last_sequence";

const UPSERT_UPDATE: &str = "ON CONFLICT (reservation_id) DO UPDATE SET \
     guest_name = excluded.guest_name, guest_email = excluded.guest_email, \
     guest_phone = excluded.guest_phone, status = excluded.status, room_type = excluded.room_type, \
     check_in = excluded.check_in, check_out = excluded.check_out, nights = excluded.nights, \
     guests = excluded.guests, nightly_rate_minor = excluded.nightly_rate_minor, \
     subtotal_minor = excluded.subtotal_minor, discount_percent = excluded.discount_percent, \
     discount_minor = excluded.discount_minor, total_minor = excluded.total_minor, \
     currency = excluded.currency, special_requests = excluded.special_requests, \
     pms_ref = excluded.pms_ref, rejection_reason = excluded.rejection_reason, \
     cancellation_fee_minor = excluded.cancellation_fee_minor, \
     requested_on = excluded.requested_on, updated_at = excluded.updated_at, \
     last_sequence = excluded.last_sequence";

macro_rules! bind_row {
    ($query:expr, $row:expr) => {
        $query
            .bind($row.tenant_id.as_str())
            .bind($row.guest_ref.as_str())
            .bind($row.guest_name.as_deref())
            .bind($row.guest_email.as_deref())
            .bind($row.guest_phone.as_deref())
            .bind($row.status.as_str())
            .bind($row.room_type.as_deref())
            .bind($row.check_in)
            .bind($row.check_out)
            .bind($row.nights.map(|n| n as i32))
            .bind($row.guests.map(|n| n as i32))
            .bind($row.nightly_rate_minor)
            .bind($row.subtotal_minor)
            .bind($row.discount_percent.map(|n| n as i32))
            .bind($row.discount_minor)
            .bind($row.total_minor)
            .bind($row.currency.as_deref())
            .bind($row.special_requests.as_deref())
            .bind($row.pms_ref.as_deref())
            .bind($row.rejection_reason.as_deref())
            .bind($row.cancellation_fee_minor)
            .bind($row.requested_on)
            .bind($row.created_at)
            .bind($row.updated_at)
            .bind($row.last_sequence)
    };
}

fn placeholders(first: &str) -> String {
    let rest: Vec<String> = (2..=26).map(|i| format!("${i}")).collect();
    format!("{first}, {}", rest.join(", "))
}

#[async_trait]
impl ReservationRows for SqlReservationRows {
    async fn get(&self, reservation_id: Uuid) -> Result<Option<ReservationRow>, ProjectionError> {
        let found: Option<Columns> = match &self.db {
            Database::Postgres(pool) => {
                sqlx::query_as(&format!(
                    "{} WHERE reservation_id = $1::uuid",
                    self.select()
                ))
                .bind(reservation_id.to_string())
                .fetch_optional(pool)
                .await
            }
            Database::Sqlite(pool) => {
                sqlx::query_as(&format!("{} WHERE reservation_id = $1", self.select()))
                    .bind(reservation_id.to_string())
                    .fetch_optional(pool)
                    .await
            }
        }
        .map_err(storage)?;
        found.map(Columns::into_row).transpose()
    }

    async fn upsert(&self, row: &ReservationRow) -> Result<(), ProjectionError> {
        let id = row.reservation_id.to_string();
        match &self.db {
            Database::Postgres(pool) => {
                let sql = self.upsert("$1::uuid");
                bind_row!(sqlx::query(&sql).bind(id), row)
                    .execute(pool)
                    .await
                    .map(|_| ())
            }
            Database::Sqlite(pool) => {
                let sql = self.upsert("$1");
                bind_row!(sqlx::query(&sql).bind(id), row)
                    .execute(pool)
                    .await
                    .map(|_| ())
            }
        }
        .map_err(storage)?;
        Ok(())
    }

    async fn by_guest(
        &self,
        tenant_id: &str,
        guest_ref: &str,
    ) -> Result<Vec<ReservationRow>, ProjectionError> {
        let sql = format!(
            "{} WHERE tenant_id = $1 AND guest_ref = $2 ORDER BY created_at DESC",
            self.select()
        );
        let rows: Vec<Columns> = crate::on_pool!(&self.db, pool => {
            sqlx::query_as(&sql)
                .bind(tenant_id)
                .bind(guest_ref)
                .fetch_all(pool)
                .await
        })
        .map_err(storage)?;
        rows.into_iter().map(Columns::into_row).collect()
    }

    async fn of_hotel(
        &self,
        tenant_id: &str,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ReservationRow>, ProjectionError> {
        let sql = format!(
            "{} WHERE tenant_id = $1 AND (CAST($2 AS text) IS NULL OR status = $2) \
             ORDER BY updated_at DESC LIMIT $3",
            self.select()
        );
        let rows: Vec<Columns> = crate::on_pool!(&self.db, pool => {
            sqlx::query_as(&sql)
                .bind(tenant_id)
                .bind(status)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
        })
        .map_err(storage)?;
        rows.into_iter().map(Columns::into_row).collect()
    }
}
