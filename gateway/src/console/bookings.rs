//! `GET /console/bookings`: the hotel's reservations, and each one with its audit timeline —
//! every event of its stream with who caused it, when, through what, and the correlation that
//! ties it to the guest message (or API call) it followed from. Cancelling and changing go
//! through the API's handlers: the same rules, and the same confirmation of a cancellation fee.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use conserje_domain::metadata::keys;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::error::ConsoleError;
use super::inbox::conversation_href;
use super::page::{self, Section};
use super::session::StaffSession;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::routes::reservations::{self as api, ModifyBody, TrailEntry};
use crate::Runtime;

/// How many reservations the list shows at most.
const LIMIT: u32 = 200;

/// The console's page of reservation `id`.
pub fn booking_href(id: Uuid) -> String {
    format!("/console/bookings/{id}")
}

const STATUSES: [&str; 4] = ["requested", "confirmed", "rejected", "cancelled"];

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
}

/// `GET /console/bookings`
pub async fn list(
    State(rt): State<Arc<Runtime>>,
    staff: StaffSession,
    Query(query): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    staff.caller.require(&api::DESK)?;
    let status = query
        .status
        .as_deref()
        .filter(|s| STATUSES.contains(s))
        .map(str::to_owned);
    let rows = rt
        .reservation_rows
        .of_hotel(staff.hotel().as_str(), status.as_deref(), LIMIT)
        .await?;
    let body = html! {
        h1 { "Bookings" }
        form.filters.card method="get" action="/console/bookings" aria-label="Filter bookings" {
            div {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="" { "Any" }
                    @for s in STATUSES {
                        option value=(s) selected[status.as_deref() == Some(s)] { (s) }
                    }
                }
            }
            button type="submit" { "Filter" }
        }
        @if rows.is_empty() {
            p.card.muted { "No bookings." }
        } @else {
            div.scroll {
                table {
                    caption.muted { "Latest change first (read model " code { "reservations" } ")" }
                    thead { tr { th { "Guest" } th { "Room" } th { "Stay" } th { "Status" } th { "Total" } th { "PMS" } } }
                    tbody {
                        @for row in &rows {
                            tr {
                                td { a href=(booking_href(row.reservation_id)) {
                                    (row.guest_name.as_deref().map(page::shown).unwrap_or_else(|| row.guest_ref.clone()))
                                } }
                                td { (row.room_type.as_deref().unwrap_or("—")) }
                                td { (row.check_in.map(|d| d.to_string()).unwrap_or_default()) " → "
                                     (row.check_out.map(|d| d.to_string()).unwrap_or_default()) }
                                td { span.badge { (row.status) } }
                                td { (page::money(row.total_minor, row.currency.as_deref())) }
                                td { (row.pms_ref.as_deref().unwrap_or("—")) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page::page(&staff, Section::Bookings, "Bookings", body))
}

fn meta<'v>(entry: &'v TrailEntry, key: &str) -> Option<&'v str> {
    entry.metadata.get(key).and_then(Value::as_str)
}

/// What an event says, in a line staff read.
fn summary(entry: &TrailEntry) -> String {
    let body = entry
        .payload
        .get(&entry.event_type)
        .cloned()
        .unwrap_or(Value::Null);
    let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
    match entry.event_type.as_str() {
        "ReservationRequested" => "requested".to_owned(),
        "ReservationConfirmed" => match field("pms_ref") {
            Some(r) => format!("confirmed by the PMS ({r})"),
            None => "confirmed".to_owned(),
        },
        "ReservationRejected" => match field("reason") {
            Some(r) => format!("rejected: {r}"),
            None => "rejected".to_owned(),
        },
        "ReservationCancelled" => match field("reason") {
            Some(r) => format!("cancelled: {r}"),
            None => "cancelled".to_owned(),
        },
        other => other
            .strip_prefix("Reservation")
            .unwrap_or(other)
            .chars()
            .flat_map(|c| {
                if c.is_uppercase() {
                    vec![' ', c.to_ascii_lowercase()]
                } else {
                    vec![c]
                }
            })
            .collect::<String>()
            .trim()
            .to_owned(),
    }
}

fn timeline(trail: &[TrailEntry], now: chrono::DateTime<chrono::Utc>) -> Markup {
    html! {
        ol.timeline aria-label="Timeline" {
            @for entry in trail {
                li {
                    strong { (page::shown(&summary(entry))) }
                    " " span.muted { "(" code { (entry.event_type) } ", #" (entry.sequence) ")" }
                    br;
                    span.muted {
                        (page::when(entry.recorded_at, now))
                        " · by " (meta(entry, keys::ACTOR).unwrap_or("unknown"))
                        " · through " (meta(entry, keys::CHANNEL).unwrap_or("unknown"))
                        @if let Some(correlation) = meta(entry, keys::CORRELATION_ID) {
                            " · correlation " code { (correlation) }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    /// Set after a change: the price difference in minor units.
    difference: Option<i64>,
}

/// `GET /console/bookings/{id}`
pub async fn detail(
    State(rt): State<Arc<Runtime>>,
    staff: StaffSession,
    id: Result<Path<String>, PathRejection>,
    Query(query): Query<DetailQuery>,
) -> Result<Response, ConsoleError> {
    let raw = crate::routes::path_segment(id).unwrap_or_default();
    let axum::Json(trail) = api::events(
        State(rt.clone()),
        staff.caller.clone(),
        Ok(Path(raw.clone())),
    )
    .await?;
    let id = Uuid::parse_str(&raw)
        .map_err(|_| ApiError::bad_request("invalid_id", "not a reservation id"))?;
    rt.after_write(Some(id)).await?;
    let row = rt
        .reservation_rows
        .get(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("reservation {id} not found")))?;
    let now = rt.clock.now();
    let conversation = trail
        .first()
        .and_then(|e| e.payload.get("ReservationRequested"))
        .and_then(|r| r.get("conversation"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let csrf = staff.csrf();
    let href = booking_href(id);
    let who = row
        .guest_name
        .as_deref()
        .map(page::shown)
        .unwrap_or_else(|| row.guest_ref.clone());
    let open = matches!(row.status.as_str(), "requested" | "confirmed");
    let body = html! {
        p { a href="/console/bookings" { "← Bookings" } }
        h1 { "Booking of " (who) }
        @if let Some(difference) = query.difference {
            p.notice role="status" { "Changed. Price difference: "
                (page::money(Some(difference), row.currency.as_deref()))
                (match difference { d if d > 0 => " (the guest pays)", d if d < 0 => " (to refund)", _ => "" }) }
        }
        div.columns {
            section aria-labelledby="timeline-title" {
                div.card {
                    dl {
                        dt { "Status" } dd { span.badge { (row.status) } }
                        dt { "Room" } dd { (row.room_type.as_deref().unwrap_or("—")) }
                        dt { "Stay" } dd { (row.check_in.map(|d| d.to_string()).unwrap_or_default()) " → "
                            (row.check_out.map(|d| d.to_string()).unwrap_or_default())
                            @if let Some(n) = row.nights { " (" (n) " nights)" } }
                        dt { "Guests" } dd { (row.guests.map(|g| g.to_string()).unwrap_or_default()) }
                        dt { "Price" } dd { (page::money(row.total_minor, row.currency.as_deref())) }
                        dt { "PMS reference" } dd { (row.pms_ref.as_deref().unwrap_or("—")) }
                        @if let Some(fee) = row.cancellation_fee_minor {
                            dt { "Cancellation fee" } dd { (page::money(Some(fee), row.currency.as_deref())) }
                        }
                        @if let Some(conversation) = &conversation {
                            dt { "Booked in" } dd { a href=(conversation_href(conversation)) { "the guest's conversation" } }
                        }
                    }
                }
                h2 #timeline-title { "Timeline" }
                (timeline(&trail, now))
            }
            @if open {
                aside aria-labelledby="change-title" {
                    h2 #change-title { "Change" }
                    form.card method="post" action=(format!("{href}/modify")) {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="check_in" { "Check-in" }
                        input #check_in type="date" name="check_in" value=[row.check_in];
                        label for="check_out" { "Check-out" }
                        input #check_out type="date" name="check_out" value=[row.check_out];
                        label for="room_type" { "Room type" }
                        input #room_type type="text" name="room_type" value=[row.room_type.as_deref()];
                        label for="guests" { "Guests" }
                        input #guests type="number" min="1" max="20" name="guests" value=[row.guests];
                        div.actions { button type="submit" { "Save changes" } }
                    }
                    h2 { "Cancel" }
                    form.card method="post" action=(format!("{href}/cancel")) {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="reason" { "Reason (for the audit trail)" }
                        input #reason type="text" name="reason" maxlength="500";
                        div.actions { button.danger type="submit" { "Cancel booking" } }
                    }
                }
            }
        }
    };
    Ok(page::page(&staff, Section::Bookings, "Booking", body))
}

#[derive(Debug, Deserialize)]
pub struct CancelForm {
    csrf: String,
    reason: Option<String>,
    /// The fee staff accepted on the confirmation page.
    accept_fee_minor: Option<i64>,
}

/// `POST /console/bookings/{id}/cancel`: past the free-cancellation window the API answers with
/// the fee; staff then confirm it on a page of its own, as an API client would resend it.
pub async fn cancel(
    State(rt): State<Arc<Runtime>>,
    staff: StaffSession,
    Path(raw): Path<String>,
    Form(form): Form<CancelForm>,
) -> Result<Response, ConsoleError> {
    staff.check(&form.csrf)?;
    let reason = form.reason.filter(|r| !r.trim().is_empty());
    let body = json!({ "reason": reason, "accept_fee_minor": form.accept_fee_minor });
    let outcome = api::cancel(
        State(rt.clone()),
        staff.caller.clone(),
        Ok(Path(raw.clone())),
        Ok(Bytes::from(body.to_string())),
    )
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/console/bookings/{raw}")).into_response()),
        Err(ApiError::CancellationFee {
            fee_minor,
            currency,
        }) => {
            let body = html! {
                div.card {
                    h1 { "Confirm the cancellation fee" }
                    p { "The booking is past the hotel's free-cancellation window: cancelling now costs "
                        strong { (page::money(Some(fee_minor), Some(&currency))) } "." }
                    form method="post" action=(format!("/console/bookings/{raw}/cancel")) {
                        input type="hidden" name="csrf" value=(staff.csrf());
                        input type="hidden" name="accept_fee_minor" value=(fee_minor);
                        label for="reason" { "Reason (for the audit trail)" }
                        input #reason type="text" name="reason" maxlength="500" value=[reason.as_deref()];
                        div.actions {
                            button.danger type="submit" { "Cancel and charge the fee" }
                            a.button href=(format!("/console/bookings/{raw}")) { "Keep the booking" }
                        }
                    }
                }
            };
            Ok(page::page(
                &staff,
                Section::Bookings,
                "Confirm cancellation",
                body,
            ))
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct ModifyForm {
    csrf: String,
    check_in: Option<String>,
    check_out: Option<String>,
    room_type: Option<String>,
    guests: Option<String>,
}

fn date(field: &str, raw: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(raw) => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                ApiError::bad_request("invalid_date", format!("{field} {raw:?} is not a date"))
            }),
    }
}

/// `POST /console/bookings/{id}/modify`: only what differs from the booking is sent.
pub async fn modify(
    State(rt): State<Arc<Runtime>>,
    staff: StaffSession,
    Path(raw): Path<String>,
    Form(form): Form<ModifyForm>,
) -> Result<Response, ConsoleError> {
    staff.check(&form.csrf)?;
    let id = Uuid::parse_str(&raw)
        .map_err(|_| ApiError::bad_request("invalid_id", "not a reservation id"))?;
    let current = rt.reservation_rows.get(id).await?;
    let check_in = date("check-in", form.check_in.as_deref())?;
    let check_out = date("check-out", form.check_out.as_deref())?;
    let guests = match form
        .guests
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())
    {
        None => None,
        Some(raw) => Some(raw.parse::<u32>().map_err(|_| {
            ApiError::bad_request(
                "invalid_guests",
                format!("{raw:?} is not a number of guests"),
            )
        })?),
    };
    let room_type = form
        .room_type
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    let differs = |new: &Option<NaiveDate>, old: Option<NaiveDate>| new.filter(|d| Some(*d) != old);
    let body = ModifyBody {
        check_in: differs(&check_in, current.as_ref().and_then(|r| r.check_in)),
        check_out: differs(&check_out, current.as_ref().and_then(|r| r.check_out)),
        room_type: room_type
            .filter(|r| current.as_ref().and_then(|c| c.room_type.as_deref()) != Some(r)),
        guests: guests.filter(|g| current.as_ref().and_then(|c| c.guests) != Some(i64::from(*g))),
    };
    let axum::Json(answer) = api::modify(
        State(rt.clone()),
        staff.caller.clone(),
        Ok(Path(raw.clone())),
        ApiJson(body),
    )
    .await?;
    let difference = answer.price_difference_minor.unwrap_or(0);
    Ok(Redirect::to(&format!("/console/bookings/{raw}?difference={difference}")).into_response())
}
