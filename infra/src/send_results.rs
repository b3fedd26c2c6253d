//! `conserje_outbound_sends_total{channel,result,code}`: every answer a channel provider gave
//! to a reply, counted where the adapter classifies it, with the provider's own error code.
//!
//! The code is what an operator looks up in the provider's documentation — WhatsApp's Graph
//! `error.code` (`131047`: the 24-hour window closed; `190`: the token expired), Telegram's
//! `error_code` (`403`: the guest blocked the bot) — so a dashboard tells a rate limit from a
//! revoked token without reading logs. The `result` is the adapter's decision on that answer:
//! `sent`, `retry` (the sender tries again) or `refused` (dead-lettered); a reply kept in the
//! outbox because the channel has no provider configured is `outbox`.
//!
//! Every label value is bounded: channels are conserje's, results these four, codes the
//! provider's finite catalogue or one of the fixed words below — never a guest or a message.

use conserje_domain::channel::SendError;

/// The family's name (its HELP text is in the gateway's telemetry catalogue).
pub const OUTBOUND_SENDS: &str = "conserje_outbound_sends_total";

/// What the adapter made of the provider's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendResult {
    Sent,
    Retry,
    Refused,
    Outbox,
}

impl SendResult {
    fn label(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Retry => "retry",
            Self::Refused => "refused",
            Self::Outbox => "outbox",
        }
    }

    fn of(error: &SendError) -> Self {
        match error {
            SendError::Transient(_) | SendError::RateLimited { .. } => Self::Retry,
            SendError::Permanent(_) | SendError::WindowClosed(_) | SendError::Unreachable(_) => {
                Self::Refused
            }
        }
    }
}

/// The provider's code for an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderCode {
    /// The provider accepted the message (or it stayed in the outbox).
    Ok,
    /// The provider's error code from its error body.
    Provider(i64),
    /// An HTTP failure without a readable error body: `http_<status>`, kept apart from the
    /// provider's codes, which overlap HTTP statuses' range.
    Http(u16),
    /// No answer: the request failed before the provider answered (timeout, connection).
    Unreachable,
    /// The hotel has no account on this channel: nothing was sent.
    NotConfigured,
}

impl ProviderCode {
    fn label(self) -> String {
        match self {
            Self::Ok => "ok".to_owned(),
            Self::Provider(code) => code.to_string(),
            Self::Http(status) => format!("http_{status}"),
            Self::Unreachable => "unreachable".to_owned(),
            Self::NotConfigured => "not_configured".to_owned(),
        }
    }
}

/// The channel label: conserje's channel names, anything else `other`, so a label can only take
/// the values a dashboard knows.
fn channel_label(channel: &str) -> &'static str {
    match channel {
        crate::whatsapp::WHATSAPP => crate::whatsapp::WHATSAPP,
        crate::telegram::TELEGRAM => crate::telegram::TELEGRAM,
        "api" => "api",
        _ => "other",
    }
}

/// Counts one answer.
pub fn record(channel: &str, result: SendResult, code: ProviderCode) {
    metrics::counter!(
        OUTBOUND_SENDS,
        "channel" => channel_label(channel),
        "result" => result.label(),
        "code" => code.label(),
    )
    .increment(1);
}

/// Counts an accepted send.
pub fn sent(channel: &str) {
    record(channel, SendResult::Sent, ProviderCode::Ok);
}

/// Counts a failed send with `code` and hands the error back, so an adapter counts and returns
/// in one expression (`return Err(failed(…))`) and no failure path can skip the count.
pub fn failed(channel: &str, code: ProviderCode, error: SendError) -> SendError {
    record(channel, SendResult::of(&error), code);
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_exporter_prometheus::PrometheusBuilder;

    #[test]
    fn answers_are_counted_by_channel_result_and_provider_code() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            sent("whatsapp");
            sent("whatsapp");
            let refused = failed(
                "whatsapp",
                ProviderCode::Provider(131_047),
                SendError::Permanent("re-engagement".into()),
            );
            assert_eq!(refused, SendError::Permanent("re-engagement".into()));
            failed(
                "telegram",
                ProviderCode::Http(502),
                SendError::Transient("bad gateway".into()),
            );
            record("web", SendResult::Outbox, ProviderCode::Ok);
        });
        let text = handle.render();
        for line in [
            "conserje_outbound_sends_total{channel=\"whatsapp\",result=\"sent\",code=\"ok\"} 2\n",
            "conserje_outbound_sends_total{channel=\"whatsapp\",result=\"refused\",code=\"131047\"} 1\n",
            "conserje_outbound_sends_total{channel=\"telegram\",result=\"retry\",code=\"http_502\"} 1\n",
            "conserje_outbound_sends_total{channel=\"other\",result=\"outbox\",code=\"ok\"} 1\n",
        ] {
            assert!(text.contains(line), "{line} in:\n{text}");
        }
    }
}
