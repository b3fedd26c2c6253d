//! `GET /console/operations` (admins): where each projection stands and how far behind, replays
//! with their progress, and the dead letters with their redrive — what `conserje projections`,
//! `conserje replay` and `conserje dead-letters` do, for an operator at a browser.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use conserje_domain::api_key::{Role, Scope};
use maud::{html, PreEscaped};
use serde::Deserialize;

use super::error::ConsoleError;
use super::page::{self, Section};
use super::session::StaffSession;
use crate::error::ApiError;
use crate::operations::{self, REPLAYABLE};
use crate::{dead_letters, Runtime};

/// How many dead letters the page lists.
const DEAD_LETTERS_SHOWN: usize = 100;

fn admin(staff: &StaffSession) -> Result<(), ConsoleError> {
    staff.caller.require(&[Role::Admin])?;
    Ok(())
}

/// Projections, replays and dead letters span every hotel: only an admin of every hotel may
/// change them.
fn every_hotel(staff: &StaffSession) -> Result<(), ConsoleError> {
    admin(staff)?;
    if staff.caller.scope() != &Scope::AllHotels {
        return Err(ApiError::Forbidden {
            code: "forbidden",
            message: "replays and redrives touch every hotel: they need an admin key of every \
                      hotel"
                .into(),
        }
        .into());
    }
    Ok(())
}

fn unavailable(err: anyhow::Error) -> ConsoleError {
    ApiError::Unavailable(format!("{err:#}")).into()
}

/// `GET /console/operations`
pub async fn page(
    State(rt): State<Arc<Runtime>>,
    staff: StaffSession,
) -> Result<Response, ConsoleError> {
    admin(&staff)?;
    let statuses = operations::projections(&rt).await.map_err(unavailable)?;
    let replays = rt.replays.list();
    let running = replays.iter().any(|j| j.outcome.is_none());
    let mut letters = dead_letters::list(&rt, None).await.map_err(unavailable)?;
    let total_letters = letters.len();
    letters.truncate(DEAD_LETTERS_SHOWN);
    let mut reasons: Vec<String> = letters.iter().map(|l| l.reason.clone()).collect();
    reasons.sort();
    reasons.dedup();
    let now = rt.clock.now();
    let csrf = staff.csrf();
    let body = html! {
        @if running {
            // A replay runs: the page reloads itself to show its progress (no script needed).
            (PreEscaped(r#"<meta http-equiv="refresh" content="2">"#))
        }
        h1 { "Operations" }
        h2 { "Projections" }
        div.scroll {
            table {
                thead { tr { th { "Consumer" } th { "Reads" } th { "Checkpoint" } th { "Lag" } } }
                tbody {
                    @for s in &statuses {
                        tr {
                            td { code { (s.name) } }
                            td { (s.source) }
                            td { (s.checkpoint) }
                            td { @if s.lag > 0 { span.badge.waiting { (s.lag) } } @else { "0" } }
                        }
                    }
                }
            }
        }
        h2 { "Replay" }
        form.card.filters method="post" action="/console/operations/replays" {
            input type="hidden" name="csrf" value=(csrf);
            div {
                label for="projection" { "Projection to rebuild" }
                select #projection name="projection" {
                    @for p in REPLAYABLE { option value=(p) { (p) } }
                }
            }
            button type="submit" { "Replay" }
        }
        @for job in &replays {
            div.card {
                strong { (job.projection) } " "
                span.muted { "started " (page::when(job.started_at, now)) " by " (job.started_by) }
                @match &job.outcome {
                    None => {
                        @let (done, total) = (job.bar.position(), job.bar.length().unwrap_or(0));
                        label for=(format!("replay-{}", job.projection)) { "Events replayed: " (done) " of " (total) }
                        progress id=(format!("replay-{}", job.projection)) value=(done) max=(total.max(1)) {}
                    }
                    Some(Ok(report)) => { p { span.badge.ok { "done" } " " (report) } }
                    Some(Err(why)) => { p.error { "failed: " (why) } }
                }
            }
        }
        h2 { "Dead letters" }
        p.muted { (total_letters) " waiting" @if total_letters > letters.len() { ", the first " (letters.len()) " shown" } "." }
        @if !reasons.is_empty() {
            form.card.filters method="post" action="/console/operations/dead-letters/redrive" {
                input type="hidden" name="csrf" value=(csrf);
                div {
                    label for="reason" { "Redrive the dead letters of" }
                    select #reason name="reason" {
                        option value="" { "every reason" }
                        @for r in &reasons { option value=(r) { (r) } }
                    }
                }
                button type="submit" { "Redrive" }
            }
            div.scroll {
                table {
                    thead { tr { th { "Where" } th { "Reason" } th { "Detail" } th { "From" } th { "Key" } } }
                    tbody {
                        @for l in &letters {
                            tr {
                                td { code { (l.position) } }
                                td { (l.reason) }
                                td { (page::shown(&l.detail)) }
                                td { (l.source) " · " (l.consumer) }
                                td { code { (page::shown(&l.key)) } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page::page(&staff, Section::Operations, "Operations", body))
}

#[derive(Debug, Deserialize)]
pub struct ReplayForm {
    csrf: String,
    projection: String,
}

/// `POST /console/operations/replays`: starts the replay in the background.
pub async fn replay(
    State(rt): State<Arc<Runtime>>,
    staff: StaffSession,
    Form(form): Form<ReplayForm>,
) -> Result<Response, ConsoleError> {
    staff.check(&form.csrf)?;
    every_hotel(&staff)?;
    rt.replays
        .start(rt.clone(), &form.projection, staff.name())
        .map_err(|e| ApiError::Refused {
            code: "not_replayable",
            message: e.to_string(),
        })?;
    Ok(Redirect::to("/console/operations").into_response())
}

#[derive(Debug, Deserialize)]
pub struct RedriveForm {
    csrf: String,
    reason: Option<String>,
}

/// `POST /console/operations/dead-letters/redrive`
pub async fn redrive(
    State(rt): State<Arc<Runtime>>,
    staff: StaffSession,
    Form(form): Form<RedriveForm>,
) -> Result<Response, ConsoleError> {
    staff.check(&form.csrf)?;
    every_hotel(&staff)?;
    let reason = form.reason.filter(|r| !r.is_empty());
    dead_letters::redrive(&rt, reason.as_deref())
        .await
        .map_err(unavailable)?;
    Ok(Redirect::to("/console/operations").into_response())
}
