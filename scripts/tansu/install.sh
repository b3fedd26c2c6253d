#!/usr/bin/env bash
# Builds the test broker: tansu from crates.io with conserje's patches to its group coordinator.
#
#   scripts/tansu/install.sh <root>      # installs <root>/bin/tansu
#
# Why patched: tansu 0.6.0's coordinator drops a member whose session expired without starting a
# new generation, so the group stays formed with the dead member's assignment and its partitions
# are never consumed again — a process killed with `kill -9` silenced a third of the
# conversations for good (tests/tests/two_instances.rs). formed-heartbeat.patch re-forms the
# group instead. The sources come from crates.io and are checked against tansu's own Cargo.lock
# checksum before the patch is applied; the build is the same `--locked` one as before.
set -euo pipefail

ROOT=${1:?usage: install.sh <root>}
HERE=$(cd "$(dirname "$0")" && pwd)
VERSION=0.6.0
CRATES=https://static.crates.io/crates
WORK=$(mktemp -d /tmp/tansu-build.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
curl -sSfL "$CRATES/tansu/tansu-$VERSION.crate" | tar xz
curl -sSfL -o broker.crate "$CRATES/tansu-broker/tansu-broker-$VERSION.crate"
want=$(awk '/^name = "tansu-broker"$/{found=1} found && /^checksum/{gsub(/"/,"",$3); print $3; exit}' "tansu-$VERSION/Cargo.lock")
got=$(sha256sum broker.crate | cut -d' ' -f1)
[ "$want" = "$got" ] || { echo "tansu-broker-$VERSION.crate checksum $got, Cargo.lock says $want" >&2; exit 1; }
tar xzf broker.crate
patch -s -p1 -d "tansu-broker-$VERSION" < "$HERE/formed-heartbeat.patch"
printf '\n[patch.crates-io]\ntansu-broker = { path = "../tansu-broker-%s" }\n' "$VERSION" >> "tansu-$VERSION/Cargo.toml"
# The SQLite (libsql) storage keeps data and committed offsets across restarts; the memory
# storage lost records on mid-partition resume (see shared/infra-notes.md).
cargo install --quiet --path "tansu-$VERSION" --locked --features libsql --root "$ROOT"
sha256sum "$HERE/formed-heartbeat.patch" | cut -d' ' -f1 > "$ROOT/patches.sha256"
