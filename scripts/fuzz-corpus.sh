#!/usr/bin/env bash
# Regenerates the seed corpus in fuzz/corpus/: binary seeds from the real encoders and writers
# (fuzz/make_seed_corpus.cc, built in the fuzz build), text seeds taken from the tests (OTTL
# statements, query API targets, golden configs). Hand-made edge cases live in
# fuzz/corpus/<target>/edge_* and the inputs of crashes found in regress_*; both are kept.
# Usage: scripts/fuzz-corpus.sh <fuzz build dir>
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?fuzz build dir}
cmake --build "$build" --target otlpd_fuzz_seeds >/dev/null
find fuzz/corpus -type f ! -name 'edge_*' ! -name 'regress_*' -delete 2>/dev/null || true
"$build/fuzz/otlpd_fuzz_seeds" fuzz/corpus
python3 - <<'PY'
import glob, hashlib, os, re

def seed(target, data):
    d = f"fuzz/corpus/{target}"
    os.makedirs(d, exist_ok=True)
    name = "t_" + hashlib.sha1(data).hexdigest()[:12]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

# OTTL: the raw strings of the OTTL tests. Selector: context (0 resource, 2 span, 4 log,
# 6 data point) | 8 for a condition.
editor = re.compile(r"^[a-z_]+\(")
for path in sorted(glob.glob("tests/ottl/*.cc")):
    text = open(path, encoding="utf-8").read()
    for s in sorted(set(re.findall(r'R"\((.*?)\)"', text, re.S))):
        if len(s) > 400 or "\n" in s:
            continue
        is_condition = not editor.match(s) or s.startswith(("not(", "true", "false"))
        context = 2
        if re.search(r"\b(body|severity_number|severity_text|log\.)", s):
            context = 4
        elif re.search(r"\b(datapoint\.|metric\.|value_double|value_int)", s):
            context = 6
        elif s.lstrip("set(").startswith("resource.") or "resource.attributes" in s[:30]:
            context = 0
        seed("ottl", bytes([context | (8 if is_condition else 0)]) + s.encode())

# Query API targets used by the tests.
targets = set()
for path in glob.glob("tests/query/*.cc") + glob.glob("tests/integration/*.cc"):
    targets.update(re.findall(r'"(/api/[^"]*)"', open(path, encoding="utf-8").read()))
for t in sorted(targets):
    seed("query_params", t.encode())

# Prometheus exposition: the parser tests' fixtures (selector 0 text, 1 OpenMetrics).
for path, selector in (("tests/prometheus/testdata/client_golang.prom", 0),
                       ("tests/prometheus/testdata/openmetrics.om", 1)):
    if os.path.exists(path):
        seed("prometheus_exposition", bytes([selector]) + open(path, "rb").read())

# Configs: the golden ones (no --set line).
for path in sorted(glob.glob("tests/config/golden/*/*.yaml")):
    seed("config", b"\n" + open(path, "rb").read())
PY
for d in fuzz/corpus/*/; do echo "$(basename "$d"): $(find "$d" -type f | wc -l) files, $(du -sk "$d" | cut -f1) KiB"; done
