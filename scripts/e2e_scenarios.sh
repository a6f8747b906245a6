#!/usr/bin/env bash
# End-to-end scenarios of issues #5 and #6. otlpd (the one measured) is pinned to core 0 and
# `otlpd loadgen` to core 1; a downstream otlpd (forwarding scenarios) shares core 1 with loadgen.
# For every scenario, one Markdown table row:
#   - saturation: loadgen at unlimited rate for SAT_DURATION; items acknowledged per second of
#     wall time and per CPU-second of otlpd (from its process_cpu_seconds_total, read before and
#     after, once otlpd has gone idle again, so queued work is counted too);
#   - CPU% of one core at 10k and 100k items/s (loadgen --rate, FIXED_DURATION each);
#   - RSS of otlpd idle (before any load), the highest of samples taken every 0.5 s during the
#     100k items/s run (which comes before saturation) and during the saturation run;
#   - p99 request latency at half the saturation rate (FIXED_DURATION);
#   - the ceiling: BM_CeilingDecodeLoadgen{Traces,Logs,Metrics} (bench/ceiling_bench.cc) parsing
#     the very request loadgen sends with protobuf on an arena, on core 0; and otlpd / ceiling
#     (items per otlpd CPU-second over ceiling items/s).
# Every process binds 127.0.0.1 port 0 (ports from --ready-file), is started and stopped by PID,
# and every wait is bounded.
#
#   scripts/e2e_scenarios.sh BUILD_DIR
#   env: SAT_DURATION=4s (or DURATION) FIXED_DURATION=3s CONCURRENCY=4 BATCH=1000
#        FILE_PATH=/dev/null (the file scenario's output; default: a file in its scratch directory)
#        SCENARIOS="traces-grpc-nop logs-grpc-nop"   (a subset; default: all, see `all_scenarios`)
set -uo pipefail

build_dir=${1:?usage: e2e_scenarios.sh BUILD_DIR}
bin="$build_dir/src/otlpd"
bench_bin="$build_dir/bench/otlpd_bench"
sat_duration=${SAT_DURATION:-${DURATION:-4s}}
fixed_duration=${FIXED_DURATION:-3s}
concurrency=${CONCURRENCY:-4}
batch=${BATCH:-1000}
[[ -x "$bin" ]] || { echo "e2e_scenarios: no otlpd binary at $bin" >&2; exit 2; }
[[ -x "$bench_bin" ]] || { echo "e2e_scenarios: no benchmark binary at $bench_bin" >&2; exit 2; }

# name: signal protocol input-compression topology
#   topology: nop | processors | file | store | store-sync | fwd-<none|gzip>-<memory|persistent>[-interval]
#   an optional sixth field sets loadgen's concurrency for that scenario (else CONCURRENCY)
all_scenarios=(
  "traces-grpc-nop traces grpc none nop"
  "logs-grpc-nop logs grpc none nop"
  "metrics-grpc-nop metrics grpc none nop"
  "traces-grpc-store-zstd traces grpc none store"
  "metrics-grpc-store-zstd metrics grpc none store"
  "traces-grpc-store-zstd-c8 traces grpc none store 8"
  "traces-grpc-store-zstd-sync-c8 traces grpc none store-sync 8"
  "traces-grpc-otlp_grpc traces grpc none fwd-none-memory"
  "traces-grpc-otlp_grpc-gzip traces grpc none fwd-gzip-memory"
  "traces-grpc-otlp_grpc-persistent traces grpc none fwd-none-persistent"
  "traces-grpc-otlp_grpc-persistent-gzip traces grpc none fwd-gzip-persistent"
  "traces-grpc-otlp_grpc-persistent-c8 traces grpc none fwd-none-persistent 8"
  "traces-grpc-otlp_grpc-persistent-interval-c8 traces grpc none fwd-none-persistent-interval 8"
  "traces-http_proto-nop traces http/protobuf none nop"
  "traces-http_json-nop traces http/json none nop"
  "traces-zipkin_json-nop traces zipkin/json none nop"
  "traces-zipkin_proto-nop traces zipkin/proto none nop"
  "traces-jaeger_thrift_http-nop traces jaeger/thrift_http none nop"
  "traces-jaeger_grpc-nop traces jaeger/grpc none nop"
  "traces-grpc-gzip_in-nop traces grpc gzip nop"
  "traces-http_proto-zstd_in-nop traces http/protobuf zstd nop"
  "traces-grpc-processors-nop traces grpc none processors"
  "traces-grpc-file traces grpc none file"
)

server_cpu=0
client_cpu=1
if (($(nproc) < 2)); then
  client_cpu=0
  echo "e2e_scenarios: only one core; otlpd and loadgen share it" >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/otlpd-e2e-XXXXXX")
pids=()
stop_pid() {
  local p=$1
  kill -0 "$p" 2>/dev/null || return 0
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
stop_all() {  # newest first: a forwarding otlpd stops before its downstream
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[$i]}"; done
  pids=()
}
cleanup() {
  stop_all
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_otlpd DIR CPU: starts otlpd with DIR/config.yaml, waits (≤ 20 s) for DIR/ready.json.
# Sets started_pid.
start_otlpd() {
  local dir=$1 cpu=$2
  rm -f "$dir/ready.json"
  taskset -c "$cpu" "$bin" serve --config "$dir/config.yaml" --ready-file "$dir/ready.json" \
    >"$dir/otlpd.out" 2>"$dir/otlpd.err" &
  started_pid=$!
  pids+=("$started_pid")
  for _ in $(seq 200); do
    [[ -s "$dir/ready.json" ]] && return 0
    kill -0 "$started_pid" 2>/dev/null || {
      echo "e2e_scenarios: otlpd exited:" >&2; cat "$dir/otlpd.err" >&2; return 1; }
    sleep 0.1
  done
  echo "e2e_scenarios: otlpd not ready after 20 s" >&2
  return 1
}
ready_value() { sed -n "s/.*\"$2\" *: *\"\([^\"]*\)\".*/\1/p" "$1/ready.json"; }

metric() {  # metric ENDPOINT NAME: one unlabelled sample of otlpd's /metrics
  curl -fsS --max-time 5 "http://$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'
}
# CPU seconds once otlpd is idle again (queued work drained): stable for `settle_window` s,
# at most 15 s.
settled_cpu() {
  local ep=$1 prev cur
  prev=$(metric "$ep" process_cpu_seconds_total)
  for _ in $(seq 30); do
    sleep "$settle_window"
    cur=$(metric "$ep" process_cpu_seconds_total)
    awk -v a="$prev" -v b="$cur" 'BEGIN { exit !(b - a < 0.01) }' && break
    prev=$cur
  done
  echo "$cur"
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# run_load OUT RATE DURATION [SEED]: loadgen on the client core against the scenario's endpoint;
# samples the measured otlpd's RSS every 0.5 s while it runs (highest in max_rss_kib).
run_load() {
  local out=$1 rate=$2 duration=$3 seed=${4:-0} lpid r
  # Store scenarios at a fixed rate send as many distinct requests as the run holds, so that no
  # trace id or attribute value comes back: the store's dictionaries, zstd and the rollups' edge
  # joiner then see production-like data (issue #18: repeating ids hid ~0.9 us per span of the
  # joiner). Their saturation runs cannot know their length: loadgen renews the ids of every
  # request it sends instead (--unique-ids; traces and logs, which have ids). Before it they sent
  # 16,000 distinct spans in turn, so URLs with ids came back and filled the store's dictionary.
  local variants=()
  if [[ $run_topology == store* && $rate != unlimited && ${duration%s} =~ ^[0-9]+$ ]]; then
    variants=(--variants $((rate * ${duration%s} / batch + 1)))
  elif [[ $run_topology == store* && $signal != metrics && $protocol == grpc ]]; then
    variants=(--unique-ids)
  fi
  timeout 120 taskset -c "$client_cpu" "$bin" loadgen --signal "$signal" --protocol "$protocol" \
    --endpoint "$endpoint" --compression "$compression" --rate "$rate" --duration "$duration" \
    --batch "$batch" --concurrency "${scenario_concurrency:-$concurrency}" "${variants[@]}" \
    --seed "$seed" \
    --json --quiet >"$out" 2>"$out.err" &
  lpid=$!
  max_rss_kib=0
  while kill -0 "$lpid" 2>/dev/null; do
    r=$(rss_kib "$main_pid")
    ((r > max_rss_kib)) && max_rss_kib=$r
    sleep 0.5
  done
  wait "$lpid" 2>/dev/null || true
  [[ -s "$out" ]] || {
    echo "e2e_scenarios: $name: loadgen at rate $rate gave no report: $(head -c 400 "$out.err")" >&2; }
}
json_number() { sed -n "s/.*\"$2\":\([-0-9.e+]*\).*/\1/p" "$1" | head -1; }
json_item() { sed -n "s/.*\"items\":{[^}]*\"$2\":\([0-9]*\).*/\1/p" "$1"; }

# --- the ceiling, per signal, on otlpd's core -------------------------------------------------
echo "ceiling: protobuf decode on an arena of loadgen's requests, core $server_cpu"
taskset -c "$server_cpu" "$bench_bin" --benchmark_filter='^BM_CeilingDecodeLoadgen' \
  --benchmark_min_time=0.5 --benchmark_format=csv >"$work/ceiling.csv" 2>/dev/null || true
ceiling_of() {
  awk -F, -v want="BM_CeilingDecodeLoadgen$1" '
    NR == 1 || /^name,/ { for (i = 1; i <= NF; i++) col[$i] = i; next }
    { n = $1; gsub(/"/, "", n); if (n == want && ("items_per_second" in col)) print $col["items_per_second"] }' \
    "$work/ceiling.csv"
}
declare -A ceiling
ceiling[traces]=$(ceiling_of Traces)
ceiling[logs]=$(ceiling_of Logs)
ceiling[metrics]=$(ceiling_of Metrics)
for s in traces logs metrics; do printf '  %-8s %.0f items/s\n' "$s" "${ceiling[$s]:-0}"; done

# --- configs ----------------------------------------------------------------------------------
# The Zipkin and Jaeger protocols of loadgen need their receiver beside otlp.
extra_receiver_yaml() {
  case "$protocol" in
    zipkin/*) echo '  zipkin: { endpoint: "127.0.0.1:0" }' ;;
    jaeger/*) printf '  jaeger:\n    protocols:\n      thrift_http: { endpoint: "127.0.0.1:0" }\n      grpc: { endpoint: "127.0.0.1:0" }\n' ;;
  esac
}
extra_receiver_id() {
  case "$protocol" in
    zipkin/*) echo ", zipkin" ;;
    jaeger/*) echo ", jaeger" ;;
  esac
}

write_config() {  # write_config DIR SIGNAL EXPORTER_YAML EXPORTER_ID [PROCESSORS_YAML PROCESSOR_IDS]
  cat >"$1/config.yaml" <<YAML
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
      http: { endpoint: "127.0.0.1:0" }
$(extra_receiver_yaml)
processors:
${5:-  {\}}
exporters:
$3
service:
  telemetry: { metrics: { address: "127.0.0.1:0" }, logs: { level: warn } }
  pipelines:
    $2: { receivers: [otlp$(extra_receiver_id)], processors: [${6:-}], exporters: [$4] }
YAML
}

# Issue #11's processor chain: enrich, scrub and filter (~1.5% of loadgen's spans: the client spans
# with status code 500) before batch → nop. The batch sends each 1000 spans: with the default
# (8192, 200 ms) and loadgen's 4 requests in flight, honest batching makes every request wait for
# the timeout and the run measures that wait, not the processors.
processors_yaml='  memory_limiter: { check_interval: 1s, limit_mib: 2048 }
  resourcedetection: { detectors: [env, system] }
  resource:
    attributes:
      - { key: deployment.region, value: eu-west-1, action: upsert }
  attributes:
    actions:
      - { key: user_agent.original, action: delete }
      - { key: client.address, action: hash }
  filter:
    error_mode: ignore
    traces:
      span:
        - attributes["http.response.status_code"] == 500 and kind == SPAN_KIND_CLIENT
  batch: { send_batch_size: 1000 }'
processor_ids="memory_limiter, resourcedetection, resource, attributes, filter, batch"

rows=()
run_scenario() {
  local name=$1 topology=$5
  signal=$2 protocol=$3 compression=$4 run_topology=$5
  local dir="$work/$name"
  mkdir -p "$dir/a" "$dir/b"
  settle_window=0.5
  case "$topology" in
    nop) write_config "$dir/a" "$signal" "  nop:" nop ;;
    processors) write_config "$dir/a" "$signal" "  nop:" nop "$processors_yaml" "$processor_ids" ;;
    file)  # issue #18: every batch one line of OTLP/JSON (the direct encoder), to FILE_PATH
      write_config "$dir/a" "$signal" "  file: { path: \"${FILE_PATH:-$dir/a/out.json}\" }" file ;;
    store)
      settle_window=1.2  # the store writes every write_interval (1 s)
      write_config "$dir/a" "$signal" \
        "  store: { directory: \"$dir/a/store\", compression: zstd }" store ;;
    store-sync)  # issue #18: the OK only once the rows are fdatasync'ed (group commit)
      settle_window=1.2
      write_config "$dir/a" "$signal" \
        "  store: { directory: \"$dir/a/store\", compression: zstd, durability: sync }" store ;;
    fwd-*)
      local fwd_compression fwd_queue fwd_durability storage=""
      IFS=- read -r _ fwd_compression fwd_queue fwd_durability <<<"$topology"
      [[ "$fwd_queue" == persistent ]] && storage=", storage: \"$dir/a/queue\""
      [[ -n "$fwd_durability" ]] && storage="$storage, durability: $fwd_durability"
      write_config "$dir/b" "$signal" "  nop:" nop
      start_otlpd "$dir/b" "$client_cpu" || { rows+=("| $name | otlpd B did not start |"); stop_all; return; }
      local downstream
      downstream=$(ready_value "$dir/b" 'otlp\.grpc')
      write_config "$dir/a" "$signal" "  otlp_grpc:
    endpoint: \"$downstream\"
    tls: { insecure: true }
    compression: $fwd_compression
    sending_queue: { num_consumers: 4, queue_size: 64, block_on_overflow: true$storage }" otlp_grpc ;;
  esac
  start_otlpd "$dir/a" "$server_cpu" || { rows+=("| $name | otlpd did not start |"); stop_all; return; }
  main_pid=$started_pid
  local metrics_ep
  metrics_ep=$(ready_value "$dir/a" 'telemetry\.metrics')
  if [[ "$protocol" == grpc ]]; then
    endpoint=$(ready_value "$dir/a" 'otlp\.grpc')
  elif [[ "$protocol" == zipkin/* ]]; then
    endpoint="http://$(ready_value "$dir/a" 'zipkin\.http')"
  elif [[ "$protocol" == jaeger/thrift_http ]]; then
    endpoint="http://$(ready_value "$dir/a" 'jaeger\.thrift_http')"
  elif [[ "$protocol" == jaeger/grpc ]]; then
    endpoint=$(ready_value "$dir/a" 'jaeger\.grpc')
  else
    endpoint="http://$(ready_value "$dir/a" 'otlp\.http')"
  fi
  sleep 1
  local idle_rss c0 c1 sat_rss rss100
  idle_rss=$(rss_kib "$main_pid")

  # Fixed rates first, so that the RSS at 100k/s is not what saturation left behind (freed
  # memory is not given back to the kernel at once): CPU% of a core.
  local cpu10 cpu100 r10 r100
  c0=$(metric "$metrics_ep" process_cpu_seconds_total)
  run_load "$dir/r10k.json" 10000 "$fixed_duration"
  c1=$(settled_cpu "$metrics_ep")
  r10=$(json_number "$dir/r10k.json" items_per_second)
  cpu10=$(awk -v a="$c0" -v b="$c1" -v el="$(json_number "$dir/r10k.json" elapsed_seconds)" \
    'BEGIN { printf "%.1f", (el > 0 ? 100 * (b - a) / el : 0) }')
  if [[ $run_topology == store* ]]; then
    # The store's first seconds at 100k/s grow its batch buffers and tables (~30-50 MB, each
    # page faulted in once, ~15 us of CPU per fault on these VMs). That is paid once per
    # process, so the 100k/s run measures the steady state after a warm-up of other ids
    # (--seed 1). In 3-s runs the difference is within this machine's noise (BENCHMARKS.md).
    run_load "$dir/warm.json" 100000 2s 1
    settled_cpu "$metrics_ep" >/dev/null
  fi
  c0=$(metric "$metrics_ep" process_cpu_seconds_total)
  run_load "$dir/r100k.json" 100000 "$fixed_duration"
  rss100=$max_rss_kib
  c1=$(settled_cpu "$metrics_ep")
  r100=$(json_number "$dir/r100k.json" items_per_second)
  cpu100=$(awk -v a="$c0" -v b="$c1" -v el="$(json_number "$dir/r100k.json" elapsed_seconds)" \
    'BEGIN { printf "%.1f", (el > 0 ? 100 * (b - a) / el : 0) }')
  # Saturation.
  c0=$(metric "$metrics_ep" process_cpu_seconds_total)
  run_load "$dir/sat.json" unlimited "$sat_duration"
  sat_rss=$max_rss_kib
  c1=$(settled_cpu "$metrics_ep")
  local sat_rate sat_acked sat_refused sat_failed sat_elapsed bytes
  sat_rate=$(json_number "$dir/sat.json" items_per_second)
  sat_elapsed=$(json_number "$dir/sat.json" elapsed_seconds)
  sat_acked=$(json_item "$dir/sat.json" acknowledged)
  sat_refused=$(json_item "$dir/sat.json" refused)
  sat_failed=$(json_item "$dir/sat.json" failed)
  bytes=$(json_number "$dir/sat.json" body_bytes_per_item)
  if [[ -z "$sat_rate" || "${sat_acked:-0}" == 0 ]]; then
    echo "e2e_scenarios: $name: no items acknowledged at saturation:" >&2
    head -c 600 "$dir/sat.json.err" "$dir/sat.json" >&2; echo >&2
    rows+=("| $name | nothing acknowledged |"); stop_all; return
  fi
  local sat_cpu
  sat_cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')

  # A rate otlpd could not keep up with is marked: the CPU% is then that of saturation.
  awk -v r="${r10:-0}" 'BEGIN { exit !(r < 9000) }' &&
    cpu10="$cpu10 (only $(awk -v r="${r10:-0}" 'BEGIN { printf "%.0fk", r / 1000 }')/s)"
  awk -v r="${r100:-0}" 'BEGIN { exit !(r < 90000) }' &&
    cpu100="$cpu100 (only $(awk -v r="${r100:-0}" 'BEGIN { printf "%.0fk", r / 1000 }')/s)"

  # p99 at half the saturation rate.
  local half p99 p99_half
  half=$(awk -v r="$sat_rate" 'BEGIN { printf "%d", r / 2 }')
  p99=$(json_number "$dir/sat.json" p99)
  run_load "$dir/half.json" "$half" "$fixed_duration"
  p99_half=$(json_number "$dir/half.json" p99)

  stop_all
  rm -rf "$dir/a/store" "$dir/a/queue" "$dir/a/out.json"

  local ceil=${ceiling[$signal]:-0}
  local r_half
  r_half=$(json_number "$dir/half.json" items_per_second)
  awk -v name="$name" -v b="$bytes" -v r="$sat_rate" -v cpu="$sat_cpu" -v el="$sat_elapsed" \
    -v ref="${sat_refused:-0}" -v fail="${sat_failed:-0}" -v p99="$p99" -v r10="${r10:-0}" \
    -v r100="${r100:-0}" -v half="$half" -v rh="${r_half:-0}" 'BEGIN {
      printf "%s: %.0f B/item as sent; saturation %.0f items/s wall, otlpd %.2f CPU-s in %.2f s, " \
        "refused %d, failed %d, p99 %.1f ms; runs at 10k/s: %.0f/s, 100k/s: %.0f/s, %d/s: %.0f/s\n",
        name, b, r, cpu, el, ref, fail, p99, r10, r100, half, rh }' >&2
  rows+=("$(awk -v name="$name" -v rate="$sat_rate" -v ack="$sat_acked" -v cpu="$sat_cpu" \
    -v cpu10="$cpu10" -v cpu100="$cpu100" -v idle="$idle_rss" -v srss="$sat_rss" -v rss100="$rss100" \
    -v p99h="$p99_half" -v ceil="$ceil" 'BEGIN {
      per = cpu > 0 ? ack / cpu : 0
      printf "| %s | %.0fk | %.0fk | %s | %s | %.1f | %.1f | %.1f | %.1f | %.0fk | %s |",
        name, rate / 1000, per / 1000, cpu10, cpu100, idle / 1024, srss / 1024, rss100 / 1024, p99h,
        ceil / 1000, (ceil > 0 ? sprintf("%.2f", per / ceil) : "–")
    }')")
}

started=$(date +%s)
for spec in "${all_scenarios[@]}"; do
  read -r name sig proto comp topo scenario_concurrency <<<"$spec"
  if [[ -n "${SCENARIOS:-}" && " $SCENARIOS " != *" $name "* ]]; then continue; fi
  run_scenario "$name" "$sig" "$proto" "$comp" "$topo"
done

echo
echo "otlpd on core $server_cpu, loadgen (and a downstream otlpd) on core $client_cpu; batch $batch," \
  "concurrency $concurrency; saturation $sat_duration, fixed rates $fixed_duration each;" \
  "$(($(date +%s) - started)) s in all"
echo
echo "| scenario | saturation items/s (wall) | items per otlpd CPU-second | CPU% of a core at 10k/s | at 100k/s | idle RSS MiB | RSS MiB at saturation | RSS MiB at 100k/s | p99 ms at half saturation | ceiling items/s | otlpd / ceiling |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
