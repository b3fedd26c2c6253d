//! `GET /console/conversations/{id}`: one conversation as staff handle it — the thread with what
//! the bot understood of each guest message and what became of each reply, WhatsApp's 24-hour
//! window, the reply box (templates offered once the window has closed), taking over and handing
//! back, and the guest's bookings beside it.
//!
//! The thread, the reply and the handoff go through the API's own handlers with the session's
//! caller, so the console cannot do what the API would refuse.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Utc};
use conserje_domain::data_access::PersonalData;
use conserje_domain::session::{conversation_of, Session};
use conserje_domain::values::Channel;
use maud::{html, Markup};
use serde::Deserialize;

use super::bookings::booking_href;
use super::error::ConsoleError;
use super::inbox::conversation_href;
use super::page::{self, Section};
use super::session::StaffSession;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::routes::conversation::{self as api, StaffReplyBody, TurnLine};
use crate::routes::path_segment;
use crate::Runtime;

fn not_found(id: &str) -> ConsoleError {
    ApiError::NotFound(format!("conversation {id} not found")).into()
}

/// The conversation's thread, once the caller may see it.
async fn thread_of(
    rt: &Runtime,
    staff: &StaffSession,
    id: &str,
) -> Result<api::Transcript, ConsoleError> {
    let events = api::events_of(rt, &staff.caller, id).await?;
    api::transcript_of(id.to_owned(), events)
        .map_err(|e| ApiError::Internal(format!("the conversation's events: {e}")).into())
}

fn delivery(line: &TurnLine) -> Option<(String, bool)> {
    if let Some(receipt) = line.receipt {
        let word = serde_json::to_value(receipt)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let failed = word == "failed";
        let detail = line
            .receipt_detail
            .as_deref()
            .map(|d| format!(" ({})", page::shown(d)))
            .unwrap_or_default();
        return Some((format!("{word}{detail}"), !failed));
    }
    let state = line.delivery.as_deref()?;
    let detail = line
        .delivery_detail
        .as_deref()
        .map(|d| format!(" ({})", page::shown(d)))
        .unwrap_or_default();
    // Pending or kept in the outbox is not a failure; only a refused send is.
    Some((format!("{state}{detail}"), state != "failed"))
}

fn turn(line: &TurnLine, now: DateTime<Utc>) -> Markup {
    let text = line.text.as_deref().map(page::shown);
    html! {
        li class=(line.role) {
            span.sr-role { (match line.role { "guest" => "Guest: ", "bot" => "Bot: ", "staff" => "Staff: ", _ => "" }) }
            @if let Some(text) = &text { (text) }
            @if let Some(kind) = line.media_kind {
                " " span.badge { (serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()) }
            }
            @if let Some(reaction) = &line.reaction { " " span.badge { "reacted " (page::shown(reaction)) } }
            @if line.edit.is_some() { " " span.badge { "edited" } }
            span.meta {
                (page::when(line.at, now))
                @if line.role == "guest" {
                    @if let Some(intent) = &line.intent {
                        " · intent " strong { (intent) }
                        @if let Some(confidence) = line.confidence {
                            " (" (format!("{:.0} %", confidence * 100.0)) ")"
                        }
                    }
                    @if let Some(language) = line.language { " · " (language.code()) }
                    @if line.transcribed { " · voice note, transcribed" }
                }
                @if line.role == "bot" || line.role == "staff" {
                    @if let Some(template) = &line.message_template { " · template " (template) }
                    @if let Some((state, ok)) = delivery(line) {
                        " · " span.badge.ok[ok].bad[!ok] { (state) }
                    }
                }
            }
        }
    }
}

fn thread_markup(transcript: &api::Transcript, now: DateTime<Utc>) -> Markup {
    html! {
        @if transcript.turns.is_empty() {
            p.muted { "Nothing said yet." }
        } @else {
            ol.thread aria-label="Conversation" {
                @for line in &transcript.turns { (turn(line, now)) }
            }
        }
    }
}

fn window(session: &Session, now: DateTime<Utc>) -> Markup {
    if session.channel != Some(Channel::WhatsApp) {
        return html! {};
    }
    let closes = session.window_closes_at();
    html! {
        @if session.window_open(now) {
            p.notice { "WhatsApp's 24-hour window is open"
                @if let Some(at) = closes { " until " (page::when(at, now)) } "." }
        } @else {
            p.notice role="status" { "WhatsApp's 24-hour window is closed"
                @if let Some(at) = closes { " (since " (page::when(at, now)) ")" }
                ": only one of the hotel's approved templates can reach the guest now." }
        }
    }
}

/// `GET /console/conversations/{id}`
pub async fn page(
    State(rt): State<Arc<Runtime>>,
    staff: StaffSession,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ConsoleError> {
    let id = path_segment(id).unwrap_or_default();
    let transcript = thread_of(&rt, &staff, &id).await?;
    let (hotel, _, guest) = conversation_of(&id).ok_or_else(|| not_found(&id))?;
    rt.reads
        .record(&staff.caller, hotel.clone(), &id, PersonalData::Transcript)
        .await?;
    let session = rt.conversations.session(&id).await?;
    let now = rt.clock.now();
    let bookings = rt
        .reservation_rows
        .by_guest(hotel.as_str(), guest.as_str())
        .await?;
    let window_open = session.channel != Some(Channel::WhatsApp) || session.window_open(now);
    let templates: Vec<String> = rt
        .hotels
        .profile(&hotel)
        .templates
        .names()
        .map(|n| n.as_str().to_owned())
        .collect();
    let who = session
        .guest_name
        .as_deref()
        .map(page::shown)
        .unwrap_or_else(|| guest.to_string());
    let href = conversation_href(&id);
    let csrf = staff.csrf();
    let body = html! {
        p { a href="/console" { "← Inbox" } }
        h1 { (who) }
        p.muted {
            (session.channel.map(|c| c.as_str()).unwrap_or("?")) " · " (guest.as_str())
            @if let Some(language) = session.dialogue.language { " · " (language.code()) }
            " · "
            @if transcript.handed_off { span.badge.handed_off { "with staff" } } @else { span.badge { "the bot answers" } }
        }
        div.columns {
            section aria-labelledby="thread-title" {
                h2 #thread-title { "Conversation" }
                div #thread aria-live="polite" data-refresh=(format!("{href}/thread")) {
                    (thread_markup(&transcript, now))
                }
                h2 { "Reply" }
                (window(&session, now))
                form.card method="post" action=(format!("{href}/replies")) {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="reply" { "Your reply to the guest" }
                    textarea #reply name="text" required maxlength="4096" {}
                    @if !window_open {
                        @if templates.is_empty() {
                            p.error { "The hotel registers no WhatsApp templates, so the guest \
                                cannot be reached until they write again." }
                        } @else {
                            label for="template" { "Send as template" }
                            select #template name="template" required {
                                @for name in &templates { option value=(name) { (name) } }
                            }
                        }
                    }
                    div.actions { button type="submit" { "Send reply" } }
                }
                div.actions {
                    @if transcript.handed_off {
                        form method="post" action=(format!("{href}/hand-back")) {
                            input type="hidden" name="csrf" value=(csrf);
                            button.secondary type="submit" { "Hand back to the bot" }
                        }
                    } @else {
                        form method="post" action=(format!("{href}/take-over")) {
                            input type="hidden" name="csrf" value=(csrf);
                            button.secondary type="submit" { "Take over" }
                        }
                    }
                }
            }
            aside aria-labelledby="bookings-title" {
                h2 #bookings-title { "Bookings" }
                @if bookings.is_empty() {
                    p.muted { "None." }
                }
                @for booking in &bookings {
                    div.card {
                        a href=(booking_href(booking.reservation_id)) {
                            (booking.room_type.as_deref().unwrap_or("room"))
                        }
                        " " span.badge { (booking.status) }
                        br;
                        span.muted {
                            (booking.check_in.map(|d| d.to_string()).unwrap_or_default())
                            " → "
                            (booking.check_out.map(|d| d.to_string()).unwrap_or_default())
                            " · " (page::money(booking.total_minor, booking.currency.as_deref()))
                        }
                    }
                }
            }
        }
    };
    Ok(page::page(&staff, Section::Inbox, &who, body))
}

/// `GET /console/conversations/{id}/thread`: the thread alone, for live updates.
pub async fn thread(
    State(rt): State<Arc<Runtime>>,
    staff: StaffSession,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ConsoleError> {
    let id = path_segment(id).unwrap_or_default();
    let transcript = thread_of(&rt, &staff, &id).await?;
    Ok(page::fragment(thread_markup(&transcript, rt.clock.now())))
}

#[derive(Debug, Deserialize)]
pub struct ReplyForm {
    csrf: String,
    text: String,
    template: Option<String>,
}

/// `POST /console/conversations/{id}/replies`
pub async fn reply(
    State(rt): State<Arc<Runtime>>,
    staff: StaffSession,
    id: Result<Path<String>, PathRejection>,
    Form(form): Form<ReplyForm>,
) -> Result<Response, ConsoleError> {
    staff.check(&form.csrf)?;
    let id = path_segment(id).unwrap_or_default();
    let body = StaffReplyBody {
        text: form.text,
        language: None,
        template: form.template.filter(|t| !t.is_empty()),
    };
    let _accepted = api::staff_reply(
        State(rt.clone()),
        staff.caller.clone(),
        Ok(Path(id.clone())),
        ApiJson(body),
    )
    .await?;
    Ok(Redirect::to(&conversation_href(&id)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    csrf: String,
}

/// `POST /console/conversations/{id}/take-over`
pub async fn take_over(
    State(rt): State<Arc<Runtime>>,
    staff: StaffSession,
    id: Result<Path<String>, PathRejection>,
    Form(form): Form<ActionForm>,
) -> Result<Response, ConsoleError> {
    staff.check(&form.csrf)?;
    let id = path_segment(id).unwrap_or_default();
    api::take_over(
        State(rt.clone()),
        staff.caller.clone(),
        Ok(Path(id.clone())),
    )
    .await?;
    Ok(Redirect::to(&conversation_href(&id)).into_response())
}

/// `POST /console/conversations/{id}/hand-back`
pub async fn hand_back(
    State(rt): State<Arc<Runtime>>,
    staff: StaffSession,
    id: Result<Path<String>, PathRejection>,
    Form(form): Form<ActionForm>,
) -> Result<Response, ConsoleError> {
    staff.check(&form.csrf)?;
    let id = path_segment(id).unwrap_or_default();
    api::resolve_handoff(
        State(rt.clone()),
        staff.caller.clone(),
        Ok(Path(id.clone())),
    )
    .await?;
    Ok(Redirect::to(&conversation_href(&id)).into_response())
}
