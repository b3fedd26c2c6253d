//! What a console page answers when it cannot show what was asked: the API's one error enum
//! ([`ApiError`]) with the same status, rendered as a page a person can read — or, without a
//! session, the way to the sign-in page.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::page;
use crate::error::ApiError;

#[derive(Debug)]
pub enum ConsoleError {
    /// No session (or an ended one): to the sign-in page, and back to `next` afterwards.
    SignIn { next: String },
    /// Anything else, with the API's status and message.
    Api(ApiError),
}

impl From<ApiError> for ConsoleError {
    fn from(err: ApiError) -> Self {
        Self::Api(err)
    }
}

impl From<conserje_projections::ProjectionError> for ConsoleError {
    fn from(err: conserje_projections::ProjectionError) -> Self {
        Self::Api(err.into())
    }
}

impl From<conserje_commands::CommandError> for ConsoleError {
    fn from(err: conserje_commands::CommandError) -> Self {
        Self::Api(err.into())
    }
}

/// `next` as a query value: percent-encodes what is not unreserved.
fn encode(next: &str) -> String {
    next.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn { next } => {
                let mut response =
                    Redirect::to(&format!("/console/sign-in?next={}", encode(&next)))
                        .into_response();
                // Scripts fetching fragments see a 401 instead of following to a form.
                response
                    .headers_mut()
                    .insert("x-console-sign-in", HeaderValue::from_static("1"));
                response
            }
            Self::Api(err) => {
                let (status, code) = err.status_and_code();
                if status.is_server_error() {
                    tracing::error!(error = %err, "console request failed");
                }
                let title = match status {
                    StatusCode::NOT_FOUND => "Not found",
                    StatusCode::FORBIDDEN => "Not allowed",
                    StatusCode::CONFLICT => "Changed meanwhile",
                    StatusCode::TOO_MANY_REQUESTS => "Too many requests",
                    s if s.is_server_error() => "Something failed",
                    _ => "Not done",
                };
                let body = html! {
                    div.card {
                        h1 { (title) }
                        p.error role="alert" { (err.to_string()) }
                        p.muted { "Code: " code { (code) } }
                        p { a href="/console" { "Back to the inbox" } }
                    }
                };
                let mut response = page::bare(title, body);
                *response.status_mut() = status;
                if let ApiError::TooManyRequests {
                    retry_after_seconds,
                } = err
                {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
                }
                response
            }
        }
    }
}
