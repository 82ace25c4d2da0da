#!/usr/bin/env bash
# Issue 17: time from a 100 k-row leaked file's close in a watched folder to the alert e-mail
# received by a real SMTP server on loopback (Debian's python3-aiosmtpd). Goal: <= 60 s.
# Usage: bench/watch-latency.sh   (release build; 600 k persons so the app leak reaches 100 k rows)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/deliveries.sh
cargo build --release --quiet -p leaktrace
B="${CARGO_TARGET_DIR:-target}/release/leaktrace"
W=/tmp/leaktrace-bench-watch
DATA=$W/data
export LEAKTRACE_HOME=$W/ws LEAKTRACE_KEY_FILE=$W/key
if [ ! -f "$LEAKTRACE_HOME/catalog.sqlite" ]; then
  rm -rf "$W"; mkdir -p "$W"
  $B synth --quiet --persons 600000 --seed 42 --leak-rows 100000 --out "$DATA"
  $B init --quiet
  $B enroll --quiet --source registry --as-of 2026-10-01 "$DATA/registry.csv"
  enroll_deliveries "$DATA" $B enroll --quiet
fi
LEAK=$DATA/leaks/app_reshaped.csv
echo "leak: $(($(wc -l < "$LEAK") - 1)) rows, $(du -h "$LEAK" | cut -f1)"
for run in 1 2 3; do
  INBOX=$W/inbox-$run MAIL=$W/mail-$run
  rm -rf "$INBOX" "$MAIL"; mkdir -p "$INBOX" "$MAIL"
  PORT=$((20000 + RANDOM % 20000))
  coproc SMTP { exec /usr/bin/python3 crates/leaktrace/tests/watch/smtp_sink.py "$PORT" "$MAIL"; }
  read -r ready <&"${SMTP[0]}"; [ "$ready" = ready ]
  # Each run a distinct content (one more trailing empty line): a known SHA-256 would be skipped.
  # Runs 2 and 3 are re-appearances of run 1's incident (its 100 k persons compared).
  { cat "$LEAK"; for _ in $(seq "$run"); do echo; done; } > "$W/leak-$run.csv"
  : > "$W/watch-$run.log"
  $B watch "$INBOX" --debounce-ms 500 --smtp-host 127.0.0.1 --smtp-port "$PORT" --smtp-tls none \
    --smtp-from leaktrace@dpo.example --smtp-to team@dpo.example 2> "$W/watch-$run.log" &
  WPID=$!
  until grep -q watching "$W/watch-$run.log"; do sleep 0.1; done
  cp "$W/leak-$run.csv" "$INBOX/fuite.csv"   # written then closed
  T0=$(date +%s.%N)
  until ls "$MAIL"/*.eml >/dev/null 2>&1; do sleep 0.05; done
  T1=$(date +%s.%N)
  kill "$WPID"; wait "$WPID" 2>/dev/null || true
  kill "$SMTP_PID"; wait "$SMTP_PID" 2>/dev/null || true
  printf 'run %d: close -> e-mail received: %.1f s (%s)\n' "$run" "$(echo "$T1 - $T0" | bc)" \
    "$(grep -o 'Verdict: .*' "$MAIL"/*.eml | head -1)"
done
