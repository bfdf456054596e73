#!/usr/bin/env bash
# Run every benchmark once, one after another (they must not share the CPU), saving each output under
# build/bench-results/<name>.txt; benchmarks/RESULTS.md is written from these by hand, with the machine.
# Usage: scripts/bench_all.sh [--detector own|text]   (about 15 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=build/bench-results
mkdir -p "$OUT"
PE=.venv/bin/plate-edge
run() {
    local name=$1
    shift
    echo "== $name $*" | tee "$OUT/$name.txt"
    "$PE" bench "$name" "$@" 2>&1 | grep -v "^$" | tee -a "$OUT/$name.txt"
}
run reader
run detector
run image "$@"
run stream "$@"
run latency "$@" --seconds 45
run capacity "$@"
run api
