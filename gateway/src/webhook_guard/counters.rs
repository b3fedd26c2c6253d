//! The webhook counters, held in a Prometheus recorder of the runtime's own.
//!
//! Not the process's global recorder: a test process opens many runtimes at once and checks one
//! runtime's counts exactly, and a host embedding two services must not add their webhooks
//! together. The exporter still writes every line (HELP, TYPE, samples), so there is no
//! hand-written exposition to get wrong; `/metrics` renders [`WebhookCounters::handle`] beside
//! the global recorder. No family here is ever recorded globally, so the two renderings never
//! repeat a family.

use conserje_domain::values::Channel;
use metrics::{Counter, Key, KeyName, Label, Level, Metadata, Recorder, SharedString};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

/// Where the counters are registered from (the exporter ignores it; the trait asks for it).
const METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// One counter family: its name and its HELP text.
struct Family {
    name: &'static str,
    help: &'static str,
}

const ACCEPTED: Family = Family {
    name: "conserje_webhook_messages_accepted_total",
    help: "Guest messages from webhooks appended to the inbound topic.",
};
const IGNORED: Family = Family {
    name: "conserje_webhook_ignored_total",
    help: "Webhook messages or updates with nothing to record.",
};
const SIGNATURE_FAILURES: Family = Family {
    name: "conserje_webhook_signature_failures_total",
    help: "Webhook deliveries refused for a missing or wrong signature or secret token.",
};
const RATE_LIMITED: Family = Family {
    name: "conserje_webhook_rate_limited_total",
    help: "Webhook deliveries refused because a guest passed the rate limit.",
};
const STATUSES_IGNORED: Family = Family {
    name: "conserje_webhook_statuses_ignored_total",
    help: "WhatsApp delivery statuses acknowledged and not recorded.",
};
const UNKNOWN_NUMBERS: Family = Family {
    name: "conserje_webhook_unknown_number_total",
    help: "WhatsApp deliveries for an unconfigured phone_number_id, routed to the default hotel.",
};

/// Counters of one channel's webhooks.
#[derive(Debug)]
pub struct ChannelCounters {
    /// Guest messages appended to the inbound topic.
    pub accepted: Counter,
    /// Messages or updates with nothing to record (stickers, edits, member changes…).
    pub ignored: Counter,
    /// Deliveries refused for a missing or wrong signature or secret token.
    pub signature_failures: Counter,
    /// Deliveries refused because a guest passed the rate limit.
    pub rate_limited: Counter,
}

/// What the webhooks did since start-up, for operators: a rise in signature failures is an
/// attack or a rotated secret, unknown numbers a WhatsApp number nobody configured.
#[derive(Debug)]
pub struct WebhookCounters {
    /// Holds the counters below; they are registered once, so every one renders (0 until used).
    recorder: PrometheusRecorder,
    /// `POST /webhooks/whatsapp`.
    pub whatsapp: ChannelCounters,
    /// `POST /webhooks/telegram/{tenant}`.
    pub telegram: ChannelCounters,
    /// WhatsApp delivery statuses of the hotel's own messages, acknowledged and dropped.
    pub whatsapp_statuses_ignored: Counter,
    /// WhatsApp deliveries for a `phone_number_id` no hotel configures, routed to `default`.
    pub whatsapp_unknown_numbers: Counter,
}

/// Adds `n` to a counter.
pub fn count(counter: &Counter, n: u64) {
    counter.increment(n);
}

/// `family{channel="<channel>"}` on `recorder`, described there.
fn register(recorder: &PrometheusRecorder, family: &Family, channel: &'static str) -> Counter {
    recorder.describe_counter(
        KeyName::from_const_str(family.name),
        None,
        SharedString::const_str(family.help),
    );
    let key = Key::from_parts(
        family.name,
        vec![Label::from_static_parts("channel", channel)],
    );
    recorder.register_counter(&key, &METADATA)
}

impl ChannelCounters {
    fn on(recorder: &PrometheusRecorder, channel: &'static str) -> Self {
        Self {
            accepted: register(recorder, &ACCEPTED, channel),
            ignored: register(recorder, &IGNORED, channel),
            signature_failures: register(recorder, &SIGNATURE_FAILURES, channel),
            rate_limited: register(recorder, &RATE_LIMITED, channel),
        }
    }
}

impl WebhookCounters {
    /// Every counter at 0, on a recorder of their own.
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new().build_recorder();
        Self {
            whatsapp: ChannelCounters::on(&recorder, Channel::WhatsApp.as_str()),
            telegram: ChannelCounters::on(&recorder, Channel::Telegram.as_str()),
            whatsapp_statuses_ignored: register(
                &recorder,
                &STATUSES_IGNORED,
                Channel::WhatsApp.as_str(),
            ),
            whatsapp_unknown_numbers: register(
                &recorder,
                &UNKNOWN_NUMBERS,
                Channel::WhatsApp.as_str(),
            ),
            recorder,
        }
    }

    /// Renders the counters in Prometheus' text format.
    pub fn handle(&self) -> PrometheusHandle {
        self.recorder.handle()
    }
}

impl Default for WebhookCounters {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exporter_renders_every_counter_with_its_help_and_type() {
        let counters = WebhookCounters::new();
        count(&counters.telegram.accepted, 2);
        count(&counters.whatsapp_statuses_ignored, 5);
        let text = counters.handle().render();
        assert!(text.contains("conserje_webhook_messages_accepted_total{channel=\"telegram\"} 2\n"));
        assert!(text.contains("conserje_webhook_messages_accepted_total{channel=\"whatsapp\"} 0\n"));
        assert!(text.contains("conserje_webhook_statuses_ignored_total{channel=\"whatsapp\"} 5\n"));
        assert!(text.contains("# TYPE conserje_webhook_unknown_number_total counter\n"));
        assert!(text.contains(
            "# HELP conserje_webhook_signature_failures_total Webhook deliveries refused for a \
             missing or wrong signature or secret token.\n"
        ));
        assert_eq!(text.matches("# TYPE ").count(), 6, "{text}");
        assert_eq!(text.matches("_total{channel=").count(), 10, "{text}");
    }

    #[test]
    fn two_runtimes_count_apart() {
        let (one, other) = (WebhookCounters::new(), WebhookCounters::new());
        count(&one.whatsapp.rate_limited, 1);
        assert!(one
            .handle()
            .render()
            .contains("conserje_webhook_rate_limited_total{channel=\"whatsapp\"} 1\n"));
        assert!(other
            .handle()
            .render()
            .contains("conserje_webhook_rate_limited_total{channel=\"whatsapp\"} 0\n"));
    }
}
