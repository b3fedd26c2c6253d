//! Who did what, when and through which channel: the metadata stamped on every event.
//!
//! cqrs-es carries metadata as `HashMap<String, String>` per command; this type gives it a shape so
//! that every writer fills the same keys and the audit trail can be read back uniformly. The event
//! store adds the per-event keys (`event_id`, `recorded_at`) itself, because one command may emit
//! several events and each needs its own identity.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api_key::{KeyName, Role};
use crate::values::TenantId;

/// Metadata key names, shared with the store and the audit readers.
pub mod keys {
    pub const EVENT_ID: &str = "event_id";
    pub const RECORDED_AT: &str = "recorded_at";
    pub const TENANT_ID: &str = "tenant_id";
    pub const CORRELATION_ID: &str = "correlation_id";
    pub const CAUSATION_ID: &str = "causation_id";
    pub const ACTOR: &str = "actor";
    pub const CHANNEL: &str = "channel";
    pub const SOURCE_IP: &str = "source_ip";
    pub const TRACEPARENT: &str = "traceparent";
    pub const MODEL_VERSION: &str = "model_version";
}

/// Who caused a change: `guest:<ref>`, `<role>:<key name>` (see [`Actor::key`]) or
/// `system:<component>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Actor(String);

impl Actor {
    pub fn guest(guest_ref: &str) -> Self {
        Self(format!("guest:{guest_ref}"))
    }

    pub fn staff(key_id: &str) -> Self {
        Self(format!("staff:{key_id}"))
    }

    /// What an API key does: `<role>:<key name>` (`staff:front-desk`, `integration:booking-engine`).
    /// The name is a [`KeyName`], which cannot contain `:`, so no key can pose as another kind.
    pub fn key(role: Role, name: &KeyName) -> Self {
        Self(format!("{role}:{name}"))
    }

    pub fn system(component: &str) -> Self {
        Self(format!("system:{component}"))
    }

    /// An actor as [`Actor::as_str`] wrote it (a log header, say): `<kind>:<who>` with a known
    /// kind and printable `who`; `None` otherwise.
    pub fn parse(raw: &str) -> Option<Self> {
        let (kind, who) = raw.split_once(':')?;
        let kinds = [
            "guest",
            "system",
            "integration",
            "staff",
            "analyst",
            "admin",
        ];
        let printable = !who.is_empty() && who.len() <= 200 && !who.chars().any(char::is_control);
        (kinds.contains(&kind) && printable).then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The context of one command, copied onto each event it produces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    pub tenant_id: TenantId,
    /// Ties together everything that followed from one guest message or API call.
    pub correlation_id: Uuid,
    /// The event or request that directly caused this command.
    pub causation_id: Uuid,
    pub actor: Actor,
    /// `api`, `whatsapp`, `telegram` or `system`.
    pub channel: String,
    pub source_ip: Option<String>,
    pub traceparent: Option<String>,
    /// Set when the language model decided something, so the decision can be traced to a model.
    pub model_version: Option<String>,
}

impl EventMetadata {
    /// Metadata for a fresh request: it starts its own correlation.
    pub fn new(tenant_id: TenantId, actor: Actor, channel: &str) -> Self {
        let id = Uuid::now_v7();
        Self {
            tenant_id,
            correlation_id: id,
            causation_id: id,
            actor,
            channel: channel.to_owned(),
            source_ip: None,
            traceparent: None,
            model_version: None,
        }
    }

    /// Metadata for a command caused by an earlier event: same correlation, new cause and actor.
    pub fn caused_by(&self, cause: Uuid, actor: Actor) -> Self {
        Self {
            causation_id: cause,
            actor,
            ..self.clone()
        }
    }

    pub fn with_source_ip(mut self, ip: Option<String>) -> Self {
        self.source_ip = ip;
        self
    }

    pub fn into_map(self) -> HashMap<String, String> {
        let mut map = HashMap::from([
            (keys::TENANT_ID.to_owned(), self.tenant_id.to_string()),
            (
                keys::CORRELATION_ID.to_owned(),
                self.correlation_id.to_string(),
            ),
            (keys::CAUSATION_ID.to_owned(), self.causation_id.to_string()),
            (keys::ACTOR.to_owned(), self.actor.as_str().to_owned()),
            (keys::CHANNEL.to_owned(), self.channel),
        ]);
        let optional = [
            (keys::SOURCE_IP, self.source_ip),
            (keys::TRACEPARENT, self.traceparent),
            (keys::MODEL_VERSION, self.model_version),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                map.insert(key.to_owned(), value);
            }
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_carries_the_audit_keys_and_skips_absent_ones() {
        let tenant = TenantId::parse("hotel-sol").unwrap();
        let meta = EventMetadata::new(tenant, Actor::staff("key-1"), "api")
            .with_source_ip(Some("127.0.0.1".into()));
        let cause = meta.correlation_id;
        let map = meta.into_map();
        assert_eq!(map[keys::TENANT_ID], "hotel-sol");
        assert_eq!(map[keys::ACTOR], "staff:key-1");
        assert_eq!(map[keys::CHANNEL], "api");
        assert_eq!(map[keys::SOURCE_IP], "127.0.0.1");
        assert_eq!(map[keys::CAUSATION_ID], cause.to_string());
        assert!(!map.contains_key(keys::MODEL_VERSION));
    }
}
