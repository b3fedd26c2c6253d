//! The browser harness itself (`conserje_tests::browser`), against two pages served here whose
//! faults are known: the console suites trust its label check, keyboard walk, waits, screenshots
//! and phone viewport, so each is shown to find what is there and only that.
//!
//! Chromium and chromedriver must be installed (Debian packages `chromium`, `chromium-driver`):
//! this test fails, not skips, without them.

use std::future::Future;
use std::time::Duration;

use axum::response::Html;
use axum::routing::get;
use axum::Router;
use conserje_tests::browser::Browser;
use futures::FutureExt as _;

/// A labelled field, an unlabelled one, a hidden one, a named button and an icon-only button
/// with no name.
const FORM: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Form</title></head><body>
<label for="guest">Guest name</label> <input id="guest" type="text">
<input id="nickname" type="text">
<input type="hidden" name="token" value="t">
<button id="go" type="button">Go</button>
<button id="icon" type="button"><svg width="16" height="16" aria-hidden="true"><circle cx="8" cy="8" r="6"/></svg></button>
<p id="note">Not focusable.</p>
</body></html>"#;

/// Text a script writes 300 ms after the page loads.
const LATE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Late</title></head><body>
<p id="late">waiting</p>
<script>
  window.addEventListener('load', () => setTimeout(() => {
    document.getElementById('late').textContent = 'arrived late';
  }, 300));
</script>
</body></html>"#;

/// Serves [`FORM`] at `/form` and [`LATE`] at `/late` on a free loopback port.
async fn serve_pages() -> String {
    let app = Router::new()
        .route("/form", get(|| async { Html(FORM) }))
        .route("/late", get(|| async { Html(LATE) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("the bound address");
    tokio::spawn(async move {
        axum::serve(listener, app)
            .await
            .expect("the pages are served")
    });
    format!("http://{addr}")
}

/// The panic message `check` fails with; fails itself if `check` does not panic.
async fn panic_message(check: impl Future<Output = ()>) -> String {
    let panic = std::panic::AssertUnwindSafe(check)
        .catch_unwind()
        .await
        .expect_err("the check should have failed");
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[tokio::test]
async fn the_harness_sees_labels_focus_late_text_screenshots_and_phone_width() {
    let base = serve_pages().await;
    let browser = Browser::start().await;

    browser.goto(&format!("{base}/form")).await;
    let unlabelled = browser.unlabelled_controls().await;
    assert_eq!(
        unlabelled.len(),
        2,
        "exactly the unlabelled input and the nameless button: {unlabelled:#?}"
    );
    assert!(
        unlabelled[0].starts_with("<input") && unlabelled[0].contains(r#"id="nickname""#),
        "{unlabelled:#?}"
    );
    assert!(
        unlabelled[1].starts_with("<button") && unlabelled[1].contains(r#"id="icon""#),
        "{unlabelled:#?}"
    );
    assert!(unlabelled.iter().all(|html| html.chars().count() <= 120));

    assert!(
        browser.tab_to("button#go", 10).await,
        "Tab reaches the Go button"
    );
    assert!(
        !browser.tab_to("p#note", 6).await,
        "a paragraph never takes the focus"
    );
    assert_eq!(browser.text("button#go").await, "Go");
    let missing = panic_message(async {
        browser
            .wait_for("#absent", Duration::from_millis(200))
            .await;
    })
    .await;
    assert!(
        missing.contains("#absent") && missing.contains("/form"),
        "the timeout names the selector and the page: {missing}"
    );

    browser.goto(&format!("{base}/late")).await;
    let late = browser
        .wait_for_text("#late", "arrived late", Duration::from_secs(5))
        .await;
    assert_eq!(late, "arrived late");
    let never = panic_message(async {
        browser
            .wait_for_text("#late", "never written", Duration::from_millis(200))
            .await;
    })
    .await;
    assert!(
        never.contains("#late") && never.contains("never written") && never.contains("/late"),
        "the timeout names the selector, the text and the page: {never}"
    );

    let shot = browser.screenshot("browser_harness").await;
    let png = std::fs::read(&shot).expect("the screenshot was written");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is a PNG",
        shot.display()
    );

    let desktop: u32 = serde_json::from_value(
        browser
            .client()
            .execute("return window.innerWidth;", vec![])
            .await
            .expect("innerWidth is readable"),
    )
    .expect("innerWidth is a number");
    assert_eq!(desktop, 1280, "the window starts 1280 wide");
    browser.resize(360, 740).await;
    let phone = browser
        .client()
        .execute("return [window.innerWidth, window.innerHeight];", vec![])
        .await
        .expect("the viewport is readable");
    assert_eq!(phone, serde_json::json!([360, 740]), "a phone's viewport");

    browser.close().await;
}
