//! The staff console: the hotel's inbox, conversations, bookings, figures and operations as web
//! pages at `/console`, served by the gateway itself (no other server, no CDN: the style sheet
//! and the one small script are compiled into the binary).
//!
//! Pages are rendered on the server with maud, which escapes every value spliced into the HTML:
//! guests' names and messages reach staff's screens and may hold markup or control characters.
//! Every page works with plain forms (post, then redirect); the script only adds live updates
//! (server-sent events from the inbox read model) on top.
//!
//! Every action goes through the same code as the API, with a [`Caller`](crate::auth::Caller)
//! made from the signed-in key: the same roles, the same hotel scoping (another hotel's data is
//! not found), the same rules and confirmations, and the staff member as the events' actor with
//! `console` as the channel.

use std::sync::Arc;
use std::time::Duration;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;

use crate::settings::AccessOptions;
use crate::Runtime;

mod bookings;
mod conversation;
mod error;
mod figures;
mod inbox;
mod live;
mod operations;
mod page;
mod session;

pub use error::ConsoleError;
pub use session::{StaffSession, SESSION_COOKIE};

/// The console's settings (see [`AccessOptions`]).
#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    /// How long a session lasts after sign-in.
    pub session: Duration,
    /// Whether the session cookie is always `Secure`.
    pub secure_cookie: bool,
    /// How often live updates look at the inbox.
    pub live_poll: Duration,
}

impl From<&AccessOptions> for ConsoleSettings {
    fn from(options: &AccessOptions) -> Self {
        Self {
            session: Duration::from_secs(u64::from(options.console_session_hours) * 3600),
            secure_cookie: options.console_secure_cookie,
            live_poll: Duration::from_millis(options.console_live_poll_ms),
        }
    }
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self::from(&AccessOptions::default())
    }
}

const STYLE: &str = include_str!("assets/console.css");
const SCRIPT: &str = include_str!("assets/console.js");

/// The console's routes, registered by the router under `/console`.
pub fn routes() -> Router<Arc<Runtime>> {
    Router::new()
        .route("/console", get(inbox::page))
        .route("/console/inbox/rows", get(inbox::rows))
        .route("/console/live", get(live::stream))
        .route(
            "/console/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route("/console/sign-out", post(session::sign_out))
        .route("/console/conversations/{id}", get(conversation::page))
        .route(
            "/console/conversations/{id}/thread",
            get(conversation::thread),
        )
        .route(
            "/console/conversations/{id}/replies",
            post(conversation::reply),
        )
        .route(
            "/console/conversations/{id}/take-over",
            post(conversation::take_over),
        )
        .route(
            "/console/conversations/{id}/hand-back",
            post(conversation::hand_back),
        )
        .route("/console/bookings", get(bookings::list))
        .route("/console/bookings/{id}", get(bookings::detail))
        .route("/console/bookings/{id}/cancel", post(bookings::cancel))
        .route("/console/bookings/{id}/modify", post(bookings::modify))
        .route("/console/figures", get(figures::page))
        .route("/console/operations", get(operations::page))
        .route("/console/operations/replays", post(operations::replay))
        .route(
            "/console/operations/dead-letters/redrive",
            post(operations::redrive),
        )
        .route("/console/assets/console.css", get(style))
        .route("/console/assets/console.js", get(script))
}

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
}
