//! The WhatsApp Cloud API as Meta's Graph API (v20+) answers it, and the webhooks Meta posts
//! back, so conserje's WhatsApp adapter and the hotel's rules can be tested against the limits a
//! real number lives under rather than against an API that accepts everything.
//!
//! Served:
//! - `POST /{version}/{phone_number_id}/messages`: `text`, `template`, `interactive` (reply
//!   buttons, lists), media (`image`, `audio`, `video`, `document`, `sticker`), `reaction` and
//!   `location` → `{"messaging_product","contacts":[{"input","wa_id"}],"messages":[{"id":
//!   "wamid.…"}]}`;
//! - `GET /{version}/{media_id}` → `{"messaging_product","url","mime_type","sha256",
//!   "file_size","id"}`, the `url` pointing at this server's
//!   `/whatsapp_business/attachments/?mid=…`, which serves the bytes (to the Bearer token only,
//!   like Meta's lookaside host).
//!
//! The rules of the real platform, each refused with Meta's own Graph error body (see
//! [`errors`]):
//! - **24-hour customer-service window**: a free-form send (anything but a template) to a guest
//!   whose last message is more than 24 h before the simulator's clock, or who never wrote, is
//!   HTTP 400 code 131047. The simulator learns of guests' messages through
//!   [`WhatsAppSimulator::guest_wrote`] and the `inbound_*` builders. So that suites which post
//!   their webhooks to conserje without telling the simulator keep working, the window is
//!   enforced only once the simulator has heard of a guest, or when a test calls
//!   [`WhatsAppSimulator::enforce_window`]. Text messages, button and list replies open the
//!   window; **a reaction does not**: Meta does not document that it does, and a bot that
//!   answered a 👍 with free text at hour 25 would be refused, so the simulator takes the strict
//!   reading.
//! - **Templates** are sent by approved `(name, language)` and must fill every body placeholder:
//!   404 code 132001 for an unknown pair, 400 code 132000 for a wrong parameter count. Allowed
//!   at any time.
//! - **Interactive limits** (buttons, lists; see [`interactive`]): 400 code 131009 with
//!   `error_data.details` naming the field.
//! - **Throughput** per business number (`set_rate_limit`): 400 code 130429.
//!
//! Delivery statuses: once [`WhatsAppSimulator::post_statuses_to`] names conserje's webhook,
//! every accepted send is followed by a signed `sent` and then `delivered` webhook, after the
//! send's answer; tests can also post any status, in any order, themselves. A status webhook
//! conserje refuses is not retried.
//!
//! Requests with a wrong Bearer token are Meta's `401` with code 190.

mod errors;
mod interactive;
mod outbound;
mod pacing;
pub(crate) mod webhooks;
mod window;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{lock, texts_to, Controls, SentMessage, Server};
use errors::{graph_error, injected, Refusal};
use outbound::{Checked, Templates};
use pacing::Pacing;
use webhooks::{Inbound, StatusTarget, StatusUpdate, DISPLAY_PHONE_NUMBER};
use window::{SimClock, Window};

/// How long after a send's answer its automatic statuses are posted: long enough for the
/// answer to reach the sender first, as it does from Meta.
const STATUS_LAG: Duration = Duration::from_millis(20);

/// A local WhatsApp Cloud API for one access token.
pub struct WhatsAppSimulator {
    server: Server,
    state: Arc<SimState>,
}

#[derive(Debug)]
struct SimState {
    access_token: String,
    base_url: String,
    controls: Controls,
    sent: Mutex<Vec<SentMessage>>,
    media: Mutex<HashMap<String, Media>>,
    next_id: AtomicU64,
    next_inbound_id: AtomicU64,
    clock: Mutex<SimClock>,
    window: Mutex<Window>,
    templates: Mutex<Templates>,
    pacing: Mutex<Pacing>,
    /// Every message answered with a wamid, in order (async failures included).
    outbound: Mutex<Vec<Outbound>>,
    statuses: Mutex<StatusSettings>,
    /// The profile name each guest last wrote with, for the builders that take none.
    names: Mutex<HashMap<String, String>>,
}

#[derive(Debug, Clone)]
struct Media {
    bytes: Vec<u8>,
    mime_type: String,
}

/// A message the API accepted: what its statuses need to name.
#[derive(Debug, Clone)]
struct Outbound {
    wamid: String,
    to: String,
    phone_number_id: String,
    category: &'static str,
}

/// How statuses are posted back.
#[derive(Debug)]
struct StatusSettings {
    target: Option<StatusTarget>,
    /// Whether accepted sends get `sent` + `delivered` posted on their own.
    auto: bool,
    /// The next `.0` accepted sends fail later with code `.1`.
    async_failures: (u32, u32),
}

impl Default for StatusSettings {
    fn default() -> Self {
        Self {
            target: None,
            auto: true,
            async_failures: (0, 0),
        }
    }
}

/// A send the API accepted, and whether its delivery will fail later (and with which code).
struct Accepted {
    outbound: Outbound,
    fails_with: Option<u32>,
}

impl SimState {
    /// The common start of every route: latency, injected failure, then Meta's check of
    /// `Authorization: Bearer …`. `Some` is the answer that refuses the request.
    async fn refusal(&self, headers: &HeaderMap) -> Option<Response> {
        if let Some(status) = self.controls.on_request().await {
            return Some(injected(status));
        }
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        (presented != Some(self.access_token.as_str())).then(|| {
            graph_error(
                StatusCode::UNAUTHORIZED,
                190,
                "Invalid OAuth access token - Cannot parse access token",
            )
        })
    }

    fn now(&self) -> DateTime<Utc> {
        lock(&self.clock).now()
    }

    /// Runs a send through Meta's checks in Meta's order (shape, kind, window, throughput) and
    /// records it when it passes; nothing is recorded for a refusal.
    fn accept(&self, phone_number_id: &str, raw: &[u8]) -> Result<Accepted, Refusal> {
        let body = serde_json::from_slice::<Value>(raw)
            .map_err(|_| Refusal::invalid_parameter("Invalid JSON body"))?;
        if body["messaging_product"] != "whatsapp" {
            return Err(Refusal::required("messaging_product"));
        }
        let to = body["to"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Refusal::required("to"))?;
        let checked = outbound::check(&body, &lock(&self.templates))?;
        if checked.free_form && !lock(&self.window).is_open(to, self.now()) {
            return Err(Refusal::re_engagement());
        }
        if !lock(&self.pacing).admit(phone_number_id, to) {
            return Err(Refusal::throughput());
        }
        Ok(self.record(phone_number_id, to, checked, body.clone()))
    }

    /// Gives an accepted send its wamid. A send that will fail later is not in `sent`: the
    /// guest never sees it.
    fn record(&self, phone_number_id: &str, to: &str, checked: Checked, body: Value) -> Accepted {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let outbound = Outbound {
            wamid: format!("wamid.SIM{id:012}"),
            to: to.to_owned(),
            phone_number_id: phone_number_id.to_owned(),
            category: if checked.free_form {
                "service"
            } else {
                "utility"
            },
        };
        lock(&self.outbound).push(outbound.clone());
        let fails_with = self.take_async_failure();
        if fails_with.is_none() {
            lock(&self.sent).push(SentMessage {
                to: to.to_owned(),
                text: checked.text,
                phone_number_id: Some(phone_number_id.to_owned()),
                body,
            });
        }
        Accepted {
            outbound,
            fails_with,
        }
    }

    fn take_async_failure(&self) -> Option<u32> {
        let mut settings = lock(&self.statuses);
        let (count, code) = settings.async_failures;
        if count == 0 {
            return None;
        }
        settings.async_failures.0 = count - 1;
        Some(code)
    }

    fn find_outbound(&self, wamid: &str) -> Option<Outbound> {
        lock(&self.outbound)
            .iter()
            .find(|o| o.wamid == wamid)
            .cloned()
    }

    fn update(&self, outbound: &Outbound, status: &str, error_code: Option<u32>) -> StatusUpdate {
        StatusUpdate {
            wamid: outbound.wamid.clone(),
            status: status.to_owned(),
            recipient_id: outbound.to.clone(),
            phone_number_id: outbound.phone_number_id.clone(),
            category: outbound.category,
            error_code,
            timestamp: self.now().timestamp(),
        }
    }

    /// What the platform posts after an accepted send: `failed` for an async failure (always,
    /// once a target is set), otherwise `sent` then `delivered` unless automatic statuses are
    /// off. Each status is its own delivery, the second posted after the first is answered.
    fn spawn_statuses(self: &Arc<Self>, accepted: Accepted) {
        let (target, auto) = {
            let settings = lock(&self.statuses);
            (settings.target.clone(), settings.auto)
        };
        let Some(target) = target else { return };
        let statuses: Vec<(&'static str, Option<u32>)> = match accepted.fails_with {
            Some(code) => vec![("failed", Some(code))],
            None if auto => vec![("sent", None), ("delivered", None)],
            None => return,
        };
        let state = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(STATUS_LAG).await;
            for (status, code) in statuses {
                let update = state.update(&accepted.outbound, status, code);
                // Conserje down or refusing: Meta would retry; the simulator reports nothing.
                let _ = target.deliver(webhooks::status_delivery(&[update])).await;
            }
        });
    }
}

async fn send_message(
    State(state): State<Arc<SimState>>,
    Path((_version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Some(refusal) = state.refusal(&headers).await {
        return refusal;
    }
    let accepted = match state.accept(&phone_number_id, &body) {
        Ok(accepted) => accepted,
        Err(refusal) => return refusal.into_response(),
    };
    let answer = json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": accepted.outbound.to, "wa_id": accepted.outbound.to }],
        "messages": [{ "id": accepted.outbound.wamid }],
    });
    state.spawn_statuses(accepted);
    Json(answer).into_response()
}

async fn media_info(
    State(state): State<Arc<SimState>>,
    Path((_version, media_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = state.refusal(&headers).await {
        return refusal;
    }
    let Some(media) = lock(&state.media).get(&media_id).cloned() else {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            &format!(
                "Unsupported get request. Object with ID '{media_id}' does not exist, cannot be \
                 loaded due to missing permissions, or does not support this operation."
            ),
        );
    };
    Json(json!({
        "messaging_product": "whatsapp",
        "url": format!("{}/whatsapp_business/attachments/?mid={media_id}", state.base_url),
        "mime_type": media.mime_type,
        "sha256": format!("{:016x}", fingerprint(&media.bytes)),
        "file_size": media.bytes.len(),
        "id": media_id,
    }))
    .into_response()
}

async fn media_download(
    State(state): State<Arc<SimState>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = state.refusal(&headers).await {
        return refusal;
    }
    let media = query
        .get("mid")
        .and_then(|id| lock(&state.media).get(id).cloned());
    match media {
        Some(media) => ([(header::CONTENT_TYPE, media.mime_type)], media.bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A stand-in for the sha256 Meta reports (the adapter does not check it).
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x100_0000_01b3)
    })
}

impl WhatsAppSimulator {
    /// Starts a simulator that accepts only `access_token` as the Bearer token.
    pub async fn start(access_token: &str) -> Self {
        let mut server = Server::bind().await;
        let state = Arc::new(SimState {
            access_token: access_token.to_owned(),
            base_url: server.base_url(),
            controls: Controls::default(),
            sent: Mutex::new(Vec::new()),
            media: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            next_inbound_id: AtomicU64::new(1),
            clock: Mutex::default(),
            window: Mutex::default(),
            templates: Mutex::default(),
            pacing: Mutex::default(),
            outbound: Mutex::default(),
            statuses: Mutex::default(),
            names: Mutex::default(),
        });
        server.serve(
            Router::new()
                .route("/{version}/{phone_number_id}/messages", post(send_message))
                .route("/{version}/{media_id}", get(media_info))
                .route("/whatsapp_business/attachments/", get(media_download))
                .with_state(Arc::clone(&state)),
        );
        Self { server, state }
    }

    /// The API base to configure (`CONSERJE_WHATSAPP_API_BASE`).
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// Every message accepted, in order (not those made to fail by [`Self::fail_async_next`]).
    pub fn sent(&self) -> Vec<SentMessage> {
        lock(&self.state.sent).clone()
    }

    /// The texts accepted for the guest `wa_id`, in order.
    pub fn sent_to(&self, wa_id: &str) -> Vec<String> {
        texts_to(&self.state.sent, wa_id)
    }

    /// The wamids answered to sends for `wa_id`, in order, async failures included: what a
    /// test names in [`Self::post_status`].
    pub fn wamids_to(&self, wa_id: &str) -> Vec<String> {
        lock(&self.state.outbound)
            .iter()
            .filter(|o| o.to == wa_id)
            .map(|o| o.wamid.clone())
            .collect()
    }

    /// Serves `bytes` as the media `media_id` (what a guest's voice note becomes).
    pub fn add_media(&self, media_id: &str, bytes: Vec<u8>, mime_type: &str) {
        lock(&self.state.media).insert(
            media_id.to_owned(),
            Media {
                bytes,
                mime_type: mime_type.to_owned(),
            },
        );
    }

    /// Answers the next `count` requests (of any route) with `status` and a Graph error body
    /// (429 is code 130429 with HTTP 429; the real throughput limit is [`Self::set_rate_limit`]).
    pub fn fail_next(&self, count: u32, status: u16) {
        self.state.controls.fail_next(count, status);
    }

    /// Waits `delay` before answering each request.
    pub fn set_delay(&self, delay: Duration) {
        self.state.controls.set_delay(delay);
    }

    /// Requests received, accepted or not.
    pub fn calls(&self) -> usize {
        self.state.controls.calls()
    }

    // ------------------------------------------------------------ clock and window

    /// The simulator's clock: real time unless a test stopped or moved it.
    pub fn now(&self) -> DateTime<Utc> {
        self.state.now()
    }

    /// Stops the simulator's clock at `now`; from then on only [`Self::advance`] moves it.
    pub fn set_now(&self, now: DateTime<Utc>) {
        lock(&self.state.clock).set(now);
    }

    /// Moves the simulator's clock forward by `by` (stopped or not).
    pub fn advance(&self, by: chrono::Duration) {
        lock(&self.state.clock).advance(by);
    }

    /// Records that the guest `wa_id` wrote at `at`, opening the 24-hour window from then.
    pub fn guest_wrote(&self, wa_id: &str, at: DateTime<Utc>) {
        lock(&self.state.window).guest_wrote(wa_id, at);
    }

    /// Holds free-form sends to the 24-hour window (`true`) or lets every one through
    /// (`false`). Without a call, the window is held once any guest is known to have written.
    pub fn enforce_window(&self, enforced: bool) {
        lock(&self.state.window).enforce(enforced);
    }

    // ------------------------------------------------------------ inbound webhooks

    /// A guest's text to `phone_number_id`, as Meta delivers it: the raw body to sign and post,
    /// and the message's wamid. The guest counts as having written now.
    pub fn inbound_text(
        &self,
        phone_number_id: &str,
        wa_id: &str,
        name: &str,
        text: &str,
    ) -> (Vec<u8>, String) {
        lock(&self.state.names).insert(wa_id.to_owned(), name.to_owned());
        let content = json!({ "type": "text", "text": { "body": text } });
        self.inbound(phone_number_id, wa_id, content, true)
    }

    /// The guest's press of reply button `button_id` (`title`) under the message
    /// `context_wamid`. Opens the window like a text.
    pub fn inbound_button_reply(
        &self,
        phone_number_id: &str,
        wa_id: &str,
        context_wamid: &str,
        button_id: &str,
        title: &str,
    ) -> (Vec<u8>, String) {
        let reply = json!({ "id": button_id, "title": title });
        let content = interactive_reply(context_wamid, "button_reply", reply);
        self.inbound(phone_number_id, wa_id, content, true)
    }

    /// The guest's choice of list row `row_id` (`title`, `description`) under the message
    /// `context_wamid`. Opens the window like a text.
    pub fn inbound_list_reply(
        &self,
        phone_number_id: &str,
        wa_id: &str,
        context_wamid: &str,
        row_id: &str,
        title: &str,
        description: Option<&str>,
    ) -> (Vec<u8>, String) {
        let mut reply = json!({ "id": row_id, "title": title });
        if let Some(description) = description {
            reply["description"] = json!(description);
        }
        let content = interactive_reply(context_wamid, "list_reply", reply);
        self.inbound(phone_number_id, wa_id, content, true)
    }

    /// The guest's `emoji` reaction to the message `reacted_wamid` (an empty emoji removes
    /// one). Does **not** open the window (see the module documentation).
    pub fn inbound_reaction(
        &self,
        phone_number_id: &str,
        wa_id: &str,
        reacted_wamid: &str,
        emoji: &str,
    ) -> (Vec<u8>, String) {
        let content = json!({
            "type": "reaction",
            "reaction": { "message_id": reacted_wamid, "emoji": emoji },
        });
        self.inbound(phone_number_id, wa_id, content, false)
    }

    /// Any other message the guest sends, `content` being its `type` and the object of that
    /// type (`{"type": "document", "document": {...}}`), as Meta documents it. Opens the window.
    pub fn inbound_content(
        &self,
        phone_number_id: &str,
        wa_id: &str,
        content: Value,
    ) -> (Vec<u8>, String) {
        self.inbound(phone_number_id, wa_id, content, true)
    }

    /// `X-Hub-Signature-256`'s value for `body`: `sha256=<hex HMAC-SHA256(app_secret, body)>`.
    pub fn sign(app_secret: &str, body: &[u8]) -> String {
        crate::channels::sign_whatsapp(app_secret, body)
    }

    /// Builds one inbound delivery stamped with the simulator's clock; `opens_window` records
    /// the guest as having written at that instant.
    fn inbound(
        &self,
        phone_number_id: &str,
        wa_id: &str,
        content: Value,
        opens_window: bool,
    ) -> (Vec<u8>, String) {
        let now = self.now();
        if opens_window {
            self.guest_wrote(wa_id, now);
        }
        let id = self.state.next_inbound_id.fetch_add(1, Ordering::SeqCst);
        let wamid = format!("wamid.SIMIN{id:012}");
        let name = lock(&self.state.names)
            .get(wa_id)
            .cloned()
            .unwrap_or_else(|| wa_id.to_owned());
        let body = webhooks::inbound_delivery(Inbound {
            phone_number_id,
            wa_id,
            name: &name,
            wamid: &wamid,
            timestamp: now.timestamp(),
            content,
        });
        (body, wamid)
    }

    // ------------------------------------------------------------ templates

    /// Approves the template `name` in `language` (a code such as `es` or `en_US`) with
    /// `body_parameter_count` placeholders in its body.
    pub fn approve_template(&self, name: &str, language: &str, body_parameter_count: usize) {
        lock(&self.state.templates)
            .insert((name.to_owned(), language.to_owned()), body_parameter_count);
    }

    // ------------------------------------------------------------ status webhooks

    /// Posts status webhooks to `webhook_url` (conserje's `/webhooks/whatsapp`), signed with
    /// `app_secret`. From now on accepted sends get `sent` and `delivered` posted on their own.
    pub fn post_statuses_to(&self, webhook_url: impl Into<String>, app_secret: impl Into<String>) {
        lock(&self.state.statuses).target = Some(StatusTarget {
            url: webhook_url.into(),
            app_secret: app_secret.into(),
            client: reqwest::Client::new(),
        });
    }

    /// Whether accepted sends get `sent` + `delivered` posted on their own (default `true`).
    pub fn auto_statuses(&self, on: bool) {
        lock(&self.state.statuses).auto = on;
    }

    /// The next `count` accepted sends are answered 200 with a wamid, then fail on the
    /// webhook: a `failed` status with `code` (131047 for a window closed on Meta's late
    /// check) instead of `sent`/`delivered`, and they are left out of [`Self::sent`].
    pub fn fail_async_next(&self, count: u32, code: u32) {
        lock(&self.state.statuses).async_failures = (count, code);
    }

    /// Posts one status of the accepted message `wamid` now (`errors[]` with `error_code` when
    /// given) and returns conserje's answer.
    ///
    /// # Panics
    /// If [`Self::post_statuses_to`] was not called, `wamid` is no message this simulator
    /// accepted, or conserje cannot be reached.
    pub async fn post_status(
        &self,
        wamid: &str,
        status: &str,
        error_code: Option<u32>,
    ) -> reqwest::StatusCode {
        self.post_statuses(vec![(wamid, status, error_code)]).await
    }

    /// Posts these statuses in one delivery, in the order given (`read` before `delivered`,
    /// `failed` after `delivered`…), and returns conserje's answer.
    ///
    /// # Panics
    /// As [`Self::post_status`].
    pub async fn post_statuses(
        &self,
        statuses: Vec<(&str, &str, Option<u32>)>,
    ) -> reqwest::StatusCode {
        let target = lock(&self.state.statuses)
            .target
            .clone()
            .expect("post_statuses_to names the webhook first");
        let updates: Vec<StatusUpdate> = statuses
            .into_iter()
            .map(|(wamid, status, code)| {
                let outbound = self
                    .state
                    .find_outbound(wamid)
                    .unwrap_or_else(|| panic!("{wamid} is no message this simulator accepted"));
                self.state.update(&outbound, status, code)
            })
            .collect();
        target
            .deliver(webhooks::status_delivery(&updates))
            .await
            .expect("the status webhook is reachable")
    }

    // ------------------------------------------------------------ throughput

    /// Accepts at most `per_second` sends per business number in any second (real time); past
    /// it, HTTP 400 code 130429. 0 (the default) is no limit.
    pub fn set_rate_limit(&self, per_second: u32) {
        lock(&self.state.pacing).set_limit(per_second);
    }

    /// When each send to `wa_id` was accepted, in real (monotonic) time, oldest first.
    pub fn sent_times(&self, wa_id: &str) -> Vec<DateTime<Utc>> {
        lock(&self.state.pacing).times(wa_id)
    }
}

/// The fields of an interactive reply: its `context` (the message answered, from the business
/// number) and `interactive{type, <type>}`.
fn interactive_reply(context_wamid: &str, kind: &str, reply: Value) -> Value {
    json!({
        "context": { "from": DISPLAY_PHONE_NUMBER, "id": context_wamid },
        "type": "interactive",
        "interactive": { "type": kind, kind: reply },
    })
}
