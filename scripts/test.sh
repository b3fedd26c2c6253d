#!/usr/bin/env bash
# Runs every check and test of conserje against real servers, installing what is missing.
#
#   scripts/test.sh
#
# 1. Installs PostgreSQL from Debian packages when no server binaries are found.
# 2. Starts a throwaway cluster on 127.0.0.1 in a temporary directory (stopped on exit).
# 3. Runs cargo fmt --check, cargo clippy -D warnings, and the whole workspace's tests with
#    CONSERJE_TEST_DATABASE_URL pointing at that cluster. Nothing is skipped: a test that needs
#    PostgreSQL fails when it is absent.
set -euo pipefail

cd "$(dirname "$0")/.."
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

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

RUN_DIR=$(mktemp -d /tmp/conserje-test.XXXXXX)
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

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

log "cargo test (PostgreSQL at $CONSERJE_TEST_DATABASE_URL, SQLite in temp dirs)"
set +e
cargo test --workspace --no-fail-fast 2>&1 | tee "$RUN_DIR/cargo-test.log"
test_status=${PIPESTATUS[0]}
set -e

# One closing line for the whole workspace (cargo prints one per test binary).
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "\nconserje: %d passed, %d failed\n", passed, failed }' \
    "$RUN_DIR/cargo-test.log"
exit "$test_status"
