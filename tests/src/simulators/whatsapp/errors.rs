//! Graph API error bodies, as Meta writes them.
//!
//! Every refusal is `{"error":{"message","type":"OAuthException","code","error_data"?,
//! "fbtrace_id"}}`. WhatsApp's own codes (13xxxx) carry `error_data{messaging_product,
//! details}`, whose `details` is the only place Meta names the offending field; Graph's generic
//! codes (100, 190, 10) do not. The messages start with `(#code)`, as Graph's do.
//!
//! Two rate limits exist and answer differently on purpose:
//! - the real throughput limit ([`Refusal::throughput`], set with `set_rate_limit`) is what the
//!   Cloud API answers today: HTTP **400** with code 130429;
//! - `fail_next(n, 429)` keeps answering HTTP **429** with code 130429, the shape the adapter's
//!   older tests were written against (Graph also uses 429 on some edges).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// The trace id every error carries (Meta's are random; tests compare bodies whole).
const FBTRACE_ID: &str = "AsimulatorTrace";

/// What 131047 says, on the send and in a `failed` status alike.
pub(super) const RE_ENGAGEMENT_DETAILS: &str = "Message failed to send because more than 24 \
     hours have passed since the customer last replied to this number.";

/// Where Meta's status errors point for an explanation.
const ERROR_CODES_HREF: &str =
    "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/";

/// A request Graph refuses: the HTTP status and the error object's fields.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Refusal {
    pub(super) status: StatusCode,
    pub(super) code: u32,
    pub(super) message: String,
    /// `error_data.details`; `None` for Graph's generic codes, which carry no `error_data`.
    pub(super) details: Option<String>,
}

impl Refusal {
    fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }

    /// `(#100) The parameter … is required.`
    pub(super) fn required(what: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            100,
            format!("(#100) The parameter {what} is required."),
        )
    }

    /// `(#100) …`: a parameter Graph rejects before WhatsApp looks at it.
    pub(super) fn invalid_parameter(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 100, format!("(#100) {message}"))
    }

    /// 131009: a value outside WhatsApp's limits; `details` names the field and the limit.
    pub(super) fn parameter_value(details: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            131009,
            "(#131009) Parameter value is not valid",
        )
        .with_details(details)
    }

    /// 131047: a free-form message outside the 24-hour customer-service window.
    pub(super) fn re_engagement() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            131047,
            "(#131047) Re-engagement message",
        )
        .with_details(RE_ENGAGEMENT_DETAILS)
    }

    /// 132001: no approved template with this name in this language (Meta answers 404).
    pub(super) fn template_missing(name: &str, language: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            132001,
            "(#132001) Template name does not exist in the translation",
        )
        .with_details(format!(
            "template name ({name}) does not exist in {language}"
        ))
    }

    /// 132000: the body parameters do not fill the template's placeholders exactly.
    pub(super) fn parameter_count(sent: usize, expected: usize) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            132000,
            "(#132000) Number of parameters does not match the expected number of params",
        )
        .with_details(format!(
            "body: number of localizable_params ({sent}) does not match the expected number \
             of params ({expected})"
        ))
    }

    /// 130429: the business number's throughput is used up (HTTP 400, as the Cloud API answers).
    pub(super) fn throughput() -> Self {
        Self::new(StatusCode::BAD_REQUEST, 130429, "(#130429) Rate limit hit")
            .with_details("Cloud API message throughput has been reached.")
    }

    /// The `error` object.
    fn error_object(&self) -> Value {
        let mut error = json!({
            "message": self.message,
            "type": "OAuthException",
            "code": self.code,
            "fbtrace_id": FBTRACE_ID,
        });
        if let Some(details) = &self.details {
            error["error_data"] = json!({ "messaging_product": "whatsapp", "details": details });
        }
        if self.code == 100 && self.message.starts_with("Unsupported") {
            // Graph's "object does not exist" (an unknown media id or phone number id).
            error["type"] = json!("GraphMethodException");
            error["error_subcode"] = json!(33);
        }
        if self.status.is_server_error() {
            error["is_transient"] = json!(true);
        }
        error
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.error_object() }))).into_response()
    }
}

/// A Graph API error response with no `error_data` (Graph's generic codes).
pub(super) fn graph_error(status: StatusCode, code: u32, message: &str) -> Response {
    Refusal::new(status, code, message).into_response()
}

/// What Graph answers with the status a test asked for (`fail_next`).
pub(super) fn injected(status: StatusCode) -> Response {
    match status.as_u16() {
        429 => graph_error(status, 130429, "(#130429) Rate limit hit"),
        401 => graph_error(
            status,
            190,
            "Invalid OAuth access token - Cannot parse access token",
        ),
        403 => graph_error(
            status,
            10,
            "(#10) Application does not have permission for this action",
        ),
        404 => graph_error(status, 100, "Unsupported request - method type: get"),
        500.. => graph_error(status, 1, "An unknown error has occurred."),
        _ => graph_error(status, 100, "(#100) Invalid parameter"),
    }
}

/// The `errors[0]` of a `failed` status with `code`: title, message and details as Meta sends
/// them for the codes a hotel meets; any other code reads as Meta's generic 131000.
pub(super) fn status_error(code: u32) -> Value {
    let (title, details) = match code {
        131047 => ("Re-engagement message", RE_ENGAGEMENT_DETAILS),
        131026 => ("Message undeliverable", "Message Undeliverable."),
        131049 => (
            "This message was not delivered to maintain healthy ecosystem engagement.",
            "In order to maintain a healthy ecosystem engagement, the message failed to be \
             delivered.",
        ),
        131056 => (
            "(Business Account, Consumer Account) pair rate limit hit",
            "Too many messages sent from the sender phone number to the same recipient phone \
             number in a short period of time.",
        ),
        130429 => (
            "Rate limit hit",
            "Cloud API message throughput has been reached.",
        ),
        _ => (
            "Something went wrong",
            "Message failed to send because of an unknown error.",
        ),
    };
    json!({
        "code": code,
        "title": title,
        "message": title,
        "error_data": { "details": details },
        "href": ERROR_CODES_HREF,
    })
}
