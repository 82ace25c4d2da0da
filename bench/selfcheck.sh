#!/usr/bin/env bash
# Self-check bench (issue 17): found vs not found timing over TIMING requests each, then USERS
# concurrent clients for SECONDS on the bucket files (from memory) and on the server-side check.
# Loopback only, stops by itself. Reuses the incident-service bench's workspace when present
# (bench/serve-load.sh builds it: PERSONS persons, incident 1 analysed), copied first.
# Usage: [RATE=N] bench/selfcheck.sh [USERS] [SECONDS] [TIMING]   (defaults 200 10 1000)
# RATE: the clients together offer N requests per second (open loop); unset: a closed loop.
set -euo pipefail
cd "$(dirname "$0")/.."
USERS="${1:-200}" SECONDS_="${2:-10}" TIMING="${3:-1000}"
SRC=/tmp/leaktrace-bench-serve-ws
[ -d "$SRC/server/incidents" ] || bench/serve-load.sh 100000 10 2
cargo build --release --quiet -p leaktrace-reach --example load
T="${CARGO_TARGET_DIR:-target}/release"
WS=/tmp/leaktrace-bench-selfcheck-ws
rm -rf "$WS" && cp -r "$SRC" "$WS"
"$T/examples/load" --home "$WS" --key-file /tmp/leaktrace-bench-serve.key \
  --registry /tmp/leaktrace-bench-serve-synth/registry.csv \
  --users "$USERS" --seconds "$SECONDS_" --timing "$TIMING" ${RATE:+--rate "$RATE"}
