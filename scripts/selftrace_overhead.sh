#!/usr/bin/env bash
# Issue #16: what self-tracing at ratio 0.01 costs ingest. Two otlpd of the same binary run side
# by side on core 0 — one with service.telemetry.traces off (level none), one with it on (level
# basic, parent-based root ratio 0.01, its own spans into an embedded receiver → nop) — each fed
# OTLP/gRPC → nop by its own `otlpd loadgen --rate RATE` on core 1, at the same time, so that the
# machine's noise hits both alike. Per round: each otlpd's process CPU seconds (from /metrics) and
# the on/off ratio. Every process binds 127.0.0.1 port 0 and is stopped by PID.
#
# CONTROL=1 runs the same with tracing off on both sides (an A/A run: how far apart two equal
# processes measure on this machine).
#
#   scripts/selftrace_overhead.sh BUILD_DIR     env: RATE=100000 DURATION=20s ROUNDS=3 CONTROL=0
set -uo pipefail
build_dir=${1:?usage: selftrace_overhead.sh BUILD_DIR}
bin="$build_dir/src/otlpd"
rate=${RATE:-100000}
duration=${DURATION:-20s}
rounds=${ROUNDS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/otlpd-selftrace-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

write_config() {  # DIR TRACES_YAML
  cat >"$1/config.yaml" <<YAML
receivers:
  otlp: { protocols: { grpc: { endpoint: "127.0.0.1:0" } } }
  embedded/self: {}
exporters:
  nop:
service:
  telemetry:
    metrics: { address: "127.0.0.1:0" }
    logs: { level: warn }
$2
  pipelines:
    traces: { receivers: [otlp], exporters: [nop] }
    traces/self: { receivers: [embedded/self], exporters: [nop] }
YAML
}
mkdir -p "$work/off" "$work/on"
write_config "$work/off" "    traces: { level: none }"
if [[ "${CONTROL:-0}" == 1 ]]; then
  write_config "$work/on" "    traces: { level: none }"
else
  write_config "$work/on" "    traces:
      level: basic
      sampler: { parent_based: { root: { trace_id_ratio_based: { ratio: 0.01 } } } }
      processors: [ { batch: { exporter: { pipelines: { receiver: embedded/self } } } } ]"
fi
for side in off on; do
  taskset -c 0 "$bin" serve --config "$work/$side/config.yaml" --ready-file "$work/$side/ready.json" \
    >"$work/$side/out" 2>"$work/$side/err" &
  pids+=($!)
done
for side in off on; do
  for _ in $(seq 100); do [[ -s "$work/$side/ready.json" ]] && break; sleep 0.1; done
  [[ -s "$work/$side/ready.json" ]] || { echo "otlpd ($side) did not start" >&2; cat "$work/$side/err" >&2; exit 1; }
done
ready() { sed -n "s/.*\"$2\" *: *\"\([^\"]*\)\".*/\1/p" "$work/$1/ready.json"; }
cpu() { curl -fsS --max-time 5 "http://$(ready "$1" 'telemetry\.metrics')/metrics" |
  awk '$1 == "process_cpu_seconds_total" { print $2 }'; }
spans() { curl -fsS --max-time 5 "http://$(ready on 'telemetry\.metrics')/metrics" |
  awk '$1 ~ /^otlpd_selftrace_spans_total/ && /exported/ { n += $2 } END { print n + 0 }'; }

echo "| round | off: CPU-s | on: CPU-s | on / off | spans acked off / on | own spans exported |"
echo "| --- | --- | --- | --- | --- | --- |"
sum_off=0; sum_on=0
for r in $(seq "$rounds"); do
  off0=$(cpu off); on0=$(cpu on); s0=$(spans)
  loaders=()
  for side in off on; do
    timeout 300 taskset -c 1 "$bin" loadgen --protocol grpc \
      --endpoint "$(ready "$side" 'otlp\.grpc')" --rate "$rate" --duration "$duration" --json \
      --quiet >"$work/$side/load.json" 2>/dev/null &
    loaders+=($!)
  done
  for p in "${loaders[@]}"; do wait "$p"; done
  sleep 1
  off1=$(cpu off); on1=$(cpu on); s1=$(spans)
  acked() { sed -n 's/.*"items":{[^}]*"acknowledged":\([0-9]*\).*/\1/p' "$work/$1/load.json"; }
  awk -v r="$r" -v a="$off0" -v b="$off1" -v c="$on0" -v d="$on1" -v ao="$(acked off)" \
    -v an="$(acked on)" -v s="$(awk -v x="$s0" -v y="$s1" 'BEGIN { print y - x }')" 'BEGIN {
      printf "| %d | %.3f | %.3f | %.4f | %d / %d | %d |\n", r, b - a, d - c, (d - c) / (b - a), ao, an, s }'
  sum_off=$(awk -v x="$sum_off" -v a="$off0" -v b="$off1" 'BEGIN { print x + b - a }')
  sum_on=$(awk -v x="$sum_on" -v a="$on0" -v b="$on1" 'BEGIN { print x + b - a }')
done
awk -v a="$sum_off" -v b="$sum_on" 'BEGIN { printf "| all | %.3f | %.3f | %.4f | | |\n", a, b, b / a }'
