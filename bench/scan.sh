#!/usr/bin/env bash
# Benchmark: column-typing accuracy (precision/recall per type over 5 seeds of the generator)
# and scan throughput on the 10 M-person registry (1.5 GB CSV).
# Usage: bench/scan.sh   (generates /tmp/leaktrace-bench-synth with bench/synth.sh if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/leaktrace"
echo "## accuracy"
cargo run --release --quiet -p leaktrace-scan --example accuracy -- 50000
REG=/tmp/leaktrace-bench-synth/registry.csv
[ -f "$REG" ] || bench/synth.sh
echo "## throughput on $REG ($(du -h "$REG" | cut -f1))"
cat "$REG" > /dev/null   # page cache
echo "types checked on every row (default):"
/usr/bin/time -f 'wall %e s, user %U s, sys %S s, peak RSS %M KiB' \
  "$BIN" scan "$REG" > /dev/null
echo "typed on the sample, the rest only counted (--no-confirm):"
/usr/bin/time -f 'wall %e s, user %U s, sys %S s, peak RSS %M KiB' \
  "$BIN" scan --no-confirm "$REG" > /dev/null
