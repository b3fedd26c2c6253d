#!/usr/bin/env bash
# Runs every check and test of conserje against real servers, installing what is missing.
#
#   scripts/test.sh
#
# 1. Installs what is missing and starts a throwaway PostgreSQL cluster, Redis and tansu on
#    127.0.0.1 in a temporary directory, all stopped on exit (scripts/stack.sh), plus Prometheus
#    and Chromium for the scrape and console tests.
# 2. Runs cargo fmt --check, cargo clippy -D warnings, the whole workspace's tests with
#    CONSERJE_TEST_DATABASE_URL, CONSERJE_TEST_REDIS_URL and CONSERJE_TEST_KAFKA_BROKERS pointing
#    at them (nothing is skipped: a test that needs a server fails when it is absent), then the
#    conversation stories with their per-locale report, then the language model's evaluation.
set -euo pipefail

cd "$(dirname "$0")/.."
. scripts/stack.sh

# tests/tests/prometheus_scrape.rs scrapes the service with a real Prometheus and lints /metrics
# with promtool (the test starts its own Prometheus; the node exporter is not needed).
if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
    log "installing Prometheus (Debian package prometheus)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
# tests/tests/console*.rs drive the staff console in a real headless Chromium over WebDriver
# (tests/src/browser.rs starts chromedriver; Debian's packages, no browser download).
if ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null; then
    log "installing Chromium and chromedriver (Debian packages chromium, chromium-driver)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi

# Disk: CI's disk is not ours to size, and a run once died of `No space left on device`.
# Incremental caches are of no use to a one-shot run; every cargo command below builds with the
# same (workspace-wide) feature set so that no dependency is compiled twice, and the conserje
# binary the tests built is the one run afterwards.
export CARGO_INCREMENTAL=0
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
disk_report() { printf 'disk: %s free on %s; target %s\n' "$(df -h --output=avail . | tail -1 | tr -d ' ')" \
    "$(df --output=target . | tail -1)" "$(du -sh "$TARGET_DIR" 2>/dev/null | cut -f1)"; }
disk_report

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

# The binary first: the tests that kill a process run it (tests/src/processes.rs), as do the
# language model's evaluation and schemathesis below.
log "cargo build --workspace --bins"
cargo build --quiet --workspace --bins
CONSERJE_BIN="$TARGET_DIR/debug/conserje"

log "cargo test (PostgreSQL $CONSERJE_TEST_DATABASE_URL, Redis $CONSERJE_TEST_REDIS_URL, Kafka $CONSERJE_TEST_KAFKA_BROKERS, SQLite in temp dirs)"
set +e
cargo test --workspace --no-fail-fast -- --skip conversation_stories_pass_in_every_locale \
    --skip killed_mid_load 2>&1 | tee "$RUN_DIR/cargo-test.log"
test_status=${PIPESTATUS[0]}
set -e

# `kill -9` under load (tests/tests/two_instances.rs) on its own, after the rest: four `serve`
# processes at once take both cores and keep the broker's coordinator busy with their dead
# members for a session timeout, which would starve whichever suite ran beside or after them.
log "kill -9 under load (tests/tests/two_instances.rs)"
set +e
cargo test --quiet --workspace --test two_instances 2>&1 | tee -a "$RUN_DIR/cargo-test.log"
kill_status=${PIPESTATUS[0]}
set -e

# The conversation stories (tests/conversations: many-turn WhatsApp and Telegram conversations
# in es, en, pt-BR and pt-PT) against the embedded default, with their report printed: each
# failing story's turn, then `conversations: N/M pass` per locale. Fails below 95 % in a locale.
log "conversation stories (tests/conversations; goal: >= 95% in every locale)"
set +e
cargo test --quiet --workspace --test conversation_suite -- --nocapture 2>&1 \
    | tee -a "$RUN_DIR/cargo-test.log"
stories_status=${PIPESTATUS[0]}
set -e
disk_report

# The language model's held-out evaluations (commands/nlu/heldout.jsonl, and heldout-blind.jsonl written
# without sight of the corpus or the other file; neither is ever trained on):
# prints accuracy, per-intent precision/recall, entity exact-match and latency, and fails below
# the goals (intent accuracy >= 95 % overall and >= 93 % in every language and locale).
log "conserje nlu eval (held-out set; goals: intent accuracy >= 95%, every language and locale >= 93%)"
nlu_status=0
for heldout in commands/nlu/heldout.jsonl commands/nlu/heldout-blind.jsonl; do
    echo "--- $heldout"
    "$CONSERJE_BIN" nlu eval "$heldout" \
        --min-accuracy 0.95 --min-language-accuracy 0.93 || nlu_status=$?
done

# The HTTP API against its own OpenAPI document: schemathesis (PyPI) reads GET /openapi.json of
# an embedded `conserje serve`, generates requests for every operation (valid and invalid ones,
# with the first admin key) and fails on any 5xx and on any answer the document does not
# describe: an undocumented status, a body off its schema, a wrong content type or header.
# Fixtures (reservations, a conversation, the hotel's Telegram secret and WhatsApp verify token)
# are handed to it so the per-resource routes and the webhooks answer more than 404 and 401.
# The examples, coverage and fuzzing phases run first (the document's key-id pattern keeps them
# off the admin key), and the key must still open the API after them, or they would have passed
# on 401s alone. The stateful phase follows the links schemathesis infers, GET /api/v1/keys ->
# revoke included, so it may revoke the admin key itself: it runs last, on its own.
# --workers 1: Python 3.11's ast.parse is not thread-safe ("AST constructor recursion depth
# mismatch" from hypothesis with 2 workers). CONSERJE_SCHEMATHESIS_SEED and
# CONSERJE_SCHEMATHESIS_EXAMPLES explore further than the fixed default.
SCHEMATHESIS_VERSION=4.32.5
log "schemathesis $SCHEMATHESIS_VERSION: the API against GET /openapi.json (5xx, statuses, schemas, content types, headers)"
if ! python3 -m schemathesis.cli --version 2>/dev/null | grep -q "version $SCHEMATHESIS_VERSION\$"; then
    python3 -m pip install --quiet "schemathesis==$SCHEMATHESIS_VERSION" \
        || die "cannot install schemathesis $SCHEMATHESIS_VERSION from PyPI"
fi
API_DIR="$RUN_DIR/openapi"
mkdir -p "$API_DIR"
API_PORT=$(free_port)
API_URL="http://127.0.0.1:$API_PORT"
TELEGRAM_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
WHATSAPP_VERIFY_TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
# No limits for the run (429 is documented anyway); the providers' APIs point at a closed local
# port so that nothing the bot answers can leave the machine.
CONSERJE_API_RATE_LIMIT=0 CONSERJE_WEBHOOK_RATE_LIMIT=0 \
    CONSERJE_TELEGRAM_SECRET_TOKEN="$TELEGRAM_SECRET" CONSERJE_WHATSAPP_VERIFY_TOKEN="$WHATSAPP_VERIFY_TOKEN" \
    CONSERJE_TELEGRAM_API_BASE=http://127.0.0.1:9 CONSERJE_WHATSAPP_API_BASE=http://127.0.0.1:9 \
    "$CONSERJE_BIN" serve --listen "127.0.0.1:$API_PORT" --data-dir "$API_DIR/data" \
    >"$API_DIR/server.log" 2>&1 &
API_PID=$!
stop_api_server() {
    local status=$?
    if [ -n "${API_PID:-}" ]; then
        { kill "$API_PID" && wait "$API_PID"; } 2>/dev/null || true
        API_PID=
    fi
    return $status
}
trap 'stop_api_server; cleanup' EXIT INT TERM
# The first start writes the admin key (mode 0600) before the server answers; ready means the
# store answers and every consumer group has joined.
wait_until_ready "$API_URL" "$API_PID" "$API_DIR/server.log" 60
ADMIN_KEY=$(cat "$API_DIR/data/admin.key")
# Fixtures, and the schemathesis configuration that hands their ids to the routes that take one.
python3 - "$API_URL" "$ADMIN_KEY" "$API_DIR/schemathesis.toml" "$TELEGRAM_SECRET" "$WHATSAPP_VERIFY_TOKEN" <<'PY' || die "could not make the schemathesis fixtures"
import datetime, json, sys, time, urllib.error, urllib.parse, urllib.request

url, key, config, telegram_secret, verify_token = sys.argv[1:]

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method, headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")

today = datetime.date.today()
reservations = []
for n, offset in enumerate((30, 45)):
    status, answer = call("POST", "/api/v1/reservations", {
        "tenant_id": "default",
        "guest": {"name": "Ana Pérez", "email": f"schemathesis-{n}@example.com", "phone": "+34 600 123 456"},
        "room_type": "double",
        "check_in": str(today + datetime.timedelta(days=offset)),
        "check_out": str(today + datetime.timedelta(days=offset + 2)),
        "guests": 2,
    })
    assert status == 201, (status, answer)
    reservations.append(answer["reservation_id"])
status, answer = call("POST", "/api/v1/messages", {
    "tenant_id": "default", "guest": "schemathesis-guest", "provider_message_id": "m-1",
    "text": "hola, quiero reservar una habitación doble"})
assert status == 202, (status, answer)
session = answer["session_id"]
transcript = "/api/v1/sessions/" + urllib.parse.quote(session, safe="") + "/transcript"
for _ in range(300):
    if call("GET", transcript)[0] == 200:
        break
    time.sleep(0.1)
else:
    sys.exit(f"the fixture conversation {session} was not recorded")

def strings(values):
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"

with open(config, "w") as out:
    out.write(f"""
[dictionaries.reservations]
values = {strings(reservations)}
[dictionaries.sessions]
values = {strings([session])}
[dictionaries.hotels]
values = ["default"]
[dictionaries.verify_tokens]
values = [{json.dumps(verify_token)}]
[dictionaries.hub_modes]
values = ["subscribe"]

[[operations]]
include-path-regex = "^/api/v1/reservations/"
parameters = {{ "path.id" = {{ dictionary = "reservations", probability = 0.5 }} }}

[[operations]]
include-path-regex = "^/api/v1/sessions/"
parameters = {{ "path.id" = {{ dictionary = "sessions", probability = 0.5 }} }}

[[operations]]
include-path = "/webhooks/telegram/{{tenant}}"
parameters = {{ "path.tenant" = {{ dictionary = "hotels", probability = 0.5 }} }}
headers = {{ "X-Telegram-Bot-Api-Secret-Token" = {json.dumps(telegram_secret)} }}

[[operations]]
include-path = "/webhooks/whatsapp"
include-method = "GET"
parameters = {{ "query.hub.mode" = {{ dictionary = "hub_modes", probability = 0.5 }}, "query.hub.verify_token" = {{ dictionary = "verify_tokens", probability = 0.5 }} }}
""")
PY
schemathesis_run() {
    # From its own directory: schemathesis keeps a .schemathesis/ cache in the working directory.
    (cd "$API_DIR" && python3 -m schemathesis.cli --config-file "$API_DIR/schemathesis.toml" run "$API_URL/openapi.json" \
        --header "Authorization: Bearer $ADMIN_KEY" \
        --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance,response_headers_conformance \
        --max-examples "${CONSERJE_SCHEMATHESIS_EXAMPLES:-40}" --seed "${CONSERJE_SCHEMATHESIS_SEED:-1}" \
        --workers 1 --generation-database none --no-color "$@")
}
api_started=$(date +%s)
set +e
schemathesis_run --phases examples,coverage,fuzzing 2>&1 | tee "$API_DIR/schemathesis.log"
api_status=${PIPESTATUS[0]}
set -e
if [ "$api_status" -eq 0 ]; then
    # A run whose key stopped working would have passed on 401s alone.
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]}), timeout=10)' \
        "$API_URL/api/v1/keys" "$ADMIN_KEY" 2>/dev/null \
        || { echo "the admin key no longer opens the API after the coverage and fuzzing phases"; api_status=1; }
fi
if [ "$api_status" -eq 0 ]; then
    set +e
    schemathesis_run --phases stateful 2>&1 | tee -a "$API_DIR/schemathesis.log"
    api_status=${PIPESTATUS[0]}
    set -e
fi
api_cases=$(awk '/ generated, / { sum += $1 } END { print sum + 0 }' "$API_DIR/schemathesis.log")
api_result=$([ "$api_status" -eq 0 ] && echo "no failures" || echo "FAILED (exit $api_status)")
printf '\nschemathesis %s: %s test cases over %s operations in %d s, %s\n' "$SCHEMATHESIS_VERSION" \
    "$api_cases" "$(grep -m1 -o 'Selected: [0-9]*/[0-9]*' "$API_DIR/schemathesis.log" | cut -d/ -f2)" \
    "$(( $(date +%s) - api_started ))" "$api_result"
stop_api_server

disk_report

# One closing line for the whole workspace (cargo prints one per test binary).
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "\nconserje: %d passed, %d failed\n", passed, failed }' \
    "$RUN_DIR/cargo-test.log"
[ "$test_status" -ne 0 ] && exit "$test_status"
[ "$kill_status" -ne 0 ] && die "kill -9 under load lost or repeated something (see tests/tests/two_instances.rs above)"
[ "$stories_status" -ne 0 ] && die "conversation stories under their goal (see the report above)"
[ "$nlu_status" -ne 0 ] && die "the language model misses its held-out goals (see conserje nlu eval above)"
[ "$api_status" -ne 0 ] && die "the API does not match its OpenAPI document, or answered 5xx (see schemathesis above)"
exit 0
