//! Request extractors whose failures answer in the API's error shape.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// JSON body: malformed JSON, a wrong content type and missing or mistyped fields are all a
/// `400 malformed_request` naming the problem (axum alone would answer some of them with 422,
/// which this API reserves for broken business rules).
pub struct ApiJson<T>(pub T);

/// The largest JSON body the API takes (the webhooks have their own): a booking or a message is
/// a few KiB; 256 KiB leaves room for a message of the channels' longest text many times over.
pub const API_BODY_LIMIT: usize = 256 * 1024;

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            // A body over the limit is refused as too large, not as malformed.
            Err(rejection) if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::PayloadTooLarge {
                    limit_bytes: API_BODY_LIMIT,
                })
            }
            Err(rejection) => Err(ApiError::bad_request(
                "malformed_request",
                rejection_message(&rejection),
            )),
        }
    }
}

fn rejection_message(rejection: &JsonRejection) -> String {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "expected a JSON body with Content-Type: application/json".to_owned()
        }
        other => other.body_text(),
    }
}

/// An optional JSON body: empty (or only whitespace) is `T::default()`, anything else must parse.
pub fn optional_json<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("malformed_request", e.to_string()))
}
