//! The audit trail: every change and every read of a guest's data with its actor, channel and
//! time, queried per hotel; and the hash chain, which names the first event changed in the
//! store behind its back.

use conserje_domain::api_key::Role;
use conserje_gateway::audit_cli::{AuditArgs, AuditCommand, ListArgs};
use conserje_infra::{on_pool, Database};
use conserje_projections::audit;
use conserje_tests::{fresh_store, StoreKind, TestApp};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const SOL: &str = "hotel-sol";
const MAR: &str = "hotel-mar";

fn booking(tenant: &str, email: &str, offset_days: i64) -> Value {
    let check_in = chrono::Utc::now().date_naive() + chrono::Duration::days(offset_days);
    json!({
        "tenant_id": tenant,
        "guest": { "name": "Ana Pérez", "email": email, "phone": "+34 600 123 456" },
        "room_type": "double",
        "check_in": check_in,
        "check_out": check_in + chrono::Duration::days(2),
        "guests": 2,
    })
}

async fn get(client: &Client, app: &TestApp, path: &str) -> (StatusCode, Value) {
    let response = client.get(app.url(path)).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn book(client: &Client, app: &TestApp, tenant: &str, email: &str, offset: i64) -> String {
    let response = client
        .post(app.url("/api/v1/reservations"))
        .json(&booking(tenant, email, offset))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    body["reservation_id"].as_str().unwrap().to_owned()
}

/// Staff see their hotel's trail only — changes and reads, each with the key that did it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn staff_see_who_changed_and_who_read_their_hotels_data() {
    let (options, _dir) = fresh_store(StoreKind::Sqlite).await;
    let app = TestApp::spawn(&options).await;
    let lucia = app.client_as("lucia", Role::Staff, Some(SOL)).await;
    let marta = app.client_as("marta", Role::Staff, Some(MAR)).await;
    let id = book(&lucia, &app, SOL, "ana@example.com", 10).await;
    book(&marta, &app, MAR, "luis@example.com", 12).await;
    let (status, _) = get(&lucia, &app, &format!("/api/v1/reservations/{id}")).await;
    assert_eq!(status, StatusCode::OK);

    let (status, trail) = get(&lucia, &app, "/api/v1/audit?actor=staff:lucia").await;
    assert_eq!(status, StatusCode::OK, "{trail}");
    let events: Vec<(&str, &str)> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["event_type"].as_str().unwrap(),
                r["channel"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(events.contains(&("ReservationRequested", "api")), "{trail}");
    assert!(
        events.contains(&("GuestDataRead", "api")),
        "reading a guest's contact data is recorded: {trail}"
    );
    for row in trail.as_array().unwrap() {
        assert_eq!(row["tenant_id"], SOL, "{row}");
        assert_eq!(row["actor"], "staff:lucia");
        assert_eq!(row["hash"].as_str().unwrap().len(), 64);
    }

    let (status, mine) = get(&lucia, &app, "/api/v1/audit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        mine.as_array()
            .unwrap()
            .iter()
            .all(|r| r["tenant_id"] == SOL),
        "only the key's hotel: {mine}"
    );
    assert!(!mine.to_string().contains("staff:marta"));
    let (status, _) = get(&lucia, &app, &format!("/api/v1/audit?tenant={MAR}")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another hotel's trail does not exist for her"
    );

    // One reservation's history, through the aggregate filter.
    let (_, history) = get(&app.http, &app, &format!("/api/v1/audit?aggregate={id}")).await;
    let types: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["ReservationRequested", "ReservationConfirmed"],
        "{history}"
    );
    app.stop().await;
}

/// Changes the first stored payload of reservation `id` with SQL, behind the service's back.
async fn tamper(db: &Database, id: &str) {
    let sql = "UPDATE events SET payload = $1 \
               WHERE aggregate_type = 'Reservation' AND aggregate_id = $2 AND sequence = 1";
    let payload = sqlx::types::Json(json!({"ReservationCancelled": {"reason": "nobody asked"}}));
    let changed = on_pool!(db, pool => sqlx::query(sql)
        .bind(payload)
        .bind(id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
    .expect("the UPDATE runs");
    assert_eq!(changed, 1);
}

async fn a_changed_event_breaks_the_chain_at_its_position(kind: StoreKind) {
    let (options, _dir) = fresh_store(kind).await;
    let app = TestApp::spawn(&options).await;
    let lucia = app.client_as("lucia", Role::Staff, Some(SOL)).await;
    let first = book(&lucia, &app, SOL, "ana@example.com", 10).await;
    let second = book(&lucia, &app, SOL, "bea@example.com", 14).await;
    book(&app.http, &app, MAR, "luis@example.com", 12).await;
    app.runtime.audit_projection.catch_up().await.unwrap();

    let rt = &app.runtime;
    let no_progress = |_| {};
    let reports = audit::verify(
        rt.sealed_feed.as_ref(),
        rt.audit_rows.as_ref(),
        None,
        &no_progress,
    )
    .await
    .unwrap();
    assert!(reports.iter().all(|r| r.broken.is_none()), "{reports:?}");
    let sol = reports.iter().find(|r| r.tenant_id == SOL).unwrap();
    assert!(sol.verified >= 4, "{sol:?}");

    // The second reservation's request is rewritten in the store.
    let target = rt.feed.stream("Reservation", &second).await.unwrap()[0].position;
    tamper(&rt.db, &second).await;
    let reports = audit::verify(
        rt.sealed_feed.as_ref(),
        rt.audit_rows.as_ref(),
        None,
        &no_progress,
    )
    .await
    .unwrap();
    let sol = reports.iter().find(|r| r.tenant_id == SOL).unwrap();
    let broken = sol
        .broken
        .as_ref()
        .expect("the chain of hotel-sol is broken");
    assert_eq!(broken.position, target, "{broken:?}");
    assert_eq!(broken.aggregate_id, second);
    assert!(broken.reason.contains("changed"), "{}", broken.reason);
    let before = rt.feed.stream("Reservation", &first).await.unwrap();
    assert!(
        before.iter().all(|e| e.position < target),
        "the first booking came before"
    );
    let mar = reports.iter().find(|r| r.tenant_id == MAR).unwrap();
    assert!(
        mar.broken.is_none(),
        "another hotel's chain is its own: {mar:?}"
    );

    // The operator's command says the same, and fails.
    let outcome = conserje_gateway::audit_cli::run(AuditArgs {
        command: Some(AuditCommand::Verify {
            tenant: Some(SOL.to_owned()),
            json: false,
            store: options.clone(),
        }),
        list: list_args(&options),
    })
    .await;
    let message = format!("{:#}", outcome.expect_err("verify fails"));
    assert!(
        message.contains(&format!("event position {target}")),
        "{message}"
    );
    app.stop().await;
}

fn list_args(options: &conserje_gateway::settings::StoreOptions) -> ListArgs {
    ListArgs {
        tenant: None,
        actor: None,
        aggregate: None,
        since: None,
        limit: 100,
        json: false,
        store: options.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_changed_event_breaks_the_chain_at_its_position_sqlite() {
    a_changed_event_breaks_the_chain_at_its_position(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_changed_event_breaks_the_chain_at_its_position_postgres() {
    a_changed_event_breaks_the_chain_at_its_position(StoreKind::Postgres).await;
}
