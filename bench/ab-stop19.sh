#!/usr/bin/env bash
# Side by side on the same 1 M-person data: main before this stop (42e9c6f, format 2) and after.
# Usage: copy the two release binaries to $LT_BIN_DIR/lt-old and lt-new; generate the data with
#   leaktrace synth --quiet --persons 1000000 --seed 42 --leak-rows 120000 --out /tmp/lt-med
set -euo pipefail
DATA=/tmp/lt-med
for v in old new; do
  export LEAKTRACE_HOME=/tmp/lt-ab-$v LEAKTRACE_KEY_FILE=/tmp/lt-ab-$v.key
  rm -rf "$LEAKTRACE_HOME" "$LEAKTRACE_KEY_FILE"
  B=${LT_BIN_DIR:-/tmp}/lt-$v
  $B init --quiet
  $B enroll --quiet --source registry --as-of 2026-10-01 "$DATA/registry.csv"
  $B enroll --quiet --source provider_docs --recipient "Prestataire Docs" --as-of 2022-03-05 "$DATA/extracts/provider_docs_2022-02.csv"
  $B enroll --quiet --source app_backend --recipient "App mobile" --as-of 2023-06-15 "$DATA/extracts/app_users_2023-06-15.jsonl"
  $B enroll --quiet --source training_partner --recipient "Formation ARA" --as-of 2024-01-10 "$DATA/extracts/formation_ara_2024.xlsx"
  $B enroll --quiet --source website --recipient "Site partenaire" --as-of 2024-03-01 "$DATA/extracts/website_accounts_2024-03-01.tsv"
  $B enroll --quiet --source website --recipient "Site partenaire" --as-of 2025-09-01 "$DATA/extracts/website_accounts_2025-09-01.tsv"
done
for i in 1 2 3 4; do
  for v in old new; do
    export LEAKTRACE_HOME=/tmp/lt-ab-$v LEAKTRACE_KEY_FILE=/tmp/lt-ab-$v.key
    /usr/bin/time -f "$v run $i: wall %e s, user %U s, peak RSS %M KiB" ${LT_BIN_DIR:-/tmp}/lt-$v analyze --out /tmp/lt-ab-report-$v /tmp/lt-med/leaks/app_reshaped.csv > /tmp/lt-ab-$v.out
  done
done
for v in old new; do
  echo "$v: $(head -1 /tmp/lt-ab-$v.out)"
  python3 - "$DATA/leaks/truth/app_reshaped.csv" /tmp/lt-ab-report-$v/matches.csv <<'PY'
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
print(f"  F1 {2 * pr * rc / max(pr + rc, 1e-9):.4f} (precision {pr:.4f}, recall {rc:.4f}; tp {tp}, fp {fp}, fn {fn})")
PY
done
