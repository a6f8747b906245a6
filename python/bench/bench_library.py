"""otlpd from Python, measured (docs/LIBRARY.md): export calls into a nop pipeline (spans per
CPU-second, and the cost of one small call), and Store.traces() of 1M spans into NumPy columns.
Run: PYTHONPATH=build/python /usr/bin/python3 python/bench/bench_library.py"""

import os
import tempfile
import time

import otlpd

NOP = """
receivers: {embedded: {}}
exporters: {nop: {}}
service:
  telemetry: {metrics: {level: none}}
  pipelines: {traces: {receivers: [embedded], exporters: [nop]}}
"""


def request(spans, seed=1):
    now = time.time_ns()
    attrs = [{"key": k, "value": {"stringValue": v}} for k, v in (
        ("http.method", "GET"), ("http.route", "/api/cart/{id}"), ("net.peer.name", "cart-db"),
        ("db.system", "postgresql"), ("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)"))]
    attrs += [{"key": "http.status_code", "value": {"intValue": "200"}},
              {"key": "http.response_content_length", "value": {"intValue": "5123"}}]
    out = []
    for i in range(spans):
        out.append({
            "traceId": "%032x" % (seed * 1_000_003 + i // 10 + 1),
            "spanId": "%016x" % (seed * 1_000_000 + i + 1),
            "parentSpanId": "%016x" % (seed * 1_000_000 + i) if i % 10 else "",
            "name": "GET /api/cart/{id}" if i % 10 == 0 else "SELECT cart_items",
            "kind": 2 if i % 10 == 0 else 3,
            "startTimeUnixNano": str(now - 5_000_000 + i),
            "endTimeUnixNano": str(now - 1_000_000 + i),
            "attributes": attrs,
            "status": {"code": 1},
        })
    return otlpd.otlp_from_json("traces", {"resourceSpans": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "cart"}},
            {"key": "service.version", "value": {"stringValue": "1.4.2"}},
            {"key": "host.name", "value": {"stringValue": "node-17"}}]},
        "scopeSpans": [{"scope": {"name": "io.opentelemetry.http"}, "spans": out}]}]})


def bench_exports():
    big = request(1000)
    small = request(1)
    with otlpd.Collector(NOP) as c:
        for _ in range(200):
            c.export_traces(big)
        calls = 5000
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for _ in range(calls):
            c.export_traces(big)
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        print(f"python export_traces, 1000-span requests ({len(big)} bytes): "
              f"{calls * 1000 / cpu / 1e6:.2f}M spans per CPU-second "
              f"({calls * 1000 / wall / 1e6:.2f}M/s wall)")
        calls = 200_000
        cpu0 = time.process_time()
        for _ in range(calls):
            c.export_traces(small)
        per_call = (time.process_time() - cpu0) / calls
        print(f"python export_traces, 1-span requests ({len(small)} bytes): "
              f"{per_call * 1e6:.2f} us CPU per call, otlpd's work included")


def bench_store_columns(total_spans=1_000_000):
    with tempfile.TemporaryDirectory() as directory:
        config = f"""
receivers: {{embedded: {{}}}}
exporters: {{store: {{directory: {directory}}}}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines: {{traces: {{receivers: [embedded], exporters: [store]}}}}
"""
        with otlpd.Collector(config) as c:
            for seed in range(total_spans // 1000):
                while True:
                    try:
                        c.export_traces(request(1000, seed + 1) if seed < 20 else reqs[seed % 20])
                        break
                    except otlpd.RefusedError:
                        time.sleep(0.01)
                if seed == 19:
                    reqs = [request(1000, s + 1) for s in range(20)]
        store = otlpd.Store(directory)
        best = None
        for _ in range(3):
            t0 = time.perf_counter()
            cols = store.traces()
            elapsed = time.perf_counter() - t0
            best = elapsed if best is None else min(best, elapsed)
        size = sum(os.path.getsize(f) for f in store.arrow_files("traces"))
        print(f"Store.traces() of {len(cols['trace_id'])} spans ({size / 1e6:.0f} MB store) into "
              f"NumPy columns: {best:.2f} s (best of 3)")


if __name__ == "__main__":
    print(f"otlpd {otlpd.version()}, {os.cpu_count()} cores")
    bench_exports()
    bench_store_columns()
