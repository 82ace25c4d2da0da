#!/usr/bin/env bash
# Benchmark: `leaktrace notify` sending 10,000 Art. 34 notices to a real SMTP server on loopback
# (crates/campaign/tests/smtp_sink.py, Debian's python3-aiosmtpd, writing each message to disk
# before its 250), no throttle (--rate 0): the campaign's own cost — one notice built, two
# catalog commits (`sending`, `sent`, synchronous=FULL) and one SMTP transaction per person.
# Usage: bench/notify.sh [PERSONS]   (LEAKTRACE=path/to/leaktrace to use another build)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-10000}"
if [ -z "${LEAKTRACE:-}" ]; then
  cargo build --release --quiet -p leaktrace
  LEAKTRACE="${CARGO_TARGET_DIR:-target}/release/leaktrace"
fi
D=$(mktemp -d)
trap 'kill "$SINK" 2>/dev/null || true; rm -rf "$D"' EXIT
mkdir -p "$D/mail" "$D/report"
/usr/bin/python3 crates/campaign/tests/smtp_sink.py "$D/mail" ${QUICKACK:+--quickack} > "$D/port" &
SINK=$!
for _ in $(seq 50); do [ -s "$D/port" ] && break; sleep 0.1; done
PORT=$(cat "$D/port")
"$LEAKTRACE" --home "$D/ws" --key-file "$D/k.key" --quiet init
python3 - "$D" "$N" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
cats = ["email", "email;nir", "phone;birth_date", "last_name;first_name;email"]
with open(f"{d}/report/affected_persons.csv", "w") as f:
    f.write("person_id,categories\n")
    for i in range(n):
        f.write(f"P{i:06},{cats[i % 4]}\n")
with open(f"{d}/contacts.csv", "w") as f:
    f.write("id,email\n")
    for i in range(n):
        f.write(f"P{i:06},person{i:06}@bench.example.fr\n")
with open(f"{d}/incident.toml", "w") as f:
    f.write('organisation = "Agence Bench"\ncontact = "dpo@agence.example.org"\n')
PY
${WRAP:-/usr/bin/time -f "wall %e s, user %U s, sys %S s, peak RSS %M KiB"} \
  "$LEAKTRACE" --home "$D/ws" --key-file "$D/k.key" --quiet notify \
  --report "$D/report" --incident-file "$D/incident.toml" --contacts "$D/contacts.csv" \
  --from dpo@agence.example.org --rate 0 \
  --smtp-host 127.0.0.1 --smtp-port "$PORT" --smtp-security plain
echo "messages at the server: $(ls "$D/mail" | grep -c '\.eml$')"
