#!/usr/bin/env bash
# Runs every benchmark binary of a build and prints the results; numbers are ratios within one
# run (shared machines are noisy), recorded in docs/BENCHMARKS.md.
set -euo pipefail
build_dir=${1:-build}
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
"$build_dir/bench/otlpd_bench" --benchmark_min_time=0.5 "${@:2}"
