#!/usr/bin/env bash
# `make bench`: every micro-benchmark, then the end-to-end scenario (otlpd and the load
# generator pinned to their own cores). Numbers are compared as ratios within one run (shared
# machines are noisy) and recorded in docs/BENCHMARKS.md.
set -euo pipefail
build_dir=${1:-build}
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
"$build_dir/bench/otlpd_bench" --benchmark_min_time=0.5 "${@:2}"
echo
echo "end-to-end: OTLP/gRPC traces -> nop"
DURATION=${DURATION:-5s} scripts/e2e_bench.sh "$build_dir"
