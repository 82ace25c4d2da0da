#!/usr/bin/env bash
# Benchmark: the cost of the integrity checks every analysis makes (issue 18) — the BLAKE3
# checksum of every segment file, the decryption of the ids — on bench/enroll.sh's 10 M-person
# workspace when it exists (open every segment with and without verification, page cache warm
# from the first pass), else on 1 GiB of synthetic data (throughput, to extrapolate).
# Usage: bench/verify.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p leaktrace-index --example verify_cost
BIN="${CARGO_TARGET_DIR:-target}/release/examples/verify_cost"
WS=/tmp/leaktrace-bench-ws KEY=/tmp/leaktrace-bench.key
if [ -f "$WS/catalog.sqlite" ]; then
  "$BIN" "$WS" "$KEY"
fi
"$BIN"
