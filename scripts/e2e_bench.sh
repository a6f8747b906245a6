#!/usr/bin/env bash
# End-to-end scenario: otlpd (OTLP/gRPC receiver → nop exporter) pinned to core 0, `otlpd loadgen`
# pinned to core 1 sending realistic spans as fast as otlpd takes them. Prints spans/s and otlpd's
# CPU seconds and RSS from its own /metrics. Everything binds 127.0.0.1; every wait is bounded.
# A quick single run; `make bench` runs the full set of scenarios in scripts/e2e_scenarios.sh.
#
#   scripts/e2e_bench.sh BUILD_DIR            (DURATION=10s CONCURRENCY=4 BATCH=1000 to change)
set -euo pipefail

build_dir=${1:?usage: e2e_bench.sh BUILD_DIR}
bin="$build_dir/src/otlpd"
duration=${DURATION:-10s}
concurrency=${CONCURRENCY:-4}
batch=${BATCH:-1000}
[[ -x "$bin" ]] || { echo "e2e_bench: no otlpd binary at $bin" >&2; exit 2; }

# Two cores give each side its own; on one core both share it and the numbers say less.
server_cpu=0
client_cpu=1
if (( $(nproc) < 2 )); then
  client_cpu=0
  echo "e2e_bench: only one core; otlpd and loadgen share it" >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/otlpd-e2e-XXXXXX")
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/config.yaml" <<'YAML'
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
exporters:
  nop:
service:
  telemetry: { metrics: { address: "127.0.0.1:0" }, logs: { level: warn } }
  pipelines:
    traces: { receivers: [otlp], exporters: [nop] }
YAML

taskset -c "$server_cpu" "$bin" serve --config "$work/config.yaml" --ready-file "$work/ready.json" \
  >"$work/otlpd.out" 2>"$work/otlpd.err" &
pid=$!
for _ in $(seq 200); do
  [[ -s "$work/ready.json" ]] && break
  kill -0 "$pid" 2>/dev/null || { echo "e2e_bench: otlpd exited:" >&2; cat "$work/otlpd.err" >&2; exit 1; }
  sleep 0.1
done
[[ -s "$work/ready.json" ]] || { echo "e2e_bench: otlpd not ready after 20 s" >&2; exit 1; }

ready_value() { sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p" "$work/ready.json"; }
grpc_endpoint=$(ready_value 'otlp\.grpc')
metrics_endpoint=$(ready_value 'telemetry\.metrics')
[[ -n "$grpc_endpoint" && -n "$metrics_endpoint" ]] || {
  echo "e2e_bench: unexpected ready file: $(cat "$work/ready.json")" >&2; exit 1; }

# One unlabelled sample of otlpd's /metrics.
metric() {
  curl -fsS --max-time 5 "http://$metrics_endpoint/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

cpu_before=$(metric process_cpu_seconds_total)
# loadgen's own CPU time shows whether the generator, not otlpd, was the limit.
TIMEFORMAT='%U %S'
{ time timeout 300 taskset -c "$client_cpu" "$bin" loadgen --signal traces --protocol grpc \
  --endpoint "$grpc_endpoint" --rate unlimited --duration "$duration" --batch "$batch" \
  --concurrency "$concurrency" --json --quiet >"$work/report.json" 2>"$work/loadgen.err" || true
} 2>"$work/loadgen.time"
loadgen_cpu=$(awk 'END { print $1 + $2 }' "$work/loadgen.time")
cpu_after=$(metric process_cpu_seconds_total)
rss=$(metric process_resident_memory_bytes)

json_number() { sed -n "s/.*\"$1\":\([-0-9.e+]*\).*/\1/p" "$work/report.json" | head -1; }
spans_per_s=$(json_number items_per_second)
elapsed=$(json_number elapsed_seconds)
acked=$(sed -n 's/.*"items":{[^}]*"acknowledged":\([0-9]*\).*/\1/p' "$work/report.json")
failed=$(sed -n 's/.*"items":{[^}]*"failed":\([0-9]*\).*/\1/p' "$work/report.json")
refused=$(sed -n 's/.*"items":{[^}]*"refused":\([0-9]*\).*/\1/p' "$work/report.json")
bytes=$(json_number encoded_bytes_per_item)
p50=$(json_number p50)
p99=$(json_number p99)
[[ -n "$spans_per_s" ]] || {
  echo "e2e_bench: loadgen produced no report" >&2; cat "$work/loadgen.err" >&2; exit 1; }

echo "scenario: traces, OTLP/gRPC → nop; otlpd on core $server_cpu, loadgen on core $client_cpu"
echo "loadgen:  batch $batch, concurrency $concurrency, unlimited rate, $duration, ${bytes} bytes/span"
awk -v sps="$spans_per_s" -v el="$elapsed" -v ack="$acked" -v ref="$refused" -v fail="$failed" \
    -v c0="$cpu_before" -v c1="$cpu_after" -v rss="$rss" -v p50="$p50" -v p99="$p99" \
    -v lcpu="$loadgen_cpu" 'BEGIN {
  cpu = c1 - c0
  printf "spans/s:  %.0f acknowledged (%d spans in %.2f s; refused %d, failed %d)\n", sps, ack, el, ref, fail
  printf "latency:  p50 %.2f ms, p99 %.2f ms\n", p50, p99
  printf "otlpd:    %.2f CPU seconds (%.0f%% of one core), %.0f spans per CPU second\n", cpu, 100 * cpu / el, (cpu > 0 ? ack / cpu : 0)
  printf "otlpd:    RSS %.1f MiB after the run\n", rss / 1048576
  printf "loadgen:  %.2f CPU seconds (%.0f%% of one core)\n", lcpu, 100 * lcpu / el
}'
