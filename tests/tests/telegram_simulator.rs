//! The Telegram simulator itself, driven with plain HTTP: the rules Telegram enforces that a bot
//! only meets in production (a bot cannot write first, a guest can block it, `callback_data` is
//! 64 bytes, flood control), button presses and their answers, and the edits that take a
//! keyboard away after a press. The adapter's contract tests live in `channel_clients.rs`.

use std::time::Duration;

use conserje_tests::simulators::TelegramSimulator;
use reqwest::Client;
use serde_json::{json, Value};

const TOKEN: &str = "7000000:AAHsimulated-bot-token";
const GUEST: i64 = 555_077;
const OTHER_GUEST: i64 = 555_078;

const CANT_INITIATE: &str = "Forbidden: bot can't initiate conversation with a user";
const BUTTON_DATA_INVALID: &str = "Bad Request: BUTTON_DATA_INVALID";
const QUERY_INVALID: &str =
    "Bad Request: query is too old and response timeout expired or query ID is invalid";
const TEXT_BUTTONS_UNALLOWED: &str =
    "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard";

/// A simulator and a client for it.
async fn start() -> (TelegramSimulator, Api) {
    let sim = TelegramSimulator::start(TOKEN).await;
    let api = Api {
        client: Client::new(),
        base: format!("{}/bot{TOKEN}", sim.base_url()),
    };
    (sim, api)
}

struct Api {
    client: Client,
    base: String,
}

impl Api {
    /// Calls `method` with `params`: the HTTP status and the JSON answer.
    async fn call(&self, method: &str, params: Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}/{method}", self.base))
            .json(&params)
            .send()
            .await
            .expect("the simulator answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON answer"))
    }

    async fn send(&self, chat_id: i64, text: &str) -> (u16, Value) {
        self.call("sendMessage", json!({ "chat_id": chat_id, "text": text }))
            .await
    }

    /// Sends `text` with one button; the answer's `result.message_id` on success.
    async fn send_with_button(&self, chat_id: i64, text: &str, data: &str) -> (u16, Value) {
        let markup = json!({ "inline_keyboard": [[{ "text": "Sí", "callback_data": data }]] });
        self.call(
            "sendMessage",
            json!({ "chat_id": chat_id, "text": text, "reply_markup": markup }),
        )
        .await
    }
}

fn error(code: u16, description: &str) -> Value {
    json!({ "ok": false, "error_code": code, "description": description })
}

fn message_id(answer: &Value) -> i64 {
    answer["result"]["message_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no message_id in {answer}"))
}

// ------------------------------------------------------------- who the bot may write to

#[tokio::test]
async fn by_default_every_chat_counts_as_started() {
    let (sim, api) = start().await;
    let (status, answer) = api.send(GUEST, "Hola").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(sim.sent_to(&GUEST.to_string()), vec!["Hola".to_owned()]);
}

#[tokio::test]
async fn a_bot_cannot_write_first_until_the_guest_starts_it() {
    let (sim, api) = start().await;
    sim.require_start(true);

    assert_eq!(
        api.send(GUEST, "Hola").await,
        (403, error(403, CANT_INITIATE))
    );
    let group = api.send(-1_001_234_567_890, "Hola").await;
    assert_eq!(group, (400, error(400, "Bad Request: chat not found")));
    assert!(sim.sent().is_empty());

    sim.guest_started(GUEST);
    let (status, answer) = api.send(GUEST, "Hola").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(sim.sent_to(&GUEST.to_string()), vec!["Hola".to_owned()]);
    // Another guest is still out of reach; a message from them opens their chat.
    assert_eq!(api.send(OTHER_GUEST, "Hola").await.0, 403);
    sim.message_update(OTHER_GUEST, "hola", "Ana");
    assert_eq!(api.send(OTHER_GUEST, "Hola").await.0, 200);
}

#[tokio::test]
async fn a_blocked_bot_is_refused_until_the_guest_writes_again() {
    let (sim, api) = start().await;
    sim.block(GUEST);

    let blocked = (403, error(403, "Forbidden: bot was blocked by the user"));
    assert_eq!(api.send(GUEST, "Hola").await, blocked);
    assert!(sim.sent().is_empty());

    sim.message_update(GUEST, "perdón, era sin querer", "Ana");
    assert_eq!(api.send(GUEST, "Hola").await.0, 200);
}

// ------------------------------------------------------------- inline keyboards

#[tokio::test]
async fn callback_data_is_limited_to_64_bytes_not_characters() {
    let (sim, api) = start().await;

    // 22 × "ñ" is 22 characters and 44 bytes; 32 × is exactly 64 bytes.
    for fits in ["ñ".repeat(22), "ñ".repeat(32)] {
        let (status, answer) = api.send_with_button(GUEST, "¿Confirmo?", &fits).await;
        assert_eq!(status, 200, "{} bytes: {answer}", fits.len());
    }
    // 33 × "ñ" is 33 characters, well under 64, but 66 bytes.
    let (status, answer) = api
        .send_with_button(GUEST, "¿Confirmo?", &"ñ".repeat(33))
        .await;
    assert_eq!((status, answer), (400, error(400, BUTTON_DATA_INVALID)));
    assert_eq!(sim.sent().len(), 2);
}

#[tokio::test]
async fn malformed_buttons_are_refused_with_telegrams_wording() {
    let (sim, api) = start().await;
    let cases = [
        (
            json!({ "text": "", "callback_data": "yes" }),
            "Bad Request: BUTTON_TEXT_INVALID",
        ),
        (json!({ "text": "Sí" }), TEXT_BUTTONS_UNALLOWED),
        (json!({ "text": "Sí", "callback_data": "" }), TEXT_BUTTONS_UNALLOWED),
        (
            json!({ "callback_data": "yes" }),
            "Bad Request: can't parse inline keyboard button: Can't find field \"text\"",
        ),
        (
            json!({ "text": 1, "callback_data": "yes" }),
            "Bad Request: can't parse inline keyboard button: Field \"text\" must be of type String",
        ),
    ];
    for (button, description) in cases {
        let params = json!({
            "chat_id": GUEST, "text": "¿Confirmo?",
            "reply_markup": { "inline_keyboard": [[button.clone()]] },
        });
        let answer = api.call("sendMessage", params).await;
        assert_eq!(answer, (400, error(400, description)), "{button}");
    }
    let unparsable = json!({ "chat_id": GUEST, "text": "x", "reply_markup": "{not json" });
    let answer = api.call("sendMessage", unparsable).await;
    let cant_parse = "Bad Request: can't parse reply keyboard markup JSON object";
    assert_eq!(answer, (400, error(400, cant_parse)));
    assert!(sim.sent().is_empty());
}

#[tokio::test]
async fn a_keyboard_is_recorded_and_echoed_in_the_sent_message() {
    let (sim, api) = start().await;
    let markup = json!({ "inline_keyboard": [[
        { "text": "Sí", "callback_data": "confirm" },
        { "text": "No", "callback_data": "cancel" }
    ]] });
    let params =
        json!({ "chat_id": GUEST, "text": "¿Confirmo la reserva?", "reply_markup": markup });

    let (status, answer) = api.call("sendMessage", params.clone()).await;

    assert_eq!(status, 200, "{answer}");
    let result = &answer["result"];
    assert_eq!(answer["ok"], json!(true));
    assert_eq!(result["from"]["id"], json!(7_000_000));
    assert_eq!(result["from"]["is_bot"], json!(true));
    assert!(result["from"]["username"].is_string(), "{result}");
    assert_eq!(result["chat"]["id"], json!(GUEST));
    assert_eq!(result["chat"]["type"], json!("private"));
    assert!(result["date"].as_i64().is_some_and(|d| d > 1_600_000_000));
    assert_eq!(result["text"], json!("¿Confirmo la reserva?"));
    assert_eq!(result["reply_markup"], markup);

    let sent = sim.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text, "¿Confirmo la reserva?");
    assert_eq!(sent[0].body, params);
    let stored = sim.message(GUEST, message_id(&answer)).expect("remembered");
    assert_eq!(stored.reply_markup, Some(markup));
}

#[tokio::test]
async fn reply_markup_may_arrive_as_a_json_string() {
    let (sim, api) = start().await;
    let markup = json!({ "inline_keyboard": [[{ "text": "Sí", "callback_data": "yes" }]] });
    let params = json!({ "chat_id": GUEST, "text": "¿Sí?", "reply_markup": markup.to_string() });

    let (status, answer) = api.call("sendMessage", params).await;

    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["reply_markup"], markup);
    assert_eq!(
        sim.sent()[0].body["reply_markup"],
        json!(markup.to_string())
    );
}

// ------------------------------------------------------------- updates and button presses

#[tokio::test]
async fn a_callback_update_quotes_the_bots_message_and_carries_the_data() {
    let (sim, api) = start().await;
    let (_, sent) = api.send_with_button(GUEST, "¿Confirmo?", "confirm").await;
    let message_id = message_id(&sent);

    let (first, id) = sim.callback_update(GUEST, message_id, "confirm", "Ana");
    let (second, other_id) = sim.callback_update(GUEST, message_id, "confirm", "Ana");

    let query = &first["callback_query"];
    assert_eq!(query["id"], json!(id));
    assert_eq!(query["from"]["id"], json!(GUEST));
    assert_eq!(query["from"]["is_bot"], json!(false));
    assert_eq!(query["from"]["first_name"], json!("Ana"));
    assert!(query["from"]["language_code"].is_string(), "{query}");
    assert_eq!(query["message"]["message_id"], json!(message_id));
    assert_eq!(query["message"]["chat"]["id"], json!(GUEST));
    assert_eq!(query["message"]["chat"]["type"], json!("private"));
    assert!(query["message"]["date"].is_i64(), "{query}");
    assert_eq!(query["message"]["text"], json!("¿Confirmo?"));
    assert!(query["chat_instance"].is_string(), "{query}");
    assert_eq!(query["data"], json!("confirm"));
    assert_ne!(id, other_id);
    let update_ids = [&first, &second].map(|u| u["update_id"].as_i64().expect("an update_id"));
    assert!(update_ids[0] < update_ids[1], "{update_ids:?}");
}

#[tokio::test]
async fn message_and_edited_message_updates_have_telegrams_shape() {
    let (sim, _api) = start().await;

    let update = sim.message_update(GUEST, "¿Hay habitación?", "Ana");
    let message = &update["message"];
    assert!(update["update_id"].is_i64(), "{update}");
    assert_eq!(message["from"]["id"], json!(GUEST));
    assert_eq!(message["from"]["is_bot"], json!(false));
    assert_eq!(message["from"]["first_name"], json!("Ana"));
    assert_eq!(
        message["chat"],
        json!({ "id": GUEST, "type": "private", "first_name": "Ana" })
    );
    assert_eq!(message["text"], json!("¿Hay habitación?"));
    let message_id = message["message_id"].as_i64().expect("a message_id");

    let edited = sim.edited_message_update(GUEST, message_id, "¿Hay habitación doble?");
    let edit = &edited["edited_message"];
    assert!(edited["update_id"].as_i64() > update["update_id"].as_i64());
    assert!(edited.get("message").is_none(), "{edited}");
    assert_eq!(edit["message_id"], json!(message_id));
    assert_eq!(edit["date"], message["date"]);
    assert!(
        edit["edit_date"].as_i64() >= edit["date"].as_i64(),
        "{edit}"
    );
    assert_eq!(edit["text"], json!("¿Hay habitación doble?"));
    assert_eq!(edit["from"]["first_name"], json!("Ana"));
}

#[tokio::test]
async fn a_callback_query_is_answered_once() {
    let (sim, api) = start().await;
    let (_, id) = sim.callback_update(GUEST, 1, "confirm", "Ana");
    let answer =
        |id: &str| json!({ "callback_query_id": id, "text": "Hecho", "show_alert": false });

    let first = api.call("answerCallbackQuery", answer(&id)).await;
    let again = api.call("answerCallbackQuery", answer(&id)).await;
    let unknown = api.call("answerCallbackQuery", answer("123")).await;
    let missing = api.call("answerCallbackQuery", json!({})).await;

    assert_eq!(first, (200, json!({ "ok": true, "result": true })));
    for refused in [again, unknown, missing] {
        assert_eq!(refused, (400, error(400, QUERY_INVALID)));
    }
    assert_eq!(sim.answered_callbacks(), vec![id]);
}

// ------------------------------------------------------------- flood control

#[tokio::test]
async fn a_second_message_to_one_chat_within_the_interval_is_429_and_other_chats_are_not_limited() {
    let (sim, api) = start().await;
    sim.set_rate_limits(Duration::from_secs(1), 0);

    assert_eq!(api.send(GUEST, "uno").await.0, 200);
    let (status, answer) = api.send(GUEST, "dos").await;
    assert_eq!(status, 429, "{answer}");
    assert_eq!(answer["ok"], json!(false));
    assert_eq!(answer["error_code"], json!(429));
    let retry_after = answer["parameters"]["retry_after"]
        .as_u64()
        .expect("retry_after");
    assert!(retry_after >= 1, "{answer}");
    assert_eq!(
        answer["description"],
        json!(format!("Too Many Requests: retry after {retry_after}"))
    );
    assert_eq!(api.send(OTHER_GUEST, "uno").await.0, 200);
    assert_eq!(sim.refused_429(), 1);

    tokio::time::sleep(Duration::from_millis(1_050)).await;
    assert_eq!(api.send(GUEST, "dos").await.0, 200);
    let times = sim.sent_times(GUEST);
    assert_eq!(times.len(), 2);
    assert!(times[1] - times[0] >= Duration::from_secs(1), "{times:?}");
    assert_eq!(sim.sent_to(&GUEST.to_string()), vec!["uno", "dos"]);
}

#[tokio::test]
async fn a_burst_lets_several_messages_through_back_to_back() {
    let (sim, api) = start().await;
    sim.set_rate_limits(Duration::from_secs(1), 0);
    sim.set_per_chat_burst(3);

    for text in ["uno", "dos", "tres"] {
        assert_eq!(api.send(GUEST, text).await.0, 200, "{text}");
    }
    assert_eq!(api.send(GUEST, "cuatro").await.0, 429);
    assert_eq!(sim.sent_times(GUEST).len(), 3);
}

#[tokio::test]
async fn the_global_limit_counts_messages_across_chats() {
    let (sim, api) = start().await;
    sim.set_rate_limits(Duration::ZERO, 3);

    for chat in 1..=3 {
        assert_eq!(api.send(chat, "hola").await.0, 200, "chat {chat}");
    }
    let (status, answer) = api.send(4, "hola").await;
    assert_eq!(status, 429, "{answer}");
    assert_eq!(answer["parameters"]["retry_after"], json!(1));
    assert_eq!(sim.refused_429(), 1);
    assert!(sim.sent_times(4).is_empty());

    tokio::time::sleep(Duration::from_millis(1_050)).await;
    assert_eq!(api.send(4, "hola").await.0, 200);
}

#[tokio::test]
async fn flood_control_is_off_by_default() {
    let (sim, api) = start().await;
    for text in ["uno", "dos", "tres"] {
        assert_eq!(api.send(GUEST, text).await.0, 200);
    }
    assert_eq!(sim.refused_429(), 0);
    assert_eq!(sim.sent_times(GUEST).len(), 3);
}

// ------------------------------------------------------------- edits

#[tokio::test]
async fn a_keyboard_is_removed_by_editing_the_reply_markup() {
    let (sim, api) = start().await;
    let (_, sent) = api.send_with_button(GUEST, "¿Confirmo?", "confirm").await;
    let message_id = message_id(&sent);
    let remove = json!({ "chat_id": GUEST, "message_id": message_id });

    let (status, answer) = api.call("editMessageReplyMarkup", remove.clone()).await;

    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["text"], json!("¿Confirmo?"));
    assert!(answer["result"].get("reply_markup").is_none(), "{answer}");
    assert!(answer["result"]["edit_date"].is_i64(), "{answer}");
    let now = sim.message(GUEST, message_id).expect("remembered");
    assert_eq!((now.reply_markup, now.text.as_str()), (None, "¿Confirmo?"));
    assert_eq!(sim.edits().len(), 1);

    let not_modified = "Bad Request: message is not modified: specified new message content and \
         reply markup are exactly the same as a current content and reply markup of the message";
    let again = api.call("editMessageReplyMarkup", remove).await;
    assert_eq!(again, (400, error(400, not_modified)));
}

#[tokio::test]
async fn edit_message_text_replaces_the_text_and_the_keyboard() {
    let (sim, api) = start().await;
    let (_, sent) = api.send_with_button(GUEST, "¿Confirmo?", "confirm").await;
    let message_id = message_id(&sent);

    let params = json!({ "chat_id": GUEST, "message_id": message_id, "text": "Confirmada ✅" });
    let (status, answer) = api.call("editMessageText", params).await;

    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["text"], json!("Confirmada ✅"));
    let now = sim.message(GUEST, message_id).expect("remembered");
    assert_eq!(now.text, "Confirmada ✅");
    assert_eq!(now.reply_markup, None);
    assert!(now.edit_date.is_some());
    // Edits are not sends.
    assert_eq!(sim.sent_to(&GUEST.to_string()), vec!["¿Confirmo?"]);
}

#[tokio::test]
async fn edits_of_unknown_or_foreign_messages_are_refused() {
    let (sim, api) = start().await;
    let not_found = (400, error(400, "Bad Request: message to edit not found"));
    let unknown = json!({ "chat_id": GUEST, "message_id": 999, "text": "x" });
    assert_eq!(api.call("editMessageText", unknown).await, not_found);
    let unknown_markup = json!({ "chat_id": GUEST, "message_id": 999 });
    assert_eq!(
        api.call("editMessageReplyMarkup", unknown_markup).await,
        not_found
    );

    // The message exists, but in another chat.
    let (_, sent) = api.send_with_button(GUEST, "¿Confirmo?", "confirm").await;
    let elsewhere = json!({ "chat_id": OTHER_GUEST, "message_id": message_id(&sent) });
    assert_eq!(
        api.call("editMessageReplyMarkup", elsewhere).await,
        not_found
    );

    let guest_message = sim.message_update(GUEST, "hola", "Ana");
    let theirs = json!({
        "chat_id": GUEST, "message_id": guest_message["message"]["message_id"], "text": "adiós"
    });
    let refused = (400, error(400, "Bad Request: message can't be edited"));
    assert_eq!(api.call("editMessageText", theirs).await, refused);

    let bad_keyboard = json!({
        "chat_id": GUEST, "message_id": message_id(&sent),
        "reply_markup": { "inline_keyboard": [[{ "text": "Sí", "callback_data": "ñ".repeat(33) }]] }
    });
    let answer = api.call("editMessageReplyMarkup", bad_keyboard).await;
    assert_eq!(answer, (400, error(400, BUTTON_DATA_INVALID)));
    assert!(sim.edits().is_empty());
}
