# Installs what is missing and starts the servers conserje's distributed profile runs on, on
# 127.0.0.1 in a throwaway directory: PostgreSQL and Redis from Debian packages, and the
# Kafka-protocol broker tansu from crates.io, patched (scripts/tansu; a 15-20 minute build the
# first time; the binary is kept in ~/.cargo/conserje-tansu and reused). Sourced, not run, by
# scripts/test.sh and scripts/soak.sh, from the repository's root:
#
#   . scripts/stack.sh
#
# It leaves CONSERJE_TEST_DATABASE_URL, CONSERJE_TEST_REDIS_URL and CONSERJE_TEST_KAFKA_BROKERS
# exported, RUN_DIR (the servers' files and logs; tansu's is $RUN_DIR/tansu.log), the helpers
# log, die, as_root, free_port and wait_until_ready, and a `cleanup` EXIT trap that stops the servers and removes
# RUN_DIR. STACK_NAME names the directory (default conserje-test).

log() { printf '\n==> %s\n' "$*"; }
die() { printf '\nERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        die "need root (or sudo) to run: $*"; fi
}

find_pg_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
    done
    return 1
}

PGBIN=$(find_pg_bin || true)
if [ -z "$PGBIN" ]; then
    log "installing PostgreSQL (Debian package postgresql)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    PGBIN=$(find_pg_bin) || die "PostgreSQL was installed but no initdb/pg_ctl found under /usr/lib/postgresql"
fi

TANSU_VERSION=0.6.0
if ! command -v redis-server >/dev/null; then
    log "installing Redis (Debian package redis-server)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
# The broker is tansu from crates.io with conserje's patch to its group coordinator
# (scripts/tansu/install.sh says why); kept apart from any stock tansu, rebuilt when the patch
# changes.
TANSU_ROOT="${CARGO_HOME:-$HOME/.cargo}/conserje-tansu"
TANSU="$TANSU_ROOT/bin/tansu"
PATCHES_SHA=$(cat scripts/tansu/*.patch | sha256sum | cut -d' ' -f1)
if ! [ -x "$TANSU" ] || ! "$TANSU" --version 2>/dev/null | grep -q "$TANSU_VERSION" \
    || [ "$(cat "$TANSU_ROOT/patches.sha256" 2>/dev/null)" != "$PATCHES_SHA" ]; then
    log "building the Kafka-protocol broker tansu $TANSU_VERSION (crates.io + scripts/tansu patch; first run only, ~15-20 min)"
    scripts/tansu/install.sh "$TANSU_ROOT"
fi

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

RUN_DIR=$(mktemp -d "/tmp/${STACK_NAME:-conserje-test}.XXXXXX")
PG_PORT=$(free_port)
PG_USER=postgres
run_pg() {
    # initdb refuses to run as root: run the cluster as the postgres user when we are root.
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "the postgres system user is missing (is the postgresql package installed?)"
    chown postgres:postgres "$RUN_DIR"
else
    PG_USER=$(id -un)
fi
chmod 700 "$RUN_DIR"

cleanup() {
    local status=$?
    [ -f "$RUN_DIR/redis.pid" ] && kill "$(cat "$RUN_DIR/redis.pid")" 2>/dev/null || true
    [ -n "${TANSU_PID:-}" ] && kill "$TANSU_PID" 2>/dev/null && wait "$TANSU_PID" 2>/dev/null || true
    if [ -f "$RUN_DIR/data/postmaster.pid" ]; then
        run_pg "$PGBIN/pg_ctl" -D "$RUN_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$RUN_DIR"
    exit $status
}
trap cleanup EXIT INT TERM

log "starting PostgreSQL ($PGBIN) on 127.0.0.1:$PG_PORT"
run_pg "$PGBIN/initdb" -D "$RUN_DIR/data" -U "$PG_USER" -A trust -E UTF8 --no-sync >"$RUN_DIR/initdb.log" 2>&1 \
    || { cat "$RUN_DIR/initdb.log"; die "initdb failed"; }
run_pg "$PGBIN/pg_ctl" -D "$RUN_DIR/data" -l "$RUN_DIR/postgres.log" -w \
    -o "-p $PG_PORT -k $RUN_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null \
    || { cat "$RUN_DIR/postgres.log"; die "PostgreSQL did not start"; }
export CONSERJE_TEST_DATABASE_URL="postgres://$PG_USER@127.0.0.1:$PG_PORT/postgres"

REDIS_PORT=$(free_port)
log "starting Redis on 127.0.0.1:$REDIS_PORT"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$RUN_DIR" \
    --daemonize yes --pidfile "$RUN_DIR/redis.pid" --logfile "$RUN_DIR/redis.log" \
    || die "Redis did not start"
export CONSERJE_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/"

KAFKA_PORT=$(free_port)
log "starting tansu (Kafka protocol, SQLite storage) on 127.0.0.1:$KAFKA_PORT"
mkdir -p "$RUN_DIR/tansu"
# tansu resolves the sqlite:// storage URL against its working directory.
(cd "$RUN_DIR/tansu" && exec "$TANSU" broker \
    --listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
    --advertised-listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
    --storage-engine "sqlite://tansu.db" >"$RUN_DIR/tansu.log" 2>&1) &
TANSU_PID=$!
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null && break
    kill -0 "$TANSU_PID" 2>/dev/null || { cat "$RUN_DIR/tansu.log"; die "tansu exited at start"; }
    sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null || { cat "$RUN_DIR/tansu.log"; die "tansu is not listening"; }
export CONSERJE_TEST_KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"

# wait_until_ready URL PID LOG SECONDS: waits until the conserje at URL answers /health/ready
# with 200 (the store answers and every consumer group it runs has joined); dies with its LOG
# when process PID exits first or SECONDS pass.
wait_until_ready() {
    local url=$1 pid=$2 log_file=$3 seconds=$4
    for _ in $(seq 1 $((seconds * 10))); do
        kill -0 "$pid" 2>/dev/null || { cat "$log_file"; die "conserje serve exited at start"; }
        if python3 -c 'import sys, urllib.request; sys.exit(urllib.request.urlopen(sys.argv[1], timeout=2).status != 200)' \
            "$url/health/ready" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    tail -50 "$log_file"; die "conserje serve was not ready within $seconds s"
}
