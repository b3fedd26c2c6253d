//! What loadgen sends: ordinary guest questions spread over a fixed set of conversations.
//!
//! The load and the baselines share it, so the raw produce and INSERT baselines move records of
//! the same size and key spread as the messages the service takes.

use chrono::Utc;
use conserje_commands::inbound::inbound_record;
use conserje_domain::log::{OutgoingRecord, Topics};
use conserje_domain::metadata::Actor;
use conserje_domain::session::GuestMessage;
use conserje_domain::values::{GuestRef, TenantId};
use conserje_domain::EventMetadata;
use serde_json::json;
use uuid::Uuid;

/// The channel of the generated messages: the one meant for integrations posting directly.
pub const CHANNEL: &str = "api";

/// The guest of message `index`: the conversations take turns.
pub fn guest_name(index: u64, conversations: u32) -> String {
    format!("lg-{}", index % u64::from(conversations))
}

/// The text of message `index`: a short, ordinary guest question.
fn message_text(index: u64) -> String {
    format!("Hola, ¿tienen una habitación doble libre esta noche? (loadgen {index})")
}

/// The JSON body of message `index` with its `provider_message_id`: fresh for every message, so
/// no message is taken for a redelivery of another, and the key its replies are found by.
pub fn message_body(
    tenant: &TenantId,
    index: u64,
    conversations: u32,
    provider_message_id: &str,
) -> serde_json::Value {
    json!({
        "tenant_id": tenant.as_str(),
        "channel": CHANNEL,
        "guest": guest_name(index, conversations),
        "provider_message_id": provider_message_id,
        "text": message_text(index),
    })
}

/// A fresh provider message id.
pub fn message_id() -> String {
    Uuid::now_v7().to_string()
}

/// The inbound record the service would append for message `index`, built by the service's own
/// code.
pub fn sample_record(
    tenant: &TenantId,
    index: u64,
    conversations: u32,
) -> anyhow::Result<OutgoingRecord> {
    let guest = GuestRef::parse(&guest_name(index, conversations))?;
    let message = GuestMessage {
        location: None,
        guest_name: None,
        tenant_id: tenant.clone(),
        channel: conserje_domain::values::Channel::Api,
        guest_ref: guest.clone(),
        provider_message_id: message_id(),
        text: Some(message_text(index)),
        media: None,
        received_at: Utc::now(),
        choice: None,
        reaction: None,
        contacts: None,
        edit: None,
    };
    let meta = EventMetadata::new(tenant.clone(), Actor::guest(guest.as_str()), CHANNEL)
        .with_source_ip(Some("127.0.0.1".to_owned()));
    Ok(inbound_record(&message, &meta, &Topics::default())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guests_take_turns() {
        let guests: Vec<String> = (0..5).map(|i| guest_name(i, 3)).collect();
        assert_eq!(guests, ["lg-0", "lg-1", "lg-2", "lg-0", "lg-1"]);
    }

    #[test]
    fn generated_messages_are_valid_inbound_records() {
        let tenant = TenantId::parse("loadgen").expect("valid tenant");
        let record = sample_record(&tenant, 4, 3).expect("record");
        assert_eq!(record.key, "loadgen/api/lg-1");
        let body = message_body(&tenant, 4, 3, "m-4");
        assert_eq!(body["guest"], "lg-1");
        assert_eq!(body["provider_message_id"], "m-4");
        assert_ne!(message_id(), message_id());
    }
}
