#!/usr/bin/env bash
# `make bench`: every micro-benchmark, then the end-to-end scenarios of scripts/e2e_scenarios.sh
# (otlpd and the load generator pinned to their own cores), then the query benchmarks over a
# 5M-span store (scripts/query_bench.sh; the store is filled once and kept under /tmp). Numbers are
# compared as ratios within one run (shared machines are noisy) and recorded in docs/BENCHMARKS.md.
set -euo pipefail
build_dir=${1:-build}
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
# The query benchmarks need large stores: they run last, pinned, from scripts/query_bench.sh.
"$build_dir/bench/otlpd_bench" --benchmark_filter='-BM_(Scale)?Query' --benchmark_min_time=0.5 "${@:2}"
echo
echo "end-to-end scenarios (SAT_DURATION, FIXED_DURATION, SCENARIOS to change)"
scripts/e2e_scenarios.sh "$build_dir"
scripts/query_bench.sh "$build_dir"

# --- otlpd as a library (docs/LIBRARY.md): the Python side; the C++ side is BM_Library* above.
if [[ -e "$build_dir/python/otlpd/__init__.py" ]]; then
  echo
  echo "library from Python"
  PYTHONPATH="$build_dir/python" /usr/bin/python3 python/bench/bench_library.py 2>/dev/null
fi
