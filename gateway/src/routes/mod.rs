//! One module per resource.

pub mod audit;
pub mod conversation;
pub mod guests;
pub mod health;
pub mod keys;
pub mod messages;
pub mod metrics;
pub mod request_metrics;
pub mod reservations;
pub mod sessions;
pub mod webhooks;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::Path;
use axum::http::StatusCode;

use crate::error::ApiError;
use crate::extract::API_BODY_LIMIT;

/// A `{id}` path segment, or `None` when it is not UTF-8 once percent-decoded (`%FF`): axum's own
/// rejection would answer `400` in plain text, outside the API's error shape.
pub(crate) fn path_segment(path: Result<Path<String>, PathRejection>) -> Option<String> {
    path.ok().map(|Path(segment)| segment)
}

/// A raw body read for [`crate::extract::optional_json`]: over [`API_BODY_LIMIT`] it is `413
/// payload_too_large` in the API's error shape, as with [`crate::extract::ApiJson`] (axum's own
/// rejection answers in plain text).
pub(crate) fn raw_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                limit_bytes: API_BODY_LIMIT,
            }
        } else {
            ApiError::bad_request("malformed_request", rejection.body_text())
        }
    })
}
