//! The QloApps simulator itself, driven with plain HTTP: QloApps' authentication traps, an XML
//! availability round trip, a booking's life (create, read, cancel) and the faults that matter
//! for a booking engine. The adapter's contract tests live elsewhere.

use std::time::Duration;

use chrono::NaiveDate;
use conserje_tests::simulators::{QloAppsSimulator, SimHotel};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const KEY: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ123456";

fn date(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

async fn start() -> (QloAppsSimulator, Client) {
    let sim = QloAppsSimulator::start(KEY, SimHotel::sample()).await;
    (sim, Client::new())
}

/// The text of the first `<name>` element (CDATA unwrapped).
fn xml_field<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{name}"))?;
    let rest = &xml[start..];
    let open_end = rest.find('>')? + 1;
    let close = rest.find(&format!("</{name}>"))?;
    let inner = &rest[open_end..close];
    Some(
        inner
            .strip_prefix("<![CDATA[")
            .and_then(|i| i.strip_suffix("]]>"))
            .unwrap_or(inner),
    )
}

fn ari_request(from: &str, to: &str, extra: &str) -> String {
    format!(
        "<qloapps><hotel_ari><id_hotel>1</id_hotel><date_from>{from}</date_from><date_to>{to}</date_to>{extra}</hotel_ari></qloapps>"
    )
}

async fn ari(sim: &QloAppsSimulator, client: &Client, body: String) -> (StatusCode, String) {
    let response = client
        .post(format!("{}/api/hotel_ari", sim.base_url()))
        .basic_auth(KEY, None::<&str>)
        .body(body)
        .send()
        .await
        .expect("an answer");
    let status = response.status();
    (status, response.text().await.expect("a body"))
}

fn booking_request(from: &str, to: &str) -> Value {
    json!({"booking": {
        "id_property": 1,
        "currency": "EUR",
        "source": "conserje",
        "remark": "Late arrival",
        "associations": {
            "customer_detail": {"firstname": "Ana", "lastname": "García", "email": "ana@example.com", "phone": "+34600111222"},
            "room_types": {"room_type": [{
                "id_room_type": 11, "checkin_date": from, "checkout_date": to, "number_of_rooms": 1,
                "rooms": [{"adults": 3, "child": 1}]
            }]}
        }
    }})
}

async fn json_call(
    client: &Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client
        .request(method, url)
        .basic_auth(KEY, Some(""))
        .header("Io-Format", "JSON");
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let response = request.send().await.expect("an answer");
    let status = response.status();
    let text = response.text().await.expect("a body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn authentication_follows_the_dispatcher_and_the_key_checks() {
    let (sim, client) = start().await;
    let api = format!("{}/api/", sim.base_url());

    let none = client.get(&api).send().await.expect("an answer");
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert!(none.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .starts_with("Basic realm=\"Welcome to PrestaShop Webservice"));
    assert_eq!(none.text().await.expect("a body"), "401 Unauthorized");

    let short = client
        .get(&api)
        .basic_auth("SHORT", None::<&str>)
        .send()
        .await
        .expect("an answer");
    assert_eq!(short.status(), StatusCode::UNAUTHORIZED);
    let body = short.text().await.expect("a body");
    assert!(body.contains("<code><![CDATA[18]]></code>"), "{body}");
    assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<qloapps xmlns:xlink="));

    let wrong = client
        .get(format!(
            "{api}?ws_key={}&output_format=JSON",
            "X".repeat(32)
        ))
        .send()
        .await
        .expect("an answer");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let errors: Value = wrong.json().await.expect("JSON errors");
    assert_eq!(errors["errors"][0]["code"], 20);
    assert_eq!(errors["errors"][1]["code"], 21);

    let ok = client
        .get(format!("{api}?ws_key={KEY}"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.headers()["psws-version"], "1.6.1.23");
    let list = ok.text().await.expect("a body");
    assert!(
        list.contains("<bookings xlink:href=") && list.contains("delete=\"true\""),
        "{list}"
    );

    sim.set_webservice_enabled(false);
    let (status, body) = json_call(&client, reqwest::Method::GET, api.clone(), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["errors"][0]["code"], 22);
    assert_eq!(
        client.get(&api).send().await.expect("an answer").status(),
        StatusCode::UNAUTHORIZED
    );
    sim.clear_faults();

    let (status, body) =
        json_call(&client, reqwest::Method::GET, format!("{api}booking"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["code"], 27);
    assert!(body["errors"][0]["message"]
        .as_str()
        .expect("text")
        .contains("Did you mean: \"bookings\"?"));
    assert_eq!(sim.calls(), 7);
}

#[tokio::test]
async fn availability_round_trips_in_xml_and_refuses_json() {
    let (sim, client) = start().await;
    sim.set_price(12, date("2025-03-11"), "160.00");
    let occupancies = "<associations><room_occupancies><room_occupancy><adults>2</adults><children>0</children></room_occupancy><room_occupancy><adults>1</adults><children>0</children></room_occupancy></room_occupancies></associations>";
    let (status, xml) = ari(
        &sim,
        &client,
        ari_request("2025-03-10", "2025-03-12", occupancies),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{xml}");
    assert_eq!(xml_field(&xml, "total_rooms"), Some("17"));
    assert_eq!(xml_field(&xml, "total_available_rooms"), Some("17"));
    assert_eq!(
        xml_field(&xml, "total_booked_rooms"),
        None,
        "only requested counts"
    );
    let double = &xml[xml.find("<room_type id=\"12\"").expect("the Double")..];
    assert_eq!(xml_field(double, "base_price"), Some("150"));
    assert_eq!(xml_field(double, "base_price_with_tax"), Some("165"));
    // Two occupancies: the stay (€300) twice; they do not filter the rooms.
    assert_eq!(xml_field(double, "total_price"), Some("600"));
    assert!(double.contains("<name><language id=\"1\""));

    sim.book_directly(11, date("2025-03-11"), date("2025-03-12"));
    let (_, xml) = ari(&sim, &client, ari_request("2025-03-10", "2025-03-12", "<id_room_type>11</id_room_type><get_available_rooms>1</get_available_rooms><get_booked_rooms>1</get_booked_rooms>")).await;
    assert_eq!(xml_field(&xml, "total_rooms"), Some("5"));
    assert_eq!(xml_field(&xml, "total_available_rooms"), Some("4"));
    assert_eq!(xml_field(&xml, "total_booked_rooms"), Some("1"));

    let (status, xml) = ari(
        &sim,
        &client,
        ari_request(
            "2025-03-10",
            "2025-03-12",
            "<date_wise_breakdown>1</date_wise_breakdown><id_room_type>11</id_room_type>",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(xml.matches("<hotel_ari>").count(), 2, "{xml}");
    assert!(xml.contains("<hotel_aris>"));

    let (status, body) = ari(
        &sim,
        &client,
        json!({"hotel_ari": {"id_hotel": 1}}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("<code><![CDATA[85]]></code>"), "{body}");
    let (status, body) = ari(&sim, &client, ari_request("2025-03-12", "2025-03-12", "")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("must be after"), "{body}");
}

#[tokio::test]
async fn a_booking_is_created_read_and_cancelled_freeing_its_room() {
    let (sim, client) = start().await;
    let base = sim.base_url();
    let (_, empty) = json_call(
        &client,
        reqwest::Method::GET,
        format!("{base}/api/bookings"),
        None,
    )
    .await;
    assert_eq!(empty, json!([]), "an empty JSON list is a bare []");

    let (status, created) = json_call(
        &client,
        reqwest::Method::POST,
        format!("{base}/api/bookings"),
        Some(booking_request("2025-05-01", "2025-05-03")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let booking = &created["booking"];
    let id = booking["id"].as_u64().expect("an id");
    let room = &booking["associations"]["room_types"][0]["rooms"][0];
    assert_eq!(
        room["adults"], 2,
        "`adults` is not read: the base occupancy is used"
    );
    assert_eq!(room["child"], 0, "`child` without `child_ages` is 0");
    assert_eq!(room["unit_price_without_tax"], 200.0);
    assert_eq!(booking["associations"]["remarks"], json!(["Late arrival"]));
    assert!(booking.get("booking_status").is_none() && booking.get("reference").is_none());

    let fetched = client
        .get(format!("{base}/api/bookings/{id}"))
        .basic_auth(KEY, None::<&str>)
        .send()
        .await
        .expect("an answer")
        .text()
        .await
        .expect("a body");
    assert!(
        fetched.contains("<cart_rules><![CDATA[0]]></cart_rules>"),
        "{fetched}"
    );
    assert_eq!(
        xml_field(&fetched, "checkin_date"),
        Some("2025-05-01 00:00:00")
    );

    let (_, order) = json_call(
        &client,
        reqwest::Method::GET,
        format!("{base}/api/orders/{id}"),
        None,
    )
    .await;
    assert_eq!(order["order"]["current_state"], "1");
    let reference = order["order"]["reference"].as_str().expect("a reference");
    assert!(reference.len() == 9 && reference.chars().all(|c| c.is_ascii_uppercase()));
    let (_, orders) = json_call(
        &client,
        reqwest::Method::GET,
        format!("{base}/api/orders?filter[source]=[conserje|other]&display=[id,source]"),
        None,
    )
    .await;
    assert_eq!(
        orders,
        json!({"orders": [{"id": id, "source": "conserje"}]})
    );

    let (_, xml) = ari(
        &sim,
        &client,
        ari_request(
            "2025-05-01",
            "2025-05-03",
            "<id_room_type>11</id_room_type>",
        ),
    )
    .await;
    assert_eq!(xml_field(&xml, "total_available_rooms"), Some("4"));

    let mut cancel = booking_request("2025-05-01", "2025-05-03");
    cancel["booking"]["id"] = json!(id);
    cancel["booking"]["booking_status"] = json!(3);
    let (status, _) = json_call(
        &client,
        reqwest::Method::PUT,
        format!("{base}/api/bookings/999"),
        Some(cancel),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, order) = json_call(
        &client,
        reqwest::Method::GET,
        format!("{base}/api/orders/{id}"),
        None,
    )
    .await;
    assert_eq!(order["order"]["current_state"], "4");
    let (_, xml) = ari(
        &sim,
        &client,
        ari_request(
            "2025-05-01",
            "2025-05-03",
            "<id_room_type>11</id_room_type>",
        ),
    )
    .await;
    assert_eq!(xml_field(&xml, "total_available_rooms"), Some("5"));
    assert!(sim.active_bookings().is_empty());
    assert!(sim.bookings()[0].cancelled);

    let (status, body) = json_call(
        &client,
        reqwest::Method::DELETE,
        format!("{base}/api/bookings/{id}"),
        None,
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["code"].clone()),
        (StatusCode::METHOD_NOT_ALLOWED, json!(101))
    );
    let missing = client
        .get(format!("{base}/api/bookings/77"))
        .basic_auth(KEY, None::<&str>)
        .send()
        .await
        .expect("an answer");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().await.expect("a body").is_empty());
}

#[tokio::test]
async fn faults_reset_hang_fail_and_commit_before_answering() {
    let (sim, client) = start().await;
    let api = format!("{}/api/", sim.base_url());
    let get = || client.get(&api).basic_auth(KEY, None::<&str>).send();

    // A reset on a kept-alive connection is a connection error, not a status.
    assert!(get().await.expect("an answer").status().is_success());
    sim.reset_next(1);
    let reset = get().await.expect_err("no answer");
    assert!(!reset.is_status() && !reset.is_timeout(), "{reset:?}");
    assert!(get().await.expect("an answer").status().is_success());

    sim.fail_next(1, 503);
    let failed = get().await.expect("an answer");
    assert_eq!(failed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(failed
        .text()
        .await
        .expect("a body")
        .contains("<code><![CDATA[46]]></code>"));

    let impatient = Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("a client");
    sim.hang_next(1, Duration::from_millis(600));
    let hung = impatient
        .post(format!("{api}bookings"))
        .basic_auth(KEY, None::<&str>)
        .body(booking_request("2025-06-01", "2025-06-02").to_string())
        .send()
        .await
        .expect_err("no answer in time");
    assert!(hung.is_timeout());
    assert!(sim.bookings().is_empty(), "a hang does nothing");

    sim.commit_then_hang_next(1, Duration::from_millis(600));
    let lost = impatient
        .post(format!("{api}bookings"))
        .basic_auth(KEY, None::<&str>)
        .body(booking_request("2025-06-01", "2025-06-02").to_string())
        .send()
        .await
        .expect_err("no answer in time");
    assert!(lost.is_timeout());
    assert_eq!(
        sim.active_bookings().len(),
        1,
        "the booking exists all the same"
    );
    assert_eq!(sim.calls_to("POST", "/api/bookings"), 2);
}
