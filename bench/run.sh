#!/usr/bin/env bash
# bench/run.sh - runs every benchmark (bench/*.sh and the built bench_*
# programs) and prints their numbers. Benchmarks print lines "BENCH name: value unit (goal ...)".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export FAULTLINE="${FAULTLINE:-$PWD/faultline}" BUILD
mkdir -p bench-output
for b in "$BUILD"/bench/bench_*; do [ -x "$b" ] && { echo "== $(basename "$b")"; "$b"; }; done
for b in bench/*.sh; do [ "$b" = bench/run.sh ] && continue; [ -f "$b" ] && { echo "== $(basename "$b" .sh)"; bash "$b"; }; done
