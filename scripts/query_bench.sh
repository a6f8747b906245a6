#!/usr/bin/env bash
# Query API over a large store: fills (once) a store of OTLPD_QUERY_BENCH_SPANS spans (default 5
# million, ~1.3 GB zstd, through the store exporter's writer, in about a minute) under /tmp, then
# times trace by id, one-hour searches, services and operations on one core (bench/query_bench.cc).
# The store is kept for the next run; delete OTLPD_QUERY_BENCH_DIR to refill it.
# Usage: scripts/query_bench.sh [build_dir] [extra Google Benchmark flags]
set -euo pipefail
build_dir=${1:-build}
cd "$(dirname "$0")/.."
export OTLPD_QUERY_BENCH_SPANS=${OTLPD_QUERY_BENCH_SPANS:-5000000}
export OTLPD_QUERY_BENCH_DIR=${OTLPD_QUERY_BENCH_DIR:-/tmp/otlpd-query-bench-${OTLPD_QUERY_BENCH_SPANS}}
echo "query bench: ${OTLPD_QUERY_BENCH_SPANS} spans in ${OTLPD_QUERY_BENCH_DIR}" \
  "(machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi
start=$(date +%s)
"${pin[@]}" "$build_dir/bench/otlpd_bench" --benchmark_filter='BM_Query' \
  --benchmark_min_time=0.5 "${@:2}"
echo "query bench: $(( $(date +%s) - start )) s including the fill; store size:" \
  "$(du -sh "$OTLPD_QUERY_BENCH_DIR" | cut -f1)"

# Every endpoint the UI calls over multi-service traces with a week of rollup history
# (bench/query_scale_bench.cc), at 5M and 20M spans in the last hour; the full-scan RED and
# dependencies (how they were answered before the rollups) run at 5M only. Stores are kept under
# /tmp (OTLPD_SCALE_BENCH_DIR_<n>), ~1.3 GB per 5M spans.
for spans in ${OTLPD_SCALE_BENCH_SIZES:-5000000 20000000}; do
  start=$(date +%s)
  dir_var=OTLPD_SCALE_BENCH_DIR_${spans}
  export OTLPD_SCALE_BENCH_DIR=${!dir_var:-/tmp/otlpd-scale-bench-${spans}}
  echo "query-at-scale bench: ${spans} spans in the last hour, in ${OTLPD_SCALE_BENCH_DIR}"
  OTLPD_SCALE_BENCH_SPANS=$spans "${pin[@]}" "$build_dir/bench/otlpd_bench" \
    --benchmark_filter='BM_ScaleQuery' --benchmark_min_time=0.5 "${@:2}"
  echo "query-at-scale bench: $(( $(date +%s) - start )) s including the fill; store size:" \
    "$(du -sh "$OTLPD_SCALE_BENCH_DIR" | cut -f1), rollups $(du -sh "$OTLPD_SCALE_BENCH_DIR/rollups" | cut -f1)"
done
