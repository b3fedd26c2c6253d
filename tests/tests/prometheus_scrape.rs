//! `/metrics` as Prometheus sees it: the service runs, guests write over WhatsApp, one books, one
//! asks for staff, WhatsApp refuses one reply, the API books too; then the exposition is linted
//! by `promtool check metrics`
//! and scraped by a real Prometheus (Debian package `prometheus`), whose query API must show
//! what the test did. The Grafana dashboard in `deploy/` is checked against the same exposition,
//! so a renamed family fails here rather than as an empty panel.
//!
//! The business figures' SQL is checked on its own against both stores with rows whose answer is
//! known, edge cases included (a cancelled booking still converted, a rejected one did not).
//!
//! Prometheus and promtool must be installed: these tests fail, not skip, without them.
//! Only one test here starts a service: the process-wide recorder (HTTP latency, PMS calls,
//! intent confidence) then holds that test's samples only, so its counts are exact.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use conserje_infra::business_figures::{
    self, Automation, BusinessFigures, Conversion, HandoffCount, LanguageCount, ReservationCount,
    Revenue,
};
use conserje_infra::Database;
use conserje_tests::channels::{post_whatsapp_raw, whatsapp_text, DEFAULT_PHONE_NUMBER_ID};
use conserje_tests::pms::QloAppsHotel;
use conserje_tests::{eventually_within, fresh_postgres_url, StoreKind};
use serde_json::{json, Value};

/// Sunday 22 November 2026, 12:00 in Madrid: the desk is open, December is bookable.
fn midday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 11, 0, 0).unwrap()
}

/// `name` on the PATH (or in /usr/bin), or a failure saying how to get it.
fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not installed: scripts/test.sh installs it (Debian package \
                 `prometheus`: apt-get install prometheus)"
            )
        })
}

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

// ---------------------------------------------------------------------------------------------
// What the test does, and what it must read back
// ---------------------------------------------------------------------------------------------

/// WhatsApp messages the guests below send, every one accepted.
const GUEST_MESSAGES: u64 = 8;
/// The Graph error code of the reply WhatsApp refuses (`(#100) Invalid parameter`, a 400).
const REFUSED_CODE: &str = "100";
/// What the Double room costs for 20–25 December in the QloApps simulator (€154 × 5).
const BOOKED_OVER_WHATSAPP_MINOR: i64 = 77_000;

/// Guests at work: `ana` is quoted and books (4 messages, Spanish), then thanks the bot and
/// WhatsApp refuses the answer (1 more: a dead letter), `john` asks about breakfast and then for
/// a person (2, English), `luz` is quoted and stops there (1, Spanish); the API books one more;
/// one delivery has a bad signature. Returns the API booking's total.
async fn guests_at_work(hotel: &QloAppsHotel) -> i64 {
    let patience = Duration::from_secs(20);
    let ana = "34600111001";
    for (n, (line, expected)) in [
        ("Hola, buenas tardes", "¡Hola"),
        (
            "Quiero reservar una habitación doble del 20 al 25 de diciembre para 2 personas",
            "Total: 770,00 EUR",
        ),
        ("sí", "correo electrónico"),
        ("ana@example.com", "¡Reserva confirmada!"),
    ]
    .into_iter()
    .enumerate()
    {
        let told = hotel.says(ana, n, line, patience).await;
        assert!(told.contains(expected), "to {line:?} the bot said {told:?}");
    }
    let john = "447911123488";
    let told = hotel
        .says(john, 0, "What time is breakfast?", patience)
        .await;
    assert!(!told.is_empty());
    let told = hotel
        .says(john, 1, "I want to talk to a person", patience)
        .await;
    assert!(!told.is_empty(), "the handoff is announced");
    let luz = "34600111077";
    let told = hotel
        .says(
            luz,
            0,
            "Quiero reservar una habitación doble del 20 al 25 de diciembre para 2 personas",
            patience,
        )
        .await;
    assert!(told.contains("Total: 770,00 EUR"), "{told}");

    // Every reply so far has gone out: the next request WhatsApp sees is the answer to this.
    hotel.whatsapp.fail_next(1, 400);
    let mut thanks = whatsapp_text(
        DEFAULT_PHONE_NUMBER_ID,
        ana,
        "Ana",
        "wamid.ana.thanks",
        "muchas gracias",
    );
    use conserje_domain::ports::Clock;
    thanks["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] =
        json!(hotel.clock.now().timestamp().to_string());
    let taken = conserje_tests::channels::post_whatsapp(&hotel.app, &thanks).await;
    assert_eq!(taken.status(), 200, "the webhook takes the message");

    let forged = whatsapp_text(DEFAULT_PHONE_NUMBER_ID, ana, "Ana", "wamid.forged", "hola");
    let refused = post_whatsapp_raw(
        &hotel.app,
        forged.to_string().into_bytes(),
        Some("sha256=00"),
    )
    .await;
    assert_eq!(refused.status(), 401, "a forged delivery is refused");

    let booked: Value = hotel
        .app
        .http
        .post(hotel.app.url("/api/v1/reservations"))
        .json(&json!({
            "tenant_id": "default",
            "guest": { "name": "Eva Ruiz", "email": "eva@example.com", "phone": "+34 600 123 456" },
            "room_type": "standard",
            "check_in": "2027-01-10",
            "check_out": "2027-01-12",
            "guests": 2,
        }))
        .send()
        .await
        .expect("the API answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(booked["status"], "confirmed", "{booked}");
    let id = booked["reservation_id"].as_str().expect("an id");
    // A path with an id, and one no route has: neither may become a label of its own.
    let read = hotel
        .app
        .http
        .get(hotel.app.url(&format!("/api/v1/reservations/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let nowhere = hotel
        .app
        .http
        .get(hotel.app.url("/nowhere/42"))
        .send()
        .await;
    assert_eq!(nowhere.unwrap().status(), 404);
    booked["price"]["total_minor"]
        .as_i64()
        .expect("the booking's total")
}

/// What the service did besides the guests' messages, counted by the test.
struct Observed {
    /// The API booking's total.
    api_total: i64,
    /// Messages the WhatsApp simulator took (every reply but the refused one).
    whatsapp_sent: usize,
    /// Partitions of each topic of the embedded log.
    partitions: u16,
    /// Consumer groups of the log the runtime runs.
    log_groups: usize,
}

/// What Prometheus must answer for each query once it has scraped the service.
fn expected_answers(observed: &Observed) -> Vec<(String, f64)> {
    let messages = GUEST_MESSAGES as f64;
    let api_total = observed.api_total;
    let backlog = [
        // Every reply WhatsApp took, and the one it refused, by its Graph code.
        (
            "sum(conserje_outbound_sends_total{channel=\"whatsapp\",result=\"sent\",code=\"ok\"})"
                .to_owned(),
            observed.whatsapp_sent as f64,
        ),
        (
            format!(
                "conserje_outbound_sends_total{{channel=\"whatsapp\",result=\"refused\",\
                 code=\"{REFUSED_CODE}\"}}"
            ),
            1.0,
        ),
        (
            "conserje_dead_letters{reason=\"send_failed\"}".to_owned(),
            1.0,
        ),
        ("sum(conserje_dead_letters)".to_owned(), 1.0),
        // Each guest message was in exactly one committed batch of the worker.
        (
            "sum(conserje_consumer_batch_records_sum{group=\"conversation-worker\"})".to_owned(),
            messages,
        ),
        (
            "sum(conserje_consumer_batch_seconds_count{group=\"channel-sender\"}) > bool 0"
                .to_owned(),
            1.0,
        ),
        (
            "sum(conserje_consumer_batch_records_count{group=\"dead-letter-index\"}) > bool 0"
                .to_owned(),
            1.0,
        ),
        // A lag series per partition of the worker's topic, one group of series per group.
        (
            "count(conserje_consumer_lag{group=\"conversation-worker\"})".to_owned(),
            f64::from(observed.partitions),
        ),
        (
            "count(count by (group) (conserje_consumer_lag))".to_owned(),
            observed.log_groups as f64,
        ),
        ("sum(conserje_consumer_lag)".to_owned(), 0.0),
        ("conserje_relay_lag_events".to_owned(), 0.0),
        ("conserje_relay_oldest_unrelayed_seconds".to_owned(), 0.0),
        ("count(conserje_metrics_read_errors_total)".to_owned(), 4.0),
        ("sum(conserje_metrics_read_errors_total)".to_owned(), 0.0),
    ];
    let figures: Vec<(&str, f64)> = vec![
        ("up{job=\"conserje\"}", 1.0),
        (
            "conserje_webhook_messages_accepted_total{channel=\"whatsapp\"}",
            messages,
        ),
        (
            "conserje_webhook_messages_accepted_total{channel=\"telegram\"}",
            0.0,
        ),
        (
            "conserje_webhook_signature_failures_total{channel=\"whatsapp\"}",
            1.0,
        ),
        (
            "sum(conserje_http_request_duration_seconds_count{method=\"POST\",\
             route=\"/webhooks/whatsapp\",status=\"200\"})",
            messages,
        ),
        (
            "sum(conserje_http_request_duration_seconds_count{method=\"POST\",\
             route=\"/webhooks/whatsapp\",status=\"401\"})",
            1.0,
        ),
        (
            "sum(conserje_http_request_duration_seconds_count{method=\"POST\",\
             route=\"/api/v1/reservations\",status=\"201\"})",
            1.0,
        ),
        (
            "sum(conserje_http_request_duration_seconds_count{method=\"GET\",\
             route=\"/api/v1/reservations/{id}\",status=\"200\"})",
            1.0,
        ),
        (
            "sum(conserje_http_request_duration_seconds_count{route=\"unmatched\",status=\"404\"})",
            1.0,
        ),
        (
            "conserje_reservations{hotel=\"default\",status=\"confirmed\",channel=\"whatsapp\"}",
            1.0,
        ),
        (
            "conserje_reservations{hotel=\"default\",status=\"confirmed\",channel=\"api\"}",
            1.0,
        ),
        ("sum(conserje_reservations)", 2.0),
        (
            "conserje_revenue_booked_minor{hotel=\"default\",currency=\"EUR\"}",
            (BOOKED_OVER_WHATSAPP_MINOR + api_total) as f64,
        ),
        // ana and luz asked for a quote, ana booked.
        ("conserje_quote_to_booking_ratio{hotel=\"default\"}", 0.5),
        // Three conversations, john's handed to staff.
        ("conserje_automation_ratio{hotel=\"default\"}", 2.0 / 3.0),
        (
            "conserje_handoffs{hotel=\"default\",reason=\"guest_asked\"}",
            1.0,
        ),
        ("sum(conserje_handoffs)", 1.0),
        ("sum(conserje_messages{hotel=\"default\"})", messages),
        ("conserje_messages{hotel=\"default\",language=\"en\"}", 2.0),
        (
            "sum(conserje_intent_confidence_count{hotel=\"default\"})",
            messages,
        ),
        (
            "sum(conserje_intent_confidence_bucket{hotel=\"default\",le=\"+Inf\"})",
            messages,
        ),
        ("conserje_pms_breaker_state{hotel=\"default\"}", 0.0),
        (
            "sum(conserje_pms_call_seconds_count{hotel=\"default\"}) > bool 0",
            1.0,
        ),
        ("conserje_business_figures_up", 1.0),
    ];
    figures
        .into_iter()
        .map(|(query, value)| (query.to_owned(), value))
        .chain(backlog)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// promtool and Prometheus
// ---------------------------------------------------------------------------------------------

/// `promtool check metrics` of `exposition`: its exit code and everything it printed.
fn promtool_check_metrics(exposition: &str) -> (Option<i32>, String) {
    let mut child = Command::new(tool("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    child
        .stdin
        .take()
        .expect("promtool's stdin")
        .write_all(exposition.as_bytes())
        .expect("promtool reads the exposition");
    let output = child.wait_with_output().expect("promtool ends");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), printed)
}

/// A Prometheus scraping the service every second, killed when dropped (a failing test too).
struct Prometheus {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Prometheus {
    fn start(dir: &Path, target: std::net::SocketAddr, admin_key: &str) -> Self {
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: conserje\n    metrics_path: /metrics\n\
                 \x20   authorization:\n      credentials: '{admin_key}'\n\
                 \x20   static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .expect("write the Prometheus configuration");
        let checked = Command::new(tool("promtool"))
            .args(["check", "config"])
            .arg(&config)
            .output()
            .expect("promtool runs");
        assert!(
            checked.status.success(),
            "the generated configuration is valid: {}",
            String::from_utf8_lossy(&checked.stdout) + String::from_utf8_lossy(&checked.stderr)
        );
        let port = free_port();
        let log = dir.join("prometheus.log");
        let out = std::fs::File::create(&log).expect("the Prometheus log");
        let child = Command::new(tool("prometheus"))
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(out.try_clone().expect("the log, twice"))
            .stderr(out)
            .spawn()
            .expect("prometheus starts");
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// The single value of an instant `query`, `None` while it has no (or several) samples.
    async fn value(&self, query: &str) -> Option<f64> {
        let answer: Value = reqwest::Client::new()
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", query)])
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        match answer["data"]["result"].as_array()?.as_slice() {
            [one] => one["value"][1].as_str()?.parse().ok(),
            _ => None,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

// ---------------------------------------------------------------------------------------------
// The exposition itself
// ---------------------------------------------------------------------------------------------

/// The names of the samples of `exposition` (`name{labels} value` or `name value`).
fn sample_names(exposition: &str) -> std::collections::BTreeSet<&str> {
    exposition
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| line.split(['{', ' ']).next())
        .collect()
}

/// The value of the sample written exactly `series` (`name{labels}`), if present.
fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        line.strip_prefix(series)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|value| value.trim().parse().ok())
    })
}

/// Every `route="…"` label value of the exposition.
fn route_labels(exposition: &str) -> std::collections::BTreeSet<String> {
    exposition
        .split("route=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

async fn scrape(hotel: &QloAppsHotel) -> String {
    let response = hotel
        .app
        .http
        .get(hotel.app.url("/metrics"))
        .send()
        .await
        .expect("/metrics answers");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    response.text().await.expect("text")
}

// ---------------------------------------------------------------------------------------------
// The dashboard
// ---------------------------------------------------------------------------------------------

const DASHBOARD: &str = include_str!("../../deploy/grafana/conserje.json");

fn dashboard() -> Value {
    serde_json::from_str(DASHBOARD).expect("the dashboard is JSON")
}

/// Every PromQL expression of the dashboard: its panels' targets and its variables' queries.
fn dashboard_queries(dashboard: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().into_iter().flatten() {
            found.push(target["expr"].as_str().expect("a target's expr").to_owned());
        }
    }
    for variable in dashboard["templating"]["list"]
        .as_array()
        .expect("variables")
    {
        if let Some(query) = variable["definition"].as_str() {
            found.push(query.to_owned());
        }
    }
    found
}

/// The metric names (`conserje_…`) an expression reads.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("conserje_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        names.push(name);
    }
    names
}

#[test]
fn the_dashboard_reads_the_prometheus_data_source_and_filters_by_hotel() {
    let dashboard = dashboard();
    assert_eq!(dashboard["schemaVersion"], 39);
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    let source = variables
        .iter()
        .find(|v| v["name"] == "DS_PROMETHEUS")
        .expect("a data source variable");
    assert_eq!(
        (&source["type"], &source["query"]),
        (&json!("datasource"), &json!("prometheus"))
    );
    let hotel = variables
        .iter()
        .find(|v| v["name"] == "hotel")
        .expect("a hotel variable");
    assert_eq!(
        hotel["definition"],
        "label_values(conserje_reservations, hotel)"
    );
    let mut titles = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        if panel["type"] == "row" {
            continue;
        }
        titles.push(panel["title"].as_str().unwrap().to_owned());
        assert_eq!(panel["datasource"]["uid"], "${DS_PROMETHEUS}", "{panel}");
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{} queries something", panel["title"]);
        for target in targets {
            assert_eq!(target["datasource"]["uid"], "${DS_PROMETHEUS}");
            let expr = target["expr"].as_str().unwrap();
            assert!(
                !metric_names(expr).is_empty(),
                "{expr} reads a conserje metric"
            );
            let per_hotel = expr.contains("conserje_reservations")
                || expr.contains("conserje_revenue")
                || expr.contains("_ratio")
                || expr.contains("conserje_handoffs")
                || expr.contains("conserje_messages")
                || expr.contains("conserje_intent_confidence");
            assert!(
                !per_hotel || expr.contains("hotel=~\"$hotel\""),
                "{expr} follows the hotel variable"
            );
            // Read from the shared log and store, so every instance reports the same figure.
            let shared = [
                "conserje_consumer_lag",
                "conserje_relay_",
                "conserje_dead_letters",
            ]
            .iter()
            .any(|family| expr.contains(family));
            assert!(
                !shared || expr.contains("max"),
                "{expr}: every instance reports it, so the max across instances, never the sum"
            );
        }
    }
    for wanted in [
        "Request latency p50 / p95 by route",
        "Webhook messages accepted per second by channel",
        "PMS call latency p95 by hotel and operation",
        "PMS circuit breaker",
        "Reservations by status",
        "Revenue booked",
        "Quote → booking conversion",
        "Automation rate",
        "Handoffs by reason",
        "Messages by language",
        "Intent confidence distribution",
        "Consumer lag by group",
        "Consumer lag by partition",
        "Relay backlog",
        "Oldest unrelayed event",
        "Dead letters waiting by reason",
        "Batch size p50 / p95 by group",
        "Batch duration p95 by group",
        "Reply sends by result and provider code",
        "Metrics read errors",
    ] {
        assert!(titles.iter().any(|t| t == wanted), "a panel {wanted:?}");
    }
    // Quantiles come from the histograms' buckets, never from a summary's.
    let queries = dashboard_queries(&dashboard);
    assert!(queries
        .iter()
        .filter(|q| q.contains("histogram_quantile"))
        .all(|q| q.contains("_bucket") && q.contains("by (le")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prometheus_scrapes_what_the_service_did() {
    // Before anything slow: without the tools the test cannot prove anything.
    let (promtool, prometheus) = (tool("promtool"), tool("prometheus"));
    assert!(promtool.is_file() && prometheus.is_file());

    let hotel = QloAppsHotel::open(StoreKind::Sqlite, midday(), |_| {}).await;
    hotel.cache_warmed().await;
    let api_total = guests_at_work(&hotel).await;

    // The projections catch up on their own; the exposition shows the figures once they have.
    let expected_figures = [
        (
            "conserje_reservations{hotel=\"default\",status=\"confirmed\",channel=\"whatsapp\"}",
            1.0,
        ),
        ("conserje_automation_ratio{hotel=\"default\"}", 2.0 / 3.0),
        ("conserje_quote_to_booking_ratio{hotel=\"default\"}", 0.5),
        (
            "conserje_handoffs{hotel=\"default\",reason=\"guest_asked\"}",
            1.0,
        ),
        // The refused reply reached the dead-letter index.
        ("conserje_dead_letters{reason=\"send_failed\"}", 1.0),
    ];
    eventually_within(
        "the figures reach /metrics",
        Duration::from_secs(30),
        || async {
            let exposition = scrape(&hotel).await;
            expected_figures.iter().all(|(series, value)| {
                sample(&exposition, series).is_some_and(|v| close(v, *value))
            })
        },
    )
    .await;
    let exposition = scrape(&hotel).await;

    // (a) What the exporter wrote is valid exposition, without a lint problem.
    let (code, printed) = promtool_check_metrics(&exposition);
    assert_eq!(
        (code, printed.trim()),
        (Some(0), ""),
        "promtool check metrics:\n{exposition}"
    );
    for family in [
        "conserje_http_request_duration_seconds",
        "conserje_pms_call_seconds",
        "conserje_intent_confidence",
        "conserje_consumer_batch_records",
        "conserje_consumer_batch_seconds",
    ] {
        assert!(
            exposition.contains(&format!("# TYPE {family} histogram\n")),
            "{family} is a histogram:\n{exposition}"
        );
    }
    let routes = route_labels(&exposition);
    let templates = [
        "/webhooks/whatsapp",
        "/api/v1/reservations",
        "/api/v1/reservations/{id}",
        "/metrics",
        "/health/ready",
        "unmatched",
    ];
    assert!(
        routes.iter().all(|r| templates.contains(&r.as_str())),
        "routes are templates, never paths: {routes:?}"
    );

    // (c) Every metric the dashboard reads is one the service writes.
    let names = sample_names(&exposition);
    for query in dashboard_queries(&dashboard()) {
        for name in metric_names(&query) {
            assert!(
                names.contains(name.as_str()),
                "the dashboard's {query:?} reads {name}, which /metrics does not write: {names:?}"
            );
        }
    }

    // (b) A real Prometheus scrapes it with the admin key and answers what the test did.
    let dir = tempfile::tempdir().expect("a temp dir");
    let prometheus = Prometheus::start(dir.path(), hotel.app.addr, &hotel.app.admin_key);
    eventually_within(
        "Prometheus scrapes the service",
        Duration::from_secs(60),
        || async { prometheus.value("up{job=\"conserje\"}").await == Some(1.0) },
    )
    .await;
    // Read again on each round: a reply of the refused turn may still be on its way.
    let observed = || Observed {
        api_total,
        whatsapp_sent: hotel.whatsapp.sent().len(),
        partitions: hotel.options.partitions,
        log_groups: conserje_gateway::operations::log_groups(&hotel.app.runtime).len(),
    };
    let mut expected = expected_answers(&observed());
    let mut answers = Vec::new();
    for _ in 0..50 {
        expected = expected_answers(&observed());
        answers.clear();
        for (query, _) in &expected {
            answers.push(prometheus.value(query).await);
        }
        let all_match = expected
            .iter()
            .zip(&answers)
            .all(|((_, want), got)| got.is_some_and(|got| close(got, *want)));
        if all_match {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let wrong: Vec<_> = expected
        .iter()
        .zip(&answers)
        .filter(|((_, want), got)| !got.is_some_and(|got| close(got, *want)))
        .map(|((query, want), got)| format!("{query}: want {want}, Prometheus has {got:?}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "{wrong:#?}\nPrometheus log:\n{}",
        prometheus.log()
    );
    drop(prometheus);
    hotel.app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The figures' SQL, on both stores
// ---------------------------------------------------------------------------------------------

/// A reservation row, and its first event when `origin` is `Some((channel, conversation))`.
struct Booking {
    hotel: &'static str,
    status: &'static str,
    pms_ref: Option<&'static str>,
    total: (i64, &'static str),
    origin: Option<(&'static str, Option<&'static str>)>,
}

/// What the analytics projections write: `(session, sequence, intent or handoff reason,
/// language)`; a `None` language marks a handoff.
type Turn = (&'static str, i64, &'static str, Option<&'static str>);

const BOOKINGS: [Booking; 5] = [
    Booking {
        hotel: "hotel-a",
        status: "confirmed",
        pms_ref: Some("Q1"),
        total: (10_000, "EUR"),
        origin: Some(("whatsapp", Some("hotel-a/whatsapp/111"))),
    },
    // Booked, then cancelled: it converted, it is not revenue.
    Booking {
        hotel: "hotel-a",
        status: "cancelled",
        pms_ref: Some("Q2"),
        total: (5_000, "EUR"),
        origin: Some(("telegram", Some("hotel-a/telegram/222"))),
    },
    Booking {
        hotel: "hotel-a",
        status: "confirmed",
        pms_ref: Some("Q3"),
        total: (20_000, "EUR"),
        origin: Some(("api", None)),
    },
    // Refused by the PMS: no conversion.
    Booking {
        hotel: "hotel-a",
        status: "rejected",
        pms_ref: None,
        total: (9_000, "EUR"),
        origin: Some(("whatsapp", Some("hotel-a/whatsapp/333"))),
    },
    // No event to say where it came from.
    Booking {
        hotel: "hotel-b",
        status: "confirmed",
        pms_ref: Some("Q5"),
        total: (7_000, "USD"),
        origin: None,
    },
];

const TURNS: [Turn; 10] = [
    ("hotel-a/whatsapp/111", 1, "make_reservation", Some("es")),
    ("hotel-a/whatsapp/111", 2, "affirm", Some("es")),
    ("hotel-a/telegram/222", 1, "ask_price", Some("en")),
    ("hotel-a/whatsapp/333", 1, "check_availability", Some("es")),
    ("hotel-a/whatsapp/333", 2, "low_confidence", None),
    ("hotel-a/whatsapp/444", 1, "hotel_info", Some("pt")),
    ("hotel-a/whatsapp/444", 2, "guest_asked", None),
    ("hotel-a/whatsapp/444", 3, "guest_asked", None),
    ("hotel-b/whatsapp/555", 1, "greeting", Some("en")),
    // A guest message with no turn yet (understanding pending): a conversation all the same.
    ("hotel-a/whatsapp/666", 0, "", None),
];

fn expected_figures() -> BusinessFigures {
    let reservations = |hotel: &str, status: &str, channel: &str| ReservationCount {
        hotel: hotel.into(),
        status: status.into(),
        channel: channel.into(),
        reservations: 1,
    };
    BusinessFigures {
        reservations: vec![
            reservations("hotel-a", "cancelled", "telegram"),
            reservations("hotel-a", "confirmed", "api"),
            reservations("hotel-a", "confirmed", "whatsapp"),
            reservations("hotel-a", "rejected", "whatsapp"),
            reservations("hotel-b", "confirmed", "unknown"),
        ],
        revenue: vec![
            Revenue {
                hotel: "hotel-a".into(),
                currency: "EUR".into(),
                total_minor: 30_000,
            },
            Revenue {
                hotel: "hotel-b".into(),
                currency: "USD".into(),
                total_minor: 7_000,
            },
        ],
        // 111, 222 and 333 asked; 111 and 222 booked. hotel-b only greeted: no row.
        conversion: vec![Conversion {
            hotel: "hotel-a".into(),
            quoted: 3,
            booked: 2,
        }],
        // 111, 222, 333, 444 and 666 wrote; 333 and 444 were handed off (444 twice).
        automation: vec![
            Automation {
                hotel: "hotel-a".into(),
                conversations: 5,
                handed_off: 2,
            },
            Automation {
                hotel: "hotel-b".into(),
                conversations: 1,
                handed_off: 0,
            },
        ],
        handoffs: vec![
            HandoffCount {
                hotel: "hotel-a".into(),
                reason: "guest_asked".into(),
                handoffs: 2,
            },
            HandoffCount {
                hotel: "hotel-a".into(),
                reason: "low_confidence".into(),
                handoffs: 1,
            },
        ],
        languages: vec![
            LanguageCount {
                hotel: "hotel-a".into(),
                language: "en".into(),
                messages: 1,
            },
            LanguageCount {
                hotel: "hotel-a".into(),
                language: "es".into(),
                messages: 3,
            },
            LanguageCount {
                hotel: "hotel-a".into(),
                language: "pt".into(),
                messages: 1,
            },
            LanguageCount {
                hotel: "hotel-b".into(),
                language: "en".into(),
                messages: 1,
            },
        ],
    }
}

/// Writes [`BOOKINGS`] and [`TURNS`] as the projections and the event store would.
async fn write_rows(db: &Database) {
    let postgres = matches!(db, Database::Postgres(_));
    let (uuid, json) = if postgres {
        ("CAST($1 AS uuid)", "CAST($2 AS json)")
    } else {
        ("$1", "$2")
    };
    let reservation = format!(
        "INSERT INTO reservations (reservation_id, tenant_id, guest_ref, status, total_minor, \
         currency, pms_ref, created_at, updated_at, last_sequence) \
         VALUES ({uuid}, $2, 'guest', $3, $4, $5, $6, $7, $7, 1)"
    );
    let event = format!(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
         payload, metadata) VALUES ('Reservation', $1, 1, 'ReservationRequested', '1.0', \
         {json}, {})",
        json.replace("$2", "$3")
    );
    let at = Utc.with_ymd_and_hms(2026, 11, 22, 11, 0, 0).unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    for booking in &BOOKINGS {
        let id = uuid::Uuid::now_v7().to_string();
        conserje_infra::on_pool!(db, pool => sqlx::query(&reservation)
            .bind(&id)
            .bind(booking.hotel)
            .bind(booking.status)
            .bind(booking.total.0)
            .bind(booking.total.1)
            .bind(booking.pms_ref)
            .bind(at)
            .execute(pool)
            .await
            .map(|_| ()))
        .expect("a reservation row");
        let Some((channel, conversation)) = booking.origin else {
            continue;
        };
        let payload = json!({ "ReservationRequested": { "conversation": conversation } });
        let metadata = json!({ "channel": channel, "tenant_id": booking.hotel });
        conserje_infra::on_pool!(db, pool => sqlx::query(&event)
            .bind(&id)
            .bind(payload.to_string())
            .bind(metadata.to_string())
            .execute(pool)
            .await
            .map(|_| ()))
        .expect("an event row");
    }
    let message = "INSERT INTO analytics_messages (session_id, sequence, tenant_id, channel, day, \
         received_at) VALUES ($1, $2, $3, 'whatsapp', $4, $5)";
    let turn = "INSERT INTO analytics_turns (session_id, sequence, tenant_id, channel, day, \
         recorded_at, kind, intent, language, confidence, handoff_reason) \
         VALUES ($1, $2, $3, 'whatsapp', $4, $5, $6, $7, $8, $9, $10)";
    for (session, sequence, what, language) in TURNS {
        let hotel = session.split('/').next().unwrap();
        let handoff = language.is_none();
        // A guest message before each intent (and the one without a turn); not per handoff.
        if !handoff || what.is_empty() {
            conserje_infra::on_pool!(db, pool => sqlx::query(message)
                .bind(session)
                .bind(sequence * 10)
                .bind(hotel)
                .bind(day)
                .bind(at)
                .execute(pool)
                .await
                .map(|_| ()))
            .expect("a message row");
        }
        if what.is_empty() {
            continue;
        }
        let (kind, intent, reason, confidence) = if handoff {
            ("handoff", None, Some(what), None)
        } else {
            ("intent", Some(what), None, Some(0.9_f64))
        };
        conserje_infra::on_pool!(db, pool => sqlx::query(turn)
            .bind(session)
            .bind(sequence)
            .bind(hotel)
            .bind(day)
            .bind(at)
            .bind(kind)
            .bind(intent)
            .bind(language)
            .bind(confidence)
            .bind(reason)
            .execute(pool)
            .await
            .map(|_| ()))
        .expect("a turn row");
    }
}

async fn figures_of(url: &str) -> BusinessFigures {
    let db = Database::connect(url).await.expect("the store opens");
    db.migrate().await.expect("the store migrates");
    assert_eq!(
        business_figures::read(&db)
            .await
            .expect("an empty store reads"),
        BusinessFigures::default(),
        "an empty store has no figures"
    );
    write_rows(&db).await;
    business_figures::read(&db).await.expect("the figures read")
}

#[tokio::test]
async fn the_business_figures_are_read_alike_from_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("figures.db").display());
    assert_eq!(figures_of(&url).await, expected_figures());
}

#[tokio::test]
async fn the_business_figures_are_read_alike_from_postgres() {
    let url = fresh_postgres_url().await;
    assert_eq!(figures_of(&url).await, expected_figures());
}
