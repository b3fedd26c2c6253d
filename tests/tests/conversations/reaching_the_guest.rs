//! Reaching the guest, end to end. WhatsApp's 24-hour customer-service window: outside it only an
//! approved message template reaches the guest, so staff must name one, a refused reply falls
//! back to the hotel's `reply` template, and without one the guest goes to staff with the reason.
//! Telegram: a guest who blocked the bot (or never started the chat) is reported unreachable.

use super::*;
use conserje_tests::MovingClock;

/// The hotel's registered templates: a `reply` fallback and one staff may name.
const TEMPLATES: &str = r#"
[[hotels.default.templates]]
name = "respuesta_pendiente"
purpose = "reply"
languages = ["es", "en_US"]
parameters = ["guest_name", "reply"]

[[hotels.default.templates]]
name = "oferta_verano"
category = "marketing"
languages = ["es"]
parameters = ["guest_name"]
"#;

/// The template rendering the WhatsApp simulator records for `name` in `language`.
fn template_sent(name: &str, language: &str, parameters: &[&str]) -> String {
    format!("template:{name}:{language}:{}", parameters.join("|"))
}

/// Staff write 25 hours after the guest's last message: free text is refused with the reason,
/// an unregistered template is refused naming the registered ones, and a registered template
/// goes — through a simulator that refuses free text for the closed window. Telegram has no
/// window.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_staff_reply_25_hours_after_the_guest_wrote_goes_only_as_a_template() {
    let clock = Arc::new(MovingClock::at(Utc::now()));
    let hotel = Hotel::open_with(StoreKind::Sqlite, clock.clone(), TEMPLATES).await;
    hotel
        .whatsapp
        .approve_template("respuesta_pendiente", "es", 2);
    let wa_id = "34600111302";
    hotel.whatsapp_says(wa_id, "wamid.w.1", "hola").await;
    hotel.telegram_says(777302, 1, "hola").await;
    clock.advance(Duration::from_secs(25 * 3600));
    hotel.whatsapp.enforce_window(true);
    hotel
        .whatsapp
        .guest_wrote(wa_id, hotel.whatsapp.now() - chrono::Duration::hours(25));
    let lucia = hotel
        .app
        .client_as("lucia", Role::Staff, Some("default"))
        .await;
    let text = "Hola Ana, soy Lucía.\n¿Sigues interesada?";
    let reply = |session: &str, body: Value| {
        lucia
            .post(
                hotel
                    .app
                    .url(&format!("/api/v1/sessions/{session}/replies")),
            )
            .json(&body)
            .send()
    };
    let whatsapp_session = format!("default%2Fwhatsapp%2F{wa_id}");
    let sent = hotel.whatsapp.sent_to(wa_id).len();

    let response = reply(&whatsapp_session, json!({"text": text}))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "window_closed", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("template"),
        "{body}"
    );

    let unknown = json!({"text": text, "template": "no_such_template"});
    let response = reply(&whatsapp_session, unknown).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unknown_template", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("respuesta_pendiente, oferta_verano"),
        "{body}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(hotel.whatsapp.sent_to(wa_id).len(), sent, "nothing sent");

    let named = json!({"text": text, "template": "respuesta_pendiente"});
    let response = reply(&whatsapp_session, named).await.unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let replies = hotel
        .new_replies(|| hotel.whatsapp.sent_to(wa_id), sent)
        .await;
    assert_eq!(
        replies,
        [template_sent(
            "respuesta_pendiente",
            "es",
            &["Ana Pérez", "Hola Ana, soy Lucía. ¿Sigues interesada?"]
        )]
    );
    let transcript = hotel.transcript("whatsapp", wa_id).await;
    let staff = transcript["turns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "staff")
        .expect("the staff reply is in the transcript");
    assert_eq!(
        staff["message_template"], "respuesta_pendiente (es)",
        "{staff}"
    );
    assert_eq!(staff["delivery"], "sent", "{staff}");

    let response = reply("default%2Ftelegram%2F777302", json!({"text": text}))
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::ACCEPTED,
        "Telegram has no window"
    );
}

/// WhatsApp refuses the bot's answer for a closed window (its clock says the guest last wrote
/// 25 hours ago): the answer goes again as the hotel's `reply` template, recorded as such, and
/// the guest stays with the bot.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reply_refused_for_a_closed_window_goes_as_the_hotels_reply_template() {
    let hotel = Hotel::open_with(
        StoreKind::Sqlite,
        Arc::new(FixedClock(Utc::now())),
        TEMPLATES,
    )
    .await;
    hotel
        .whatsapp
        .approve_template("respuesta_pendiente", "es", 2);
    let wa_id = "34600111305";
    hotel.whatsapp_says(wa_id, "wamid.f.1", "hola").await;
    hotel.whatsapp.enforce_window(true);
    hotel
        .whatsapp
        .guest_wrote(wa_id, hotel.whatsapp.now() - chrono::Duration::hours(25));
    let replies = hotel
        .whatsapp_says(wa_id, "wamid.f.2", "¿tenéis parking?")
        .await;
    let prefix = "template:respuesta_pendiente:es:Ana Pérez|";
    assert!(
        !replies.is_empty() && replies.iter().all(|r| r.starts_with(prefix)),
        "every answer goes as the reply template: {replies:?}"
    );
    let session = hotel.session("whatsapp", wa_id).await;
    assert_eq!(session.handoff, None, "the template reached the guest");
    let transcript = hotel.transcript("whatsapp", wa_id).await;
    let last = transcript["turns"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|t| t["role"] == "bot")
        .unwrap();
    assert_eq!(
        last["message_template"], "respuesta_pendiente (es)",
        "{last}"
    );
    assert_eq!(last["delivery"], "sent", "{last}");
    let dead = dead_letters::list(&hotel.app.runtime, None).await.unwrap();
    assert!(dead.is_empty(), "nothing was lost: {dead:?}");

    // Later: WhatsApp takes a free-form answer, then posts `failed` with 131047 for it (what
    // Meta usually does). The answer goes again, as the template, and the bot keeps the guest.
    hotel.statuses_on_demand();
    hotel.whatsapp.enforce_window(false);
    let late = "34600111306";
    hotel.whatsapp_says(late, "wamid.f.3", "hola").await;
    hotel.whatsapp.fail_async_next(1, 131047);
    hotel
        .whatsapp_writes(late, "wamid.f.4", "¿tenéis parking?")
        .await;
    eventually("the refused answer goes again as the template", || async {
        hotel
            .whatsapp
            .sent_to(late)
            .iter()
            .any(|t| t.starts_with(prefix))
    })
    .await;
    eventually("the resend is recorded", || async {
        let transcript = hotel.transcript("whatsapp", late).await;
        transcript["turns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["message_template"] == "respuesta_pendiente (es)" && t["delivery"] == "sent")
    })
    .await;
    let session = hotel.session("whatsapp", late).await;
    assert_eq!(
        session.handoff, None,
        "no handoff: the template reached the guest"
    );
    let resent = hotel
        .whatsapp
        .sent_to(late)
        .iter()
        .filter(|t| t.starts_with(prefix))
        .count();
    assert_eq!(resent, 1, "sent again once");
}

/// A reply WhatsApp refuses because the window closed (131047 on the send, or later in a
/// `failed` status) never reached the guest: the conversation goes to staff with that reason,
/// and the refused reply waits in the dead-letter queue under it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reply_refused_for_a_closed_window_hands_the_guest_to_staff() {
    use conserje_domain::session::HandoffReason;
    let hotel = Hotel::open(StoreKind::Sqlite, Utc::now()).await;
    hotel.statuses_on_demand();

    // On the send: WhatsApp's clock says the guest last wrote 25 hours ago.
    let refused = "34600111303";
    hotel.whatsapp_says(refused, "wamid.r.1", "hola").await;
    hotel.whatsapp.enforce_window(true);
    hotel
        .whatsapp
        .guest_wrote(refused, hotel.whatsapp.now() - chrono::Duration::hours(25));
    hotel
        .whatsapp_writes(refused, "wamid.r.2", "¿tenéis parking?")
        .await;
    eventually("the conversation is handed to staff", || async {
        hotel.session("whatsapp", refused).await.handoff == Some(HandoffReason::WindowClosed)
    })
    .await;
    let dead = dead_letters::list(&hotel.app.runtime, None).await.unwrap();
    assert!(
        dead.iter().any(|d| d.reason == "window_closed"),
        "the refused reply is dead-lettered as window_closed: {dead:?}"
    );

    // Later: accepted, then a `failed` status with 131047.
    hotel.whatsapp.enforce_window(false);
    let late = "34600111304";
    hotel.whatsapp_says(late, "wamid.l.1", "hola").await;
    hotel.whatsapp.fail_async_next(1, 131047);
    hotel
        .whatsapp_writes(late, "wamid.l.2", "¿tenéis parking?")
        .await;
    eventually("the failed status hands the guest to staff", || async {
        hotel.session("whatsapp", late).await.handoff == Some(HandoffReason::WindowClosed)
    })
    .await;
}

/// A Telegram guest blocks the bot: the staff reply that follows is recorded as failed because
/// the guest cannot be reached, and dead-lettered as `guest_unreachable` (redriven once they
/// write again), not retried into the void.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_telegram_guest_who_blocked_the_bot_is_reported_unreachable() {
    let hotel = Hotel::open(StoreKind::Sqlite, Utc::now()).await;
    let chat = 777306;
    hotel.telegram_says(chat, 1, "hola").await;
    hotel.telegram.block(chat);
    let lucia = hotel
        .app
        .client_as("lucia", Role::Staff, Some("default"))
        .await;
    let response = lucia
        .post(hotel.app.url(&format!(
            "/api/v1/sessions/default%2Ftelegram%2F{chat}/replies"
        )))
        .json(&json!({"text": "Hola Bob, ¿podemos ayudarle?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    eventually("the reply is recorded as failed", || async {
        let transcript = hotel.transcript("telegram", &chat.to_string()).await;
        transcript["turns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["role"] == "staff" && t["delivery"] == "failed")
    })
    .await;
    let transcript = hotel.transcript("telegram", &chat.to_string()).await;
    let staff = transcript["turns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "staff")
        .unwrap();
    assert!(
        staff["delivery_detail"]
            .as_str()
            .unwrap()
            .contains("cannot be reached"),
        "{staff}"
    );
    let dead = dead_letters::list(&hotel.app.runtime, None).await.unwrap();
    assert!(
        dead.iter().any(|d| d.reason == "guest_unreachable"),
        "{dead:?}"
    );
}
