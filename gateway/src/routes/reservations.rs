//! `/api/v1/reservations`: request, read, cancel, modify, and the reservation's event trail.

use std::sync::Arc;

use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use conserje_commands::reservation_desk::NewReservation;
use conserje_domain::api_key::Role;
use conserje_domain::data_access::PersonalData;
use conserje_domain::pricing::PriceQuote;
use conserje_domain::reservation::{ModificationRequest, Reservation, ReservationStatus};
use conserje_domain::values::{GuestRef, TenantId};
use conserje_projections::reservations::ReservationRow;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{optional_json, ApiJson};
use crate::openapi::ErrorBody;
use crate::routes::{path_segment, raw_body};
use crate::Runtime;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestBody {
    pub name: String,
    pub email: String,
    /// In international form (`+34600111222`).
    pub phone: String,
    /// How the hotel identifies the guest across bookings; the e-mail when absent.
    #[schema(value_type = String, required = false)]
    pub guest_ref: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// The key's hotel when absent; a key of every hotel must name one.
    #[schema(value_type = String, required = false, pattern = "^[a-z0-9_-]{1,64}$")]
    pub tenant_id: Option<String>,
    pub guest: GuestBody,
    /// One of the hotel's room type codes (`standard`, `double`, `king`, `suite`…).
    pub room_type: String,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    pub guests: u32,
    #[schema(value_type = String, required = false)]
    pub special_requests: Option<String>,
}

/// The terms to change; absent ones stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModifyBody {
    #[schema(value_type = String, required = false, format = Date)]
    pub check_in: Option<NaiveDate>,
    #[schema(value_type = String, required = false, format = Date)]
    pub check_out: Option<NaiveDate>,
    #[schema(value_type = String, required = false)]
    pub room_type: Option<String>,
    #[schema(value_type = u32, required = false)]
    pub guests: Option<u32>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Why, for the audit trail.
    #[schema(value_type = String, required = false)]
    pub reason: Option<String>,
    /// The cancellation fee the caller accepts, in minor units. Inside the hotel's
    /// free-cancellation window none is due; after it, a cancellation without this (or with
    /// less than the fee) answers `409 cancellation_fee_applies` stating `fee_minor`.
    #[schema(value_type = i64, required = false)]
    pub accept_fee_minor: Option<i64>,
}

/// The answer to a command on a reservation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReservationAnswer {
    pub reservation_id: Uuid,
    /// `requested`, `confirmed`, `rejected` or `cancelled`.
    pub status: &'static str,
    pub room_type: Option<String>,
    pub check_in: Option<NaiveDate>,
    pub check_out: Option<NaiveDate>,
    pub guests: Option<u8>,
    pub pms_ref: Option<String>,
    #[schema(value_type = Option<crate::openapi::PriceQuote>)]
    pub price: Option<PriceQuote>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_difference_minor: Option<i64>,
    /// `guest_pays`, `refund` or `none`, with a modification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settlement: Option<&'static str>,
    /// The cancellation fee charged under the hotel's policy (minor units), once cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_minor: Option<i64>,
    /// Set while the PMS has not taken the last change: which operation waits, how many
    /// attempts failed and when the next is due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pms_sync: Option<PmsSyncAnswer>,
}

/// A change the PMS has not taken yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct PmsSyncAnswer {
    /// `create_booking`, `modify_booking` or `cancel_booking`.
    pub operation: &'static str,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The PMS's last error.
    pub last_error: String,
    /// When the next attempt is due; absent once conserje has given up.
    pub retry_at: Option<chrono::DateTime<chrono::Utc>>,
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
            fee_minor: (r.status == ReservationStatus::Cancelled)
                .then_some(r.cancellation_fee_minor),
            pms_sync: r.pms_sync.as_ref().map(|p| PmsSyncAnswer {
                operation: p.operation.as_str(),
                attempts: p.attempt,
                last_error: p.error.clone(),
                retry_at: p.retry_at,
            }),
        }
    }
}

/// The reservation, once `caller` (of one of `roles`) may see it; another hotel's is not found.
pub(crate) async fn visible(
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
pub(crate) const DESK: [Role; 2] = [Role::Staff, Role::Admin];

/// The `{id}` of the path; one that is not a UUID (or not even UTF-8) is `400 invalid_id`.
fn reservation_id(path: Result<Path<String>, PathRejection>) -> Result<Uuid, ApiError> {
    let raw = path_segment(path)
        .ok_or_else(|| ApiError::bad_request("invalid_id", "the id is not UTF-8"))?;
    Uuid::parse_str(&raw).map_err(|_| {
        ApiError::bad_request("invalid_id", format!("{raw:?} is not a reservation id"))
    })
}

/// `POST /api/v1/reservations`
#[utoipa::path(
    post,
    path = "/api/v1/reservations",
    operation_id = "create_reservation",
    tag = "reservations",
    summary = "Request a reservation",
    description = "Roles: **staff**, **admin**. Prices the stay against the hotel's rules and PMS \
        and books it for the key's hotel (a key of every hotel names the hotel). Naming another \
        hotel than the key's answers 404: another hotel is not found.",
    request_body = CreateBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Requested (and, when the PMS held the room, confirmed)", body = ReservationAnswer),
        (status = 400, description = "`malformed_request` (not JSON, or a missing, unknown or \
            mistyped field), `invalid_tenant`, `tenant_required` or `invalid_guest_ref`", body = ErrorBody),
        (status = 401, description = "`unauthenticated` (no `Authorization: Bearer <key>`) or \
            `invalid_key` (unknown, revoked or expired)", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key's role may not book", body = ErrorBody),
        (status = 404, description = "`not_found`: the hotel named is not the key's", body = ErrorBody),
        (status = 409, description = "`conflict`: changed concurrently; try again", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 256 KiB", body = ErrorBody),
        (status = 422, description = "A booking rule refused it: `check_in_in_past`, \
            `check_out_not_after_check_in`, `stay_too_long`, `booking_too_far_ahead`, `no_guests`, \
            `too_many_guests`, `invalid_email`, `invalid_phone`, `invalid_name`, \
            `invalid_room_type`, `room_unavailable`, `too_many_active_reservations`, \
            `guest_blacklisted`…", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the key passed its requests per minute",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable` or `pms_unavailable`: the event store or the \
            PMS did not answer", body = ErrorBody),
    )
)]
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
        conversation: None,
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
#[utoipa::path(
    get,
    path = "/api/v1/reservations/{id}",
    operation_id = "get_reservation",
    tag = "reservations",
    summary = "A reservation, from the read model",
    description = "Roles: **staff**, **analyst**, **admin**. An analyst's answer has no guest name, \
        e-mail or phone (`guest_ref` is `redacted`); anyone else's read of the contact data is \
        recorded in the audit trail first. Another hotel's reservation answers 404, like one that \
        does not exist.",
    params(
        ("id" = Uuid, Path, description = "The reservation id"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The reservation", body = crate::openapi::ReservationRow),
        (status = 400, description = "`invalid_id`: `{id}` is not a UUID", body = ErrorBody),
        (status = 401, description = "`unauthenticated` (no `Authorization: Bearer <key>`) or \
            `invalid_key` (unknown, revoked or expired)", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key's role may not read reservations", body = ErrorBody),
        (status = 404, description = "`not_found`: no such reservation, or another hotel's", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the key passed its requests per minute",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`: the read model did not answer, or the read \
            could not be recorded", body = ErrorBody),
    )
)]
pub async fn get(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ReservationRow>, ApiError> {
    let id = reservation_id(id)?;
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
#[utoipa::path(
    post,
    path = "/api/v1/reservations/{id}/cancel",
    operation_id = "cancel_reservation",
    tag = "reservations",
    summary = "Cancel a reservation",
    description = "Roles: **staff**, **admin**. The body is optional. Another hotel's reservation \
        answers 404, like one that does not exist.",
    params(
        ("id" = Uuid, Path, description = "The reservation id"),
    ),
    request_body(content = CancelBody, description = "Optional: no body is the same as `{}`"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Cancelled", body = ReservationAnswer),
        (status = 400, description = "`invalid_id` (`{id}` is not a UUID) or `malformed_request` \
            (a body that is not `CancelBody`)", body = ErrorBody),
        (status = 401, description = "`unauthenticated` (no `Authorization: Bearer <key>`) or \
            `invalid_key` (unknown, revoked or expired)", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key's role may not cancel", body = ErrorBody),
        (status = 404, description = "`not_found`: no such reservation, or another hotel's", body = ErrorBody),
        (status = 409, description = "`already_cancelled`; `conflict` (changed concurrently; \
            try again); or `cancellation_fee_applies`: past the hotel's free-cancellation window, \
            with `fee_minor` and `currency` — cancel again with `accept_fee_minor` set to that fee",
            body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 256 KiB", body = ErrorBody),
        (status = 422, description = "A rule of the reservation refused it", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the key passed its requests per minute",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable` or `pms_unavailable`: the event store or the \
            PMS did not answer", body = ErrorBody),
    )
)]
pub async fn cancel(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Result<Json<ReservationAnswer>, ApiError> {
    let body = raw_body(body)?;
    let id = reservation_id(id)?;
    let tenant_id = visible(&rt, &caller, &DESK, id).await?;
    let body: CancelBody = optional_json(&body)?;
    let meta = caller.metadata(tenant_id);
    let outcome = rt
        .desk
        .cancel(id, None, body.reason, body.accept_fee_minor, meta)
        .await;
    rt.after_write(Some(id)).await?;
    Ok(Json(ReservationAnswer::of(id, &outcome?)))
}

/// `POST /api/v1/reservations/{id}/modify`: rules re-checked; the answer states the difference.
#[utoipa::path(
    post,
    path = "/api/v1/reservations/{id}/modify",
    operation_id = "modify_reservation",
    tag = "reservations",
    summary = "Change a reservation's dates, room type or party",
    description = "Roles: **staff**, **admin**. The booking rules are checked again; the answer \
        states the price difference and who settles it. Another hotel's reservation answers 404, \
        like one that does not exist.",
    params(
        ("id" = Uuid, Path, description = "The reservation id"),
    ),
    request_body = ModifyBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Modified, with `price_difference_minor` and `settlement`", body = ReservationAnswer),
        (status = 400, description = "`invalid_id` (`{id}` is not a UUID) or `malformed_request`", body = ErrorBody),
        (status = 401, description = "`unauthenticated` (no `Authorization: Bearer <key>`) or \
            `invalid_key` (unknown, revoked or expired)", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key's role may not modify", body = ErrorBody),
        (status = 404, description = "`not_found`: no such reservation, or another hotel's", body = ErrorBody),
        (status = 409, description = "`already_cancelled`, `not_modifiable`, or `conflict` \
            (changed concurrently; try again)", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 256 KiB", body = ErrorBody),
        (status = 422, description = "A booking rule refused the new terms (`check_in_in_past`, \
            `too_many_guests`, `room_unavailable`…)", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the key passed its requests per minute",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable` or `pms_unavailable`: the event store or the \
            PMS did not answer", body = ErrorBody),
    )
)]
pub async fn modify(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<ModifyBody>,
) -> Result<Json<ReservationAnswer>, ApiError> {
    let id = reservation_id(id)?;
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
#[derive(Debug, Serialize, ToSchema)]
pub struct TrailEntry {
    /// The event's place in the reservation's stream, from 1.
    pub sequence: i64,
    /// Its place in the store's global order.
    pub position: i64,
    pub event_type: String,
    pub event_version: String,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    /// The event, as stored.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// Its audit metadata: actor, channel, tenant, correlation…
    #[schema(value_type = Object)]
    pub metadata: Value,
}

/// `GET /api/v1/reservations/{id}/events`: the reservation's stream, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/reservations/{id}/events",
    operation_id = "reservation_events",
    tag = "reservations",
    summary = "A reservation's event trail",
    description = "Roles: **staff**, **admin**. The reservation's stream, oldest first, with each \
        event's audit metadata; the read is recorded in the audit trail first. Another hotel's \
        reservation answers 404, like one that does not exist.",
    params(
        ("id" = Uuid, Path, description = "The reservation id"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The events, oldest first", body = [TrailEntry]),
        (status = 400, description = "`invalid_id`: `{id}` is not a UUID", body = ErrorBody),
        (status = 401, description = "`unauthenticated` (no `Authorization: Bearer <key>`) or \
            `invalid_key` (unknown, revoked or expired)", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key's role may not read the trail", body = ErrorBody),
        (status = 404, description = "`not_found`: no such reservation, or another hotel's", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the key passed its requests per minute",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`: the event store did not answer, or the read \
            could not be recorded", body = ErrorBody),
    )
)]
pub async fn events(
    State(rt): State<Arc<Runtime>>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Vec<TrailEntry>>, ApiError> {
    let id = reservation_id(id)?;
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
