#!/usr/bin/env bash
# An invalid incident file (or --discovered-at) must stop `analyze` before any work: time it on a
# 1 M-row leak (issue 15: < 1 s). The leak is never opened, so no workspace is needed.
# Usage: bench/incident-fail-fast.sh [path/to/leaktrace]   (default: target/release/leaktrace)
set -euo pipefail
bin=${1:-target/release/leaktrace}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir/leak.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("nom;prenom;email;tel\n")
    for i in range(1_000_000):
        f.write(f"NOM{i};Prenom{i};p{i}@example.invalid;06{i:08d}\n")
PY
printf '[severity]\ndpc = 9\n' > "$dir/bad.toml"
echo "leak: $(wc -l < "$dir/leak.csv") lines, $(du -h "$dir/leak.csv" | cut -f1)"
for args in "--incident $dir/bad.toml" "--discovered-at 2026-11-20T09:30+garbage"; do
    start=$(date +%s.%N)
    set +e
    # shellcheck disable=SC2086
    LEAKTRACE_HOME="$dir/none" "$bin" analyze "$dir/leak.csv" $args 2> "$dir/err"
    rc=$?
    set -e
    end=$(date +%s.%N)
    printf '%-45s exit %d in %.3f s: %s\n' "$args" "$rc" "$(echo "$end - $start" | bc)" \
        "$(head -c 100 "$dir/err" | tr '\n' ' ' | sed "s|$dir/||g")"
done
