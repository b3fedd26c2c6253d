//! The right to be forgotten in an immutable log: a guest's words and contact data are stored
//! sealed with their own key; forgetting deletes the key, and every read model rebuilt by replay
//! shows them as forgotten — while the booking's non-personal facts stay and the audit chain
//! still verifies.

use conserje_domain::api_key::Role;
use conserje_infra::{on_pool, Database};
use conserje_projections::audit;
use conserje_tests::{eventually, fresh_store, StoreKind, TestApp};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const SOL: &str = "hotel-sol";
const ANA: &str = "ana.perez@example.com";
const BEA: &str = "bea.ruiz@example.com";

async fn get(client: &Client, app: &TestApp, path: &str) -> Value {
    let response = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.json().await.unwrap()
}

async fn book(app: &TestApp, email: &str, name: &str) -> String {
    let check_in = chrono::Utc::now().date_naive() + chrono::Duration::days(20);
    let body = json!({
        "tenant_id": SOL,
        "guest": { "name": name, "email": email, "phone": "+34 600 123 456" },
        "room_type": "double",
        "check_in": check_in,
        "check_out": check_in + chrono::Duration::days(3),
        "guests": 2,
        "special_requests": format!("{name} llega tarde"),
    });
    let response = app
        .http
        .post(app.url("/api/v1/reservations"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    body["reservation_id"].as_str().unwrap().to_owned()
}

/// Every stored payload, as text, exactly as the database holds it.
async fn stored_payloads(db: &Database) -> String {
    let rows: Vec<String> = on_pool!(db, pool => {
        sqlx::query_scalar("SELECT CAST(payload AS text) FROM events").fetch_all(pool).await
    })
    .unwrap();
    rows.join("\n")
}

async fn forgetting_a_guest_shreds_their_data_and_keeps_the_books(kind: StoreKind) {
    let (options, _dir) = fresh_store(kind).await;
    let app = TestApp::spawn(&options).await;
    let ana = book(&app, ANA, "Ana Pérez").await;
    let bea = book(&app, BEA, "Bea Ruiz").await;
    let integration = app
        .client_as("web-chat", Role::Integration, Some(SOL))
        .await;
    let words = "Hola, soy Ana Pérez; ¿tenéis parking para mi coche?";
    let response = integration
        .post(app.url("/api/v1/messages"))
        .json(&json!({"guest": ANA, "provider_message_id": "web-1", "text": words}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let session = response.json::<Value>().await.unwrap()["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let transcript = format!(
        "/api/v1/sessions/{}/transcript",
        session.replace('/', "%2F")
    );
    eventually("the bot answers Ana", || async {
        let t = app.http.get(app.url(&transcript)).send().await.unwrap();
        t.status() == StatusCode::OK
            && t.json::<Value>().await.unwrap()["turns"]
                .as_array()
                .is_some_and(|turns| turns.len() >= 2)
    })
    .await;

    // Stored sealed: the database holds none of her words or contact data in the clear…
    let stored = stored_payloads(&app.runtime.db).await;
    for secret in [
        "Ana Pérez",
        "parking para mi coche",
        "600 123 456",
        "llega tarde",
    ] {
        assert!(
            !stored.contains(secret),
            "{secret:?} is stored in the clear"
        );
    }
    // …but the API shows them to staff, opened.
    let before = get(&app.http, &app, &transcript).await;
    assert_eq!(before["turns"][0]["text"], words);
    let row = get(&app.http, &app, &format!("/api/v1/reservations/{ana}")).await;
    assert_eq!(row["guest_name"], "Ana Pérez");

    let response = app
        .http
        .post(app.url("/api/v1/guests/forget"))
        .json(&json!({"tenant_id": SOL, "guest": ANA, "reason": "guest asked, ticket 4711"}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let done: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["key_deleted"], true, "{done}");

    // Rebuilt by replay: Ana is forgotten, her booking's facts remain for the hotel's books.
    let row = get(&app.http, &app, &format!("/api/v1/reservations/{ana}")).await;
    for field in ["guest_name", "guest_email", "guest_phone"] {
        assert_eq!(row[field], "[forgotten]", "{field}: {row}");
    }
    assert!(
        row["special_requests"].is_null() || row["special_requests"] == "",
        "{row}"
    );
    assert_eq!(row["room_type"], "double");
    assert_eq!(row["nights"], 3);
    assert!(row["total_minor"].as_i64().unwrap() > 0, "{row}");
    assert_eq!(row["status"], "confirmed");
    let after = get(&app.http, &app, &transcript).await;
    let turns = after["turns"].as_array().unwrap();
    assert!(turns[0]["text"].is_null(), "her words are gone: {after}");
    assert!(!after.to_string().contains("Ana"), "{after}");

    // Bea is untouched.
    let row = get(&app.http, &app, &format!("/api/v1/reservations/{bea}")).await;
    assert_eq!(row["guest_name"], "Bea Ruiz");

    // The chain over the stored events did not change a byte, and records the forgetting.
    app.runtime.audit_projection.catch_up().await.unwrap();
    let reports = audit::verify(
        app.runtime.sealed_feed.as_ref(),
        app.runtime.audit_rows.as_ref(),
        Some(SOL),
        &|_| {},
    )
    .await
    .unwrap();
    assert!(reports[0].broken.is_none(), "{reports:?}");
    let trail = get(
        &app.http,
        &app,
        "/api/v1/audit?tenant=hotel-sol&actor=admin:admin",
    )
    .await;
    let forgotten = trail
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["event_type"] == "GuestForgotten")
        .unwrap_or_else(|| panic!("no GuestForgotten in {trail}"));
    assert!(
        !forgotten.to_string().contains("ana"),
        "the record of the forgetting does not name her: {forgotten}"
    );
    let stored = stored_payloads(&app.runtime.db).await;
    assert!(!stored.contains("ana.perez"), "nor does any payload");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forgetting_a_guest_shreds_their_data_and_keeps_the_books_sqlite() {
    forgetting_a_guest_shreds_their_data_and_keeps_the_books(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forgetting_a_guest_shreds_their_data_and_keeps_the_books_postgres() {
    forgetting_a_guest_shreds_their_data_and_keeps_the_books(StoreKind::Postgres).await;
}
