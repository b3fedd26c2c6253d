//! A real headless Chromium for the staff console's end-to-end tests (`tests/tests/console*.rs`),
//! driven over WebDriver with fantoccini.
//!
//! What staff actually meet — a field without a label, a button the keyboard cannot reach, a
//! layout that breaks at phone width, text a script writes late — shows only in a browser, so the
//! console is tested in one: Debian's `chromium` and `chromium-driver` (scripts/test.sh installs
//! them; nothing is downloaded). Each [`Browser`] runs its own `chromedriver` on a free loopback
//! port, so tests run in parallel; a missing driver or browser fails the test, never skips it.
//!
//! The client reaches chromedriver over plain HTTP on loopback (hyper-util's connector):
//! `ClientBuilder::rustls()` would ask rustls for a process-wide crypto provider, and this
//! workspace builds rustls with two (ring for reqwest and sqlx, aws-lc-rs for fantoccini).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::process::{Child, Command};

use crate::processes::free_port;

/// How long chromedriver may take to answer `/status` ready.
const DRIVER_STARTUP: Duration = Duration::from_secs(20);
/// How often the `wait_*` helpers look again.
const POLL: Duration = Duration::from_millis(50);

/// The window of a phone in portrait: the CSS viewport [`Browser::phone`] gives the page.
pub const PHONE_VIEWPORT: (u32, u32) = (360, 740);

/// Lists visible form fields without an accessible label and buttons or links without an
/// accessible name, each as its `outerHTML` cut to 120 characters.
const UNLABELLED_CONTROLS_JS: &str = r#"
const visible = (el) => {
  const style = getComputedStyle(el);
  return el.getClientRects().length > 0 && style.visibility !== 'hidden';
};
const filled = (s) => (s || '').trim() !== '';
const labelledBy = (el) => (el.getAttribute('aria-labelledby') || '').split(/\s+/).some((id) => {
  const ref = id && document.getElementById(id);
  return ref && filled(ref.textContent);
});
const describe = (el) => el.outerHTML.slice(0, 120);
const found = [];
for (const el of document.querySelectorAll('input, select, textarea')) {
  if (el.tagName === 'INPUT' && ['hidden', 'submit', 'button', 'reset'].includes(el.type)) continue;
  if (!visible(el)) continue;
  // `labels` holds both <label for=id> and a wrapping <label>.
  const labelled = [...(el.labels || [])].some((label) => filled(label.textContent))
    || filled(el.getAttribute('aria-label')) || labelledBy(el);
  if (!labelled) found.push(describe(el));
}
for (const el of document.querySelectorAll('button, a[href]')) {
  if (!visible(el)) continue;
  const named = filled(el.textContent) || filled(el.getAttribute('aria-label')) || labelledBy(el)
    || filled(el.getAttribute('title'))
    || [...el.querySelectorAll('img[alt]')].some((img) => filled(img.alt));
  if (!named) found.push(describe(el));
}
return found;
"#;

/// A headless Chromium behind its own chromedriver; the session ends with [`Browser::close`],
/// and dropping it (a failed test) kills chromedriver and Chromium.
pub struct Browser {
    client: Client,
    // Fields drop in order: Chromium is gone before its directory is removed.
    _driver: Driver,
    _scratch: tempfile::TempDir,
}

/// chromedriver, leader of a process group that holds the Chromium it starts. Chromium outlives
/// a killed chromedriver, so a drop kills the whole group, not only the child (`kill_on_drop`).
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(pid) = self.0.id().and_then(|pid| i32::try_from(pid).ok()) {
            // SAFETY: kill(2) takes no pointers; a negative pid names the group we created.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
}

impl Browser {
    /// Starts chromedriver (`/usr/bin/chromedriver`, or `CONSERJE_TEST_CHROMEDRIVER`) on a free
    /// port and opens a session in headless Chromium (`/usr/bin/chromium`, or
    /// `CONSERJE_TEST_CHROMIUM`) with a 1280×900 window.
    pub async fn start() -> Self {
        let driver_path = executable(
            "CONSERJE_TEST_CHROMEDRIVER",
            "/usr/bin/chromedriver",
            "chromium-driver",
        );
        let chromium = executable("CONSERJE_TEST_CHROMIUM", "/usr/bin/chromium", "chromium");
        let port = free_port();
        // Chromium's profile and both programs' temporary files, all removed on drop, even
        // after a failed test whose chromedriver never got to clean up.
        let scratch = tempfile::tempdir().expect("a scratch directory for Chromium");
        let profile = scratch.path().join("profile");
        let mut driver = Driver(
            Command::new(&driver_path)
                .arg(format!("--port={port}"))
                .env("TMPDIR", scratch.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .kill_on_drop(true)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver_path.display())),
        );
        let url = format!("http://127.0.0.1:{port}");
        wait_until_ready(&mut driver.0, &url).await;

        let mut capabilities = fantoccini::wd::Capabilities::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    "--window-size=1280,900",
                    "--lang=en",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .unwrap_or_else(|e| {
                panic!("chromedriver at {url} cannot open a Chromium session: {e}")
            });
        Self {
            client,
            _driver: driver,
            _scratch: scratch,
        }
    }

    /// [`Browser::start`] with the window resized to [`PHONE_VIEWPORT`].
    pub async fn phone() -> Self {
        let browser = Self::start().await;
        browser.resize(PHONE_VIEWPORT.0, PHONE_VIEWPORT.1).await;
        browser
    }

    /// The WebDriver client, for what the helpers here do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `url` and waits for its load event.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// The page's CSS viewport, `(window.innerWidth, window.innerHeight)`.
    pub async fn viewport(&self) -> (u32, u32) {
        let size = self
            .client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .expect("the viewport size is readable");
        serde_json::from_value(size).expect("the viewport size is two numbers")
    }

    /// Resizes the window so that the page's CSS viewport is `width`×`height`: the window's size
    /// includes any browser chrome, so a first try is corrected by the difference it leaves.
    pub async fn resize(&self, width: u32, height: u32) {
        self.set_window(width, height).await;
        let (inner_width, inner_height) = self.viewport().await;
        if (inner_width, inner_height) != (width, height) {
            let grow = |want: u32, got: u32| (2 * i64::from(want) - i64::from(got)).max(1) as u32;
            self.set_window(grow(width, inner_width), grow(height, inner_height))
                .await;
        }
        let viewport = self.viewport().await;
        assert_eq!(
            viewport,
            (width, height),
            "the viewport is {viewport:?} after resizing the window for {width}×{height}"
        );
    }

    async fn set_window(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|e| panic!("cannot resize the window to {width}×{height}: {e}"));
    }

    /// Waits up to `timeout` for an element matching `css`; fails naming `css` and the page.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Element {
        let deadline = Instant::now() + timeout;
        loop {
            let error = match self.client.find(Locator::Css(css)).await {
                Ok(element) => return element,
                Err(e) => e,
            };
            if Instant::now() >= deadline {
                panic!(
                    "no element matches `{css}` after {timeout:?} on {} (last answer: {error})",
                    self.current_url().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits up to `timeout` until the text of the element matching `css` contains `needle`;
    /// returns that text.
    pub async fn wait_for_text(&self, css: &str, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let mut seen = None;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = element.text().await {
                    if text.contains(needle) {
                        return text;
                    }
                    seen = Some(text);
                }
            }
            if Instant::now() >= deadline {
                let seen = seen.map_or("no such element".to_owned(), |t| format!("{t:?}"));
                panic!(
                    "`{css}` does not contain {needle:?} after {timeout:?} on {} (last text: {seen})",
                    self.current_url().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The rendered text of the element matching `css`, which must be on the page now.
    pub async fn text(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element
                .text()
                .await
                .unwrap_or_else(|e| panic!("the text of `{css}` is unreadable: {e}")),
            Err(e) => panic!(
                "no element matches `{css}` on {}: {e}",
                self.current_url().await
            ),
        }
    }

    /// Saves a PNG of the viewport as `<workspace>/target/console-screenshots/<name>.png` and
    /// returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the tests crate sits in the workspace")
            .join("target/console-screenshots");
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let png = self
            .client
            .screenshot()
            .await
            .expect("Chromium takes a screenshot");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    /// Visible inputs, selects and textareas without an accessible label (`<label for>`, a
    /// wrapping `<label>`, `aria-label` or `aria-labelledby`) and buttons and links without an
    /// accessible name (text, `aria-label`, `aria-labelledby`, `title` or an image's `alt`),
    /// each as its `outerHTML` cut to 120 characters. Hidden, submit, button and reset inputs
    /// are not fields.
    pub async fn unlabelled_controls(&self) -> Vec<String> {
        let found = self
            .client
            .execute(UNLABELLED_CONTROLS_JS, vec![])
            .await
            .expect("the label check runs in the page");
        serde_json::from_value(found).expect("the label check returns strings")
    }

    /// Presses Tab up to `max_presses` times, as a keyboard user would; true as soon as the
    /// focused element matches `css`.
    pub async fn tab_to(&self, css: &str, max_presses: usize) -> bool {
        for _ in 0..max_presses {
            let tab = KeyActions::new("keyboard".to_owned())
                .then(KeyAction::Down {
                    value: Key::Tab.into(),
                })
                .then(KeyAction::Up {
                    value: Key::Tab.into(),
                });
            self.client
                .perform_actions(tab)
                .await
                .expect("Chromium takes a Tab press");
            let focused = self
                .client
                .execute(
                    "return !!document.activeElement && document.activeElement.matches(arguments[0]);",
                    vec![json!(css)],
                )
                .await
                .unwrap_or_else(|e| panic!("cannot match the focused element with `{css}`: {e}"));
            if focused == json!(true) {
                return true;
            }
        }
        false
    }

    /// Ends the WebDriver session (Chromium quits); chromedriver stops with the drop.
    pub async fn close(self) {
        let Self { client, .. } = self;
        client.close().await.expect("the WebDriver session closes");
    }

    async fn current_url(&self) -> String {
        match self.client.current_url().await {
            Ok(url) => url.to_string(),
            Err(e) => format!("<unknown page: {e}>"),
        }
    }
}

/// The executable `env` names, else `default`; fails naming the Debian `package` to install.
fn executable(env: &str, default: &str, package: &str) -> PathBuf {
    let path = std::env::var_os(env).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.is_file(),
        "{} is missing: install the Debian package `{package}` (scripts/test.sh does: apt-get \
         install chromium chromium-driver) or point {env} at it",
        path.display()
    );
    path
}

/// Polls chromedriver's `/status` until it reports ready; fails if it exits or takes too long.
async fn wait_until_ready(driver: &mut Child, url: &str) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + DRIVER_STARTUP;
    loop {
        if let Some(status) = driver.try_wait().expect("chromedriver's state is readable") {
            panic!("chromedriver exited before it was ready: {status}");
        }
        let status = http
            .get(format!("{url}/status"))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        if let Ok(response) = status {
            if let Ok(body) = response.json::<serde_json::Value>().await {
                if body["value"]["ready"] == json!(true) {
                    return;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver at {url} was not ready after {DRIVER_STARTUP:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
