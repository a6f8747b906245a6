#!/usr/bin/env bash
# Installs what building and testing otlpd needs on Debian 12, and nothing that is already there.
# Idempotent and quiet when everything is present: `make run` and `make test` call it every time.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev
  libabsl-dev libboost-dev libsimdjson-dev nlohmann-json3-dev libfmt-dev libspdlog-dev
  libyaml-cpp-dev libcli11-dev zlib1g-dev libdeflate-dev libisal-dev libzstd-dev libre2-dev liblz4-dev libflatbuffers-dev flatbuffers-compiler libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  nodejs npm curl procps
  chromium fonts-dejavu-core
  nginx
  libsnappy-dev prometheus
  python3-dev python3-pybind11 python3-numpy python3-pytest cargo rustc
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# A machine may carry node/npm from elsewhere (not Debian's packages); that is good enough.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Test clients from npm (the official OpenTelemetry JS SDK), pinned by the lockfile.
if [[ -f tests/interop/package-lock.json ]]; then
  stamp=tests/interop/node_modules/.otlpd-lock-stamp
  if [[ ! -f $stamp ]] || ! cmp -s tests/interop/package-lock.json "$stamp"; then
    echo "setup: npm ci (tests/interop)"
    npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error >/dev/null
    cp tests/interop/package-lock.json "$stamp"
  fi
fi
