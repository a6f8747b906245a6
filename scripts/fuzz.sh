#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for N seconds each on a scratch copy of its seed
# corpus (fuzz/corpus/<target>/), so that runs never grow the repository. Fails on any crash,
# leak, timeout or out-of-memory; the input that caused it is kept in <build>/fuzz-artifacts/.
# Usage: scripts/fuzz.sh <build dir> <seconds per target>
# Environment: FUZZ_TARGETS (space-separated names, default all), FUZZ_JOBS (targets run at once,
# default 1), FUZZ_CORPUS_OUT (keep the grown corpora there instead of deleting them), FUZZ_SEED
# (libFuzzer's -seed; unset, each run picks its own). With a seed the inputs come in a fixed
# sequence, so a shorter run tries a prefix of what a longer run with that seed tried.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:?build dir}
seconds=${2:?seconds per target}
jobs=${FUZZ_JOBS:-1}
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/otlpd-fuzz-XXXXXX")
trap 'rm -rf "$scratch"' EXIT

targets=()
if [[ -n ${FUZZ_TARGETS:-} ]]; then
  for t in $FUZZ_TARGETS; do targets+=("${t%_fuzzer}"); done
else
  for f in fuzz/*_fuzzer.cc; do
    t=$(basename "$f" .cc)
    targets+=("${t%_fuzzer}")
  done
fi

run_one() {
  local t=$1 bin=$build/fuzz/${1}_fuzzer corpus=$scratch/$1 log=$scratch/$1.log
  if [[ ! -x $bin ]]; then
    echo "$t: $bin is missing (make fuzz-build)" >"$scratch/$t.result"
    return 1
  fi
  mkdir -p "$corpus"
  [[ -d fuzz/corpus/$t ]] && cp -r "fuzz/corpus/$t/." "$corpus/"
  local rc=0 seed=()
  [[ -n ${FUZZ_SEED:-} ]] && seed=(-seed="$FUZZ_SEED")
  # A single input may take 10 s (sanitizers, a 256 KiB body), and 2 GiB at most.
  "$bin" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2560 \
    -malloc_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/$t-" "${seed[@]}" \
    >"$log" 2>&1 || rc=$?
  local execs rate files
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  files=$(find "$corpus" -type f | wc -l)
  if [[ -n ${FUZZ_CORPUS_OUT:-} ]]; then
    mkdir -p "$FUZZ_CORPUS_OUT/$t" && cp -r "$corpus/." "$FUZZ_CORPUS_OUT/$t/"
  fi
  if ((rc == 0)); then
    printf '%-20s %10s execs %8s/s %6s corpus files  ok\n' "$t" "${execs:-?}" "${rate:-?}" \
      "$files" >"$scratch/$t.result"
  else
    {
      printf '%-20s %10s execs %8s/s %6s corpus files  FAILED (exit %d)\n' "$t" "${execs:-?}" \
        "${rate:-?}" "$files" "$rc"
      grep -E 'ERROR|SUMMARY|fuzz property|Test unit written|^ *#[0-9]+ 0x' "$log" | head -40
    } >"$scratch/$t.result"
    cp "$log" "$artifacts/$t.log"
    return 1
  fi
}

failed=0
running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while ((running > 0)); do
  wait -n || failed=1
  running=$((running - 1))
done

echo "fuzz: ${#targets[@]} targets, ${seconds}s each"
passed=0
for t in "${targets[@]}"; do
  cat "$scratch/$t.result" 2>/dev/null || echo "$t: no result"
  grep -q ' ok$' "$scratch/$t.result" 2>/dev/null && passed=$((passed + 1))
done
echo "fuzz: $passed passed, $((${#targets[@]} - passed)) failed"
if ((failed)); then
  echo "fuzz: FAILED; inputs and logs in $artifacts/ (rerun one: $build/fuzz/<target>_fuzzer <input>)"
  exit 1
fi
