//! The staff console in a real headless Chromium: staff sign in, a guest's WhatsApp message
//! asking for a person appears in the open inbox without a reload, staff answer from the
//! conversation and the WhatsApp simulator receives it, staff hand back and the bot answers the
//! next message; a booking's timeline; the figures; a guest name holding `<script>` shown as
//! text; labels and keyboard reach on every page; the phone layout. Screenshots of each page
//! land in `target/console-screenshots/` (the README's come from there).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use conserje_domain::api_key::Role;
use conserje_tests::browser::Browser;
use conserje_tests::channels::{
    channel_config, post_whatsapp, whatsapp_text, DEFAULT_APP_SECRET, DEFAULT_PHONE_NUMBER_ID, SOL,
};
use conserje_tests::console::conversation_path;
use conserje_tests::simulators::WhatsAppSimulator;
use conserje_tests::{eventually, fresh_store, FixedClock, StoreKind, TestApp};
use fantoccini::Locator;
use serde_json::{json, Value};
use tempfile::TempDir;

const WHATSAPP_TOKEN: &str = "EAAG-console-test-token";

/// Sunday 22 November 2026, 12:00 in Madrid: the front desk is open.
fn midday() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 11, 0, 0).unwrap()
}

/// conserje with WhatsApp pointed at the simulator.
async fn desk() -> (TestApp, WhatsAppSimulator, TempDir) {
    let whatsapp = WhatsAppSimulator::start(WHATSAPP_TOKEN).await;
    let (mut options, dir) = fresh_store(StoreKind::Sqlite).await;
    let config = channel_config(dir.path());
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        &format!("app_secret = \"{DEFAULT_APP_SECRET}\""),
        &format!("app_secret = \"{DEFAULT_APP_SECRET}\"\naccess_token = \"{WHATSAPP_TOKEN}\""),
        1,
    );
    std::fs::write(&config, text).unwrap();
    options.config = Some(config);
    options.channels.whatsapp_api_base = Some(whatsapp.base_url());
    let app = TestApp::spawn_with_clock(&options, Arc::new(FixedClock(midday()))).await;
    (app, whatsapp, dir)
}

async fn guest_writes(app: &TestApp, wa_id: &str, name: &str, text: &str) {
    let id = format!("wamid.{}", uuid::Uuid::now_v7().simple());
    let response = post_whatsapp(
        app,
        &whatsapp_text(DEFAULT_PHONE_NUMBER_ID, wa_id, name, &id, text),
    )
    .await;
    assert_eq!(response.status(), 200, "webhook accepted");
}

/// Signs in through the sign-in form, as staff do.
async fn sign_in(browser: &Browser, app: &TestApp, key: &str) {
    browser.goto(&app.url("/console")).await;
    let field = browser.wait_for("#key", Duration::from_secs(5)).await;
    assert!(
        browser.unlabelled_controls().await.is_empty(),
        "the sign-in form labels its fields: {:?}",
        browser.unlabelled_controls().await
    );
    field.send_keys(key).await.expect("the key is typed");
    browser
        .client()
        .find(Locator::Css("form[action='/console/sign-in'] button"))
        .await
        .expect("the sign-in button")
        .click()
        .await
        .expect("sign in");
    browser
        .wait_for_text("h1", "Inbox", Duration::from_secs(5))
        .await;
}

async fn click(browser: &Browser, css: &str) {
    browser
        .client()
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
}

async fn script(browser: &Browser, js: &str) -> Value {
    browser
        .client()
        .execute(js, vec![])
        .await
        .unwrap_or_else(|e| panic!("{js}: {e}"))
}

/// Nothing on the page is wider than the viewport (no sideways scrolling at phone width).
async fn fits_the_width(browser: &Browser) -> bool {
    script(
        browser,
        "return document.documentElement.scrollWidth <= window.innerWidth;",
    )
    .await
        == json!(true)
}

/// Copies a screenshot next to the README when `CONSERJE_UPDATE_SCREENSHOTS` is set.
fn keep(shot: &Path) {
    if std::env::var_os("CONSERJE_UPDATE_SCREENSHOTS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/console");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::copy(shot, docs.join(shot.file_name().unwrap())).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn staff_answer_a_guest_who_asked_for_a_person_and_hand_back_to_the_bot() {
    let (app, whatsapp, _dir) = desk().await;
    let key = app.issue_key("luis", Role::Staff, Some("default")).await;
    let browser = Browser::start().await;
    sign_in(&browser, &app, &key).await;
    assert!(
        browser.unlabelled_controls().await.is_empty(),
        "inbox: {:?}",
        browser.unlabelled_controls().await
    );

    // The guest writes while the inbox is open: it appears without a reload, within 2 s.
    let wa_id = "34600333001";
    let written = Instant::now();
    guest_writes(
        &app,
        wa_id,
        "Ana Pérez",
        "Hola, quiero hablar con una persona por favor",
    )
    .await;
    browser
        .wait_for_text("#inbox", "Ana Pérez", Duration::from_secs(2))
        .await;
    let appeared = written.elapsed();
    browser
        .wait_for_text("#inbox", "waiting", Duration::from_secs(2))
        .await;
    eventually("the title counts the waiting guest", || async {
        browser
            .client()
            .title()
            .await
            .unwrap_or_default()
            .starts_with("(1) ")
    })
    .await;
    keep(&browser.screenshot("inbox").await);
    println!(
        "the handoff appeared in the open inbox {} ms after the webhook",
        appeared.as_millis()
    );

    click(&browser, "#inbox a.row").await;
    browser
        .wait_for_text("h1", "Ana Pérez", Duration::from_secs(5))
        .await;
    browser
        .wait_for_text(
            "#thread",
            "quiero hablar con una persona",
            Duration::from_secs(2),
        )
        .await;
    let thread = browser.text("#thread").await;
    assert!(
        thread.contains("talk_to_human"),
        "the guest turn shows its intent: {thread}"
    );
    assert!(
        browser.unlabelled_controls().await.is_empty(),
        "conversation: {:?}",
        browser.unlabelled_controls().await
    );
    assert!(
        browser.tab_to("#reply", 40).await,
        "the keyboard reaches the reply box"
    );
    assert!(
        browser.tab_to("form[action$='/replies'] button", 5).await,
        "and the send button after it"
    );
    let before = whatsapp.sent_to(wa_id).len();
    browser
        .client()
        .find(Locator::Css("#reply"))
        .await
        .unwrap()
        .send_keys("Hola Ana, soy Luis de recepción. ¿En qué te ayudo?")
        .await
        .unwrap();
    click(&browser, "form[action$='/replies'] button").await;
    eventually("WhatsApp receives the staff reply", || async {
        whatsapp.sent_to(wa_id)[before..]
            .iter()
            .any(|text| text.contains("soy Luis de recepción"))
    })
    .await;
    browser
        .wait_for_text("#thread", "soy Luis de recepción", Duration::from_secs(5))
        .await;
    keep(&browser.screenshot("conversation").await);

    click(&browser, "form[action$='/hand-back'] button").await;
    browser
        .wait_for("form[action$='/take-over'] button", Duration::from_secs(5))
        .await;
    let before = whatsapp.sent_to(wa_id).len();
    guest_writes(
        &app,
        wa_id,
        "Ana Pérez",
        "Gracias. ¿A qué hora es el desayuno?",
    )
    .await;
    eventually("the bot answers the next message itself", || async {
        whatsapp.sent_to(wa_id).len() > before
    })
    .await;

    // The same pages at a phone's width: nothing scrolls sideways.
    browser.resize(360, 740).await;
    browser.goto(&app.url("/console")).await;
    browser
        .wait_for_text("#inbox", "Ana Pérez", Duration::from_secs(5))
        .await;
    assert!(fits_the_width(&browser).await, "the inbox fits 360 px");
    keep(&browser.screenshot("inbox-phone").await);
    browser
        .goto(&app.url(&conversation_path(&format!("default/whatsapp/{wa_id}"))))
        .await;
    browser.wait_for("#thread", Duration::from_secs(5)).await;
    assert!(
        fits_the_width(&browser).await,
        "the conversation fits 360 px"
    );
    keep(&browser.screenshot("conversation-phone").await);
    browser.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bookings_timeline_the_figures_and_a_script_in_a_name_shown_as_text() {
    let (app, _whatsapp, _dir) = desk().await;
    let key = app.issue_key("ana", Role::Staff, Some("default")).await;
    let answer: Value = TestApp::client_with(&key)
        .post(app.url("/api/v1/reservations"))
        .json(&json!({
            "guest": {
                "name": "<script>window.__owned = true</script>Eva",
                "email": "eva@example.com",
                "phone": "+34600333002"
            },
            "room_type": "standard",
            "check_in": "2026-11-24",
            "check_out": "2026-11-27",
            "guests": 2,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = answer["reservation_id"]
        .as_str()
        .expect("booked")
        .to_owned();
    guest_writes(
        &app,
        "34600333003",
        "<img src=x onerror=\"window.__owned=true\">Raúl",
        "Hola, ¿tenéis parking?",
    )
    .await;

    let browser = Browser::start().await;
    sign_in(&browser, &app, &key).await;
    browser
        .wait_for_text("#inbox", "Raúl", Duration::from_secs(5))
        .await;
    let inbox = browser.text("#inbox").await;
    assert!(
        inbox.contains("<img src=x"),
        "the name is shown as the guest wrote it: {inbox}"
    );

    browser.goto(&app.url("/console/bookings")).await;
    let list = browser
        .wait_for_text("table", "<script>", Duration::from_secs(5))
        .await;
    assert!(
        list.contains("<script>window.__owned = true</script>Eva"),
        "{list}"
    );
    assert!(
        browser.unlabelled_controls().await.is_empty(),
        "bookings: {:?}",
        browser.unlabelled_controls().await
    );
    click(&browser, &format!("a[href='/console/bookings/{id}']")).await;
    browser
        .wait_for("ol.timeline", Duration::from_secs(5))
        .await;
    let entries: Vec<String> = serde_json::from_value(
        script(
            &browser,
            "return [...document.querySelectorAll('ol.timeline li')].map(li => li.textContent);",
        )
        .await,
    )
    .unwrap();
    assert!(entries.len() >= 2, "{entries:?}");
    assert!(entries[0].contains("ReservationRequested"), "{entries:?}");
    assert!(entries[1].contains("ReservationConfirmed"), "{entries:?}");
    assert!(
        entries[0].contains("by staff:ana") && entries[0].contains("through api"),
        "{entries:?}"
    );
    assert!(
        browser.unlabelled_controls().await.is_empty(),
        "booking: {:?}",
        browser.unlabelled_controls().await
    );
    keep(&browser.screenshot("booking").await);

    browser.goto(&app.url("/console/figures")).await;
    browser
        .wait_for("figure.chart svg", Duration::from_secs(5))
        .await;
    let charts = script(
        &browser,
        "return document.querySelectorAll('figure.chart svg').length;",
    )
    .await;
    assert_eq!(charts, json!(7), "one chart per figure");
    let occupancy = browser.text("figure.chart").await;
    assert!(
        occupancy.contains("1 standard"),
        "tonight's rooms: {occupancy}"
    );
    keep(&browser.screenshot("figures").await);

    // Nothing a guest wrote ran as script on any of those pages.
    assert_eq!(
        script(&browser, "return window.__owned === undefined;").await,
        json!(true)
    );
    for path in ["/console", "/console/bookings"] {
        browser.goto(&app.url(path)).await;
        browser.wait_for("main", Duration::from_secs(5)).await;
        assert_eq!(
            script(&browser, "return window.__owned === undefined;").await,
            json!(true),
            "{path}"
        );
    }

    // Another hotel's conversation is not found, whatever the URL.
    browser
        .goto(&app.url(&conversation_path(&format!("{SOL}/whatsapp/34600333003"))))
        .await;
    browser
        .wait_for_text("h1", "Not found", Duration::from_secs(5))
        .await;
    browser.close().await;
    app.stop().await;
}
