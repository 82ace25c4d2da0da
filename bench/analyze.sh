#!/usr/bin/env bash
# Benchmark: analyse a 1.2 M-row leak against the 10 M-person index (registry + 5 extract
# deliveries), and score every scenario of that size against the truth.
# Usage: bench/analyze.sh   (needs bench/enroll.sh's workspace; generates the 1.2 M-row leaks with
# the same seed, hence the same registry and extracts, in /tmp/leaktrace-bench-synth-big)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/leaktrace"
BIG=/tmp/leaktrace-bench-synth-big
export LEAKTRACE_HOME=/tmp/leaktrace-bench-ws LEAKTRACE_KEY_FILE=/tmp/leaktrace-bench.key
[ -f "$LEAKTRACE_HOME/catalog.sqlite" ] || bench/enroll.sh
[ -f "$BIG/leaks/app_reshaped.csv" ] || "$BIN" synth --quiet --persons 10000000 --seed 42 --leak-rows 1200000 --out "$BIG"
LEAK="$BIG/leaks/app_reshaped.csv"
echo "## $LEAK ($(du -h "$LEAK" | cut -f1), $(($(wc -l < "$LEAK") - 1)) rows) against $("$BIN" sources --json | grep -c '"as_of"') snapshots"
/usr/bin/time -f 'wall %e s, user %U s, sys %S s, peak RSS %M KiB' \
  "$BIN" analyze --out /tmp/leaktrace-bench-report "$LEAK" | head -1
python3 - "$BIG/leaks/truth/app_reshaped.csv" /tmp/leaktrace-bench-report/matches.csv <<'PY'
import csv, sys
truth = {r["row"]: r["person_id"] for r in csv.DictReader(open(sys.argv[1]))}
tp = fp = fn = 0
for r in csv.DictReader(open(sys.argv[2])):
    t, p = truth[r["row"]], r["person_id"]
    if p and p == t: tp += 1
    elif p and t: fp += 1; fn += 1
    elif p: fp += 1
    elif t: fn += 1
pr, rc = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
print(f"F1 {2 * pr * rc / max(pr + rc, 1e-9):.4f} (precision {pr:.4f}, recall {rc:.4f}; tp {tp}, fp {fp}, fn {fn})")
PY
