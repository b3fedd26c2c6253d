#!/usr/bin/env bash
# The broker soak: the distributed profile under sustained mixed produce and fetch, and whether
# the Kafka-protocol broker holds. One `conserje serve` (release, --role all) on PostgreSQL +
# Redis + the patched tansu of scripts/stack.sh, driven by `conserje-loadgen` at the
# benchmark's rate for ten minutes: the webhook tier produces every message, the conversation
# worker, the sender and the six log projections fetch as consumer groups, and the relay
# produces their events — the load under which tansu's storage once panicked.
#
#   scripts/soak.sh                     1,000 msg/s for 600 s
#   SOAK_RATE=300 SOAK_SECONDS=120 scripts/soak.sh
#
# Prints loadgen's report (acked, ack latency, answered, delivered, raw-produce ratio), then the
# broker's side: whether it is still up, its error and panic lines, its RSS and database size.
# Exits non-zero when the broker died, logged a panic or an error, or loadgen saw errors.
set -euo pipefail

cd "$(dirname "$0")/.."
RATE="${SOAK_RATE:-1000}"
SECONDS_OF_LOAD="${SOAK_SECONDS:-600}"
CONVERSATIONS="${SOAK_CONVERSATIONS:-500}"

STACK_NAME=conserje-soak
. scripts/stack.sh

log "building conserje and conserje-loadgen (release)"
cargo build --release --quiet -p conserje-gateway -p conserje-loadgen
BIN="${CARGO_TARGET_DIR:-target}/release"

DATA="$RUN_DIR/serve"
PORT=$(free_port)
log "starting conserje serve --role all on 127.0.0.1:$PORT"
CONSERJE_API_RATE_LIMIT=0 CONSERJE_WEBHOOK_RATE_LIMIT=0 \
    CONSERJE_DATABASE_URL="$CONSERJE_TEST_DATABASE_URL" CONSERJE_REDIS_URL="$CONSERJE_TEST_REDIS_URL" \
    CONSERJE_KAFKA_BROKERS="$CONSERJE_TEST_KAFKA_BROKERS" \
    "$BIN/conserje" serve --role all --listen "127.0.0.1:$PORT" --data-dir "$DATA" \
    >"$RUN_DIR/serve.log" 2>&1 &
SERVE_PID=$!
# serve stops on SIGTERM once its consumers finish their batch; with a backlog of a hundred
# thousand messages that took over a minute here, so it gets 20 s before SIGKILL.
stop_serve() {
    kill "$SERVE_PID" 2>/dev/null || return 0
    for _ in $(seq 1 40); do kill -0 "$SERVE_PID" 2>/dev/null || return 0; sleep 0.5; done
    kill -9 "$SERVE_PID" 2>/dev/null || true
}
trap 'stop_serve; cleanup' EXIT INT TERM
wait_until_ready "http://127.0.0.1:$PORT" "$SERVE_PID" "$RUN_DIR/serve.log" 300

log "loadgen: $RATE msg/s for $SECONDS_OF_LOAD s over $CONVERSATIONS conversations"
set +e
"$BIN/conserje-loadgen" --target "http://127.0.0.1:$PORT" --rate "$RATE" --duration "$SECONDS_OF_LOAD" \
    --conversations "$CONVERSATIONS" --data-dir "$DATA" --kafka-brokers "$CONSERJE_TEST_KAFKA_BROKERS" \
    --database-url "$CONSERJE_TEST_DATABASE_URL" --server-pid "$SERVE_PID" --drain-timeout 60 \
    2>&1 | tee "$RUN_DIR/loadgen.txt"
loadgen_status=${PIPESTATUS[0]}
set -e

log "the broker after the soak"
status=0
if kill -0 "$TANSU_PID" 2>/dev/null; then
    echo "tansu: up, RSS $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/$TANSU_PID/status")," \
        "database $(du -sh "$RUN_DIR/tansu" | cut -f1)"
else
    echo "tansu: DEAD"; status=1
fi
panics=$(grep -c -i 'panicked' "$RUN_DIR/tansu.log" || true)
errors=$(grep -c ' ERROR ' "$RUN_DIR/tansu.log" || true)
echo "tansu log: $panics panics, $errors error lines ($(wc -l <"$RUN_DIR/tansu.log") lines)"
if [ "$panics" -gt 0 ] || [ "$errors" -gt 0 ]; then
    grep -i -m 20 -e 'panicked' -e ' ERROR ' "$RUN_DIR/tansu.log"; status=1
fi
loadgen_errors=$(awk '/^  errors/ {print $2}' "$RUN_DIR/loadgen.txt")
echo "loadgen: ${loadgen_errors:-?} request errors (exit $loadgen_status)"
[ "${loadgen_errors:-1}" = "0" ] || status=1
# conserje's side of the broker: failed appends, fetches and commits are logged as warnings.
serve_warnings=$(grep -c -i -e 'WARN' -e 'ERROR' "$RUN_DIR/serve.log" || true)
echo "serve log: $serve_warnings warning or error lines"
grep -i -m 10 -e 'WARN' -e 'ERROR' "$RUN_DIR/serve.log" || true
exit $status
