//! The frame every console page shares: navigation, who is signed in, sign-out, and the
//! security headers (no inline script may run; the pages cannot be framed).

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use conserje_domain::api_key::Role;
use maud::{html, Markup, DOCTYPE};

use super::session::StaffSession;

/// The sections of the console, for the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Inbox,
    Bookings,
    Figures,
    Operations,
}

impl Section {
    fn label(self) -> &'static str {
        match self {
            Self::Inbox => "Inbox",
            Self::Bookings => "Bookings",
            Self::Figures => "Figures",
            Self::Operations => "Operations",
        }
    }

    fn href(self) -> &'static str {
        match self {
            Self::Inbox => "/console",
            Self::Bookings => "/console/bookings",
            Self::Figures => "/console/figures",
            Self::Operations => "/console/operations",
        }
    }

    /// Whether `role` sees the section at all (the pages check again).
    fn open_to(self, role: Role) -> bool {
        match self {
            Self::Inbox | Self::Bookings => matches!(role, Role::Staff | Role::Admin),
            Self::Figures => matches!(role, Role::Staff | Role::Admin | Role::Analyst),
            Self::Operations => role == Role::Admin,
        }
    }
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn with_headers(markup: Markup) -> Response {
    let mut response = axum::response::Html(markup.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · conserje" }
            link rel="stylesheet" href="/console/assets/console.css";
            script src="/console/assets/console.js" defer {}
        }
    }
}

/// A page of a signed-in session, in `section`.
pub fn page(staff: &StaffSession, section: Section, title: &str, body: Markup) -> Response {
    let role = staff.role();
    with_headers(html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body data-live="/console/live" {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    span.brand { "conserje" }
                    nav aria-label="Console" {
                        @for s in [Section::Inbox, Section::Bookings, Section::Figures, Section::Operations] {
                            @if s.open_to(role) {
                                a href=(s.href()) aria-current=[(s == section).then_some("page")] { (s.label()) }
                            }
                        }
                    }
                    span.who { (staff.name()) " · " (staff.hotel().as_str()) }
                    form method="post" action="/console/sign-out" {
                        input type="hidden" name="csrf" value=(staff.csrf());
                        button type="submit" { "Sign out" }
                    }
                }
                main #main { (body) }
            }
        }
    })
}

/// A page with no session (sign-in, errors).
pub fn bare(title: &str, body: Markup) -> Response {
    with_headers(html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                header.top { span.brand { "conserje" } }
                main #main { (body) }
            }
        }
    })
}

/// A fragment a page's script swaps in (no frame).
pub fn fragment(markup: Markup) -> Response {
    with_headers(markup)
}

/// `at` for staff: the time in UTC, the date when it is not today.
pub fn when(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if at.date_naive() == now.date_naive() {
        at.format("%H:%M UTC").to_string()
    } else {
        at.format("%Y-%m-%d %H:%M UTC").to_string()
    }
}

/// How long ago `since` was, as a person says it: "3 min", "2 h 5 min", "4 days".
pub fn waited(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (now - since).num_minutes().max(0);
    match minutes {
        0 => "under a minute".to_owned(),
        1..=59 => format!("{minutes} min"),
        60..=1439 => format!("{} h {} min", minutes / 60, minutes % 60),
        _ => format!("{} days", minutes / 1440),
    }
}

/// An amount in minor units as staff read it: `123.45 EUR`.
pub fn money(minor: Option<i64>, currency: Option<&str>) -> String {
    match minor {
        Some(minor) => format!(
            "{}{}.{:02} {}",
            if minor < 0 { "-" } else { "" },
            minor.abs() / 100,
            minor.abs() % 100,
            currency.unwrap_or("")
        ),
        None => "—".to_owned(),
    }
}

/// Text as guests wrote it, safe to show: control characters (other than new lines and tabs)
/// become U+FFFD, so a message cannot reorder or hide the page's text (maud escapes markup).
pub fn shown(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\t' => c,
            c if c.is_control() => '\u{FFFD}',
            // Bidirectional overrides and isolates, which can make text read backwards.
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn guests_text_loses_its_control_characters_and_direction_overrides() {
        assert_eq!(shown("a\u{0007}b\u{202E}c\nd"), "a\u{FFFD}b\u{FFFD}c\nd");
    }

    #[test]
    fn waits_and_amounts_read_as_people_say_them() {
        let now = Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap();
        assert_eq!(waited(now - chrono::Duration::minutes(3), now), "3 min");
        assert_eq!(
            waited(now - chrono::Duration::minutes(125), now),
            "2 h 5 min"
        );
        assert_eq!(money(Some(12345), Some("EUR")), "123.45 EUR");
        assert_eq!(money(Some(-5), Some("EUR")), "-0.05 EUR");
    }
}
