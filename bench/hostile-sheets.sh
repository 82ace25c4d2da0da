#!/usr/bin/env bash
# Hostile workbooks (far cell references, declared and huge shared-string tables, many sheets,
# ODS repeats): each read in a child process under a 500 MB address-space cap (RLIMIT_AS); the
# test fails if one is not refused or the child dies. Prints each case's wall time and error
# (issue 15: < 5 s each).
# Usage: bench/hostile-sheets.sh [--release]
set -euo pipefail
cargo test ${1:-} -p leaktrace-io --test hostile_sheets -- --nocapture 2>&1 | grep 'hostile-sheets:' \
    | sed -E 's|/tmp/[^ ]*/||'
