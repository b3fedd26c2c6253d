//! The README's SQL is documentation that runs: every statement of every ```sql block in
//! README.md is executed here against both stores, SQLite and PostgreSQL, after seeding each with
//! real data through the real service (reservations confirmed, cancelled late and free, refused by
//! the five-active limit; a guest conversation that books and one handed to staff). Analysts copy
//! these examples into `psql` or `sqlite3`; one that only works on one store (as `intent_mix`'s
//! `round(double precision, integer)` once did on PostgreSQL) fails here, not in their hands.
//! Statements that read seeded data must return rows, and a lead time in days must come out at
//! least a day, since SQLite answers text-date arithmetic wrongly rather than with an error.
//!
//! Conventions of the README's SQL, which this test relies on:
//! - statements end with `;`; `--` starts a comment that runs to the end of the line;
//! - a statement preceded by a comment line that is exactly `-- PostgreSQL` or `-- SQLite` is
//!   that store's variant and runs only there (for what the two dialects cannot say alike, such
//!   as date arithmetic); every other statement runs on both;
//! - a literal `'<id>'` stands for a correlation id; the test puts a real one from the events in
//!   its place, and fails on any other `'<…>'` placeholder it does not know.
//!
//! The examples query the store's tables, so both runs use the embedded message log and
//! key-value store; only the event store differs. Like the other PostgreSQL suites this fails,
//! rather than skips, without `CONSERJE_TEST_DATABASE_URL`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use conserje_domain::reservation::Reservation;
use conserje_domain::session::Session;
use conserje_gateway::settings::StoreOptions;
use conserje_infra::{on_pool, Database};
use conserje_tests::{
    eventually_within, fresh_postgres_url, fresh_store, FixedClock, StoreKind, TestApp,
};
use cqrs_es::Aggregate;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

/// The hotel the README's examples filter on (configured in the built-in `config/conserje.toml`).
const SOL: &str = "hotel-sol";

// The guests who book through the API: (e-mail, phone).
const ANA: (&str, &str) = ("ana@example.com", "+34 600 000 001");
const BEA: (&str, &str) = ("bea@example.com", "+34 600 000 002");
const CARLOS: (&str, &str) = ("carlos@example.com", "+34 600 000 003");
const DORA: (&str, &str) = ("dora@example.com", "+34 600 000 004");
const LUIS: (&str, &str) = ("luis@example.com", "+34 600 000 005");

/// Fewer statements than this means the extraction broke, not that the README shrank.
const MIN_STATEMENTS: usize = 10;

/// Statements (found by a fragment of their text) that must return rows once the store is
/// seeded: the proof that the seeding reaches the tables and views they read.
const MUST_RETURN_ROWS: &[&str] = &[
    "sum(total_minor)",
    "FROM intent_mix",
    "FROM message_counts",
    "FROM daily_occupancy",
    "FROM context_readings",
    "FROM handoff_counts",
    "rejection_reason",
    "FROM events",
];

/// Columns in days that must come out at least 1 on the seeded store: every seeded stay begins a
/// day or more after it was booked. Less is date arithmetic the store does not do: SQLite
/// computes `'2026-12-20' - '2026-11-22'` as the numbers 2026 - 2026 and answers, wrongly,
/// without an error.
const AT_LEAST_A_DAY: &[&str] = &["lead_days"];

/// Sunday 22 November 2026, 12:00 at hotel-sol (Buenos Aires): the front desk is open.
fn midday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 15, 0, 0).unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

// ---- The README's statements -------------------------------------------------------------

/// One statement of the README and the store it is written for (`None`: both).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Example {
    sql: String,
    only_on: Option<StoreKind>,
}

impl Example {
    fn runs_on(&self, kind: StoreKind) -> bool {
        self.only_on.is_none_or(|only| only == kind)
    }

    /// The statement on one line, for messages.
    fn summary(&self) -> String {
        self.sql.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// The bodies of the ```sql blocks of `markdown`.
fn sql_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut open: Option<String> = None;
    for line in markdown.lines() {
        let fence = line.trim_start().starts_with("```");
        match open.as_mut() {
            None if fence && line.trim() == "```sql" => open = Some(String::new()),
            None => {}
            Some(_) if fence => blocks.extend(open.take()),
            Some(body) => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    assert!(open.is_none(), "a ```sql block is never closed");
    blocks
}

/// The store a comment line names, if it is a label (`-- PostgreSQL`, `-- SQLite`).
fn label(comment: &str) -> Option<StoreKind> {
    match comment.trim() {
        "PostgreSQL" => Some(StoreKind::Postgres),
        "SQLite" => Some(StoreKind::Sqlite),
        _ => None,
    }
}

/// Splits `block` into statements on `;` (outside quotes), dropping `--` comments and taking
/// labels from comment lines. Text after the last `;` is an unterminated statement: a failure.
fn statements(block: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let (mut sql, mut only_on) = (String::new(), None);
    let (mut quoted, mut line_has_code) = (false, false);
    let mut chars = block.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '-' if !quoted && chars.peek() == Some(&'-') => {
                let comment: String = chars.by_ref().take_while(|&c| c != '\n').collect();
                if !line_has_code {
                    only_on = label(&comment[1..]).or(only_on);
                }
                sql.push('\n');
                line_has_code = false;
            }
            ';' if !quoted => {
                if !sql.trim().is_empty() {
                    let sql = sql.trim().to_owned();
                    out.push(Example { sql, only_on });
                }
                (sql, only_on) = (String::new(), None);
                line_has_code = true;
            }
            _ => {
                quoted ^= c == '\'';
                line_has_code = (line_has_code || !c.is_whitespace()) && c != '\n';
                sql.push(c);
            }
        }
    }
    assert!(
        sql.trim().is_empty(),
        "a statement without its `;`: {}",
        sql.trim()
    );
    out
}

/// Every statement of README.md.
fn readme_examples() -> Vec<Example> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).expect("README.md is readable");
    let examples: Vec<Example> = sql_blocks(&readme)
        .iter()
        .flat_map(|block| statements(block))
        .collect();
    assert!(
        examples.len() >= MIN_STATEMENTS,
        "only {} SQL statements found in README.md; the extraction is broken",
        examples.len()
    );
    examples
}

/// `sql` with each `'<name>'` placeholder replaced by its value; fails on an unknown one.
fn substitute(sql: &str, values: &[(&str, &str)]) -> String {
    let mut sql = sql.to_owned();
    for (name, value) in values {
        sql = sql.replace(&format!("'<{name}>'"), &format!("'{value}'"));
    }
    assert!(
        !sql.contains("'<"),
        "a placeholder the test does not know how to fill: {sql}"
    );
    sql
}

#[test]
fn statements_split_on_semicolons_and_keep_store_labels() {
    let block = "-- A heading; not a statement\n\
                 SELECT 'a;b', '--x' FROM t; -- trailing\n\
                 -- PostgreSQL\n\
                 SELECT 1\n  FROM u;\n\
                 -- SQLite\n\
                 SELECT 2;\n";
    let found = statements(block);
    let sqls: Vec<String> = found.iter().map(Example::summary).collect();
    assert_eq!(
        sqls,
        ["SELECT 'a;b', '--x' FROM t", "SELECT 1 FROM u", "SELECT 2"]
    );
    let stores: Vec<_> = found.iter().map(|e| e.only_on).collect();
    assert_eq!(
        stores,
        [None, Some(StoreKind::Postgres), Some(StoreKind::Sqlite)]
    );
}

// ---- Seeding through the real service ----------------------------------------------------

/// Rows of the tables the examples read: what the seeding wrote, or what the projections built.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    confirmed: i64,
    cancelled: i64,
    rejected: i64,
    messages: i64,
    handoffs: i64,
}

impl Tally {
    fn covers(&self, wanted: &Tally) -> bool {
        self.confirmed >= wanted.confirmed
            && self.cancelled >= wanted.cancelled
            && self.rejected >= wanted.rejected
            && self.messages >= wanted.messages
            && self.handoffs >= wanted.handoffs
    }
}

/// What the seeding did.
#[derive(Debug, Default)]
struct Seeded {
    wrote: Tally,
    /// The correlation id of the first booking's request, for the audit trail's `'<id>'`.
    correlation_id: String,
}

/// A fresh store of `kind`: PostgreSQL or SQLite events beside the embedded log and key-value
/// store (the README's SQL reads the event store's tables only).
async fn store(kind: StoreKind) -> (StoreOptions, TempDir) {
    let (mut options, dir) = fresh_store(StoreKind::Sqlite).await;
    if kind == StoreKind::Postgres {
        options.database_url = Some(fresh_postgres_url().await);
    }
    (options, dir)
}

/// A stay for the guest `(e-mail, phone)`; the five-active limit counts both.
fn booking(guest: (&str, &str), room: &str, check_in: &str, check_out: &str) -> Value {
    let (email, phone) = guest;
    json!({
        "tenant_id": SOL,
        "guest": { "name": "Ana Pérez", "email": email, "phone": phone },
        "room_type": room,
        "check_in": day(check_in),
        "check_out": day(check_out),
        "guests": 2,
    })
}

/// Posts a booking; returns the answer's status and body.
async fn book(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    let response = app
        .http
        .post(app.url("/api/v1/reservations"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Books a stay that the hotel confirms; returns its id.
async fn confirmed(app: &TestApp, seeded: &mut Seeded, body: Value) -> String {
    let (status, answer) = book(app, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["status"], "confirmed", "{answer}");
    seeded.wrote.confirmed += 1;
    answer["reservation_id"].as_str().unwrap().to_owned()
}

async fn post_cancel(app: &TestApp, id: &str, body: Value) -> (StatusCode, Value) {
    let path = format!("/api/v1/reservations/{id}/cancel");
    let response = app
        .http
        .post(app.url(&path))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Cancels reservation `id`, accepting the fee the hotel states when it is past the free window.
async fn cancel(app: &TestApp, seeded: &mut Seeded, id: &str) {
    let (mut status, mut answer) = post_cancel(app, id, json!({})).await;
    if answer["error"] == "cancellation_fee_applies" {
        let fee = answer["fee_minor"].clone();
        (status, answer) = post_cancel(app, id, json!({ "accept_fee_minor": fee })).await;
    }
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "cancelled", "{answer}");
    seeded.wrote.confirmed -= 1;
    seeded.wrote.cancelled += 1;
}

/// Two confirmed stays over Christmas, one cancelled the day before arrival (a fee) and one
/// weeks ahead (free), and a guest's sixth active stay refused.
async fn seed_reservations(app: &TestApp, seeded: &mut Seeded) {
    let first = confirmed(
        app,
        seeded,
        booking(ANA, "double", "2026-12-20", "2026-12-27"),
    )
    .await;
    confirmed(
        app,
        seeded,
        booking(BEA, "suite", "2026-12-22", "2026-12-24"),
    )
    .await;
    let late = confirmed(
        app,
        seeded,
        booking(CARLOS, "king", "2026-11-23", "2026-11-25"),
    )
    .await;
    cancel(app, seeded, &late).await;
    let early = confirmed(
        app,
        seeded,
        booking(DORA, "standard", "2026-12-10", "2026-12-12"),
    )
    .await;
    cancel(app, seeded, &early).await;
    for month in 1..=5 {
        let (check_in, check_out) = (format!("2027-0{month}-10"), format!("2027-0{month}-12"));
        let body = booking(LUIS, "standard", &check_in, &check_out);
        confirmed(app, seeded, body).await;
    }
    let sixth = booking(LUIS, "standard", "2027-06-10", "2027-06-12");
    let (status, answer) = book(app, &sixth).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"], "too_many_active_reservations", "{answer}");
    seeded.wrote.rejected += 1;
    seeded.correlation_id = correlation_id(app, &first).await;
}

/// The correlation id the request that created reservation `id` gave its events.
async fn correlation_id(app: &TestApp, id: &str) -> String {
    let trail = app
        .runtime
        .feed
        .stream(Reservation::TYPE, id)
        .await
        .unwrap();
    trail[0]
        .meta("correlation_id")
        .expect("events carry a correlation id")
        .to_owned()
}

/// How many replies the bot has composed in `session`.
async fn replies(app: &TestApp, session: &str) -> usize {
    let events = app
        .runtime
        .feed
        .stream(Session::TYPE, session)
        .await
        .unwrap();
    events
        .iter()
        .filter(|e| e.event_type == "ReplyComposed")
        .count()
}

/// A guest of hotel-sol writes `text` on the API channel; waits for the bot's reply.
async fn guest_says(app: &TestApp, seeded: &mut Seeded, guest: &str, id: &str, text: &str) {
    let body = json!({"tenant_id": SOL, "guest": guest, "provider_message_id": id, "text": text});
    let response = app
        .http
        .post(app.url("/api/v1/messages"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let answer: Value = response.json().await.unwrap();
    let session = answer["session_id"].as_str().unwrap().to_owned();
    let before = replies(app, &session).await;
    seeded.wrote.messages += 1;
    eventually_within("the bot answers", Duration::from_secs(30), || {
        let session = session.clone();
        async move { replies(app, &session).await > before }
    })
    .await;
}

/// A guest books in a conversation (quote, confirmation, e-mail, phone) and another asks for a
/// person.
async fn seed_conversations(app: &TestApp, seeded: &mut Seeded) {
    let (eva, says) = (
        "34600111222",
        "Hola, quiero una habitación doble del 20 al 25 de diciembre para 2 personas",
    );
    guest_says(app, seeded, eva, "m1", says).await;
    guest_says(app, seeded, eva, "m2", "sí").await;
    guest_says(app, seeded, eva, "m3", "eva@example.com").await;
    guest_says(app, seeded, eva, "m4", "+34 600 111 222").await;
    seeded.wrote.confirmed += 1;
    let person = "Quiero hablar con una persona, por favor";
    guest_says(app, seeded, "34600111333", "h1", person).await;
    seeded.wrote.handoffs += 1;
}

/// `SELECT count(*) …` on either store.
async fn count(db: &Database, sql: &str) -> i64 {
    on_pool!(db, pool => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await)
        .unwrap_or_else(|err| panic!("{sql}: {err}"))
}

/// What the projections have built so far.
async fn tally(db: &Database) -> Tally {
    let status = |s: &str| format!("SELECT count(*) FROM reservations WHERE status = '{s}'");
    let handoffs = "SELECT count(*) FROM analytics_turns WHERE kind = 'handoff'";
    Tally {
        confirmed: count(db, &status("confirmed")).await,
        cancelled: count(db, &status("cancelled")).await,
        rejected: count(db, &status("rejected")).await,
        messages: count(db, "SELECT count(*) FROM analytics_messages").await,
        handoffs: count(db, handoffs).await,
    }
}

/// Waits until the projections hold everything the seeding wrote.
async fn wait_for_projections(db: &Database, wanted: &Tally) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let built = tally(db).await;
        if built.covers(wanted) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the projections did not catch up: built {built:?}, seeded {wanted:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A fresh store with the seeding done and every projection the examples read caught up.
async fn seeded_hotel(kind: StoreKind) -> (TestApp, Seeded, TempDir) {
    let (options, dir) = store(kind).await;
    let app = TestApp::spawn_with_clock(&options, Arc::new(FixedClock(midday()))).await;
    let mut seeded = Seeded::default();
    seed_reservations(&app, &mut seeded).await;
    seed_conversations(&app, &mut seeded).await;
    wait_for_projections(&app.runtime.db, &seeded.wrote).await;
    (app, seeded, dir)
}

// ---- Running the examples ------------------------------------------------------------------

/// Runs `sql`; the number of rows it returned, or the store's error.
async fn run(db: &Database, sql: &str) -> Result<usize, sqlx::Error> {
    on_pool!(db, pool => sqlx::query(sql).fetch_all(pool).await.map(|rows| rows.len()))
}

/// Whether `example` is one of [`MUST_RETURN_ROWS`].
fn must_return_rows(example: &Example) -> bool {
    MUST_RETURN_ROWS
        .iter()
        .any(|needle| example.sql.contains(needle))
}

/// The [`AT_LEAST_A_DAY`] columns `sql` returns that are under a day (or NULL) in some row.
async fn under_a_day(db: &Database, sql: &str) -> Vec<&'static str> {
    let mut wrong = Vec::new();
    for column in AT_LEAST_A_DAY {
        if !sql.contains(&format!("AS {column}")) {
            continue;
        }
        let rows = format!("SELECT count(*) FROM ({sql}) AS q WHERE coalesce({column}, 0) < 1");
        if count(db, &rows).await > 0 {
            wrong.push(*column);
        }
    }
    wrong
}

/// Runs one example on `db`: its row count, or why it failed.
async fn check(db: &Database, example: &Example, values: &[(&str, &str)]) -> Result<usize, String> {
    let sql = substitute(&example.sql, values);
    let rows = run(db, &sql)
        .await
        .map_err(|err| format!("{err}\n    in: {sql}"))?;
    if rows == 0 && must_return_rows(example) {
        return Err(format!("no rows from the seeded store: {sql}"));
    }
    let wrong = under_a_day(db, &sql).await;
    if !wrong.is_empty() {
        return Err(format!("{wrong:?} under a day on the seeded store: {sql}"));
    }
    Ok(rows)
}

async fn the_readme_sql_runs(kind: StoreKind) {
    let examples: Vec<Example> = readme_examples()
        .into_iter()
        .filter(|e| e.runs_on(kind))
        .collect();
    let unmatched: Vec<&&str> = MUST_RETURN_ROWS
        .iter()
        .filter(|needle| !examples.iter().any(|e| e.sql.contains(**needle)))
        .collect();
    assert!(
        unmatched.is_empty(),
        "README.md has no statement for {kind:?} containing {unmatched:?}"
    );
    assert!(
        examples.len() >= MIN_STATEMENTS,
        "only {} statements for {kind:?}",
        examples.len()
    );
    let (app, seeded, _dir) = seeded_hotel(kind).await;
    let values = [("id", seeded.correlation_id.as_str())];
    let mut failures = Vec::new();
    for example in &examples {
        match check(&app.runtime.db, example, &values).await {
            Ok(rows) => println!("{kind:?}: ok, {rows} rows: {}", example.summary()),
            Err(why) => {
                println!("{kind:?}: FAILED: {}", example.summary());
                failures.push(why);
            }
        }
    }
    println!(
        "{kind:?}: {} of {} README statements passed",
        examples.len() - failures.len(),
        examples.len()
    );
    assert!(
        failures.is_empty(),
        "README SQL that does not run on {kind:?}:\n  {}",
        failures.join("\n  ")
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_readme_sql_runs_on_sqlite() {
    the_readme_sql_runs(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_readme_sql_runs_on_postgres() {
    the_readme_sql_runs(StoreKind::Postgres).await;
}
