//! A QloApps answer that is not a success, or a call that got no answer, as a [`PmsError`].
//!
//! The class decides what happens next (a refusal is told to the guest, a failure is retried
//! and opens the breaker, a timeout is looked up by its marker before a create is retried), so
//! each rule below names the answer it recognises. A refusal or failure carries the PMS's own
//! code and message in [`PmsFault`], so staff read QloApps' words ("Please provide valid
//! currency."), not ours; a sold-out stay becomes `Unavailable`, which names the room type.

use std::time::Duration;

use conserje_domain::ports::{PmsError, PmsFault};
use conserje_domain::values::RoomType;

use super::json;
use super::xml;
use crate::http::{describe, excerpt, is_transient_status};

/// How much of an unreadable body an error message quotes.
const EXCERPT_CHARS: usize = 200;

/// What a call was about, so a refusal can name it: `Unavailable` needs the room type,
/// `BookingNotFound` the booking.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Subject<'a> {
    pub room_type: Option<&'a RoomType>,
    pub booking: Option<&'a str>,
}

impl<'a> Subject<'a> {
    pub(crate) fn room_type(room_type: &'a RoomType) -> Self {
        Self {
            room_type: Some(room_type),
            booking: None,
        }
    }

    pub(crate) fn booking(pms_ref: &'a str) -> Self {
        Self {
            room_type: None,
            booking: Some(pms_ref),
        }
    }
}

/// One `<error>` (or JSON `errors[]` entry) of QloApps' error envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnvelopeError {
    pub code: Option<u32>,
    pub message: String,
}

/// The errors of an answer body, in XML or JSON (whichever it is: an error's format follows the
/// request's output format, and the dispatcher's own 401 is neither). `None`: no envelope.
pub(crate) fn envelope(body: &str) -> Option<Vec<EnvelopeError>> {
    let errors = xml::errors(body).or_else(|| json::errors(body))?;
    (!errors.is_empty()).then_some(errors)
}

/// The fault of an answer: the first error's code, every error's message (QloApps collects
/// several), or — with no envelope — the body itself, shortened.
pub(crate) fn fault(status: u16, body: &str) -> PmsFault {
    match envelope(body) {
        Some(errors) => PmsFault {
            status,
            code: errors.first().and_then(|e| e.code),
            message: errors
                .iter()
                .map(|e| e.message.trim())
                .collect::<Vec<_>>()
                .join("; "),
        },
        None => PmsFault {
            status,
            code: None,
            message: if body.trim().is_empty() {
                reason(status)
            } else {
                excerpt(body, EXCERPT_CHARS)
            },
        },
    }
}

/// `404 Not Found`, as the status line says it.
fn reason(status: u16) -> String {
    let phrase = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    format!("{status} {phrase}").trim_end().to_owned()
}

/// QloApps' `bookings` validation message for a sold-out stay (HTTP 400, code 404).
fn is_sold_out(message: &str) -> bool {
    message
        .to_ascii_lowercase()
        .contains("room(s) not available")
}

/// The `bookings` resource's answer to an order id it does not know (HTTP 400, code 404).
fn is_unknown_booking(message: &str) -> bool {
    message.to_ascii_lowercase().contains("booking not found")
}

/// A non-2xx answer as the error the rest of conserje acts on.
pub(crate) fn from_answer(status: u16, body: &str, subject: Subject<'_>) -> PmsError {
    let has_envelope = envelope(body).is_some();
    let fault = fault(status, body);
    match status {
        // The dispatcher's plain-text `401 Unauthorized` (no key reached it) and the envelope
        // of a bad, inactive or unprivileged key (codes 17, 18, 20, 21, 26; 403 is code 132,
        // a key not allowed on this shop): only the hotel can fix either.
        401 | 403 => PmsError::Unauthorized(fault),
        // `bookings` answers every validation failure with 400 and code 404, so the class is in
        // the message: a sold-out stay must reach the guest as "no room", not as a refusal of
        // the request, and an unknown order id as a missing booking.
        400 if is_sold_out(&fault.message) => PmsError::Unavailable(
            subject
                .room_type
                .map_or_else(String::new, |r| r.to_string()),
        ),
        400 | 404 if is_unknown_booking(&fault.message) => {
            PmsError::BookingNotFound(subject.booking.unwrap_or_default().to_owned())
        }
        // `GET /api/{resource}/{id}` of an unknown id: 404 with an empty body.
        404 if !has_envelope && subject.booking.is_some() => {
            PmsError::BookingNotFound(subject.booking.unwrap_or_default().to_owned())
        }
        // 5xx (including 503 code 22, the webservice switched off) and a proxy's 408/429: the
        // PMS may do it later.
        _ if reqwest::StatusCode::from_u16(status).is_ok_and(is_transient_status) => {
            PmsError::Failed(fault)
        }
        // 400, 404 with an envelope, 405 and anything else: asking again changes nothing.
        _ => PmsError::Refused(fault),
    }
}

/// A call that got no HTTP answer. A timeout may have taken effect (a create is then looked up
/// by its marker); a refused connection never reached QloApps. Messages never carry the URL.
pub(crate) fn from_transport(error: reqwest::Error, timeout: Duration) -> PmsError {
    if error.is_timeout() {
        PmsError::TimedOut(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX))
    } else {
        PmsError::Unreachable(describe(error))
    }
}

/// A 2xx whose body is not the document QloApps sends: quoted, shortened, with what was expected.
pub(crate) fn malformed(expected: &str, body: &str) -> PmsError {
    PmsError::Malformed(format!(
        "expected {expected}, got: {}",
        excerpt(body, EXCERPT_CHARS)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML_401: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<qloapps xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n<errors>\n<error>\n<code><![CDATA[18]]></code>\n<message><![CDATA[Invalid authentication key format]]></message>\n</error>\n</errors>\n</qloapps>\n";

    fn standard() -> RoomType {
        RoomType::parse("standard").unwrap()
    }

    #[test]
    fn the_dispatchers_plain_401_has_no_code() {
        let error = from_answer(401, "401 Unauthorized", Subject::default());
        assert_eq!(
            error,
            PmsError::Unauthorized(PmsFault {
                status: 401,
                code: None,
                message: "401 Unauthorized".into()
            })
        );
    }

    #[test]
    fn a_refused_key_keeps_qloapps_code_and_message() {
        let PmsError::Unauthorized(fault) = from_answer(401, XML_401, Subject::default()) else {
            panic!("not unauthorized");
        };
        assert_eq!(fault.code, Some(18));
        assert_eq!(fault.message, "Invalid authentication key format");
        let json = r#"{"errors":[{"code":132,"message":"Key not allowed"}]}"#;
        let PmsError::Unauthorized(fault) = from_answer(403, json, Subject::default()) else {
            panic!("not unauthorized");
        };
        assert_eq!((fault.status, fault.code), (403, Some(132)));
    }

    #[test]
    fn a_sold_out_stay_is_unavailable_not_refused() {
        let body = r#"{"errors":[{"code":404,"message":"Requested room(s) not available."}]}"#;
        let room = standard();
        assert_eq!(
            from_answer(400, body, Subject::room_type(&room)),
            PmsError::Unavailable("standard".into())
        );
        let other = r#"{"errors":[{"code":404,"message":"Please provide valid currency."}]}"#;
        let PmsError::Refused(fault) = from_answer(400, other, Subject::room_type(&room)) else {
            panic!("not refused");
        };
        assert_eq!(fault.code, Some(404));
        assert_eq!(fault.message, "Please provide valid currency.");
    }

    #[test]
    fn unknown_bookings_are_not_found() {
        let body = r#"{"errors":[{"code":404,"message":"Booking not found."}]}"#;
        assert_eq!(
            from_answer(400, body, Subject::booking("77")),
            PmsError::BookingNotFound("77".into())
        );
        assert_eq!(
            from_answer(404, "", Subject::booking("77")),
            PmsError::BookingNotFound("77".into())
        );
    }

    #[test]
    fn server_errors_fail_and_method_errors_are_refused() {
        let body = "<qloapps><errors><error><code><![CDATA[22]]></code><message><![CDATA[The PrestaShop webservice is disabled. Please activate it in the PrestaShop Back Office]]></message></error></errors></qloapps>";
        let PmsError::Failed(fault) = from_answer(503, body, Subject::default()) else {
            panic!("not failed");
        };
        assert_eq!((fault.status, fault.code), (503, Some(22)));
        let PmsError::Failed(fault) =
            from_answer(502, "<html>Bad gateway</html>", Subject::default())
        else {
            panic!("not failed");
        };
        assert_eq!(fault.message, "<html>Bad gateway</html>");
        assert!(matches!(
            from_answer(405, XML_401, Subject::default()),
            PmsError::Refused(_)
        ));
        assert!(matches!(
            from_answer(404, "", Subject::default()),
            PmsError::Refused(PmsFault { status: 404, .. })
        ));
    }
}
