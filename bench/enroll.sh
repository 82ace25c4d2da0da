#!/usr/bin/env bash
# Benchmark: enrol the generator's 10 M-person registry (then its extracts) into a fresh workspace.
# Usage: bench/enroll.sh   (generates /tmp/leaktrace-bench-synth with bench/synth.sh if missing)
# Leaves the workspace in /tmp/leaktrace-bench-ws (key /tmp/leaktrace-bench.key) for bench/analyze.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/leaktrace"
DATA=/tmp/leaktrace-bench-synth
[ -f "$DATA/registry.csv" ] || bench/synth.sh
export LEAKTRACE_HOME=/tmp/leaktrace-bench-ws LEAKTRACE_KEY_FILE=/tmp/leaktrace-bench.key
rm -rf "$LEAKTRACE_HOME" "$LEAKTRACE_KEY_FILE"
"$BIN" init --quiet
echo "## registry ($(du -h "$DATA/registry.csv" | cut -f1))"
/usr/bin/time -f 'wall %e s, user %U s, sys %S s, peak RSS %M KiB' \
  "$BIN" enroll --source registry --as-of 2026-10-01 "$DATA/registry.csv"
echo "## extracts"
# First line of each enrolment's summary (through a file: a pipe into `head` could end the
# command early under pipefail).
enroll_quietly() {
  "$BIN" enroll "$@" > /tmp/leaktrace-bench-enroll.out
  head -1 /tmp/leaktrace-bench-enroll.out
}
enroll_quietly --source provider_docs --recipient "Prestataire Docs" --as-of 2022-03-05 "$DATA/extracts/provider_docs_2022-02.csv"
enroll_quietly --source app_backend --recipient "App mobile" --as-of 2023-06-15 "$DATA/extracts/app_users_2023-06-15.jsonl"
enroll_quietly --source training_partner --recipient "Formation ARA" --as-of 2024-01-10 "$DATA/extracts/formation_ara_2024.xlsx"
enroll_quietly --source website --recipient "Site partenaire" --as-of 2024-03-01 "$DATA/extracts/website_accounts_2024-03-01.tsv"
enroll_quietly --source website --recipient "Site partenaire" --as-of 2025-09-01 "$DATA/extracts/website_accounts_2025-09-01.tsv"
du -sh "$LEAKTRACE_HOME"
