//! The HTTP API's OpenAPI 3 document, served at `GET /openapi.json` (open, like `/health/*`).
//!
//! Why it is assembled here, and from the handlers: a hand-written spec drifts from the code the
//! first time a route changes. Each handler in [`crate::routes`] carries its own
//! `#[utoipa::path(...)]` — method, path, parameters, body, every status it can answer and which
//! roles may call it — next to the code that decides those answers; the request and response
//! types derive `ToSchema` / `IntoParams`. This module only gathers them into one document
//! ([`ApiDoc`]), adds the security schemes, and holds the schemas of bodies that are not a Rust
//! type of this crate: the error body every failure answers with ([`ErrorBody`], see
//! [`crate::error`]), bodies the handlers build with `json!`, and mirrors of the read models'
//! rows and domain values (the projections and domain crates do not depend on utoipa). The
//! mirrors are checked against the real types' serialisation in this module's tests, and the
//! whole document against the running service by schemathesis in `scripts/test.sh`.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::openapi::schema::{
    AnyOfBuilder, Array, ArrayBuilder, ArrayItems, KnownFormat, ObjectBuilder, Schema,
    SchemaFormat, Type,
};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::RefOr;
use utoipa::openapi::Required;
use utoipa::{Modify, OpenApi, ToSchema};
use uuid::Uuid;

use crate::routes::{
    audit, conversation, guests, health, keys, messages, metrics, reservations, sessions, webhooks,
};

/// The body of every error the API answers with (see [`crate::error::ApiError`]).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": "not_found", "message": "reservation 0190… not found"}))]
pub struct ErrorBody {
    /// A stable code: `malformed_request`, `invalid_*`, `unauthenticated`, `invalid_key`,
    /// `forbidden`, `not_found`, `method_not_allowed`, `conflict`, `payload_too_large`,
    /// `rate_limited`, `unavailable`, `cancellation_fee_applies`, or a business rule's refusal
    /// (`already_cancelled`, `room_unavailable`…).
    pub error: String,
    /// What went wrong, for a person.
    pub message: String,
    /// With `cancellation_fee_applies` only: what cancelling now costs, in minor units (cancel
    /// again with `accept_fee_minor` set to it).
    #[schema(required = false)]
    pub fee_minor: Option<i64>,
    /// With `fee_minor`: its currency (ISO 4217).
    #[schema(required = false)]
    pub currency: Option<String>,
}

/// `GET /health/live`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Liveness {
    pub status: LiveStatus,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LiveStatus {
    Live,
}

/// `GET /health/ready`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` (200); `starting` or `unavailable` (503).
    pub status: ReadyStatus,
    /// The event store's kind (`sqlite`, `postgres`).
    pub store: String,
    /// `starting`: the consumer groups that have not joined their topic yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_for: Option<Vec<String>>,
    /// `unavailable`: why the event store did not answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReadyStatus {
    Ready,
    Starting,
    Unavailable,
}

/// `POST /webhooks/whatsapp`: what the delivery held.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhatsAppReceipt {
    /// Messages appended to their hotel's conversation.
    pub accepted: u64,
    /// Messages for a number no hotel configures: acknowledged, recorded nowhere.
    pub refused: u64,
    /// Entries that are neither messages nor statuses.
    pub ignored: u64,
    /// Delivery statuses of our own replies (not recorded).
    pub statuses: u64,
}

/// `POST /webhooks/telegram/{tenant}`: an empty object.
#[derive(Debug, Serialize, ToSchema)]
pub struct TelegramReceipt {}

/// What a key may do (`conserje_domain::api_key::Role`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Integration,
    Staff,
    Analyst,
    Admin,
}

/// A language conserje speaks (`conserje_domain::understanding::Language`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Es,
    En,
    Pt,
}

/// A language as the guest reads it (`conserje_domain::understanding::Locale`).
#[derive(Debug, Serialize, ToSchema)]
pub enum Locale {
    #[serde(rename = "es")]
    Es,
    #[serde(rename = "en")]
    En,
    #[serde(rename = "pt-BR")]
    PtBr,
    #[serde(rename = "pt-PT")]
    PtPt,
}

/// The bot's open question a message was read as the answer to
/// (`conserje_domain::understanding::Expectation`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Expectation {
    Confirmation,
    Dates,
    CheckOut,
    Guests,
    RoomType,
    Email,
    Phone,
    BookingNumber,
    Change,
}

/// The things named in a message (`conserje_domain::understanding::Entities`); absent keys were
/// not named.
#[derive(Debug, Serialize, ToSchema)]
pub struct Entities {
    pub check_in: Option<NaiveDate>,
    pub check_out: Option<NaiveDate>,
    pub guests: Option<u32>,
    pub room_type: Option<String>,
    pub booking_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub nights: Option<u32>,
    pub extra_guests: Option<u32>,
}

/// What the guest pays for a stay (`conserje_domain::pricing::PriceQuote`), in minor units.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceQuote {
    pub nights: i64,
    pub nightly_rate_minor: i64,
    pub subtotal_minor: i64,
    pub discount_percent: u8,
    pub discount_minor: i64,
    pub total_minor: i64,
    pub currency: String,
}

/// One key as the `api_keys` read model shows it (`conserje_projections::api_keys::ApiKeyRow`):
/// never its secret, nor the secret's hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyRow {
    pub key_id: String,
    pub name: String,
    pub role: Role,
    /// The hotel, or `*` for an admin key of every hotel.
    pub scope: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub issued_at: DateTime<Utc>,
    /// The actor that issued it (`admin:<name>`, or `system:first-start`).
    pub issued_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    /// The last event applied to the row.
    pub last_sequence: i64,
}

/// One event of the audit trail (`conserje_projections::audit::AuditRow`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditRow {
    /// The event's place in the store's global order.
    pub position: i64,
    pub tenant_id: String,
    /// Its place in its hotel's chain, from 1.
    pub link: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    /// `guest:<ref>`, `<role>:<key name>` or `system:<component>`.
    pub actor: String,
    /// `whatsapp`, `telegram`, `api` or `system`.
    pub channel: String,
    pub correlation_id: Option<String>,
    pub source_ip: Option<String>,
    pub recorded_at: DateTime<Utc>,
    /// The hash of the previous link of the hotel's chain.
    pub prev_hash: String,
    /// SHA-256 over this event and `prev_hash`.
    pub hash: String,
}

/// A reservation as the `reservations` read model shows it
/// (`conserje_projections::reservations::ReservationRow`). For an analyst key the guest's name,
/// e-mail and phone are `null` and `guest_ref` is `redacted`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReservationRow {
    pub reservation_id: Uuid,
    pub tenant_id: String,
    pub guest_ref: String,
    pub guest_name: Option<String>,
    pub guest_email: Option<String>,
    pub guest_phone: Option<String>,
    /// `requested`, `confirmed`, `rejected` or `cancelled`.
    pub status: String,
    pub room_type: Option<String>,
    pub check_in: Option<NaiveDate>,
    pub check_out: Option<NaiveDate>,
    pub nights: Option<i64>,
    pub guests: Option<i64>,
    pub nightly_rate_minor: Option<i64>,
    pub subtotal_minor: Option<i64>,
    pub discount_percent: Option<i64>,
    pub discount_minor: Option<i64>,
    pub total_minor: Option<i64>,
    pub currency: Option<String>,
    pub special_requests: Option<String>,
    pub pms_ref: Option<String>,
    pub rejection_reason: Option<String>,
    /// What the cancellation cost under the hotel's policy (0 when free); null until cancelled.
    pub cancellation_fee_minor: Option<i64>,
    pub requested_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The last event applied to the row.
    pub last_sequence: i64,
}

/// What forgetting a guest did (`crate::forget::Forgetting`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Forgetting {
    pub tenant_id: String,
    /// Whether the guest had a data key (false: nothing of theirs was sealed, or they were
    /// already forgotten).
    pub key_deleted: bool,
    /// The read models rebuilt, each as `[name, events replayed]`.
    #[schema(schema_with = name_and_count_pairs)]
    pub rebuilt: Vec<(String, u64)>,
    pub forgotten_at: DateTime<Utc>,
}

/// `[[name, count], …]`: each pair is two items, a string then an integer ≥ 0. utoipa writes
/// `Vec<(String, u64)>` with `prefixItems` (and `"items": false`), which schemathesis 4 cannot
/// read as a response schema, so the pair is two items of either type here.
fn name_and_count_pairs() -> Array {
    let name = ObjectBuilder::new().schema_type(Type::String);
    let count = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(0));
    let pair = ArrayBuilder::new()
        .items(AnyOfBuilder::new().item(name).item(count))
        .min_items(Some(2))
        .max_items(Some(2))
        .build();
    ArrayBuilder::new()
        .items(ArrayItems::RefOrSchema(Box::new(RefOr::T(Schema::Array(
            pair,
        )))))
        .description(Some(
            "The read models rebuilt, each as `[name, events replayed]`.",
        ))
        .build()
}

/// The security schemes: API keys for `/api/v1/*` and `/metrics`, the providers' own header
/// authentication for the webhooks.
struct SecuritySchemes;

/// The name of the API keys' scheme, as the operations' `security` names it.
pub const BEARER: &str = "bearer";

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("cjk_<id>_<secret>")
                    .description(Some(
                        "An API key, `Authorization: Bearer cjk_<16 hex digits of key id>_<64 hex \
                         digits of secret>`. The first start of a store writes an admin key of \
                         every hotel to `<data-dir>/admin.key`; `POST /api/v1/keys` or `conserje \
                         keys create` issue more.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "whatsapp_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Hub-Signature-256",
                "Meta's signature of the raw body: `sha256=<hex HMAC-SHA256 of the body with the \
                 app secret>`, checked against the app secret of every hotel the delivery names.",
            ))),
        );
        components.add_security_scheme(
            "telegram_secret_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Telegram-Bot-Api-Secret-Token",
                "The secret token the hotel's bot was given with `setWebhook`.",
            ))),
        );
    }
}

/// Bodies a handler reads with [`crate::extract::optional_json`] (none at all is `{}`): utoipa
/// has no attribute for an optional body of a required type (`Option<T>` would promise that a
/// JSON `null` is accepted, which it is not), so they are marked here.
struct OptionalBodies;

/// The operations (all `POST`) whose body may be left out.
pub const OPTIONAL_BODIES: [&str; 2] = [
    "/api/v1/keys/{id}/revoke",
    "/api/v1/reservations/{id}/cancel",
];

impl Modify for OptionalBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for path in OPTIONAL_BODIES {
            let body = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.post.as_mut())
                .and_then(|operation| operation.request_body.as_mut())
                .unwrap_or_else(|| panic!("POST {path} is documented with a body"));
            body.required = Some(Required::False);
        }
    }
}

/// The whole document. Add a handler here when it is added to [`crate::app::router`] (the test
/// `tests/tests/openapi.rs` fails otherwise).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "conserje",
        description = "An event-sourced AI hotel receptionist: guests' conversations from WhatsApp, \
Telegram and the hotel's own systems, reservations, and the audit trail of both.\n\n\
Every `/api/v1` route and `/metrics` takes an API key (`Authorization: Bearer cjk_<id>_<secret>`); \
each operation says which roles may call it. A key of one hotel sees that hotel only: another \
hotel's session, reservation, key or name answers `404`, exactly like one that does not exist. \
The webhooks authenticate with the provider's own header; `/health/*` and `/openapi.json` are \
open.\n\n\
Every failure answers `{\"error\": \"<code>\", \"message\": \"...\"}` (`ErrorBody`). Besides the \
statuses each operation lists, a path that does not exist answers `404 not_found`, and a method a \
path does not answer `405 method_not_allowed`."
    ),
    paths(
        health::live,
        health::ready,
        document,
        metrics::get,
        audit::list,
        guests::forget,
        keys::list,
        keys::create,
        keys::revoke,
        messages::post,
        sessions::find,
        conversation::transcript,
        conversation::resolve_handoff,
        conversation::take_over,
        conversation::staff_reply,
        reservations::create,
        reservations::get,
        reservations::cancel,
        reservations::modify,
        reservations::events,
        webhooks::whatsapp::verify,
        webhooks::whatsapp::receive,
        webhooks::telegram::receive,
    ),
    components(schemas(
        ErrorBody,
        Liveness,
        Readiness,
        WhatsAppReceipt,
        TelegramReceipt,
        Role,
        Language,
        Locale,
        Expectation,
        Entities,
        PriceQuote,
        ApiKeyRow,
        AuditRow,
        ReservationRow,
        Forgetting,
    )),
    modifiers(&SecuritySchemes, &OptionalBodies),
    tags(
        (name = "health", description = "Probes for orchestrators; open."),
        (name = "meta", description = "This document; open."),
        (name = "metrics", description = "Prometheus counters; admin keys."),
        (name = "audit", description = "Who did what, when, through which channel."),
        (name = "guests", description = "The right to be forgotten; admin keys."),
        (name = "keys", description = "API keys: issue, list, revoke; admin keys."),
        (name = "messages", description = "Guest messages from the hotel's own systems."),
        (name = "sessions", description = "Conversations as staff see them."),
        (name = "reservations", description = "Request, read, cancel, modify; the event trail."),
        (name = "webhooks", description = "The providers' deliveries, with their own authentication."),
    )
)]
pub struct ApiDoc;

/// The document, serialised once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_json()
        .expect("the OpenAPI document serialises")
});

/// The document as `GET /openapi.json` serves it.
pub fn json() -> &'static str {
    DOCUMENT.as_str()
}

/// `GET /openapi.json`: this API's OpenAPI document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi_document",
    tag = "meta",
    summary = "This API's OpenAPI 3 document",
    description = "Open: no key needed.",
    security(()),
    responses(
        (status = 200, description = "The OpenAPI document", body = Object, content_type = "application/json"),
    )
)]
pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], json())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use axum::body::to_bytes;
    use chrono::TimeZone;
    use serde_json::Value;

    use super::*;
    use crate::error::ApiError;

    fn document() -> Value {
        serde_json::from_str(json()).expect("the document is JSON")
    }

    /// The properties of component schema `name`, and which of them are required.
    fn properties(doc: &Value, name: &str) -> (BTreeSet<String>, BTreeSet<String>) {
        let schema = &doc["components"]["schemas"][name];
        let props = schema["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("schema {name} has properties: {schema}"))
            .keys()
            .cloned()
            .collect();
        let required = schema["required"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        (props, required)
    }

    /// `value` (a real type, serialised) has exactly the mirror's properties, and every
    /// property the mirror requires.
    fn assert_mirrors(name: &str, value: impl Serialize) {
        let doc = document();
        let (props, required) = properties(&doc, name);
        let value = serde_json::to_value(value).unwrap();
        let keys: BTreeSet<String> = value.as_object().unwrap().keys().cloned().collect();
        assert!(
            keys.is_subset(&props),
            "{name}: serialised keys {keys:?} not all in the schema {props:?}"
        );
        assert!(
            required.is_subset(&keys),
            "{name}: required {required:?} missing from {keys:?}"
        );
    }

    fn enum_values(name: &str) -> BTreeSet<String> {
        document()["components"]["schemas"][name]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} is an enum"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    fn serialised<T: Serialize>(values: impl IntoIterator<Item = T>) -> BTreeSet<String> {
        values
            .into_iter()
            .map(|v| {
                serde_json::to_value(v)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn the_mirrors_match_the_real_types() {
        let at = Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap();
        let day = NaiveDate::from_ymd_opt(2030, 1, 2).unwrap();
        assert_mirrors(
            "ApiKeyRow",
            conserje_projections::api_keys::ApiKeyRow {
                key_id: "0000000000000001".into(),
                name: "admin".into(),
                role: "admin".into(),
                scope: "*".into(),
                expires_at: Some(at),
                issued_at: at,
                issued_by: "system:first-start".into(),
                revoked_at: None,
                revoked_by: None,
                last_sequence: 1,
            },
        );
        assert_mirrors(
            "AuditRow",
            conserje_projections::audit::AuditRow {
                position: 1,
                tenant_id: "default".into(),
                link: 1,
                aggregate_type: "Reservation".into(),
                aggregate_id: "x".into(),
                sequence: 1,
                event_type: "ReservationRequested".into(),
                actor: "staff:lucia".into(),
                channel: "api".into(),
                correlation_id: None,
                source_ip: None,
                recorded_at: at,
                prev_hash: "0".into(),
                hash: "1".into(),
            },
        );
        assert_mirrors(
            "ReservationRow",
            conserje_projections::reservations::ReservationRow {
                reservation_id: Uuid::nil(),
                tenant_id: "default".into(),
                guest_ref: "ana@example.com".into(),
                guest_name: None,
                guest_email: None,
                guest_phone: None,
                status: "requested".into(),
                room_type: None,
                check_in: Some(day),
                check_out: None,
                nights: None,
                guests: None,
                nightly_rate_minor: None,
                subtotal_minor: None,
                discount_percent: None,
                discount_minor: None,
                total_minor: None,
                currency: None,
                special_requests: None,
                pms_ref: None,
                rejection_reason: None,
                cancellation_fee_minor: None,
                requested_on: None,
                created_at: at,
                updated_at: at,
                last_sequence: 1,
            },
        );
        assert_mirrors(
            "PriceQuote",
            conserje_domain::pricing::PriceQuote {
                nights: 2,
                nightly_rate_minor: 100,
                subtotal_minor: 200,
                discount_percent: 0,
                discount_minor: 0,
                total_minor: 200,
                currency: "EUR".into(),
            },
        );
        assert_mirrors(
            "Entities",
            conserje_domain::understanding::Entities {
                check_in: Some(day),
                check_out: Some(day),
                guests: Some(2),
                room_type: Some("king".into()),
                booking_id: Some("b".into()),
                email: Some("a@b.es".into()),
                phone: Some("+34600111222".into()),
                nights: Some(2),
                extra_guests: Some(1),
            },
        );
        assert_mirrors(
            "Forgetting",
            crate::forget::Forgetting {
                tenant_id: "default".into(),
                key_deleted: true,
                rebuilt: vec![("reservations".into(), 3)],
                forgotten_at: at,
            },
        );
        use conserje_domain::understanding as u;
        assert_eq!(enum_values("Language"), serialised(u::Language::ALL));
        assert_eq!(enum_values("Locale"), serialised(u::Locale::ALL));
        assert_eq!(
            enum_values("Role"),
            serialised(conserje_domain::api_key::Role::ALL)
        );
        // Exhaustive, so a new variant fails to compile here until the mirror has it.
        let _ = |e: u::Expectation| match e {
            u::Expectation::Confirmation
            | u::Expectation::Dates
            | u::Expectation::CheckOut
            | u::Expectation::Guests
            | u::Expectation::RoomType
            | u::Expectation::Email
            | u::Expectation::Phone
            | u::Expectation::BookingNumber
            | u::Expectation::Change => (),
        };
        let expectations = [
            u::Expectation::Confirmation,
            u::Expectation::Dates,
            u::Expectation::CheckOut,
            u::Expectation::Guests,
            u::Expectation::RoomType,
            u::Expectation::Email,
            u::Expectation::Phone,
            u::Expectation::BookingNumber,
            u::Expectation::Change,
        ];
        assert_eq!(enum_values("Expectation"), serialised(expectations));
    }

    #[tokio::test]
    async fn an_error_answers_the_error_body() {
        let doc = document();
        let (props, required) = properties(&doc, "ErrorBody");
        let response = ApiError::NotFound("nothing".into()).into_response();
        let body = to_bytes(response.into_body(), 1 << 16).await.unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        let keys: BTreeSet<String> = body.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys, required,
            "every error has exactly the required fields"
        );
        // A fee refusal adds the optional ones, and only those the schema lists.
        let response = ApiError::CancellationFee {
            fee_minor: 15_400,
            currency: "EUR".into(),
        }
        .into_response();
        assert_eq!(response.status(), axum::http::StatusCode::CONFLICT);
        let body = to_bytes(response.into_body(), 1 << 16).await.unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        let keys: BTreeSet<String> = body.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, props);
        assert_eq!(body["error"], "cancellation_fee_applies");
        assert_eq!(body["fee_minor"], 15_400);
    }
}
