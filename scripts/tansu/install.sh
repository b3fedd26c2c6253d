#!/usr/bin/env bash
# Builds the test broker: tansu from crates.io with conserje's patches.
#
#   scripts/tansu/install.sh <root>      # installs <root>/bin/tansu
#
# Why patched (README, "Running it distributed"): found by tests/examples/two_instances.rs, which
# kills a process with `kill -9` under load.
# - tansu-broker.patch: the group coordinator dropped a member whose session expired without
#   starting a new generation. In a formed group the dead member's partitions were then never
#   consumed again; in a forming one (the killed process restarted before its old member
#   expired) the members that had synced kept an empty assignment.
# - tansu-storage.patch: a produce whose producer epoch had no row made the SQLite storage panic,
#   which killed its task and with it every later request of every client. Its fetch also slept
#   half the remaining wait after every read, even one that found records, so each hop through
#   the log cost ~250 ms and idle consumers re-read four times per wait; the patch makes it a
#   long poll: answer at once when the read has min_bytes, else wait for the next produce
#   (a tokio Notify) or the end of max_wait. And deleting one topic deleted every topic of the
#   cluster (`topic_delete_by.sql` selected by cluster): the next fetch of any other topic found
#   no watermark and panicked; the patch deletes the one topic, and `query_one` answers an error
#   instead of panicking when a row is missing. Last, `header` had no index: every fetched record
#   scanned the whole header table, so the broker slowed with every record ever produced (acks
#   took seconds under load); the patch adds one on (topition, offset_id).
# Each crate comes from crates.io and is checked against the checksum in tansu's own Cargo.lock
# before its patch is applied; the build is `--locked`, as an unpatched install would be.
set -euo pipefail

ROOT=${1:?usage: install.sh <root>}
HERE=$(cd "$(dirname "$0")" && pwd)
VERSION=0.6.0
PATCHED="tansu-broker tansu-storage"
CRATES=https://static.crates.io/crates
WORK=$(mktemp -d /tmp/tansu-build.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
curl -sSfL "$CRATES/tansu/tansu-$VERSION.crate" | tar xz
printf '\n[patch.crates-io]\n' >> "tansu-$VERSION/Cargo.toml"
for crate in $PATCHED; do
    curl -sSfL -o "$crate.crate" "$CRATES/$crate/$crate-$VERSION.crate"
    want=$(awk -v name="name = \"$crate\"" '$0 == name {found=1} found && /^checksum/ {gsub(/"/, "", $3); print $3; exit}' "tansu-$VERSION/Cargo.lock")
    got=$(sha256sum "$crate.crate" | cut -d' ' -f1)
    [ "$want" = "$got" ] || { echo "$crate-$VERSION.crate has checksum $got, tansu's Cargo.lock says $want" >&2; exit 1; }
    tar xzf "$crate.crate"
    patch -s -p1 -d "$crate-$VERSION" < "$HERE/$crate.patch"
    printf '%s = { path = "../%s-%s" }\n' "$crate" "$crate" "$VERSION" >> "tansu-$VERSION/Cargo.toml"
done
# The SQLite (libsql) storage keeps data and committed offsets across restarts; the memory
# storage lost records on mid-partition resume (see shared/infra-notes.md).
cargo install --quiet --path "tansu-$VERSION" --locked --features libsql --root "$ROOT"
cat "$HERE"/*.patch | sha256sum | cut -d' ' -f1 > "$ROOT/patches.sha256"
