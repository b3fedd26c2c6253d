//! `/api/v1/reservations`: request, read, cancel, modify, and the reservation's event trail.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use conserje_commands::reservation_desk::NewReservation;
use conserje_domain::api_key::Role;
use conserje_domain::data_access::PersonalData;
use conserje_domain::pricing::PriceQuote;
use conserje_domain::reservation::{ModificationRequest, Reservation};
use conserje_domain::values::{GuestRef, TenantId};
use conserje_projections::reservations::ReservationRow;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{optional_json, ApiJson};
use crate::Runtime;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestBody {
    pub name: String,
    pub email: String,
    pub phone: String,
    /// How the hotel identifies the guest across bookings; the e-mail when absent.
    pub guest_ref: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// The key's hotel when absent; a key of every hotel must name one.
    pub tenant_id: Option<String>,
    pub guest: GuestBody,
    pub room_type: String,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    pub guests: u32,
    pub special_requests: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModifyBody {
    pub check_in: Option<NaiveDate>,
    pub check_out: Option<NaiveDate>,
    pub room_type: Option<String>,
    pub guests: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    pub reason: Option<String>,
}

/// The answer to a command on a reservation.
#[derive(Debug, Serialize)]
pub struct ReservationAnswer {
    pub reservation_id: Uuid,
    pub status: &'static str,
    pub room_type: Option<String>,
    pub check_in: Option<NaiveDate>,
    pub check_out: Option<NaiveDate>,
    pub guests: Option<u8>,
    pub pms_ref: Option<String>,
    pub price: Option<PriceQuote>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_difference_minor: Option<i64>,
    /// `guest_pays`, `refund` or `none`, with a modification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settlement: Option<&'static str>,
}

impl ReservationAnswer {
    fn of(id: Uuid, r: &Reservation) -> Self {
        let terms = r.terms.as_ref();
        Self {
            reservation_id: id,
            status: r.status.as_str(),
            room_type: terms.map(|t| t.room_type.to_string()),
            check_in: terms.map(|t| t.stay.check_in),
            check_out: terms.map(|t| t.stay.check_out),
            guests: terms.map(|t| t.guests),
            pms_ref: r.pms_ref.clone(),
            price: terms.map(|t| t.price.clone()),
            price_difference_minor: None,
            settlement: None,
        }
    }
}

/// The reservation, once `caller` (of one of `roles`) may see it; another hotel's is not found.
async fn visible(
    rt: &Runtime,
    caller: &Caller,
    roles: &[Role],
    id: Uuid,
) -> Result<TenantId, ApiError> {
    caller.require(roles)?;
    let not_found = || ApiError::NotFound(format!("reservation {id} not found"));
    let tenant = rt.desk.find(id).await?.tenant_id.ok_or_else(not_found)?;
    caller.hotel(&tenant, &format!("reservation {id}"))?;
    Ok(tenant)
}

/// Who may change reservations: reception and operators.
const DESK: [Role; 2] = [Role::Staff, Role::Admin];

fn reservation_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::bad_request("invalid_id", format!("{raw:?} is not a reservation id"))
    })
}

/// `POST /api/v1/reservations`
pub async fn create(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<ReservationAnswer>), ApiError> {
    caller.require(&DESK)?;
    let tenant_id = caller.hotel_named(body.tenant_id.as_deref())?;
    let guest_ref = body
        .guest
        .guest_ref
        .as_deref()
        .map(GuestRef::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request("invalid_guest_ref", e.to_string()))?;
    let meta = caller.metadata(tenant_id.clone());
    let input = NewReservation {
        tenant_id,
        guest_ref,
        name: body.guest.name,
        email: body.guest.email,
        phone: body.guest.phone,
        room_type: body.room_type,
        check_in: body.check_in,
        check_out: body.check_out,
        guests: body.guests,
        special_requests: body.special_requests,
    };
    let outcome = rt.desk.request(input, meta).await;
    let written = outcome.as_ref().ok().and_then(|r| r.reservation_id);
    rt.after_write(written).await?;
    let reservation = outcome?;
    let id = reservation
        .reservation_id
        .ok_or_else(|| ApiError::Internal("reservation without id".into()))?;
    Ok((
        StatusCode::CREATED,
        Json(ReservationAnswer::of(id, &reservation)),
    ))
}

/// `GET /api/v1/reservations/{id}`: the read model's row; an analyst's without the guest's
/// name, e-mail and phone.
pub async fn get(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ReservationRow>, ApiError> {
    let id = reservation_id(&id)?;
    caller.require(&[Role::Staff, Role::Analyst, Role::Admin])?;
    let mut row = rt
        .reservation_rows
        .get(id)
        .await?
        .filter(|row| {
            TenantId::parse(&row.tenant_id).is_ok_and(|tenant| caller.scope().covers(&tenant))
        })
        .ok_or_else(|| ApiError::NotFound(format!("reservation {id} not found")))?;
    if caller.role() == Role::Analyst {
        row.guest_name = None;
        row.guest_email = None;
        row.guest_phone = None;
        row.guest_ref = "redacted".to_owned();
    } else {
        let tenant = TenantId::parse(&row.tenant_id)
            .map_err(|e| ApiError::Internal(format!("stored tenant: {e}")))?;
        rt.reads
            .record(&caller, tenant, &id.to_string(), PersonalData::ContactData)
            .await?;
    }
    Ok(Json(row))
}

/// `POST /api/v1/reservations/{id}/cancel`
pub async fn cancel(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<ReservationAnswer>, ApiError> {
    let id = reservation_id(&id)?;
    let tenant_id = visible(&rt, &caller, &DESK, id).await?;
    let body: CancelBody = optional_json(&body)?;
    let meta = caller.metadata(tenant_id);
    let outcome = rt.desk.cancel(id, None, body.reason, meta).await;
    rt.after_write(Some(id)).await?;
    Ok(Json(ReservationAnswer::of(id, &outcome?)))
}

/// `POST /api/v1/reservations/{id}/modify`: rules re-checked; the answer states the difference.
pub async fn modify(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ModifyBody>,
) -> Result<Json<ReservationAnswer>, ApiError> {
    let id = reservation_id(&id)?;
    let tenant_id = visible(&rt, &caller, &DESK, id).await?;
    let meta = caller.metadata(tenant_id);
    let change = ModificationRequest {
        requested_by: None,
        room_type: body.room_type,
        check_in: body.check_in,
        check_out: body.check_out,
        guests: body.guests,
    };
    let outcome = rt.desk.modify(id, change, meta).await;
    rt.after_write(Some(id)).await?;
    let modification = outcome?;
    let difference = modification.price_difference_minor;
    let mut answer = ReservationAnswer::of(id, &modification.reservation);
    answer.price_difference_minor = Some(difference);
    answer.settlement = Some(match difference {
        d if d > 0 => "guest_pays",
        d if d < 0 => "refund",
        _ => "none",
    });
    Ok(Json(answer))
}

/// One entry of a reservation's audit trail.
#[derive(Debug, Serialize)]
pub struct TrailEntry {
    pub sequence: i64,
    pub position: i64,
    pub event_type: String,
    pub event_version: String,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    pub payload: Value,
    pub metadata: Value,
}

/// `GET /api/v1/reservations/{id}/events`: the reservation's stream, oldest first.
pub async fn events(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<TrailEntry>>, ApiError> {
    let id = reservation_id(&id)?;
    let tenant = visible(&rt, &caller, &DESK, id).await?;
    rt.reads
        .record(
            &caller,
            tenant,
            &id.to_string(),
            PersonalData::ReservationTrail,
        )
        .await?;
    let stream = rt
        .feed
        .stream(Reservation::TYPE, &id.to_string())
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    if stream.is_empty() {
        return Err(ApiError::NotFound(format!("reservation {id} not found")));
    }
    Ok(Json(
        stream
            .into_iter()
            .map(|e| TrailEntry {
                sequence: e.sequence,
                position: e.position,
                event_type: e.event_type,
                event_version: e.event_version,
                recorded_at: e.recorded_at,
                payload: e.payload,
                metadata: e.metadata,
            })
            .collect(),
    ))
}
