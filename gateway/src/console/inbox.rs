//! `GET /console`: the hotel's conversations, handed-off ones first with how long the guest has
//! waited, then the most recent; filters by handoff, channel, language and today.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use conserje_domain::api_key::Role;
use conserje_domain::values::Channel;
use conserje_projections::inbox::{InboxFilter, InboxRow};
use maud::{html, Markup};
use serde::Deserialize;

use super::error::ConsoleError;
use super::page::{self, Section};
use super::session::StaffSession;
use crate::Runtime;

/// How many conversations the inbox lists at most.
const LIMIT: u32 = 200;

/// The inbox's filters, as its form sends them.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    handed_off: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    today: Option<String>,
}

impl Filters {
    fn checked(value: &Option<String>) -> bool {
        value.as_deref().is_some_and(|v| !v.is_empty())
    }

    fn chosen(value: &Option<String>) -> Option<String> {
        value
            .as_deref()
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    fn filter(&self, now: DateTime<Utc>) -> InboxFilter {
        InboxFilter {
            handed_off_only: Self::checked(&self.handed_off),
            channel: Self::chosen(&self.channel),
            language: Self::chosen(&self.language),
            active_since: Self::checked(&self.today)
                .then(|| now.date_naive().and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
                .flatten(),
        }
    }

    /// The same filters as a query string, for the fragment the page refreshes.
    fn query(&self) -> String {
        let mut pairs = vec![];
        for (name, value) in [
            ("handed_off", &self.handed_off),
            ("channel", &self.channel),
            ("language", &self.language),
            ("today", &self.today),
        ] {
            if let Some(value) = Self::chosen(value) {
                let value: String = value
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                pairs.push(format!("{name}={value}"));
            }
        }
        pairs.join("&")
    }
}

/// The console's link to conversation `session_id` (its slashes percent-encoded, as the API's).
pub fn conversation_href(session_id: &str) -> String {
    format!(
        "/console/conversations/{}",
        session_id.replace('%', "%25").replace('/', "%2F")
    )
}

fn row(line: &InboxRow, now: DateTime<Utc>) -> Markup {
    let who = line
        .guest_name
        .as_deref()
        .map(page::shown)
        .unwrap_or_else(|| line.guest_ref.clone());
    html! {
        li.handed_off[line.handed_off] {
            a.row href=(conversation_href(&line.session_id)) {
                span.guest { (who) " " span.muted { "(" (line.guest_ref) ")" } }
                span.badge { (line.channel) }
                @if let Some(language) = &line.language { span.badge { (language) } }
                @if line.handed_off {
                    span.badge.handed_off {
                        "with staff"
                        @if let Some(reason) = &line.handoff_reason { " · " (reason.replace('_', " ")) }
                    }
                    @if let Some(since) = line.waiting_since {
                        span.badge.waiting { "waiting " (page::waited(since, now)) }
                    }
                }
                span.muted {
                    (line.message_count) " messages · last "
                    (page::when(line.last_message_at.unwrap_or(line.last_activity_at), now))
                }
            }
        }
    }
}

async fn list(
    rt: &Runtime,
    staff: &StaffSession,
    filters: &Filters,
) -> Result<(Markup, i64), ConsoleError> {
    staff.caller.require(&[Role::Staff, Role::Admin])?;
    let now = rt.clock.now();
    let hotel = staff.hotel().to_string();
    let rows = rt.inbox.list(&hotel, &filters.filter(now), LIMIT).await?;
    let waiting = rt.inbox.pulse(&hotel).await?.waiting;
    let markup = html! {
        @if rows.is_empty() {
            p.card.muted { "No conversations match." }
        } @else {
            ul.inbox aria-label="Conversations" {
                @for line in &rows { (row(line, now)) }
            }
        }
    };
    Ok((markup, waiting))
}

/// `GET /console`
pub async fn page(
    State(rt): State<Arc<Runtime>>,
    staff: StaffSession,
    Query(filters): Query<Filters>,
) -> Result<Response, ConsoleError> {
    let (rows, waiting) = list(&rt, &staff, &filters).await?;
    let title = if waiting > 0 {
        format!("({waiting}) Inbox")
    } else {
        "Inbox".to_owned()
    };
    let selected = |value: &Option<String>, option: &str| value.as_deref() == Some(option);
    let body = html! {
        h1 { "Inbox" }
        form.filters.card method="get" action="/console" aria-label="Filter conversations" {
            div.check {
                input #handed_off type="checkbox" name="handed_off" value="1"
                    checked[Filters::checked(&filters.handed_off)];
                " " label for="handed_off" { "Handed off only" }
            }
            div {
                label for="channel" { "Channel" }
                select #channel name="channel" {
                    option value="" { "Any" }
                    @for channel in Channel::ALL {
                        option value=(channel.as_str()) selected[selected(&filters.channel, channel.as_str())] {
                            (channel.as_str())
                        }
                    }
                }
            }
            div {
                label for="language" { "Language" }
                select #language name="language" {
                    option value="" { "Any" }
                    @for (code, name) in [("es", "Spanish"), ("en", "English"), ("pt", "Portuguese")] {
                        option value=(code) selected[selected(&filters.language, code)] { (name) }
                    }
                }
            }
            div.check {
                input #today type="checkbox" name="today" value="1" checked[Filters::checked(&filters.today)];
                " " label for="today" { "Today" }
            }
            button type="submit" { "Filter" }
        }
        div #inbox aria-live="polite" data-refresh=(format!("/console/inbox/rows?{}", filters.query())) {
            (rows)
        }
    };
    Ok(page::page(&staff, Section::Inbox, &title, body))
}

/// `GET /console/inbox/rows`: the list alone, which the page swaps in on a live update.
pub async fn rows(
    State(rt): State<Arc<Runtime>>,
    staff: StaffSession,
    Query(filters): Query<Filters>,
) -> Result<Response, ConsoleError> {
    let (rows, _) = list(&rt, &staff, &filters).await?;
    Ok(page::fragment(rows))
}
