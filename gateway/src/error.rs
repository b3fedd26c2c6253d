//! Every failure the API can answer with, mapped to an HTTP status and a JSON body
//! `{"error": "<code>", "message": "..."}` in one place.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use conserje_commands::CommandError;
use conserje_projections::ProjectionError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    #[error("the reservation kept changing concurrently; try again")]
    Conflict,
    #[error("{0}")]
    Unavailable(String),
    /// The caller could not prove who it is (a webhook's signature or secret token).
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// The caller is known not to be allowed (a wrong verification token).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// The route exists, but not for this method.
    #[error("this endpoint does not answer that method")]
    MethodNotAllowed,
    /// The body is larger than the endpoint accepts.
    #[error("the request body is larger than {limit_bytes} bytes")]
    PayloadTooLarge { limit_bytes: usize },
    /// The source sent more than its share; it may try again after `retry_after_seconds`
    /// (also sent as `Retry-After`).
    #[error("too many messages from this sender; retry after {retry_after_seconds} s")]
    TooManyRequests { retry_after_seconds: u64 },
    /// Cancelling now costs `fee_minor` under the hotel's policy: the caller must accept it.
    #[error(
        "cancelling now costs {fee_minor} (minor units of {currency}) under the hotel's \
             cancellation policy; send accept_fee_minor with that amount to cancel"
    )]
    CancellationFee { fee_minor: i64, currency: String },
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// The HTTP status and the machine-readable code of this failure (the console renders the
    /// same pair as a page).
    pub(crate) fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Refused { code, .. } => (refusal_status(code), code),
            Self::Conflict => (StatusCode::CONFLICT, "conflict"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Unauthorized { code, .. } => (StatusCode::UNAUTHORIZED, code),
            Self::Forbidden { code, .. } => (StatusCode::FORBIDDEN, code),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Self::CancellationFee { .. } => (StatusCode::CONFLICT, "cancellation_fee_applies"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

/// A refusal about the reservation's *state* is a conflict; one about the request's content is
/// unprocessable.
fn refusal_status(code: &str) -> StatusCode {
    match code {
        "already_cancelled"
        | "already_exists"
        | "already_confirmed"
        | "not_modifiable"
        | "no_pending_modification"
        | "not_handed_off"
        | "already_handed_off"
        | "already_revoked" => StatusCode::CONFLICT,
        "not_your_reservation" => StatusCode::FORBIDDEN,
        "pms_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut body = json!({ "error": code, "message": self.to_string() });
        if let Self::CancellationFee {
            fee_minor,
            currency,
        } = &self
        {
            body["fee_minor"] = json!(fee_minor);
            body["currency"] = json!(currency);
        }
        let mut response = (status, Json(body)).into_response();
        if let Self::TooManyRequests {
            retry_after_seconds,
        } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
        }
        response
    }
}

impl From<CommandError> for ApiError {
    fn from(err: CommandError) -> Self {
        match err {
            CommandError::Refused { code, message } => Self::Refused { code, message },
            CommandError::NotFound(what) => Self::NotFound(format!("{what} not found")),
            CommandError::Conflict { .. } => Self::Conflict,
            CommandError::CancellationFee {
                fee_minor,
                currency,
            } => Self::CancellationFee {
                fee_minor,
                currency,
            },
            CommandError::Store(e) => Self::Unavailable(format!("event store: {e}")),
            CommandError::Model(e) => Self::Unavailable(format!("language model: {e}")),
        }
    }
}

impl From<ProjectionError> for ApiError {
    fn from(err: ProjectionError) -> Self {
        Self::Unavailable(err.to_string())
    }
}
