#!/usr/bin/env bash
# Benchmark: FEBRL4 (data/febrl, 5,000 x 5,000 Australian records, BSD-3) linked by leaktrace
# with no column mapping and by Splink with a hand-written configuration, in one run.
#
# Usage (from anywhere): bash bench/febrl.sh
#
#   leaktrace  init + enroll dataset4a (id column found: rec_id) + analyze dataset4b; no
#              --column, no --id-column                                 1 run (the whole job)
#              analyze dataset4b alone on that workspace                3 runs, median
#   Splink     bench/febrl_splink.py link (one process: load, train,   1 run
#              predict, best match per row)
# Both are scored by bench/splink_link.py score against the truth rec-N-dup-0 <-> rec-N-org
# (bench/febrl_splink.py truth).
#
# Environment (all optional):
#   LEAKTRACE     binary (default: ${CARGO_TARGET_DIR:-/var/tmp/leaktrace-target}/release/leaktrace)
#   FEBRL_DIR     workspace and outputs (default: /tmp/febrl-bench)
#   SPLINK_VENV   virtualenv with splink 5 (default: bench/venv; created if missing)
#   REPORT        markdown report (default: $FEBRL_DIR/report.md)
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/leaktrace-target}
LEAKTRACE=${LEAKTRACE:-$CARGO_TARGET_DIR/release/leaktrace}
WORK=${FEBRL_DIR:-/tmp/febrl-bench}
VENV=${SPLINK_VENV:-bench/venv}
REPORT=${REPORT:-$WORK/report.md}
A=data/febrl/dataset4a.csv
B=data/febrl/dataset4b.csv
PIP_PKGS=(splink==5.0.0 duckdb pandas)

mkdir -p "$WORK"
if [ "$LEAKTRACE" = "$CARGO_TARGET_DIR/release/leaktrace" ]; then
  cargo build --release --quiet
  cp "$LEAKTRACE" "$WORK/leaktrace.bin"
  LEAKTRACE=$WORK/leaktrace.bin
fi
PY="$VENV/bin/python"
if ! "$PY" -c 'import splink, duckdb, pandas' 2>/dev/null; then
  echo "# creating $VENV" >&2
  python3 -m venv "$VENV"
  "$PY" -m pip install --quiet "${PIP_PKGS[@]}" >&2
fi

# timed OUT_PREFIX CMD...: "wall_seconds peak_rss_kib cpu_seconds" of CMD (stdout/stderr to
# OUT_PREFIX.out/.err).
timed() {
  local pre=$1; shift
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -f '%M %U %S' -o "$pre.time" "$@" > "$pre.out" 2> "$pre.err"
  t1=$(date +%s%N)
  tail -n1 "$pre.time" | awk -v ns=$(( t1 - t0 )) '{ printf "%.3f %d %.2f\n", ns / 1e9, $1, $2 + $3 }'
}

"$PY" bench/febrl_splink.py truth "$B" "$WORK/truth.csv"
export LEAKTRACE_HOME=$WORK/ws LEAKTRACE_KEY_FILE=$WORK/key
rm -rf "$LEAKTRACE_HOME" "$LEAKTRACE_KEY_FILE" "$WORK/lt-pipeline" "$WORK/lt-report"
echo "# leaktrace init + enroll + analyze (fresh workspace)" >&2
LT_PIPE=$(timed "$WORK/lt-pipeline" bash -c '
  "$1" --quiet init && "$1" --quiet enroll --source febrl4a "$2" &&
  "$1" --quiet analyze --out "$3" "$4"' _ "$LEAKTRACE" "$A" "$WORK/lt-pipeline" "$B")
echo "# leaktrace analyze alone (3 runs, median)" >&2
LT_AN=$(for i in 1 2 3; do
  rm -rf "$WORK/lt-report"
  timed "$WORK/lt-analyze" "$LEAKTRACE" --quiet analyze --out "$WORK/lt-report" "$B"
done | sort -n | sed -n 2p)
echo "# Splink" >&2
SP=$(timed "$WORK/splink" "$PY" bench/febrl_splink.py link "$A" "$B" \
  --out "$WORK/splink_matches.csv" --timings "$WORK/splink_timings.json")

"$PY" bench/splink_link.py score --json "$WORK/truth.csv" "$WORK/lt-report/matches.csv" > "$WORK/score-lt.json"
"$PY" bench/splink_link.py score --json "$WORK/truth.csv" "$WORK/splink_matches.csv" > "$WORK/score-splink.json"
"$LEAKTRACE" analyze --color never --out "$WORK/lt-columns" "$B" | sed -n 's/^columns: //p' > "$WORK/lt-columns.txt"

"$PY" - "$("$LEAKTRACE" --version)" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
  "$(nproc)" "$WORK" "$LT_AN" "$LT_PIPE" "$SP" <<'PY' | tee "$REPORT"
import json, sys
version, rev, cores, work, lt_an, lt_pipe, sp = sys.argv[1:]
sc = lambda f: json.load(open(f"{work}/{f}"))
lt, spl = sc("score-lt.json"), sc("score-splink.json")
info = json.load(open(f"{work}/splink_timings.json"))
print(f"# FEBRL4: leaktrace vs Splink {info['splink']} (DuckDB {info['duckdb']})\n")
print(f"{version} (commit {rev}); {cores} cores, load average at the end {open('/proc/loadavg').read().split()[0]}. 5,000 records enrolled (dataset4a), 5,000 "
      "analysed (dataset4b); truth rec-N-dup-0 <-> rec-N-org; same scorer for both.\n")
print("| tool | precision | recall | F1 | tp / fp / fn | wall (s) | peak RSS (MiB) | CPU (s) |")
print("|---|---|---|---|---|---|---|---|")
def row(name, s, t):
    w, rss, cpu = t.split()
    print(f"| {name} | {s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} | "
          f"{s['tp']} / {s['fp']} / {s['fn']} | {float(w):.2f} | {int(rss) / 1024:.0f} | {cpu} |")
row("leaktrace analyze (median of 3)", lt, lt_an)
print(f"| leaktrace init + enroll + analyze (1 run) | | | | | {float(lt_pipe.split()[0]):.2f} "
      f"| {int(lt_pipe.split()[1]) / 1024:.0f} | {lt_pipe.split()[2]} |")
row(f"Splink {info['splink']} (whole python process)", spl, sp)
print(f"\nleaktrace's column types (no override): {open(work + '/lt-columns.txt').read().strip()}")
print(f"\nSplink's own timings (s): {info['timings_s']}")
PY
