//! What every HTTP adapter (WhatsApp, Telegram, the transcriber, the PMS) shares: one client
//! with a bounded connect time, which statuses are worth retrying, capped body reads and error
//! messages that never carry a URL (Telegram's and QloApps' URLs can carry credentials).

use std::time::Duration;

use conserje_domain::channel::{MediaError, SendError};
use reqwest::StatusCode;

/// The largest voice note conserje downloads: the transcription API's 25 MB upload limit, so a
/// clip that could never be transcribed is refused before it fills memory.
pub const MAX_AUDIO_BYTES: usize = 25 * 1024 * 1024;

/// Rate limiting, request timeouts and server trouble: the provider may accept the same request
/// later, so the outbox retries it.
pub(crate) fn is_transient_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
}

/// A reqwest error as text without its URL (Telegram's URLs carry the bot token) but with its
/// causes ("connection refused"), which reqwest's own message leaves out.
pub(crate) fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The `provider.call` span of one request to a channel provider (`whatsapp`, `telegram`): a
/// child of the current span (the sender's `outbound.send`), with the HTTP status once it
/// answered ([`answered`]). It names the provider and the operation, never the URL: Telegram's
/// carries the bot token.
pub(crate) fn provider_span(provider: &'static str, operation: &'static str) -> tracing::Span {
    tracing::info_span!(
        "provider.call",
        otel.kind = "client",
        provider,
        operation,
        http.response.status_code = tracing::field::Empty,
    )
}

/// Records on a [`provider_span`] the status the provider answered with.
pub(crate) fn answered(span: &tracing::Span, status: StatusCode) {
    span.record("http.response.status_code", status.as_u16());
}

/// A send that failed before the provider answered. A request that could not even be built (a
/// malformed API base) will never succeed; anything else (timeouts, refused connections) may.
pub(crate) fn send_transport_error(channel: &str, error: reqwest::Error) -> SendError {
    if error.is_builder() {
        SendError::Permanent(format!("{channel} request: {}", describe(error)))
    } else {
        SendError::Transient(format!("{channel} unreachable: {}", describe(error)))
    }
}

/// A media request that failed before the provider answered.
pub(crate) fn media_transport_error(
    channel: &str,
    timeout: Duration,
    error: reqwest::Error,
) -> MediaError {
    if error.is_timeout() {
        MediaError::TimedOut(timeout)
    } else {
        MediaError::Failed(format!("{channel} unreachable: {}", describe(error)))
    }
}

/// The body of a media download, refused once it passes [`MAX_AUDIO_BYTES`].
pub(crate) async fn read_audio(
    channel: &str,
    timeout: Duration,
    mut response: reqwest::Response,
) -> Result<Vec<u8>, MediaError> {
    let too_large = || {
        MediaError::Failed(format!(
            "{channel} media is larger than {MAX_AUDIO_BYTES} bytes"
        ))
    };
    if response
        .content_length()
        .is_some_and(|length| length > MAX_AUDIO_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| media_transport_error(channel, timeout, e))?
    {
        if bytes.len() + chunk.len() > MAX_AUDIO_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// At most `max` characters of a provider's answer, for error messages that stay one line long.
pub(crate) fn excerpt(body: &str, max: usize) -> String {
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

/// The URL base without its trailing slashes, so `{base}/{path}` never doubles one.
pub(crate) fn trim_base(base: impl Into<String>) -> String {
    base.into().trim().trim_end_matches('/').to_owned()
}

/// One HTTP client per adapter: connection pooling across requests, a bounded connect time.
///
/// # Panics
/// When the TLS backend cannot initialise, like `reqwest::Client::new`: the process cannot talk to
/// any provider then.
pub(crate) fn http_client() -> reqwest::Client {
    client_builder()
        .build()
        .expect("the HTTP client's TLS backend initialises")
}

/// The shared client settings, for an adapter that adds its own (a request timeout).
pub(crate) fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().connect_timeout(Duration::from_secs(10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_worth_retrying_are_rate_limits_timeouts_and_server_errors() {
        for code in [429, 408, 500, 502, 503] {
            assert!(
                is_transient_status(StatusCode::from_u16(code).unwrap()),
                "{code}"
            );
        }
        for code in [400, 401, 403, 404] {
            assert!(
                !is_transient_status(StatusCode::from_u16(code).unwrap()),
                "{code}"
            );
        }
    }

    #[test]
    fn excerpts_are_one_line_and_bounded() {
        assert_eq!(excerpt("a\n  b", 10), "a b");
        assert_eq!(excerpt("ñandú ñandú", 5), "ñandú…");
        assert_eq!(trim_base(" http://x/ "), "http://x");
    }
}
