#!/usr/bin/env bash
# Load bench of the incident service (issue 16): upload-to-verdict time on an idle server, then
# USERS concurrent clients browsing an incident's page, report, list and JSON for SECONDS while
# two more analyses run; p50/p99/max latency per page and the error count. Loopback only, stops
# by itself. Compare the idle upload-to-verdict time with `leaktrace analyze` on the same leak.
# Usage: bench/serve-load.sh [PERSONS] [USERS] [SECONDS] [THINK_MS]   (defaults 100000 200 20 0)
# THINK_MS: each user's pause between pages (0: closed loop, the saturation figure).
set -euo pipefail
cd "$(dirname "$0")/.."
PERSONS="${1:-100000}" USERS="${2:-200}" SECONDS_="${3:-20}" THINK_MS="${4:-0}"
cargo build --release --quiet -p leaktrace
cargo build --release --quiet -p leaktrace-server --example load
T="${CARGO_TARGET_DIR:-target}/release"
DATA=/tmp/leaktrace-bench-serve-synth
export LEAKTRACE_HOME=/tmp/leaktrace-bench-serve-ws LEAKTRACE_KEY_FILE=/tmp/leaktrace-bench-serve.key
if [ ! -f "$LEAKTRACE_HOME/catalog.sqlite" ]; then
  rm -rf "$DATA" "$LEAKTRACE_HOME" "$LEAKTRACE_KEY_FILE"
  "$T/leaktrace" synth --quiet --persons "$PERSONS" --seed 42 --out "$DATA"
  "$T/leaktrace" init --quiet
  "$T/leaktrace" enroll --quiet --source registry --as-of 2026-10-01 "$DATA/registry.csv"
  "$T/leaktrace" enroll --quiet --source app_backend --recipient "App mobile" --as-of 2023-06-15 \
    "$DATA"/extracts/app_users_*.jsonl
fi
LEAK="$DATA/leaks/app_reshaped.csv"
/usr/bin/time -f 'CLI analyze: wall %e s' "$T/leaktrace" analyze --quiet --out /tmp/leaktrace-bench-serve-report "$LEAK"
"$T/examples/load" --home "$LEAKTRACE_HOME" --key-file "$LEAKTRACE_KEY_FILE" --leak "$LEAK" \
  --users "$USERS" --seconds "$SECONDS_" --think-ms "$THINK_MS"
