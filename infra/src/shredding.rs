//! Crypto-shredding: the right to be forgotten in an immutable log.
//!
//! Events are never rewritten — the audit chain over them would break, and copies (the events
//! topic, backups) cannot be reached anyway. Instead the personal fields of an event are stored
//! sealed with the guest's own AES-256-GCM key, and forgetting the guest deletes the key: every
//! copy becomes unreadable at once. Reading an event opens its sealed fields with their keys;
//! a field whose key is gone reads as its placeholder (`null`, `"[forgotten]"`), so aggregates
//! and read models rebuilt by replay show the guest as forgotten while the non-personal facts
//! of a booking (dates, room, price) stay for the hotel's books.
//!
//! Which fields are personal is [`personal_fields`]: the guest's words (messages, transcripts,
//! replies that quote them), names, e-mails, phones and shared locations. What is *not* sealed
//! and so survives forgetting: the identifiers that name streams (a session id carries the
//! channel address; a guest-limit stream the normalised e-mail) — see the README.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use chrono::Utc;
use conserje_domain::journal::{JournalError, Opener, StoredEvent};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{on_pool, Database, InfraError};

/// The key of a sealed field's envelope: `{"$sealed": {"kid", "nonce", "data", "forgotten"}}`.
/// No field of ours starts with `$`, so an envelope cannot be mistaken for data.
pub const SEALED: &str = "$sealed";

/// How long an encryption key is reused from memory before the table is asked again: a guest
/// forgotten by another process gets a new key for what they write after at most this long.
const KEY_CACHE: Duration = Duration::from_secs(30);

/// How many guests' keys the cache holds before the stale ones are dropped.
const KEY_CACHE_ENTRIES: usize = 4096;

/// What a sealed field reads as once its key is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Forgotten {
    Null,
    Text,
    /// An empty text, where empty means "none" (special requests).
    Empty,
}

impl Forgotten {
    fn value(self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Text => Value::String("[forgotten]".into()),
            Self::Empty => Value::String(String::new()),
        }
    }
}

/// The personal fields of an event, as JSON pointers into its payload, with what each reads as
/// once forgotten: what the field's type accepts (`null` where it is optional, a text where it
/// is required) — an event that no longer decodes would stop every replay.
fn personal_fields(aggregate_type: &str, event_type: &str) -> &'static [(&'static str, Forgotten)] {
    use Forgotten::{Empty, Null, Text};
    match (aggregate_type, event_type) {
        ("Session", "SessionStarted") => &[("/SessionStarted/guest_ref", Text)],
        ("DataAccess", "GuestDataRead") => &[("/GuestDataRead/subject", Text)],
        ("Session", "GuestMessageReceived") => &[
            ("/GuestMessageReceived/text", Null),
            ("/GuestMessageReceived/guest_name", Null),
            ("/GuestMessageReceived/location", Null),
            ("/GuestMessageReceived/contacts", Null),
        ],
        ("Session", "AudioTranscribed") => &[("/AudioTranscribed/text", Text)],
        ("Session", "IntentRecognized") => &[
            ("/IntentRecognized/entities/email", Null),
            ("/IntentRecognized/entities/phone", Null),
        ],
        ("Session", "SlotsUpdated") => &[
            ("/SlotsUpdated/state/slots/email", Null),
            ("/SlotsUpdated/state/slots/phone", Null),
        ],
        ("Session", "ReplyComposed") => &[("/ReplyComposed/text", Text)],
        ("Reservation", "ReservationRequested") => &[
            ("/ReservationRequested/guest/name", Text),
            ("/ReservationRequested/guest/email", Text),
            ("/ReservationRequested/guest/phone", Text),
            ("/ReservationRequested/guest/guest_ref", Text),
            ("/ReservationRequested/special_requests", Empty),
        ],
        _ => &[],
    }
}

/// Whose data an event holds: (tenant, guest_ref), from the stream id of a session
/// (`tenant/channel/guest`) or the request of a reservation.
fn owner(aggregate_type: &str, aggregate_id: &str, payload: &Value) -> Option<(String, String)> {
    match aggregate_type {
        "Session" => {
            let mut parts = aggregate_id.splitn(3, '/');
            let tenant = parts.next()?;
            let _channel = parts.next()?;
            Some((tenant.to_owned(), parts.next()?.to_owned()))
        }
        // A read of a conversation names it (and so the guest) by its session id; a read of a
        // reservation names only the reservation's id, which is not personal.
        "DataAccess" => {
            let subject = payload.pointer("/GuestDataRead/subject")?.as_str()?;
            let mut parts = subject.splitn(3, '/');
            let tenant = parts.next()?;
            let _channel = parts.next()?;
            Some((tenant.to_owned(), parts.next()?.to_owned()))
        }
        "Reservation" => {
            let request = payload.get("ReservationRequested")?;
            Some((
                request.get("tenant_id")?.as_str()?.to_owned(),
                request.pointer("/guest/guest_ref")?.as_str()?.to_owned(),
            ))
        }
        _ => None,
    }
}

/// The guest's name in the key table: not the guest_ref itself.
pub fn subject(tenant: &str, guest_ref: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(tenant.as_bytes());
    hasher.update([0]);
    hasher.update(guest_ref.as_bytes());
    hex::encode(hasher.finalize())
}

fn random<const N: usize>() -> Result<[u8; N], InfraError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| InfraError::Keys(format!("no randomness: {e}")))?;
    Ok(bytes)
}

/// A guest's key as last read: when, its id and its bytes.
type CachedKey = (Instant, Uuid, [u8; 32]);

/// The per-guest keys, and sealing and opening events with them.
pub struct Shredder {
    db: Database,
    cache: Mutex<HashMap<String, CachedKey>>,
}

impl Shredder {
    pub fn new(db: Database) -> Self {
        Self {
            db,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The guest's key, created on first use.
    async fn key_for(&self, tenant: &str, guest_ref: &str) -> Result<(Uuid, [u8; 32]), InfraError> {
        let subject = subject(tenant, guest_ref);
        if let Some((at, kid, key)) = self.cache.lock().expect("key cache").get(&subject) {
            if at.elapsed() < KEY_CACHE {
                return Ok((*kid, *key));
            }
        }
        let select = "SELECT kid, secret FROM guest_keys WHERE tenant_id = $1 AND subject = $2";
        let mut found: Option<(String, String)> = on_pool!(&self.db, pool => {
            sqlx::query_as(select).bind(tenant).bind(&subject).fetch_optional(pool).await
        })?;
        if found.is_none() {
            let insert = "INSERT INTO guest_keys (kid, tenant_id, subject, secret, created_at) \
                          VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, subject) DO NOTHING";
            let secret = hex::encode(random::<32>()?);
            let created_at = Utc::now().to_rfc3339();
            on_pool!(&self.db, pool => {
                sqlx::query(insert)
                    .bind(Uuid::now_v7().to_string())
                    .bind(tenant)
                    .bind(&subject)
                    .bind(&secret)
                    .bind(&created_at)
                    .execute(pool)
                    .await
                    .map(|_| ())
            })?;
            // Another writer may have won the insert: its key is the guest's.
            found = on_pool!(&self.db, pool => {
                sqlx::query_as(select).bind(tenant).bind(&subject).fetch_optional(pool).await
            })?;
        }
        let (kid, secret) = found.ok_or_else(|| InfraError::Keys("guest key vanished".into()))?;
        let kid = Uuid::parse_str(&kid).map_err(|e| InfraError::Keys(e.to_string()))?;
        let key = decode_key(&secret)?;
        let mut cache = self.cache.lock().expect("key cache");
        // Keys older than `KEY_CACHE` are only ever read again from the table, so they are
        // dropped once the cache is large: one entry per guest ever seen would grow for as long
        // as the process runs.
        if cache.len() >= KEY_CACHE_ENTRIES {
            cache.retain(|_, (at, _, _)| at.elapsed() < KEY_CACHE);
        }
        cache.insert(subject, (Instant::now(), kid, key));
        Ok((kid, key))
    }

    /// The keys of `kids` that still exist.
    /// The secrets of `kids` that still exist, in one query per 500 kids (one per replay batch,
    /// where a query per kid made opening the feed's slowest step).
    async fn keys(&self, kids: &HashSet<String>) -> Result<HashMap<String, [u8; 32]>, InfraError> {
        let kids: Vec<&String> = kids.iter().collect();
        let mut keys = HashMap::new();
        for chunk in kids.chunks(500) {
            let found: Vec<(String, String)> = on_pool!(&self.db, pool => {
                let mut query = sqlx::QueryBuilder::new("SELECT kid, secret FROM guest_keys WHERE kid IN (");
                let mut list = query.separated(", ");
                for kid in chunk {
                    list.push_bind(kid.as_str());
                }
                query.push(")");
                query.build_query_as().fetch_all(pool).await
            })?;
            for (kid, secret) in found {
                keys.insert(kid, decode_key(&secret)?);
            }
        }
        Ok(keys)
    }

    /// Deletes the guest's key: every field sealed with it reads as forgotten from now on.
    /// Returns whether there was a key.
    pub async fn forget(&self, tenant: &str, guest_ref: &str) -> Result<bool, InfraError> {
        let subject = subject(tenant, guest_ref);
        self.cache.lock().expect("key cache").remove(&subject);
        let deleted = on_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM guest_keys WHERE tenant_id = $1 AND subject = $2")
                .bind(tenant)
                .bind(&subject)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })?;
        Ok(deleted > 0)
    }

    /// Seals the personal fields of an event's `payload` in place, before it is stored.
    pub async fn seal(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        event_type: &str,
        payload: &mut Value,
    ) -> Result<(), InfraError> {
        let fields = personal_fields(aggregate_type, event_type);
        if fields.is_empty() {
            return Ok(());
        }
        let Some((tenant, guest_ref)) = owner(aggregate_type, aggregate_id, payload) else {
            return Ok(());
        };
        let (kid, key) = self.key_for(&tenant, &guest_ref).await?;
        let cipher = Aes256Gcm::new_from_slice(&key).expect("a 32-byte key");
        for (pointer, forgotten) in fields {
            let Some(field) = payload.pointer_mut(pointer) else {
                continue;
            };
            if field.is_null() || field.get(SEALED).is_some() {
                continue;
            }
            let nonce = random::<12>()?;
            let plain = serde_json::to_vec(field).expect("JSON serialises");
            let sealed = cipher
                .encrypt(
                    Nonce::from_slice(&nonce),
                    Payload {
                        msg: &plain,
                        aad: kid.as_bytes(),
                    },
                )
                .map_err(|e| InfraError::Keys(format!("sealing failed: {e}")))?;
            *field = json!({ SEALED: {
                "kid": kid.to_string(),
                "nonce": hex::encode(nonce),
                "data": hex::encode(sealed),
                "forgotten": forgotten.value(),
            }});
        }
        Ok(())
    }

    /// Opens every sealed field of `payloads` in place: with its key when the guest is not
    /// forgotten, as its placeholder when they are.
    pub async fn open_all<'a>(
        &self,
        payloads: impl IntoIterator<Item = &'a mut Value>,
    ) -> Result<(), InfraError> {
        let payloads: Vec<&mut Value> = payloads.into_iter().collect();
        let mut kids = HashSet::new();
        for payload in &payloads {
            collect_kids(payload, &mut kids);
        }
        if kids.is_empty() {
            return Ok(());
        }
        let keys = self.keys(&kids).await?;
        for payload in payloads {
            open(payload, &keys);
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Opener for Shredder {
    async fn open(&self, events: &mut [StoredEvent]) -> Result<(), JournalError> {
        self.open_all(events.iter_mut().map(|e| &mut e.payload))
            .await
            .map_err(|e| JournalError(e.to_string()))
    }
}

fn decode_key(secret: &str) -> Result<[u8; 32], InfraError> {
    hex::decode(secret)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| InfraError::Keys("a guest key is not 32 bytes of hex".into()))
}

fn collect_kids(value: &Value, kids: &mut HashSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(kid) = map
                .get(SEALED)
                .and_then(|s| s.get("kid"))
                .and_then(Value::as_str)
            {
                kids.insert(kid.to_owned());
                return;
            }
            map.values().for_each(|v| collect_kids(v, kids));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_kids(v, kids)),
        _ => {}
    }
}

fn open(value: &mut Value, keys: &HashMap<String, [u8; 32]>) {
    match value {
        Value::Object(map) => {
            if let Some(envelope) = map.get(SEALED) {
                *value = open_envelope(envelope, keys);
                return;
            }
            map.values_mut().for_each(|v| open(v, keys));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| open(v, keys)),
        _ => {}
    }
}

/// The sealed value, or its placeholder when the key is gone (or the envelope is damaged: a
/// broken envelope must not stop a replay; the audit chain reports tampering).
fn open_envelope(envelope: &Value, keys: &HashMap<String, [u8; 32]>) -> Value {
    let forgotten = envelope.get("forgotten").cloned().unwrap_or(Value::Null);
    let text = |name: &str| envelope.get(name).and_then(Value::as_str);
    let (Some(kid), Some(nonce), Some(data)) = (text("kid"), text("nonce"), text("data")) else {
        return forgotten;
    };
    let Some(key) = keys.get(kid) else {
        return forgotten;
    };
    let (Ok(nonce), Ok(data), Ok(kid)) =
        (hex::decode(nonce), hex::decode(data), Uuid::parse_str(kid))
    else {
        return forgotten;
    };
    if nonce.len() != 12 {
        return forgotten;
    }
    let cipher = Aes256Gcm::new_from_slice(key).expect("a 32-byte key");
    cipher
        .decrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &data,
                aad: kid.as_bytes(),
            },
        )
        .ok()
        .and_then(|plain| serde_json::from_slice(&plain).ok())
        .unwrap_or(forgotten)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_opens_with_its_key_and_reads_as_forgotten_without_it() {
        let kid = Uuid::now_v7();
        let key = [7u8; 32];
        let cipher = Aes256Gcm::new_from_slice(&key).unwrap();
        let nonce = [1u8; 12];
        let data = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: br#""Ana P\u00e9rez""#,
                    aad: kid.as_bytes(),
                },
            )
            .unwrap();
        let sealed = json!({ "guest": { "name": { SEALED: {
            "kid": kid.to_string(), "nonce": hex::encode(nonce), "data": hex::encode(&data),
            "forgotten": "[forgotten]" } } } });
        let mut with_key = sealed.clone();
        open(&mut with_key, &HashMap::from([(kid.to_string(), key)]));
        assert_eq!(with_key, json!({ "guest": { "name": "Ana Pérez" } }));
        let mut without = sealed.clone();
        open(&mut without, &HashMap::new());
        assert_eq!(without, json!({ "guest": { "name": "[forgotten]" } }));
        let mut wrong = sealed;
        open(&mut wrong, &HashMap::from([(kid.to_string(), [8u8; 32])]));
        assert_eq!(
            wrong,
            json!({ "guest": { "name": "[forgotten]" } }),
            "a wrong key opens nothing"
        );
    }

    /// The pointers name fields as events are stored: a flattened struct puts its fields on the
    /// event itself. Pointers once written through the flattened field's name matched nothing,
    /// and the bot's replies and the extracted e-mails and phones were stored unsealed.
    #[test]
    fn the_personal_fields_of_session_events_are_where_the_stored_payload_has_them() {
        use conserje_domain::session::{Reply, SessionEvent};
        use conserje_domain::understanding::{Entities, Intent, Language, Understood};
        let reply = SessionEvent::ReplyComposed {
            turn_key: None,
            author: "bot".into(),
            reply: Reply {
                reply_id: Uuid::now_v7(),
                text: "Hola Ana".into(),
                language: Language::Es,
                locale: None,
                template: "greeting".into(),
                message_template: None,
                choices: None,
                proactive: None,
            },
        };
        let intent = SessionEvent::IntentRecognized {
            turn_key: "wamid.1".into(),
            understood: Understood {
                language: Language::Es,
                intent: Intent::Greeting,
                confidence: 0.9,
                entities: Entities {
                    email: Some("ana@example.com".into()),
                    phone: Some("+34600111222".into()),
                    ..Entities::default()
                },
                locale: None,
                from_context: None,
                choice: None,
            },
            model_version: None,
        };
        for (event_type, event) in [("ReplyComposed", reply), ("IntentRecognized", intent)] {
            let payload = serde_json::to_value(&event).unwrap();
            let fields = personal_fields("Session", event_type);
            assert!(!fields.is_empty(), "{event_type} has personal fields");
            for (pointer, _) in fields {
                assert!(
                    payload.pointer(pointer).is_some_and(|v| !v.is_null()),
                    "{pointer} names nothing in the stored {event_type}: {payload}"
                );
            }
        }
    }

    #[test]
    fn the_owner_of_an_event_is_read_from_its_stream_or_its_request() {
        assert_eq!(
            owner("Session", "hotel-sol/whatsapp/34600111222", &Value::Null),
            Some(("hotel-sol".into(), "34600111222".into()))
        );
        let request = json!({"ReservationRequested": {"tenant_id": "hotel-sol",
            "guest": {"guest_ref": "ana@example.com"}}});
        assert_eq!(
            owner("Reservation", "0190", &request),
            Some(("hotel-sol".into(), "ana@example.com".into()))
        );
        assert_eq!(owner("ApiKey", "x", &request), None);
        assert_ne!(subject("a", "b"), subject("a", "c"));
    }
}
