//! One guest message is one trace, from the webhook to the provider call, across every hop the
//! log puts between: the real `conserje serve` binary, exporting over OTLP gRPC to a local
//! receiver (`conserje_tests::otlp`), a signed WhatsApp delivery in, the reply out to the
//! WhatsApp simulator.
//!
//! The binary, not the service in this process: the tracer provider is process-global and
//! installed from the environment by `main`, exactly as a deployment runs it, and the flush at
//! shutdown is only real in a process that shuts down.
//!
//! What must hold: every step has its span (`webhook.receive`, `log.append`, `worker.message`,
//! `store.commit`, `relay.publish`, `outbound.send`, `provider.call`), all in one trace, each a
//! child of the step that caused it (the caller's `traceparent` is the webhook's parent); the
//! spans name the hotel and the conversation — by pseudonym — and nothing exported anywhere
//! carries the guest's number, name or words.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use conserje_tests::channels::{
    channel_config, sign_whatsapp, whatsapp_text, DEFAULT_APP_SECRET, DEFAULT_PHONE_NUMBER_ID,
};
use conserje_tests::otlp::{OtlpReceiver, ReceivedSpan};
use conserje_tests::processes::ServeProcess;
use conserje_tests::simulators::WhatsAppSimulator;
use conserje_tests::{eventually_within, fresh_store, StoreKind};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

const WHATSAPP_TOKEN: &str = "EAAG-trace-test-token";
const SERVICE: &str = "conserje-trace-test";
const GUEST: &str = "34600111222";
const GUEST_NAME: &str = "Ana Pérez";
const TEXT: &str = "hola, ¿a qué hora es el check-in?";
/// What the "provider" (a caller with a trace of its own) sends.
const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

/// Every step of a guest message that must have its span.
const STEPS: [&str; 7] = [
    "webhook.receive",
    "log.append",
    "worker.message",
    "store.commit",
    "relay.publish",
    "outbound.send",
    "provider.call",
];

/// The session id of the guest's conversation, and its pseudonym computed here from its
/// definition (the first 16 hex digits of its SHA-256), not by the service's function.
fn conversation() -> (String, String) {
    let session = format!("default/whatsapp/{GUEST}");
    let pseudonym = hex::encode(&Sha256::digest(session.as_bytes())[..8]);
    (session, pseudonym)
}

/// The channel configuration with a send token for the default hotel's WhatsApp number.
fn config_with_token(dir: &Path) -> PathBuf {
    let path = channel_config(dir);
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        &format!("app_secret = \"{DEFAULT_APP_SECRET}\""),
        &format!("app_secret = \"{DEFAULT_APP_SECRET}\"\naccess_token = \"{WHATSAPP_TOKEN}\""),
        1,
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// A traced `conserje serve` on a fresh store of `kind`, replying through `whatsapp`.
struct Traced {
    process: ServeProcess,
    _dir: TempDir,
}

async fn serve(
    kind: StoreKind,
    receiver: &OtlpReceiver,
    whatsapp: &WhatsAppSimulator,
    schedule_delay_ms: u64,
) -> Traced {
    let (options, dir) = fresh_store(kind).await;
    let config = config_with_token(dir.path()).display().to_string();
    let data_dir = dir.path().display().to_string();
    let delay = schedule_delay_ms.to_string();
    let whatsapp_base = whatsapp.base_url();
    let mut env = vec![
        ("CONSERJE_DATA_DIR", data_dir.as_str()),
        ("CONSERJE_CONFIG", config.as_str()),
        ("CONSERJE_WHATSAPP_API_BASE", whatsapp_base.as_str()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint()),
        ("OTEL_SERVICE_NAME", SERVICE),
        ("OTEL_BSP_SCHEDULE_DELAY", delay.as_str()),
    ];
    let distributed = [
        ("CONSERJE_DATABASE_URL", options.database_url.as_deref()),
        ("CONSERJE_KAFKA_BROKERS", options.kafka_brokers.as_deref()),
        ("CONSERJE_REDIS_URL", options.redis_url.as_deref()),
    ];
    for (name, value) in distributed {
        if let Some(value) = value {
            env.push((name, value));
        }
    }
    env.push(("CONSERJE_TOPIC_PREFIX", options.topic_prefix.as_str()));
    env.push(("CONSERJE_KEY_PREFIX", options.key_prefix.as_str()));
    let process = ServeProcess::start("traced", &[], &env, dir.path()).await;
    Traced { process, _dir: dir }
}

/// The guest writes once, signed as Meta signs, with the caller's `traceparent` when given.
async fn guest_writes(process: &ServeProcess, traceparent: Option<&str>) {
    let payload = whatsapp_text(
        DEFAULT_PHONE_NUMBER_ID,
        GUEST,
        GUEST_NAME,
        "wamid.TRACE1",
        TEXT,
    );
    let body = payload.to_string().into_bytes();
    let mut request = reqwest::Client::new()
        .post(process.url("/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            sign_whatsapp(DEFAULT_APP_SECRET, &body),
        )
        .body(body);
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    let response = request.send().await.expect("the webhook answers");
    assert_eq!(response.status(), 200, "the delivery is accepted");
}

/// Waits until the bot's reply reached the simulator.
async fn reply_arrives(whatsapp: &WhatsAppSimulator, process: &ServeProcess) {
    eventually_within(
        &format!("the reply to reach WhatsApp; log:\n{}", process.log_tail()),
        // A fresh tansu forms a process's consumer groups slowly while the rest of the suite
        // shares it: a CI run saw them unassigned for over 15 s.
        Duration::from_secs(150),
        || {
            let replied = !whatsapp.sent_to(GUEST).is_empty();
            async move { replied }
        },
    )
    .await;
}

/// The spans of the one `webhook.receive` span's trace.
fn the_trace(spans: &[ReceivedSpan]) -> Option<Vec<ReceivedSpan>> {
    let webhooks: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| s.name == "webhook.receive")
        .collect();
    let [webhook] = webhooks.as_slice() else {
        return None;
    };
    Some(
        spans
            .iter()
            .filter(|s| s.trace_id == webhook.trace_id)
            .cloned()
            .collect(),
    )
}

fn has_every_step(spans: &[ReceivedSpan]) -> bool {
    the_trace(spans).is_some_and(|trace| {
        STEPS
            .iter()
            .all(|step| trace.iter().any(|s| s.name == *step))
    })
}

fn named<'a>(trace: &'a [ReceivedSpan], name: &str) -> Vec<&'a ReceivedSpan> {
    trace.iter().filter(|s| s.name == name).collect()
}

fn one<'a>(trace: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    let found = named(trace, name);
    assert_eq!(found.len(), 1, "one {name} span: {found:#?}");
    found[0]
}

/// Whether `span` descends from the span `ancestor` (its parent, its parent's parent, …).
fn descends(
    span: &ReceivedSpan,
    ancestor: &ReceivedSpan,
    by_id: &BTreeMap<&str, &ReceivedSpan>,
) -> bool {
    let mut parent = span.parent_span_id.as_str();
    while let Some(next) = by_id.get(parent) {
        if next.span_id == ancestor.span_id {
            return true;
        }
        parent = next.parent_span_id.as_str();
    }
    false
}

/// Everything the suite promises of the spans `spans` (all the process exported): one trace of
/// every step, parented right, named right, and nothing of the guest — nor of the bot's
/// `replies` to them — in it.
fn assert_one_trace(spans: &[ReceivedSpan], caller: bool, replies: &[String]) {
    let (session, pseudonym) = conversation();
    let trace = the_trace(spans).expect("exactly one webhook.receive span");
    let by_id: BTreeMap<&str, &ReceivedSpan> =
        trace.iter().map(|s| (s.span_id.as_str(), s)).collect();
    let parent_of = |span: &ReceivedSpan| by_id.get(span.parent_span_id.as_str()).copied();

    // The way in: a child of the caller's span when one came, else the root.
    let webhook = one(&trace, "webhook.receive");
    if caller {
        assert_eq!(webhook.trace_id, CALLER_TRACE, "the caller's trace goes on");
        assert_eq!(webhook.parent_span_id, CALLER_SPAN, "a child of the caller");
    } else {
        assert_eq!(
            webhook.parent_span_id, "",
            "a new trace starts at the webhook"
        );
    }
    let append = one(&trace, "log.append");
    assert_eq!(append.parent_span_id, webhook.span_id);

    // Across the inbound topic: the worker continues what the webhook wrote on the record.
    let worker = one(&trace, "worker.message");
    assert!(
        [&webhook.span_id, &append.span_id].contains(&&worker.parent_span_id),
        "worker.message is a child of webhook.receive or log.append: {worker:#?}"
    );

    // The store commit of the turn, and no commit outside the worker's and the sender's spans.
    let commits = named(&trace, "store.commit");
    assert!(
        commits.iter().any(|c| c.parent_span_id == worker.span_id
            && c.attribute("conversation") == Some(pseudonym.as_str())),
        "the session's commit is a child of worker.message: {commits:#?}"
    );
    let sends = named(&trace, "outbound.send");
    for commit in &commits {
        let parent = parent_of(commit).map(|p| p.name.as_str());
        assert!(
            matches!(parent, Some("worker.message" | "outbound.send")),
            "store.commit under {parent:?}: {commit:#?}"
        );
    }

    // Across the store and the events topic: the relay continues the events' trace.
    let publishes = named(&trace, "relay.publish");
    for publish in &publishes {
        assert!(
            descends(publish, worker, &by_id),
            "relay.publish descends from worker.message: {publish:#?}"
        );
    }
    assert!(
        publishes.iter().any(|p| p.parent_span_id == worker.span_id
            && p.attribute("event_type") == Some("ReplyComposed")),
        "the reply's event is published under worker.message: {publishes:#?}"
    );

    // Across the events and outbound topics: each send continues its reply's relay span.
    assert_eq!(sends.len(), replies.len(), "one send per reply: {sends:#?}");
    for send in &sends {
        let parent = parent_of(send).expect("outbound.send has its parent in the trace");
        assert_eq!(parent.name, "relay.publish", "{send:#?}");
        assert_eq!(parent.attribute("event_type"), Some("ReplyComposed"));
        assert_eq!(send.attribute("outcome"), Some("sent"));
    }
    let calls = named(&trace, "provider.call");
    assert_eq!(
        calls.len(),
        replies.len(),
        "one provider call per reply: {calls:#?}"
    );
    for call in &calls {
        let parent = parent_of(call).expect("provider.call has its parent in the trace");
        assert_eq!(parent.name, "outbound.send");
        assert_eq!(call.attribute("provider"), Some("whatsapp"));
        assert_eq!(call.attribute("http.response.status_code"), Some("200"));
    }

    // Who: the hotel and the conversation's pseudonym on every step that knows them.
    let session_publish = publishes
        .iter()
        .find(|p| p.attribute("aggregate") == Some("Session"))
        .expect("a session event was published");
    let described = [webhook, worker, session_publish]
        .into_iter()
        .chain(sends.iter().copied());
    for span in described {
        assert_eq!(span.attribute("tenant"), Some("default"), "{span:#?}");
        assert_eq!(
            span.attribute("conversation"),
            Some(pseudonym.as_str()),
            "{span:#?}"
        );
    }
    // One conversation, one trace: nothing of it was exported in another.
    for span in spans {
        if span.attribute("conversation") == Some(pseudonym.as_str()) {
            assert_eq!(span.trace_id, webhook.trace_id, "{span:#?}");
        }
    }

    // Never the guest: no number, name, words or raw session id in any exported value.
    let secrets: Vec<&str> = [GUEST, GUEST_NAME, TEXT, session.as_str()]
        .into_iter()
        .chain(replies.iter().map(String::as_str))
        .collect();
    for span in spans {
        for value in span.all_text() {
            for secret in &secrets {
                assert!(
                    !value.contains(secret),
                    "{:?} exported {secret:?} in {value:?}",
                    span.name
                );
            }
        }
        assert_eq!(
            span.resource.get("service.name").map(String::as_str),
            Some(SERVICE)
        );
    }
}

/// The message's trace arrives while the service runs (a short `OTEL_BSP_SCHEDULE_DELAY`), the
/// caller's traceparent its parent; a graceful stop exports the rest.
async fn one_guest_message_is_one_trace(kind: StoreKind) {
    let receiver = OtlpReceiver::start().await;
    let whatsapp = WhatsAppSimulator::start(WHATSAPP_TOKEN).await;
    let mut traced = serve(kind, &receiver, &whatsapp, 100).await;
    let caller = format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01");
    guest_writes(&traced.process, Some(&caller)).await;
    reply_arrives(&whatsapp, &traced.process).await;
    eventually_within(
        "every step's span to reach the receiver",
        Duration::from_secs(30),
        || {
            let complete = has_every_step(&receiver.spans());
            async move { complete }
        },
    )
    .await;
    let status = traced.process.stop().await;
    assert!(status.success(), "serve stops cleanly on SIGTERM: {status}");
    assert_one_trace(&receiver.spans(), true, &whatsapp.sent_to(GUEST));
}

#[tokio::test(flavor = "multi_thread")]
async fn one_guest_message_is_one_trace_embedded() {
    one_guest_message_is_one_trace(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_guest_message_is_one_trace_distributed() {
    one_guest_message_is_one_trace(StoreKind::Postgres).await;
}

/// Spans still buffered when the process is told to stop are exported before it exits: with a
/// schedule delay of an hour nothing has left while it ran, and the whole trace is there after
/// SIGTERM. Without a caller's traceparent the trace starts at the webhook.
#[tokio::test(flavor = "multi_thread")]
async fn a_graceful_stop_exports_the_spans_still_buffered() {
    let receiver = OtlpReceiver::start().await;
    let whatsapp = WhatsAppSimulator::start(WHATSAPP_TOKEN).await;
    let mut traced = serve(StoreKind::Sqlite, &receiver, &whatsapp, 3_600_000).await;
    guest_writes(&traced.process, None).await;
    reply_arrives(&whatsapp, &traced.process).await;
    // The reply's delivery is recorded just after the send; give it a moment to commit.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        receiver.spans().is_empty(),
        "nothing is exported before the schedule delay"
    );
    let status = traced.process.stop().await;
    assert!(status.success(), "serve stops cleanly on SIGTERM: {status}");
    assert_one_trace(&receiver.spans(), false, &whatsapp.sent_to(GUEST));
}

/// Tracing off (this test process installs no OpenTelemetry layer): the caller's traceparent is
/// handed on unchanged, as before traces existed — onto the events the worker commits, the
/// relay's records on the events topic and the send job on the outbound topic.
#[tokio::test(flavor = "multi_thread")]
async fn with_tracing_off_the_callers_traceparent_reaches_every_hop_unchanged() {
    let (mut options, dir) = fresh_store(StoreKind::Sqlite).await;
    options.config = Some(channel_config(dir.path()));
    let app = conserje_tests::TestApp::spawn(&options).await;
    let (session, _) = conversation();
    let caller = format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01");
    let payload = whatsapp_text(
        DEFAULT_PHONE_NUMBER_ID,
        GUEST,
        GUEST_NAME,
        "wamid.OFF1",
        TEXT,
    );
    let body = payload.to_string().into_bytes();
    let response = app
        .http
        .post(app.url("/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            sign_whatsapp(DEFAULT_APP_SECRET, &body),
        )
        .header("traceparent", &caller)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let runtime = &app.runtime;
    let turn = || async {
        let events = runtime
            .feed
            .read_after(Default::default(), 1000)
            .await
            .unwrap();
        events
            .into_iter()
            .filter(|e| e.aggregate_id == session)
            .collect::<Vec<_>>()
    };
    eventually_within("the turn is committed", Duration::from_secs(30), || async {
        turn().await.iter().any(|e| e.event_type == "ReplyComposed")
    })
    .await;
    for event in turn().await {
        if event.event_type != "ReplyDelivered" {
            assert_eq!(
                event.meta("traceparent"),
                Some(caller.as_str()),
                "{event:?}"
            );
        }
    }

    for (topic, key) in [
        (&runtime.topics.events, session.as_str()),
        (&runtime.topics.outbound, session.as_str()),
    ] {
        let mut consumer = runtime.log.consumer("trace-check", topic).await.unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        while seen.is_empty() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no record of the turn on {topic}"
            );
            let polled = consumer
                .poll(500, Duration::from_millis(100))
                .await
                .unwrap();
            seen.extend(
                polled
                    .into_iter()
                    .filter(|r| r.key == key && r.header("event_type") != Some("ReplyDelivered")),
            );
        }
        for record in &seen {
            assert_eq!(
                record.header("traceparent"),
                Some(caller.as_str()),
                "{record:?}"
            );
        }
    }
    app.stop().await;
}
