#!/usr/bin/env bash
# Benchmark: generate 10 M persons with extracts and leaks; prints wall time, peak RSS and sizes.
# Usage: bench/synth.sh [PERSONS] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
PERSONS=${1:-10000000}
OUT=${2:-/tmp/leaktrace-bench-synth}
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/leaktrace"
rm -rf "$OUT"
/usr/bin/time -f 'wall %e s, user %U s, sys %S s, peak RSS %M KiB' \
  "$BIN" synth --persons "$PERSONS" --seed 42 --out "$OUT" --quiet
du -sh "$OUT" "$OUT/registry.csv" "$OUT"/extracts/* | sed 's/^/  /'
