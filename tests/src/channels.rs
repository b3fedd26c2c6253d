//! The guests' channels as the end-to-end suites drive them: a configuration with WhatsApp and
//! Telegram accounts for two hotels, real-shaped webhook payloads (copied from the shapes in
//! Meta's and Telegram's documentation), and posting them signed the way the providers sign.
//!
//! The signature here is computed independently of the gateway's check (`hmac` + `sha2`
//! directly), so a suite that passes proves the gateway verifies what Meta actually sends.

use std::path::{Path, PathBuf};
use std::time::Duration;

use conserje_domain::session::GuestMessage;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::simulators::whatsapp::webhooks::{envelope, value_for, DISPLAY_PHONE_NUMBER};
use crate::TestApp;

/// The `default` hotel's WhatsApp business number (`metadata.phone_number_id`).
pub const DEFAULT_PHONE_NUMBER_ID: &str = "106540352242922";
/// The `default` hotel's Meta app secret: it signs deliveries to its number and to numbers no
/// hotel configures.
pub const DEFAULT_APP_SECRET: &str = "default-app-secret-5f2c";
/// The `default` hotel's verification token for the handshake.
pub const DEFAULT_VERIFY_TOKEN: &str = "default-verify-token";
/// The `default` hotel's Telegram webhook secret token.
pub const DEFAULT_TELEGRAM_SECRET: &str = "default-telegram-secret";

/// The second configured hotel, with its own accounts.
pub const SOL: &str = "hotel-sol";
/// `hotel-sol`'s WhatsApp business number.
pub const SOL_PHONE_NUMBER_ID: &str = "209876543210987";
/// `hotel-sol`'s Meta app secret.
pub const SOL_APP_SECRET: &str = "sol-app-secret-91ab";
/// `hotel-sol`'s verification token for the handshake.
pub const SOL_VERIFY_TOKEN: &str = "sol-verify-token";
/// `hotel-sol`'s Telegram webhook secret token.
pub const SOL_TELEGRAM_SECRET: &str = "sol-telegram-secret";

/// A business number no hotel configures: its deliveries go to `default`.
pub const UNKNOWN_PHONE_NUMBER_ID: &str = "999000111222333";

/// Writes a configuration file in `dir` with the built-in hotels and simulator
/// (`config/conserje.toml`) plus WhatsApp and Telegram accounts for `default` and `hotel-sol`,
/// and returns its path, for `StoreOptions.config`.
pub fn channel_config(dir: &Path) -> PathBuf {
    let built_in = include_str!("../../config/conserje.toml");
    let accounts = format!(
        r#"
[hotels.default.whatsapp]
phone_number_id = "{DEFAULT_PHONE_NUMBER_ID}"
app_secret = "{DEFAULT_APP_SECRET}"
verify_token = "{DEFAULT_VERIFY_TOKEN}"

[hotels.default.telegram]
secret_token = "{DEFAULT_TELEGRAM_SECRET}"

[hotels.{SOL}.whatsapp]
phone_number_id = "{SOL_PHONE_NUMBER_ID}"
app_secret = "{SOL_APP_SECRET}"
verify_token = "{SOL_VERIFY_TOKEN}"

[hotels.{SOL}.telegram]
secret_token = "{SOL_TELEGRAM_SECRET}"
"#
    );
    let path = dir.join("channels.toml");
    std::fs::write(&path, format!("{built_in}\n{accounts}")).expect("write the channel config");
    path
}

/// `X-Hub-Signature-256` for `body`: `sha256=` and the hex HMAC-SHA256 of it with `secret`.
pub fn sign_whatsapp(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The app secret that signs deliveries to `phone_number_id` in [`channel_config`].
pub fn app_secret_for(phone_number_id: &str) -> &'static str {
    if phone_number_id == SOL_PHONE_NUMBER_ID {
        SOL_APP_SECRET
    } else {
        DEFAULT_APP_SECRET
    }
}

/// The Telegram secret token of `tenant` in [`channel_config`].
pub fn telegram_secret_for(tenant: &str) -> &'static str {
    if tenant == SOL {
        SOL_TELEGRAM_SECRET
    } else {
        DEFAULT_TELEGRAM_SECRET
    }
}

/// Unix seconds now, as WhatsApp writes timestamps (a string).
fn now_seconds() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A WhatsApp delivery to `phone_number_id` with these `contacts` and `messages`: the
/// envelope every builder below shares, for shapes they do not cover.
pub fn whatsapp_delivery(phone_number_id: &str, contacts: Value, messages: Value) -> Value {
    let mut value = value_for(phone_number_id);
    value["contacts"] = contacts;
    value["messages"] = messages;
    envelope(vec![value])
}

fn contact(wa_id: &str, name: &str) -> Value {
    json!([{ "profile": { "name": name }, "wa_id": wa_id }])
}

/// A text message from `wa_id` (profile `name`) to `phone_number_id`.
pub fn whatsapp_text(
    phone_number_id: &str,
    wa_id: &str,
    name: &str,
    message_id: &str,
    text: &str,
) -> Value {
    whatsapp_delivery(
        phone_number_id,
        contact(wa_id, name),
        json!([{
            "from": wa_id,
            "id": message_id,
            "timestamp": now_seconds().to_string(),
            "type": "text",
            "text": { "body": text }
        }]),
    )
}

/// A voice note (`audio` with `voice: true`, Opus in Ogg) whose media id is `media_id`.
pub fn whatsapp_voice(
    phone_number_id: &str,
    wa_id: &str,
    name: &str,
    message_id: &str,
    media_id: &str,
) -> Value {
    whatsapp_delivery(
        phone_number_id,
        contact(wa_id, name),
        json!([{
            "from": wa_id,
            "id": message_id,
            "timestamp": now_seconds().to_string(),
            "type": "audio",
            "audio": {
                "mime_type": "audio/ogg; codecs=opus",
                "sha256": "cLHcxQ7yGkS8Bq5dK2wK4y0ZsHcH8vK7vT3hQkO5x1I=",
                "id": media_id,
                "voice": true
            }
        }]),
    )
}

/// The guest's press of reply button `button_id` titled `title`.
pub fn whatsapp_button_reply(
    phone_number_id: &str,
    wa_id: &str,
    name: &str,
    message_id: &str,
    button_id: &str,
    title: &str,
) -> Value {
    whatsapp_delivery(
        phone_number_id,
        contact(wa_id, name),
        json!([{
            "context": { "from": DISPLAY_PHONE_NUMBER, "id": "wamid.question" },
            "from": wa_id,
            "id": message_id,
            "timestamp": now_seconds().to_string(),
            "type": "interactive",
            "interactive": {
                "type": "button_reply",
                "button_reply": { "id": button_id, "title": title }
            }
        }]),
    )
}

/// A delivery status (`sent`, `delivered`, `read`…) of the hotel's message `message_id` to
/// `recipient`: no messages, nothing to record.
pub fn whatsapp_status(
    phone_number_id: &str,
    message_id: &str,
    recipient: &str,
    status: &str,
) -> Value {
    let mut value = value_for(phone_number_id);
    value["statuses"] = json!([{
        "id": message_id,
        "status": status,
        "timestamp": now_seconds().to_string(),
        "recipient_id": recipient,
        "conversation": {
            "id": "CONVERSATION_ID",
            "origin": { "type": "service" }
        },
        "pricing": {
            "billable": true,
            "pricing_model": "PMP",
            "category": "service"
        }
    }]);
    envelope(vec![value])
}

fn telegram_user(chat_id: i64, first_name: &str) -> Value {
    json!({
        "id": chat_id, "is_bot": false, "first_name": first_name, "last_name": "Tester",
        "language_code": "es"
    })
}

fn telegram_message(chat_id: i64, first_name: &str, content: Value) -> Value {
    let mut message = json!({
        "message_id": 1365,
        "from": telegram_user(chat_id, first_name),
        "chat": { "id": chat_id, "first_name": first_name, "last_name": "Tester", "type": "private" },
        "date": now_seconds()
    });
    if let (Some(message), Some(content)) = (message.as_object_mut(), content.as_object()) {
        message.extend(content.clone());
    }
    message
}

/// A private chat's text message; the sender's name is `first_name` + `Tester`.
pub fn telegram_text(update_id: i64, chat_id: i64, first_name: &str, text: &str) -> Value {
    json!({
        "update_id": update_id,
        "message": telegram_message(chat_id, first_name, json!({ "text": text }))
    })
}

/// A private chat's voice note `file_id` of `duration` seconds.
pub fn telegram_voice(
    update_id: i64,
    chat_id: i64,
    first_name: &str,
    file_id: &str,
    duration: u32,
) -> Value {
    json!({
        "update_id": update_id,
        "message": telegram_message(chat_id, first_name, json!({
            "voice": {
                "file_id": file_id, "file_unique_id": "AgADbX", "duration": duration,
                "mime_type": "audio/ogg", "file_size": 23000
            }
        }))
    })
}

/// A press of an inline button with callback `data` on the bot's message in the chat.
pub fn telegram_callback(update_id: i64, chat_id: i64, first_name: &str, data: &str) -> Value {
    json!({
        "update_id": update_id,
        "callback_query": {
            "id": format!("cb{update_id}"),
            "from": telegram_user(chat_id, first_name),
            "message": {
                "message_id": 1366,
                "from": { "id": 7000000, "is_bot": true, "first_name": "Conserje" },
                "chat": { "id": chat_id, "first_name": first_name, "type": "private" },
                "date": now_seconds(),
                "text": "¿Confirmo la reserva?"
            },
            "chat_instance": "-5834293892",
            "data": data
        }
    })
}

/// Posts `body` to `POST /webhooks/whatsapp` with `signature` as `X-Hub-Signature-256` (none
/// when `None`): for deliveries signed wrongly on purpose.
pub async fn post_whatsapp_raw(
    app: &TestApp,
    body: Vec<u8>,
    signature: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.url("/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .body(body);
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    request.send().await.expect("the webhook answers")
}

/// Posts `payload` to `POST /webhooks/whatsapp` signed with the app secret of the hotel of its
/// first business number, as Meta would.
pub async fn post_whatsapp(app: &TestApp, payload: &Value) -> reqwest::Response {
    let phone_number_id = payload
        .pointer("/entry/0/changes/0/value/metadata/phone_number_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let body = payload.to_string().into_bytes();
    let signature = sign_whatsapp(app_secret_for(phone_number_id), &body);
    post_whatsapp_raw(app, body, Some(&signature)).await
}

/// Posts `body` to `POST /webhooks/telegram/{tenant}` with `secret` as
/// `X-Telegram-Bot-Api-Secret-Token` (none when `None`).
pub async fn post_telegram_raw(
    app: &TestApp,
    tenant: &str,
    body: Vec<u8>,
    secret: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.url(&format!("/webhooks/telegram/{tenant}")))
        .header("content-type", "application/json")
        .body(body);
    if let Some(secret) = secret {
        request = request.header("x-telegram-bot-api-secret-token", secret);
    }
    request.send().await.expect("the webhook answers")
}

/// Posts `update` to `tenant`'s Telegram webhook with its secret token, as Telegram would.
pub async fn post_telegram(app: &TestApp, tenant: &str, update: &Value) -> reqwest::Response {
    post_telegram_raw(
        app,
        tenant,
        update.to_string().into_bytes(),
        Some(telegram_secret_for(tenant)),
    )
    .await
}

/// How many records the inbound topic holds (the sum of its partitions' ends): what proves
/// that a refused webhook appended nothing, whether or not the worker has read anything.
pub async fn inbound_appended(app: &TestApp) -> i64 {
    app.runtime
        .log
        .lag("conserje-tests-nobody", &app.runtime.topics.inbound)
        .await
        .expect("the log answers")
        .iter()
        .map(|p| p.end)
        .sum()
}

/// The inbound records' messages as the gateway normalised them, read from the start of the
/// topic by a consumer group of its own; waits (10 s at most) for at least `expected`.
pub async fn inbound_messages(app: &TestApp, expected: usize) -> Vec<GuestMessage> {
    let group = format!("conserje-tests-{}", uuid::Uuid::now_v7().simple());
    let mut consumer = app
        .runtime
        .log
        .consumer(&group, &app.runtime.topics.inbound)
        .await
        .expect("join the inbound topic");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut messages = Vec::new();
    loop {
        let batch = consumer
            .poll(500, Duration::from_millis(200))
            .await
            .expect("poll the inbound topic");
        let got_some = !batch.is_empty();
        messages.extend(batch.iter().map(|record| {
            serde_json::from_slice::<GuestMessage>(&record.payload)
                .expect("inbound records are guest messages")
        }));
        let done = messages.len() >= expected && !got_some;
        if done || tokio::time::Instant::now() >= deadline {
            return messages;
        }
    }
}

/// The value of a `/metrics` line `name{channel="channel"}`, 0 when absent.
pub async fn metric(app: &TestApp, name: &str, channel: &str) -> u64 {
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics are text");
    let prefix = format!("{name}{{channel=\"{channel}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0)
}
