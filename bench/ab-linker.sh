#!/usr/bin/env bash
# Side by side on the same data: the binary before issue 14's linker (42e9c6f, segment format 2)
# and after, each on its own workspace of the same files, analyses interleaved.
# Usage: copy the two release binaries to $LT_BIN_DIR/lt-old and lt-new, then
#   bench/ab-linker.sh setup     # synth + both enrolments (niced; run while the host is busy)
#   bench/ab-linker.sh measure   # ROUNDS interleaved analyses each, then F1 (host quiet)
#   bench/ab-linker.sh paired    # ROUNDS pairs run at the same time, one core each (cores
#                                # swapped every round): the host's slow and fast phases hit
#                                # both alike, so the ratio is steadier than between runs
# PERSONS (default 10000000) and LEAK_ROWS (1200000) set the size; data and workspaces go under
# $AB_DIR (default /tmp/lt-ab10).
set -euo pipefail
PERSONS=${PERSONS:-10000000} LEAK_ROWS=${LEAK_ROWS:-1200000} ROUNDS=${ROUNDS:-3}
DIR=${AB_DIR:-/tmp/lt-ab10} BINS=${LT_BIN_DIR:-/tmp}
DATA=$DIR/data
. "$(dirname "$0")/deliveries.sh"
ws() { export LEAKTRACE_HOME=$DIR/ws-$1 LEAKTRACE_KEY_FILE=$DIR/ws-$1.key; }
case "${1:-}" in
setup)
  mkdir -p "$DIR"
  [ -f "$DATA/leaks/app_reshaped.csv" ] ||
    nice -n 19 "$BINS/lt-new" synth --quiet --persons "$PERSONS" --seed 42 --leak-rows "$LEAK_ROWS" --out "$DATA"
  for v in old new; do
    ws $v
    rm -rf "$LEAKTRACE_HOME" "$LEAKTRACE_KEY_FILE"
    B="nice -n 19 $BINS/lt-$v"
    $B init --quiet
    $B enroll --quiet --source registry --as-of 2026-10-01 "$DATA/registry.csv"
    enroll_deliveries "$DATA" $B enroll --quiet
    du -sh "$LEAKTRACE_HOME"
  done
  ;;
measure)
  LEAK=$DATA/leaks/app_reshaped.csv
  echo "## $LEAK ($(($(wc -l < "$LEAK") - 1)) rows), $PERSONS persons; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  for i in $(seq "$ROUNDS"); do
    for v in old new; do
      ws $v
      /usr/bin/time -f "$v run $i: wall %e s, user %U s, sys %S s, peak RSS %M KiB" \
        "$BINS/lt-$v" analyze --out "$DIR/report-$v" "$LEAK" > "$DIR/$v.out"
      grep -o '([0-9.]* s: linking.*)' "$DIR/$v.out"
    done
  done
  for v in old new; do
    echo "$v: $(head -1 "$DIR/$v.out")"
    echo "  $(grep -o '[0-9]* candidate pairs' "$DIR/$v.out")"
    echo "  $(python3 "$(dirname "$0")/f1.py" "$DATA/leaks/truth/app_reshaped.csv" "$DIR/report-$v/matches.csv")"
  done
  ;;
paired)
  LEAK=$DATA/leaks/app_reshaped.csv
  for i in $(seq "$ROUNDS"); do
    c=$((i % 2))
    for v in old new; do
      ws $v
      RAYON_NUM_THREADS=1 /usr/bin/time -f "$v run $i (core $c): wall %e s, user %U s, sys %S s" \
        taskset -c "$c" "$BINS/lt-$v" analyze --quiet --out "$DIR/paired-$v" "$LEAK" > /dev/null &
      c=$((1 - c))
    done
    wait
  done
  ;;
*) echo "usage: bench/ab-linker.sh setup|measure|paired" >&2; exit 2 ;;
esac
