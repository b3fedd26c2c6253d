//! The WhatsApp simulator holds a sender to the Cloud API's rules and answers in Meta's wire
//! format: the 24-hour window, templates, interactive limits, throughput, and the signed status
//! webhooks it posts back. Plain HTTP against it, so what is checked is the wire, not a client.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use chrono::{DateTime, TimeZone, Utc};
use conserje_tests::simulators::WhatsAppSimulator;
use serde_json::{json, Value};

const TOKEN: &str = "EAAsimulator-token";
const PHONE_NUMBER_ID: &str = "106540352242922";
const GUEST: &str = "34600111222";
const APP_SECRET: &str = "the-app-secret";
const RE_ENGAGEMENT: &str = "Message failed to send because more than 24 hours have passed since \
     the customer last replied to this number.";

fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 14, 12, 0, 0)
        .single()
        .expect("a valid instant")
}

/// A simulator whose clock is stopped at noon and whose guest wrote an hour before.
async fn simulator_with_open_window() -> WhatsAppSimulator {
    let simulator = WhatsAppSimulator::start(TOKEN).await;
    simulator.set_now(noon());
    simulator.guest_wrote(GUEST, noon() - chrono::Duration::hours(1));
    simulator
}

/// Posts `body` to the messages endpoint; the status and the JSON answer.
async fn send(simulator: &WhatsAppSimulator, body: &Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/v21.0/{PHONE_NUMBER_ID}/messages",
            simulator.base_url()
        ))
        .bearer_auth(TOKEN)
        .json(body)
        .send()
        .await
        .expect("the simulator answers");
    let status = response.status();
    let json = response.json().await.expect("a JSON answer");
    (status, json)
}

fn text(body: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": GUEST,
        "type": "text",
        "text": { "preview_url": false, "body": body },
    })
}

fn template(name: &str, language: &str, parameters: &[&str]) -> Value {
    let parameters: Vec<Value> = parameters
        .iter()
        .map(|p| json!({ "type": "text", "text": p }))
        .collect();
    json!({
        "messaging_product": "whatsapp",
        "to": GUEST,
        "type": "template",
        "template": {
            "name": name,
            "language": { "code": language },
            "components": [{ "type": "body", "parameters": parameters }],
        },
    })
}

fn interactive(interactive: Value) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "to": GUEST,
        "type": "interactive",
        "interactive": interactive,
    })
}

/// Reply buttons with these titles (ids `b0`, `b1`…).
fn buttons(titles: &[&str]) -> Value {
    let buttons: Vec<Value> = titles
        .iter()
        .enumerate()
        .map(|(i, title)| json!({ "type": "reply", "reply": { "id": format!("b{i}"), "title": title } }))
        .collect();
    json!({
        "type": "button",
        "body": { "text": "¿Confirmamos la reserva?" },
        "action": { "buttons": buttons },
    })
}

fn row(id: &str, title: &str, description: &str) -> Value {
    json!({ "id": id, "title": title, "description": description })
}

/// A list with one section holding `rows`.
fn list(rows: Vec<Value>) -> Value {
    json!({
        "type": "list",
        "body": { "text": "Elija una habitación" },
        "action": {
            "button": "Ver habitaciones",
            "sections": [{ "title": "Habitaciones", "rows": rows }],
        },
    })
}

fn rows(count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| row(&format!("r{i}"), &format!("Habitación {i}"), "Vista al mar"))
        .collect()
}

/// Meta's WhatsApp error body.
fn meta_error(code: u32, message: &str, details: &str) -> Value {
    json!({
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": { "messaging_product": "whatsapp", "details": details },
            "fbtrace_id": "AsimulatorTrace",
        }
    })
}

/// Sends `interactive` and expects 131009 whose details contain `details`.
async fn assert_invalid(interactive_object: Value, details: &str) {
    let simulator = simulator_with_open_window().await;
    let (status, body) = send(&simulator, &interactive(interactive_object)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], 131009, "{body}");
    assert_eq!(
        body["error"]["message"],
        "(#131009) Parameter value is not valid"
    );
    let said = body["error"]["error_data"]["details"]
        .as_str()
        .unwrap_or_default();
    assert!(said.contains(details), "{said:?} should name {details:?}");
    assert!(simulator.sent().is_empty(), "a refused message is not sent");
}

// ---------------------------------------------------------------- the 24-hour window

#[tokio::test]
async fn a_text_inside_the_window_is_accepted_and_recorded() {
    let simulator = simulator_with_open_window().await;

    let (status, body) = send(&simulator, &text("Su habitación está lista")).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let wamid = body["messages"][0]["id"].as_str().unwrap_or_default();
    assert!(wamid.starts_with("wamid."), "{body}");
    assert_eq!(body["contacts"][0]["wa_id"], GUEST);
    assert_eq!(simulator.sent_to(GUEST), vec!["Su habitación está lista"]);
    assert_eq!(simulator.wamids_to(GUEST), vec![wamid.to_owned()]);
}

#[tokio::test]
async fn a_text_more_than_24_hours_after_the_guest_wrote_is_refused_with_131047() {
    let simulator = simulator_with_open_window().await;
    // The guest wrote at 11:00; 24 h later the window is still open, a minute after it is not.
    simulator.advance(chrono::Duration::hours(23));
    let (status, _) = send(&simulator, &text("Aún a tiempo")).await;
    assert_eq!(status, StatusCode::OK);

    simulator.advance(chrono::Duration::minutes(61));
    let (status, body) = send(&simulator, &text("Demasiado tarde")).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        meta_error(131047, "(#131047) Re-engagement message", RE_ENGAGEMENT)
    );
    assert_eq!(simulator.sent_to(GUEST), vec!["Aún a tiempo"]);
}

#[tokio::test]
async fn a_guest_who_never_wrote_gets_no_free_form_message() {
    let simulator = WhatsAppSimulator::start(TOKEN).await;
    simulator.enforce_window(true);

    let (status, body) = send(&simulator, &text("Hola")).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], 131047, "{body}");
    assert!(simulator.sent().is_empty());
}

#[tokio::test]
async fn a_simulator_told_of_no_guest_accepts_texts_as_before() {
    // The suites that post webhooks to conserje themselves never tell the simulator.
    let simulator = WhatsAppSimulator::start(TOKEN).await;

    let (status, body) = send(&simulator, &text("Hola")).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(simulator.sent_to(GUEST), vec!["Hola"]);
}

#[tokio::test]
async fn an_interactive_message_outside_the_window_is_refused_too() {
    let simulator = simulator_with_open_window().await;
    simulator.advance(chrono::Duration::hours(26));

    let (status, body) = send(&simulator, &interactive(buttons(&["Sí", "No"]))).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], 131047, "{body}");
}

#[tokio::test]
async fn an_inbound_text_is_meta_s_webhook_and_opens_the_window() {
    let simulator = WhatsAppSimulator::start(TOKEN).await;
    simulator.set_now(noon());
    simulator.enforce_window(true);

    let (body, wamid) = simulator.inbound_text(PHONE_NUMBER_ID, GUEST, "Ana", "Hola");

    let delivery: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(delivery["object"], "whatsapp_business_account");
    let change = &delivery["entry"][0]["changes"][0];
    assert_eq!(change["field"], "messages");
    let value = &change["value"];
    assert_eq!(value["messaging_product"], "whatsapp");
    assert_eq!(value["metadata"]["phone_number_id"], PHONE_NUMBER_ID);
    assert!(value["metadata"]["display_phone_number"].is_string());
    assert_eq!(
        value["contacts"],
        json!([{ "profile": { "name": "Ana" }, "wa_id": GUEST }])
    );
    assert_eq!(
        value["messages"],
        json!([{
            "from": GUEST,
            "id": wamid,
            "timestamp": noon().timestamp().to_string(),
            "type": "text",
            "text": { "body": "Hola" },
        }])
    );
    let (status, answer) = send(&simulator, &text("¡Bienvenida!")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test]
async fn a_button_reply_names_its_question_and_opens_the_window() {
    let simulator = WhatsAppSimulator::start(TOKEN).await;
    simulator.enforce_window(true);

    let (body, wamid) =
        simulator.inbound_button_reply(PHONE_NUMBER_ID, GUEST, "wamid.question", "confirm", "Sí");

    let delivery: Value = serde_json::from_slice(&body).expect("JSON");
    let message = &delivery["entry"][0]["changes"][0]["value"]["messages"][0];
    assert_eq!(message["id"], wamid.as_str());
    assert_eq!(message["type"], "interactive");
    assert_eq!(message["context"]["id"], "wamid.question");
    assert!(message["context"]["from"].is_string());
    assert_eq!(
        message["interactive"],
        json!({ "type": "button_reply", "button_reply": { "id": "confirm", "title": "Sí" } })
    );
    let (status, _) = send(&simulator, &text("Confirmada")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_list_reply_carries_the_row_and_opens_the_window() {
    let simulator = WhatsAppSimulator::start(TOKEN).await;
    simulator.enforce_window(true);

    let (body, _) = simulator.inbound_list_reply(
        PHONE_NUMBER_ID,
        GUEST,
        "wamid.menu",
        "double",
        "Doble",
        Some("Vista al mar"),
    );

    let delivery: Value = serde_json::from_slice(&body).expect("JSON");
    let message = &delivery["entry"][0]["changes"][0]["value"]["messages"][0];
    assert_eq!(
        message["interactive"],
        json!({
            "type": "list_reply",
            "list_reply": { "id": "double", "title": "Doble", "description": "Vista al mar" },
        })
    );
    let (status, _) = send(&simulator, &text("Anotado")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_reaction_is_delivered_but_does_not_open_the_window() {
    let simulator = WhatsAppSimulator::start(TOKEN).await;
    simulator.enforce_window(true);

    let (body, _) = simulator.inbound_reaction(PHONE_NUMBER_ID, GUEST, "wamid.quote", "👍");

    let delivery: Value = serde_json::from_slice(&body).expect("JSON");
    let message = &delivery["entry"][0]["changes"][0]["value"]["messages"][0];
    assert_eq!(message["type"], "reaction");
    assert_eq!(
        message["reaction"],
        json!({ "message_id": "wamid.quote", "emoji": "👍" })
    );
    let (status, answer) = send(&simulator, &text("¡Gracias!")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"]["code"], 131047, "{answer}");
}

#[tokio::test]
async fn the_clock_stamps_inbound_messages() {
    let simulator = WhatsAppSimulator::start(TOKEN).await;
    simulator.set_now(noon());
    simulator.advance(chrono::Duration::minutes(90));

    let (body, _) = simulator.inbound_text(PHONE_NUMBER_ID, GUEST, "Ana", "Hola");

    let delivery: Value = serde_json::from_slice(&body).expect("JSON");
    let expected = (noon() + chrono::Duration::minutes(90)).timestamp();
    assert_eq!(
        delivery["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"],
        expected.to_string()
    );
    assert_eq!(simulator.now(), noon() + chrono::Duration::minutes(90));
}

#[test]
fn the_signature_is_hmac_sha256_of_the_body_in_hex() {
    // A published HMAC-SHA256 test vector.
    assert_eq!(
        WhatsAppSimulator::sign("key", b"The quick brown fox jumps over the lazy dog"),
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    );
}

// ---------------------------------------------------------------- templates

#[tokio::test]
async fn a_template_outside_the_window_is_accepted_and_rendered() {
    let simulator = simulator_with_open_window().await;
    simulator.advance(chrono::Duration::days(3));
    simulator.approve_template("checkin_reminder", "es", 2);

    let (status, body) = send(
        &simulator,
        &template("checkin_reminder", "es", &["Ana", "15:00"]),
    )
    .await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        simulator.sent_to(GUEST),
        vec!["template:checkin_reminder:es:Ana|15:00"]
    );
    assert_eq!(simulator.sent()[0].body["type"], "template");
}

#[tokio::test]
async fn an_unknown_template_or_language_is_132001() {
    let simulator = simulator_with_open_window().await;
    simulator.approve_template("checkin_reminder", "es", 1);

    for (name, language) in [("checkout_reminder", "es"), ("checkin_reminder", "en_US")] {
        let (status, body) = send(&simulator, &template(name, language, &["Ana"])).await;

        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(
            body,
            meta_error(
                132001,
                "(#132001) Template name does not exist in the translation",
                &format!("template name ({name}) does not exist in {language}"),
            )
        );
    }
    assert!(simulator.sent().is_empty());
}

#[tokio::test]
async fn a_wrong_number_of_body_parameters_is_132000() {
    let simulator = simulator_with_open_window().await;
    simulator.approve_template("checkin_reminder", "es", 2);

    let (status, body) = send(&simulator, &template("checkin_reminder", "es", &["Ana"])).await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body,
        meta_error(
            132000,
            "(#132000) Number of parameters does not match the expected number of params",
            "body: number of localizable_params (1) does not match the expected number of \
             params (2)",
        )
    );
    assert!(simulator.sent().is_empty());
}

// ---------------------------------------------------------------- interactive messages

#[tokio::test]
async fn valid_buttons_and_lists_are_accepted_and_read_as_their_body() {
    let simulator = simulator_with_open_window().await;

    let (status, body) = send(
        &simulator,
        &interactive(buttons(&["Sí", "No", "Más tarde"])),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(&simulator, &interactive(list(rows(10)))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    assert_eq!(
        simulator.sent_to(GUEST),
        vec!["¿Confirmamos la reserva?", "Elija una habitación"]
    );
    assert_eq!(simulator.sent()[1].body["interactive"]["type"], "list");
}

#[tokio::test]
async fn a_button_title_of_21_characters_is_131009() {
    assert_invalid(
        buttons(&["Confirmar la reserva!"]),
        "Button title length invalid. Min length: 1, Max length: 20",
    )
    .await;
}

#[tokio::test]
async fn four_buttons_are_131009() {
    assert_invalid(
        buttons(&["Uno", "Dos", "Tres", "Cuatro"]),
        "Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3",
    )
    .await;
}

#[tokio::test]
async fn no_buttons_are_131009() {
    assert_invalid(buttons(&[]), "Invalid buttons count").await;
}

#[tokio::test]
async fn duplicate_button_titles_are_131009() {
    assert_invalid(buttons(&["Sí", "Sí"]), "Button title must be unique").await;
}

#[tokio::test]
async fn a_button_id_of_257_characters_is_131009() {
    let mut message = buttons(&["Sí"]);
    message["action"]["buttons"][0]["reply"]["id"] = json!("x".repeat(257));
    assert_invalid(
        message,
        "Button id length invalid. Min length: 1, Max length: 256",
    )
    .await;
}

#[tokio::test]
async fn a_body_of_1025_characters_is_131009() {
    let mut message = buttons(&["Sí"]);
    message["body"]["text"] = json!("a".repeat(1025));
    assert_invalid(
        message,
        "Body text length invalid. Min length: 1, Max length: 1024",
    )
    .await;
}

#[tokio::test]
async fn a_header_or_footer_of_61_characters_is_131009() {
    let mut message = buttons(&["Sí"]);
    message["header"] = json!({ "type": "text", "text": "h".repeat(61) });
    assert_invalid(message, "Header text length invalid").await;

    let mut message = buttons(&["Sí"]);
    message["footer"] = json!({ "text": "f".repeat(61) });
    assert_invalid(
        message,
        "Footer text length invalid. Min length: 1, Max length: 60",
    )
    .await;
}

#[tokio::test]
async fn a_list_of_11_rows_is_131009() {
    // Ten rows are fine in one section; eleven spread over two are not.
    let all = rows(11);
    let mut message = list(vec![]);
    message["action"]["sections"] = json!([
        { "title": "Dobles", "rows": all[..6] },
        { "title": "Suites", "rows": all[6..] },
    ]);
    assert_invalid(message, "Invalid rows count").await;
}

#[tokio::test]
async fn a_list_without_rows_is_131009() {
    assert_invalid(list(vec![]), "Invalid rows count").await;
}

#[tokio::test]
async fn a_row_title_of_25_characters_is_131009() {
    assert_invalid(
        list(vec![row("r1", &"t".repeat(25), "")]),
        "Row title length invalid. Min length: 1, Max length: 24",
    )
    .await;
}

#[tokio::test]
async fn a_row_description_of_73_characters_is_131009() {
    assert_invalid(
        list(vec![row("r1", "Doble", &"d".repeat(73))]),
        "Row description length invalid. Min length: 0, Max length: 72",
    )
    .await;
}

#[tokio::test]
async fn a_row_id_of_201_characters_is_131009() {
    assert_invalid(
        list(vec![row(&"i".repeat(201), "Doble", "")]),
        "Row id length invalid. Min length: 1, Max length: 200",
    )
    .await;
}

#[tokio::test]
async fn duplicate_row_ids_are_131009() {
    assert_invalid(
        list(vec![row("r1", "Doble", ""), row("r1", "Suite", "")]),
        "Row id must be unique",
    )
    .await;
}

#[tokio::test]
async fn a_section_title_of_25_characters_is_131009() {
    let mut message = list(rows(2));
    message["action"]["sections"][0]["title"] = json!("s".repeat(25));
    assert_invalid(
        message,
        "Section title length invalid. Min length: 1, Max length: 24",
    )
    .await;
}

#[tokio::test]
async fn untitled_sections_in_a_list_of_several_are_131009() {
    let mut message = list(rows(1));
    message["action"]["sections"] = json!([
        { "rows": [row("a", "Doble", "")] },
        { "rows": [row("b", "Suite", "")] },
    ]);
    assert_invalid(message, "Section title is required").await;
}

#[tokio::test]
async fn a_menu_button_of_21_characters_is_131009() {
    let mut message = list(rows(2));
    message["action"]["button"] = json!("b".repeat(21));
    assert_invalid(message, "action.button").await;
}

// ---------------------------------------------------------------- status webhooks

/// What the receiver got: each delivery's `X-Hub-Signature-256` and raw body.
type Deliveries = Arc<Mutex<Vec<(Option<String>, Bytes)>>>;

/// Conserje's side of status webhooks: records every delivery and answers `answer`.
struct Receiver {
    url: String,
    deliveries: Deliveries,
    answer: Arc<AtomicU16>,
    _server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct ReceiverState {
    deliveries: Deliveries,
    answer: Arc<AtomicU16>,
}

async fn record_delivery(
    State(state): State<ReceiverState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    state
        .deliveries
        .lock()
        .expect("not poisoned")
        .push((signature, body));
    StatusCode::from_u16(state.answer.load(Ordering::SeqCst)).unwrap_or(StatusCode::OK)
}

async fn receiver() -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let url = format!(
        "http://{}/webhooks/whatsapp",
        listener.local_addr().expect("bound")
    );
    let state = ReceiverState {
        deliveries: Arc::default(),
        answer: Arc::new(AtomicU16::new(200)),
    };
    let router = Router::new()
        .route("/webhooks/whatsapp", post(record_delivery))
        .with_state(state.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Receiver {
        url,
        deliveries: state.deliveries,
        answer: state.answer,
        _server: server,
    }
}

/// Whether `signature` is `sha256=<hex HMAC-SHA256(APP_SECRET, body)>`, checked with the
/// gateway's own verifier rather than with the simulator's `sign`: what the simulator posts is
/// what conserje accepts.
fn signed_with_app_secret(signature: Option<&str>, body: &[u8]) -> bool {
    conserje_gateway::webhook_guard::whatsapp_signature_is_valid(APP_SECRET, body, signature)
}

impl Receiver {
    /// Every delivery so far, each checked to be signed, as JSON.
    fn deliveries(&self) -> Vec<Value> {
        self.deliveries
            .lock()
            .expect("not poisoned")
            .iter()
            .map(|(signature, body)| {
                assert!(
                    signed_with_app_secret(signature.as_deref(), body),
                    "unsigned or wrongly signed delivery: {signature:?}"
                );
                serde_json::from_slice(body).expect("a JSON delivery")
            })
            .collect()
    }

    /// Every status delivered so far, in delivery order.
    fn statuses(&self) -> Vec<Value> {
        self.deliveries().iter().flat_map(statuses_of).collect()
    }

    /// Waits (up to 5 s) until `count` statuses arrived, and returns them.
    async fn wait_for_statuses(&self, count: usize) -> Vec<Value> {
        for _ in 0..250 {
            let statuses = self.statuses();
            if statuses.len() >= count {
                return statuses;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("expected {count} statuses, got {:?}", self.statuses());
    }
}

fn statuses_of(delivery: &Value) -> Vec<Value> {
    let mut statuses = Vec::new();
    for entry in delivery["entry"].as_array().into_iter().flatten() {
        for change in entry["changes"].as_array().into_iter().flatten() {
            statuses.extend(
                change["value"]["statuses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
    }
    statuses
}

fn names(statuses: &[Value]) -> Vec<(String, String)> {
    statuses
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap_or_default().to_owned(),
                s["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Sends a text and returns its wamid.
async fn accepted_text(simulator: &WhatsAppSimulator, body: &str) -> String {
    let (status, answer) = send(simulator, &text(body)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["messages"][0]["id"]
        .as_str()
        .expect("a wamid")
        .to_owned()
}

#[tokio::test]
async fn an_accepted_send_is_followed_by_signed_sent_then_delivered() {
    let simulator = simulator_with_open_window().await;
    let conserje = receiver().await;
    simulator.post_statuses_to(conserje.url.clone(), APP_SECRET);

    let wamid = accepted_text(&simulator, "Hola").await;

    let statuses = conserje.wait_for_statuses(2).await;
    assert_eq!(
        names(&statuses),
        vec![
            (wamid.clone(), "sent".to_owned()),
            (wamid.clone(), "delivered".to_owned())
        ]
    );
    let first = &statuses[0];
    assert_eq!(first["recipient_id"], GUEST);
    assert_eq!(first["timestamp"], noon().timestamp().to_string());
    assert!(first.get("errors").is_none(), "{first}");
    let delivery = &conserje.deliveries()[0];
    assert_eq!(delivery["object"], "whatsapp_business_account");
    let value = &delivery["entry"][0]["changes"][0]["value"];
    assert_eq!(value["messaging_product"], "whatsapp");
    assert_eq!(value["metadata"]["phone_number_id"], PHONE_NUMBER_ID);
    assert_eq!(delivery["entry"][0]["changes"][0]["field"], "messages");
}

#[tokio::test]
async fn statuses_a_test_posts_arrive_in_one_delivery_in_the_order_asked() {
    let simulator = simulator_with_open_window().await;
    let conserje = receiver().await;
    simulator.post_statuses_to(conserje.url.clone(), APP_SECRET);
    simulator.auto_statuses(false);
    let wamid = accepted_text(&simulator, "Hola").await;

    let answer = simulator
        .post_statuses(vec![
            (wamid.as_str(), "read", None),
            (wamid.as_str(), "delivered", None),
            (wamid.as_str(), "failed", Some(131026)),
        ])
        .await;

    assert_eq!(answer, reqwest::StatusCode::OK);
    let deliveries = conserje.deliveries();
    assert_eq!(deliveries.len(), 1, "one delivery: {deliveries:?}");
    let statuses = statuses_of(&deliveries[0]);
    assert_eq!(
        names(&statuses),
        vec![
            (wamid.clone(), "read".to_owned()),
            (wamid.clone(), "delivered".to_owned()),
            (wamid.clone(), "failed".to_owned()),
        ]
    );
    assert_eq!(statuses[2]["errors"][0]["code"], 131026);
    assert_eq!(statuses[2]["errors"][0]["title"], "Message undeliverable");
}

#[tokio::test]
async fn post_status_returns_conserje_s_answer() {
    let simulator = simulator_with_open_window().await;
    let conserje = receiver().await;
    simulator.post_statuses_to(conserje.url.clone(), APP_SECRET);
    simulator.auto_statuses(false);
    let wamid = accepted_text(&simulator, "Hola").await;
    conserje.answer.store(401, Ordering::SeqCst);

    let answer = simulator.post_status(&wamid, "read", None).await;

    assert_eq!(answer, reqwest::StatusCode::UNAUTHORIZED);
    assert_eq!(
        names(&conserje.statuses()),
        vec![(wamid, "read".to_owned())]
    );
}

#[tokio::test]
async fn with_automatic_statuses_off_nothing_is_posted() {
    let simulator = simulator_with_open_window().await;
    let conserje = receiver().await;
    simulator.post_statuses_to(conserje.url.clone(), APP_SECRET);
    simulator.auto_statuses(false);

    accepted_text(&simulator, "Hola").await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    assert!(conserje.deliveries().is_empty());
}

#[tokio::test]
async fn an_async_failure_answers_a_wamid_then_posts_failed_with_131047() {
    let simulator = simulator_with_open_window().await;
    let conserje = receiver().await;
    simulator.post_statuses_to(conserje.url.clone(), APP_SECRET);
    simulator.fail_async_next(1, 131047);

    let failing = accepted_text(&simulator, "Llega tarde").await;
    let statuses = conserje.wait_for_statuses(1).await;

    assert_eq!(
        names(&statuses),
        vec![(failing.clone(), "failed".to_owned())]
    );
    assert_eq!(
        statuses[0]["errors"],
        json!([{
            "code": 131047,
            "title": "Re-engagement message",
            "message": "Re-engagement message",
            "error_data": { "details": RE_ENGAGEMENT },
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
        }])
    );
    assert!(simulator.sent().is_empty(), "the guest never saw it");

    // Only the next send failed: the one after is delivered.
    let delivered = accepted_text(&simulator, "Ahora sí").await;
    let statuses = conserje.wait_for_statuses(3).await;
    assert_eq!(
        names(&statuses[1..]),
        vec![
            (delivered.clone(), "sent".to_owned()),
            (delivered, "delivered".to_owned())
        ]
    );
    assert_eq!(simulator.sent_to(GUEST), vec!["Ahora sí"]);
}

// ---------------------------------------------------------------- throughput

#[tokio::test]
async fn past_the_rate_limit_meta_answers_130429() {
    let simulator = simulator_with_open_window().await;
    simulator.set_rate_limit(2);

    let burst = std::time::Instant::now();
    let first = send(&simulator, &text("uno")).await;
    let second = send(&simulator, &text("dos")).await;
    let (status, body) = send(&simulator, &text("tres")).await;
    // The limit is a real second: the burst must fit in one for the refusal to be due.
    assert!(
        burst.elapsed() < Duration::from_millis(900),
        "three local requests took {:?}; the machine is too loaded for this test",
        burst.elapsed()
    );

    assert_eq!(first.0, StatusCode::OK);
    assert_eq!(second.0, StatusCode::OK);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        meta_error(
            130429,
            "(#130429) Rate limit hit",
            "Cloud API message throughput has been reached."
        )
    );
    assert_eq!(simulator.sent_to(GUEST), vec!["uno", "dos"]);

    // A second later the number has throughput again.
    tokio::time::sleep(Duration::from_millis(1050)).await;
    let (status, _) = send(&simulator, &text("cuatro")).await;
    assert_eq!(status, StatusCode::OK);
    let times = simulator.sent_times(GUEST);
    assert_eq!(times.len(), 3, "{times:?}");
    assert!(
        times[2] - times[1] >= chrono::Duration::milliseconds(1000),
        "{times:?}"
    );
}

#[tokio::test]
async fn an_injected_429_keeps_its_http_status() {
    let simulator = simulator_with_open_window().await;
    simulator.fail_next(1, 429);

    let (status, body) = send(&simulator, &text("uno")).await;

    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"]["code"], 130429, "{body}");
}
