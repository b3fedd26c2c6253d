//! Who may call what: every API route × every role × (own hotel, other hotel), from one table,
//! against the real service; the key lifecycle; and the actor of an event coming from the key.
//!
//! The table is checked against the router's own source: a route added to `gateway/src/app.rs`
//! without a row here fails this suite, so no route can ship without its access rule.

use std::collections::BTreeSet;

use conserje_domain::api_key::Role;
use conserje_tests::{eventually, fresh_store, StoreKind, TestApp};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

const OWN: &str = "hotel-sol";
const OTHER: &str = "hotel-mar";

/// What a hotel has for the table's requests to touch.
struct Fixtures {
    reservation: String,
    session: String,
    guest: String,
    /// A key of the hotel that a revocation in the table may revoke.
    spare_keys: Vec<String>,
}

async fn send(
    client: &Client,
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client.request(method, app.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("answered");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// A reservation, an `api` conversation and spare keys of `tenant`, made with the admin key.
async fn fixtures(app: &TestApp, tenant: &str) -> Fixtures {
    let (status, booked) = send(
        &app.http,
        app,
        Method::POST,
        "/api/v1/reservations",
        Some(booking(tenant, "fixture@example.com", 40)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    let guest = format!("guest-of-{tenant}");
    let (status, accepted) = send(
        &app.http,
        app,
        Method::POST,
        "/api/v1/messages",
        Some(json!({"tenant_id": tenant, "guest": guest, "provider_message_id": "fixture-1", "text": "hola"})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    let session = accepted["session_id"].as_str().unwrap().to_owned();
    let path = transcript_path(&session);
    eventually("the fixture conversation is recorded", || async {
        send(&app.http, app, Method::GET, &path, None).await.0 == StatusCode::OK
    })
    .await;
    let mut spare_keys = Vec::new();
    for n in 0..4 {
        let (status, created) = send(
            &app.http,
            app,
            Method::POST,
            "/api/v1/keys",
            Some(json!({"name": format!("spare-{n}"), "role": "staff", "tenant_id": tenant})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        spare_keys.push(created["key_id"].as_str().unwrap().to_owned());
    }
    Fixtures {
        reservation: booked["reservation_id"].as_str().unwrap().to_owned(),
        session,
        guest,
        spare_keys,
    }
}

fn booking(tenant: &str, email: &str, offset_days: i64) -> Value {
    let check_in = chrono::Utc::now().date_naive() + chrono::Duration::days(offset_days);
    let check_out = check_in + chrono::Duration::days(2);
    json!({
        "tenant_id": tenant,
        "guest": { "name": "Ana Pérez", "email": email, "phone": "+34 600 123 456" },
        "room_type": "double",
        "check_in": check_in,
        "check_out": check_out,
        "guests": 2,
    })
}

fn encoded(session: &str) -> String {
    session.replace('/', "%2F")
}

fn transcript_path(session: &str) -> String {
    format!("/api/v1/sessions/{}/transcript", encoded(session))
}

/// One row: a route, who may call it, and the request it makes against a hotel's fixtures.
struct Row {
    method: Method,
    /// The route as `app.rs` writes it.
    route: &'static str,
    allowed: &'static [Role],
    /// Whether the route names a hotel (another hotel's data must be a 404).
    per_hotel: bool,
    request: fn(&Fixtures, &str, usize) -> (String, Option<Value>),
}

const DESK: &[Role] = &[Role::Staff, Role::Admin];

fn table() -> Vec<Row> {
    vec![
        Row {
            method: Method::POST,
            route: "/api/v1/messages",
            allowed: &[Role::Integration, Role::Admin],
            per_hotel: true,
            request: |f, tenant, n| {
                let body = json!({"tenant_id": tenant, "guest": f.guest, "provider_message_id": format!("m-{n}"), "text": "¿tenéis parking?"});
                ("/api/v1/messages".into(), Some(body))
            },
        },
        Row {
            method: Method::GET,
            route: "/api/v1/sessions",
            allowed: DESK,
            per_hotel: true,
            request: |f, tenant, _| {
                (
                    format!(
                        "/api/v1/sessions?tenant={tenant}&channel=api&guest={}",
                        f.guest
                    ),
                    None,
                )
            },
        },
        Row {
            method: Method::GET,
            route: "/api/v1/sessions/{id}/transcript",
            allowed: DESK,
            per_hotel: true,
            request: |f, _, _| (transcript_path(&f.session), None),
        },
        Row {
            method: Method::POST,
            route: "/api/v1/sessions/{id}/replies",
            allowed: DESK,
            per_hotel: true,
            request: |f, _, _| {
                (
                    format!("/api/v1/sessions/{}/replies", encoded(&f.session)),
                    Some(json!({"text": "Hola, soy de recepción."})),
                )
            },
        },
        Row {
            method: Method::POST,
            route: "/api/v1/sessions/{id}/handoff",
            allowed: DESK,
            per_hotel: true,
            request: |f, _, _| {
                (
                    format!("/api/v1/sessions/{}/handoff", encoded(&f.session)),
                    None,
                )
            },
        },
        Row {
            method: Method::POST,
            route: "/api/v1/sessions/{id}/handoff/resolve",
            allowed: DESK,
            per_hotel: true,
            request: |f, _, _| {
                (
                    format!("/api/v1/sessions/{}/handoff/resolve", encoded(&f.session)),
                    None,
                )
            },
        },
        Row {
            method: Method::POST,
            route: "/api/v1/reservations",
            allowed: DESK,
            per_hotel: true,
            request: |_, tenant, n| {
                (
                    "/api/v1/reservations".into(),
                    Some(booking(
                        tenant,
                        &format!("g{n}@example.com"),
                        60 + 3 * n as i64,
                    )),
                )
            },
        },
        Row {
            method: Method::GET,
            route: "/api/v1/reservations/{id}",
            allowed: &[Role::Staff, Role::Analyst, Role::Admin],
            per_hotel: true,
            request: |f, _, _| (format!("/api/v1/reservations/{}", f.reservation), None),
        },
        Row {
            method: Method::GET,
            route: "/api/v1/reservations/{id}/events",
            allowed: DESK,
            per_hotel: true,
            request: |f, _, _| {
                (
                    format!("/api/v1/reservations/{}/events", f.reservation),
                    None,
                )
            },
        },
        Row {
            method: Method::POST,
            route: "/api/v1/reservations/{id}/modify",
            allowed: DESK,
            per_hotel: true,
            request: |f, _, n| {
                (
                    format!("/api/v1/reservations/{}/modify", f.reservation),
                    Some(json!({"guests": 1 + n % 2})),
                )
            },
        },
        Row {
            method: Method::POST,
            route: "/api/v1/reservations/{id}/cancel",
            allowed: DESK,
            per_hotel: true,
            request: |f, _, _| {
                (
                    format!("/api/v1/reservations/{}/cancel", f.reservation),
                    None,
                )
            },
        },
        Row {
            method: Method::GET,
            route: "/api/v1/audit",
            allowed: DESK,
            per_hotel: true,
            request: |_, tenant, _| (format!("/api/v1/audit?tenant={tenant}"), None),
        },
        Row {
            method: Method::POST,
            route: "/api/v1/guests/forget",
            allowed: &[Role::Admin],
            per_hotel: true,
            request: |_, tenant, n| {
                (
                    "/api/v1/guests/forget".into(),
                    Some(json!({"tenant_id": tenant, "guest": format!("nobody-{n}")})),
                )
            },
        },
        Row {
            method: Method::GET,
            route: "/api/v1/keys",
            allowed: &[Role::Admin],
            per_hotel: false,
            request: |_, _, _| ("/api/v1/keys".into(), None),
        },
        Row {
            method: Method::POST,
            route: "/api/v1/keys",
            allowed: &[Role::Admin],
            per_hotel: true,
            request: |_, tenant, n| {
                (
                    "/api/v1/keys".into(),
                    Some(
                        json!({"name": format!("made-{n}"), "role": "analyst", "tenant_id": tenant}),
                    ),
                )
            },
        },
        Row {
            method: Method::POST,
            route: "/api/v1/keys/{id}/revoke",
            allowed: &[Role::Admin],
            per_hotel: true,
            request: |f, _, n| {
                (
                    format!(
                        "/api/v1/keys/{}/revoke",
                        f.spare_keys[n % f.spare_keys.len()]
                    ),
                    None,
                )
            },
        },
        Row {
            method: Method::GET,
            route: "/metrics",
            allowed: &[Role::Admin],
            per_hotel: false,
            request: |_, _, _| ("/metrics".into(), None),
        },
    ]
}

/// The routes `app.rs` registers that need a key: everything but webhooks, health checks and
/// the API's own description.
fn routes_in_the_router() -> BTreeSet<String> {
    let source = include_str!("../../gateway/src/app.rs");
    source
        .split(".route(")
        .skip(1)
        .filter_map(|rest| rest.trim_start().strip_prefix('"')?.split('"').next())
        .filter(|path| {
            !path.starts_with("/webhooks/")
                && !path.starts_with("/health/")
                && *path != "/openapi.json"
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_route_of_the_router_has_a_row_in_the_access_table() {
    let router = routes_in_the_router();
    assert!(
        router.contains("/api/v1/messages"),
        "the router's source was read: {router:?}"
    );
    let covered: BTreeSet<String> = table().iter().map(|row| row.route.to_owned()).collect();
    let missing: Vec<&String> = router.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "routes without an access rule in this table: {missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_route_answers_each_role_only_for_its_own_hotel() {
    let (mut options, _dir) = fresh_store(StoreKind::Sqlite).await;
    options.access.api_rate_limit_per_minute = 0;
    let app = TestApp::spawn(&options).await;
    let own = fixtures(&app, OWN).await;
    let other = fixtures(&app, OTHER).await;
    let mut callers = Vec::new();
    for role in Role::ALL {
        let name = format!("{role}-of-sol");
        callers.push((role, app.client_as(&name, role, Some(OWN)).await));
    }
    let anonymous = Client::new();

    let mut failures = Vec::new();
    let mut n = 0;
    for row in table() {
        for (role, client) in &callers {
            for (hotel, fixtures) in [(OWN, &own), (OTHER, &other)] {
                n += 1;
                let (path, body) = (row.request)(fixtures, hotel, n);
                let (status, answer) =
                    send(client, &app, row.method.clone(), &path, body.clone()).await;
                let allowed = row.allowed.contains(role);
                let expected = match (allowed, hotel == OWN || !row.per_hotel) {
                    (false, _) => "403",
                    (true, false) => "404",
                    (true, true) => "served",
                };
                let ok = match expected {
                    "403" => status == StatusCode::FORBIDDEN && answer["error"] == "forbidden",
                    "404" => status == StatusCode::NOT_FOUND && answer["error"] == "not_found",
                    _ => !matches!(status.as_u16(), 401 | 403 | 404 | 500..=599),
                };
                if !ok {
                    failures.push(format!(
                        "{} {path} as {role} of {OWN} on {hotel}'s data: expected {expected}, got {status} {answer}",
                        row.method
                    ));
                }
                // Without a key every route is 401, whoever's data it names.
                let (status, answer) =
                    send(&anonymous, &app, row.method.clone(), &path, body).await;
                if status != StatusCode::UNAUTHORIZED || answer["error"] != "unauthenticated" {
                    failures.push(format!(
                        "{} {path} without a key: got {status} {answer}",
                        row.method
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    app.stop().await;
}

/// A staff key of one hotel sees none of another hotel's conversations, and an analyst sees a
/// reservation without the guest's contact data.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_analyst_reads_reservations_without_contact_data() {
    let (options, _dir) = fresh_store(StoreKind::Sqlite).await;
    let app = TestApp::spawn(&options).await;
    let (status, booked) = send(
        &app.http,
        &app,
        Method::POST,
        "/api/v1/reservations",
        Some(booking(OWN, "ana@example.com", 20)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    let path = format!(
        "/api/v1/reservations/{}",
        booked["reservation_id"].as_str().unwrap()
    );
    let analyst = app.client_as("bi", Role::Analyst, Some(OWN)).await;
    let (status, row) = send(&analyst, &app, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{row}");
    assert_eq!(row["room_type"], "double");
    assert!(row["total_minor"].as_i64().unwrap() > 0);
    for field in ["guest_name", "guest_email", "guest_phone"] {
        assert!(
            row[field].is_null(),
            "{field} is shown to an analyst: {row}"
        );
    }
    assert!(!row.to_string().contains("ana@example.com"), "{row}");
    let (_, staff_row) = send(&app.http, &app, Method::GET, &path, None).await;
    assert_eq!(staff_row["guest_email"], "ana@example.com");
    app.stop().await;
}

async fn key_lifecycle(kind: StoreKind) {
    let (options, _dir) = fresh_store(kind).await;
    let app = TestApp::spawn(&options).await;

    // The first start left an admin key, readable by its owner only.
    let key_file = options.data_dir.join("admin.key");
    let written = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(
        written,
        format!("{}\n", app.admin_key),
        "the key alone on one line"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "admin.key mode");
    }

    // An admin issues a staff key; the key is shown once, and only its hash is stored.
    let (status, created) = send(
        &app.http,
        &app,
        Method::POST,
        "/api/v1/keys",
        Some(json!({"name": "front-desk", "role": "staff", "tenant_id": OWN})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    let key_id = created["key_id"].as_str().unwrap().to_owned();
    assert!(key.starts_with(&format!("cjk_{key_id}_")), "{key}");
    let stream = app.runtime.feed.stream("ApiKey", &key_id).await.unwrap();
    assert_eq!(stream.len(), 1);
    assert!(
        !stream[0].payload.to_string().contains(&key[21..]),
        "the secret is not stored"
    );
    assert_eq!(
        stream[0].meta("actor"),
        Some("admin:admin"),
        "issuing is audited"
    );

    let staff = TestApp::client_with(&key);
    let sessions = "/api/v1/sessions?channel=api&guest=nobody";
    let (status, _) = send(&staff, &app, Method::GET, sessions, None).await;
    assert_eq!(status, StatusCode::OK, "the new key works at once");

    // A key with its last character changed opens nothing.
    let mut forged = key.clone();
    let last = if forged.ends_with('0') { '1' } else { '0' };
    forged.pop();
    forged.push(last);
    let (status, body) = send(
        &TestApp::client_with(&forged),
        &app,
        Method::GET,
        sessions,
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_key"))
    );

    let (status, listed) = send(&app.http, &app, Method::GET, "/api/v1/keys", None).await;
    assert_eq!(status, StatusCode::OK);
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key_id"] == key_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        (
            row["name"].as_str(),
            row["role"].as_str(),
            row["scope"].as_str()
        ),
        (Some("front-desk"), Some("staff"), Some(OWN))
    );
    assert!(row["revoked_at"].is_null());
    assert!(
        !listed.to_string().contains("secret"),
        "no hash in the list: {listed}"
    );

    let (status, _) = send(
        &app.http,
        &app,
        Method::POST,
        &format!("/api/v1/keys/{key_id}/revoke"),
        Some(json!({"reason": "left the hotel"})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = send(&staff, &app, Method::GET, sessions, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_key")),
        "revoked at once"
    );
    let (status, body) = send(
        &app.http,
        &app,
        Method::POST,
        &format!("/api/v1/keys/{key_id}/revoke"),
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("already_revoked"))
    );
    let (_, listed) = send(&app.http, &app, Method::GET, "/api/v1/keys", None).await;
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key_id"] == key_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(row["revoked_by"], "admin:admin");

    // An expired key opens nothing; a key of every hotel is an admin's only.
    let soon = chrono::Utc::now() + chrono::Duration::seconds(2);
    let (status, created) = send(
        &app.http,
        &app,
        Method::POST,
        "/api/v1/keys",
        Some(json!({"name": "temp", "role": "staff", "tenant_id": OWN, "expires_at": soon})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let temp = TestApp::client_with(created["key"].as_str().unwrap());
    assert_eq!(
        send(&temp, &app, Method::GET, sessions, None).await.0,
        StatusCode::OK
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, _) = send(&temp, &app, Method::GET, sessions, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "expired");
    let (status, body) = send(
        &app.http,
        &app,
        Method::POST,
        "/api/v1/keys",
        Some(json!({"name": "everywhere", "role": "staff"})),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("hotel_required")),
        "{body}"
    );

    // A restart keeps the keys and does not issue another first key.
    let admin_key = app.admin_key.clone();
    app.stop().await;
    let app = TestApp::spawn(&options).await;
    assert_eq!(app.admin_key, admin_key);
    let (_, listed) = send(&app.http, &app, Method::GET, "/api/v1/keys", None).await;
    let admins = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["role"] == "admin")
        .count();
    assert_eq!(admins, 1, "{listed}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keys_are_issued_used_listed_revoked_and_expire_sqlite() {
    key_lifecycle(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keys_are_issued_used_listed_revoked_and_expire_postgres() {
    key_lifecycle(StoreKind::Postgres).await;
}

/// One key over its rate gets 429 with `Retry-After`; another key is not slowed by it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_key_over_its_rate_is_told_when_to_come_back() {
    let (mut options, _dir) = fresh_store(StoreKind::Sqlite).await;
    options.access.api_rate_limit_per_minute = 30;
    let app = TestApp::spawn(&options).await;
    let greedy = app.client_as("greedy", Role::Staff, Some(OWN)).await;
    let calm = app.client_as("calm", Role::Staff, Some(OWN)).await;
    let path = "/api/v1/sessions?channel=api&guest=nobody";
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let response = greedy.get(app.url(path)).send().await.unwrap();
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let retry: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&retry), "Retry-After {retry}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], "rate_limited");
        }
        statuses.push(status);
    }
    let served = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(
        served, 30,
        "a burst of the whole minute's allowance, then 429: {statuses:?}"
    );
    assert_eq!(
        send(&calm, &app, Method::GET, path, None).await.0,
        StatusCode::OK
    );
    app.stop().await;
}

/// A rotated key keeps working through its window beside its successor, then only the
/// successor does; both acts are in the key's stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rotated_key_works_beside_its_successor_until_the_window_closes() {
    let (options, _dir) = fresh_store(StoreKind::Sqlite).await;
    let app = TestApp::spawn(&options).await;
    let old_key = app
        .issue_key("booking-engine", Role::Staff, Some(OWN))
        .await;
    let old_id = conserje_domain::api_key::KeyId::parse(&old_key[4..20]).unwrap();
    let meta = conserje_domain::EventMetadata::new(
        conserje_domain::values::TenantId::parse(OWN).unwrap(),
        conserje_domain::metadata::Actor::system("test"),
        "system",
    );
    let successor = app
        .runtime
        .keys
        .rotate(&old_id, std::time::Duration::from_secs(2), meta)
        .await
        .unwrap();
    let path = "/api/v1/sessions?channel=api&guest=nobody";
    let old = TestApp::client_with(&old_key);
    let new = TestApp::client_with(&successor.key);
    assert_eq!(
        send(&old, &app, Method::GET, path, None).await.0,
        StatusCode::OK,
        "old, in the window"
    );
    assert_eq!(
        send(&new, &app, Method::GET, path, None).await.0,
        StatusCode::OK,
        "new"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        send(&old, &app, Method::GET, path, None).await.0,
        StatusCode::UNAUTHORIZED,
        "old, after"
    );
    assert_eq!(
        send(&new, &app, Method::GET, path, None).await.0,
        StatusCode::OK,
        "new, after"
    );
    let stream = app
        .runtime
        .feed
        .stream("ApiKey", old_id.as_str())
        .await
        .unwrap();
    let types: Vec<&str> = stream.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["ApiKeyIssued", "ApiKeyExpiryBroughtForward"]);
    app.stop().await;
}

/// `conserje keys create|list|revoke` write the same events as the admin API, with the
/// operator as actor, on the store a running server uses.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_keys_command_issues_and_revokes_keys_beside_a_running_server() {
    use conserje_gateway::keys_cli::{run, KeysAction};
    let (options, _dir) = fresh_store(StoreKind::Sqlite).await;
    let app = TestApp::spawn(&options).await;
    run(KeysAction::Create {
        name: "night-audit".into(),
        role: "analyst".into(),
        tenant: Some(OWN.into()),
        expires_in_days: Some(30),
        store: options.clone(),
    })
    .await
    .expect("keys create");
    let (_, listed) = send(&app.http, &app, Method::GET, "/api/v1/keys", None).await;
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "night-audit")
        .cloned()
        .unwrap_or_else(|| panic!("the CLI's key is listed: {listed}"));
    assert_eq!(
        (row["role"].as_str(), row["scope"].as_str()),
        (Some("analyst"), Some(OWN))
    );
    assert!(
        row["issued_by"]
            .as_str()
            .unwrap()
            .starts_with("system:cli."),
        "{row}"
    );
    assert!(row["expires_at"].is_string());
    let key_id = row["key_id"].as_str().unwrap().to_owned();
    run(KeysAction::Revoke {
        key_id: key_id.clone(),
        reason: Some("test".into()),
        store: options.clone(),
    })
    .await
    .expect("keys revoke");
    let again = run(KeysAction::Revoke {
        key_id,
        reason: None,
        store: options.clone(),
    })
    .await;
    assert!(format!("{:#}", again.unwrap_err()).contains("already revoked"));
    let refused = run(KeysAction::Create {
        name: "Bad Name".into(),
        role: "staff".into(),
        tenant: Some(OWN.into()),
        expires_in_days: None,
        store: options.clone(),
    })
    .await;
    assert!(
        format!("{:#}", refused.unwrap_err()).contains("key name"),
        "names the problem"
    );
    app.stop().await;
}
