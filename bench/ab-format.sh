#!/usr/bin/env bash
# Side by side: analyze with the binary of commit 84f1466 (segment format 1) on its own
# workspace of the same files, and with this checkout's binary on bench/enroll.sh's workspace,
# interleaved (three rounds), so that both see the same host speed.
# Usage: bench/ab-format.sh   (needs bench/enroll.sh and bench/analyze.sh to have run once)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
NEW="${CARGO_TARGET_DIR:-target}/release/leaktrace"
OLD=/tmp/lt-old
if [ ! -x "$OLD" ]; then
  rm -rf /tmp/lt-old-src
  git worktree add --detach /tmp/lt-old-src 84f1466
  (cd /tmp/lt-old-src && CARGO_TARGET_DIR=/var/tmp/leaktrace-target-old cargo build --release --quiet)
  cp /var/tmp/leaktrace-target-old/release/leaktrace "$OLD"
  git worktree remove --force /tmp/lt-old-src
fi
D=/tmp/leaktrace-bench-synth
LEAK=/tmp/leaktrace-bench-synth-big/leaks/app_reshaped.csv
if [ ! -f /tmp/lt-ws-old/catalog.sqlite ]; then
  rm -rf /tmp/lt-ws-old /tmp/lt-old.key
  export LEAKTRACE_HOME=/tmp/lt-ws-old LEAKTRACE_KEY_FILE=/tmp/lt-old.key
  $OLD init --quiet
  /usr/bin/time -f 'old enrol registry: %e s, %M KiB' $OLD enroll --source registry --as-of 2026-10-01 $D/registry.csv > /dev/null
  $OLD enroll --source provider_docs --recipient "Prestataire Docs" --as-of 2022-03-05 $D/extracts/provider_docs_2022-02.csv > /dev/null
  $OLD enroll --source app_backend --recipient "App mobile" --as-of 2023-06-15 $D/extracts/app_users_2023-06-15.jsonl > /dev/null
  $OLD enroll --source training_partner --recipient "Formation ARA" --as-of 2024-01-10 $D/extracts/formation_ara_2024.xlsx > /dev/null
  $OLD enroll --source website --recipient "Site partenaire" --as-of 2024-03-01 $D/extracts/website_accounts_2024-03-01.tsv > /dev/null
  $OLD enroll --source website --recipient "Site partenaire" --as-of 2025-09-01 $D/extracts/website_accounts_2025-09-01.tsv > /dev/null
  du -sh /tmp/lt-ws-old
fi
for i in 1 2 3; do
  LEAKTRACE_HOME=/tmp/lt-ws-old LEAKTRACE_KEY_FILE=/tmp/lt-old.key /usr/bin/time -f "old: %e s wall, %U s user, %S s sys, peak RSS %M KiB" $OLD analyze --quiet --out /tmp/lt-ab-old $LEAK
  LEAKTRACE_HOME=/tmp/leaktrace-bench-ws LEAKTRACE_KEY_FILE=/tmp/leaktrace-bench.key /usr/bin/time -f "new: %e s wall, %U s user, %S s sys, peak RSS %M KiB" $NEW analyze --quiet --out /tmp/lt-ab-new $LEAK
done
cmp /tmp/lt-ab-old/matches.csv /tmp/lt-ab-new/matches.csv && echo "matches.csv identical"
