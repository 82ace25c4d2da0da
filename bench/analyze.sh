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
# Peak RSS counts the index's mapped (shared, reclaimable) page-cache pages; sample the private
# (anonymous) part separately.
/usr/bin/time -f 'wall %e s, user %U s, sys %S s, peak RSS %M KiB' -o /tmp/leaktrace-bench-time \
  "$BIN" analyze --out /tmp/leaktrace-bench-report "$LEAK" > /tmp/leaktrace-bench-analyze.out &
TIMEPID=$!
peak_anon=0; peak_file=0
while kill -0 "$TIMEPID" 2>/dev/null; do
  pid=$(pgrep -n -f "leaktrace analyze --out /tmp/leaktrace-bench-report" || true)
  if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
    a=$(awk '/^RssAnon/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
    f=$(awk '/^RssFile/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$a" ] && [ "$a" -gt "$peak_anon" ] && peak_anon=$a
    [ -n "$f" ] && [ "$f" -gt "$peak_file" ] && peak_file=$f
  fi
  sleep 0.2
done
wait "$TIMEPID"
head -1 /tmp/leaktrace-bench-analyze.out
cat /tmp/leaktrace-bench-time
echo "sampled peaks: private (RssAnon) $((peak_anon / 1024)) MiB, mapped index (RssFile) $((peak_file / 1024)) MiB"
python3 bench/f1.py "$BIG/leaks/truth/app_reshaped.csv" /tmp/leaktrace-bench-report/matches.csv
