"""The Python API of otlpd: every call, the error cases, threads, the GIL, two collectors."""

import json
import threading
import time

import numpy as np
import pytest

import otlpd

NOW = time.time_ns()


def spans_json(trace_byte=1, count=3, service="checkout", invalid=0):
    spans = []
    for i in range(count + invalid):
        span_id = "%016x" % (0x0202020202020200 + i + 1)
        spans.append({
            "traceId": ("%02x" % trace_byte) * 16,
            "spanId": span_id if i < count else "0202",
            "name": "GET /cart" if i == 0 else "db.query",
            "kind": 2,
            "startTimeUnixNano": str(NOW - 2_000_000),
            "endTimeUnixNano": str(NOW),
            "attributes": [{"key": "http.status_code", "value": {"intValue": "200"}}],
        })
    return {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name",
                                      "value": {"stringValue": service}}]},
        "scopeSpans": [{"spans": spans}]}]}


def callback_config(extra=""):
    return """
receivers:
  embedded:
exporters:
  callback:
    sending_queue: {num_consumers: 2}
%s
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [embedded], exporters: [callback]}
    logs: {receivers: [embedded], exporters: [callback]}
""" % extra


def store_config(directory):
    return """
receivers:
  embedded:
exporters:
  store:
    directory: %s
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [embedded], exporters: [store]}
    logs: {receivers: [embedded], exporters: [store]}
    metrics: {receivers: [embedded], exporters: [store]}
""" % directory


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.batches = []

    def __call__(self, signal, data):
        with self.lock:
            self.batches.append((signal, data))


def test_version_and_default_config():
    assert otlpd.version()
    assert "receivers:" in otlpd.default_config()


def test_invalid_config_raises_config_error_with_every_error():
    with pytest.raises(otlpd.ConfigError) as e:
        otlpd.Collector("receivers: {embedded: {port: 1}}\nexporters: {nop: {}}\n"
                        "service: {pipelines: {traces: {receivers: [embedded], "
                        "exporters: [nop, missing]}}}\n")
    assert "receivers.embedded.port" in str(e.value)
    assert "missing" in str(e.value)
    with pytest.raises(otlpd.ConfigError, match="callback"):
        otlpd.Collector(callback_config())  # a callback exporter without its function


def test_exports_reach_the_callback_in_every_form():
    recorder = Recorder()
    with otlpd.Collector(callback_config(), callbacks={"callback": recorder}) as c:
        assert c.running
        encoded = otlpd.otlp_from_json("traces", spans_json())
        r = c.export_traces(encoded)
        assert r.rejected == 0 and not r.partial
        c.export_traces(spans_json(2))                 # a dict: OTLP/JSON
        c.export_traces(json.dumps(spans_json(3)))     # a str: OTLP/JSON
        c.export_traces(bytearray(encoded))
        c.export_traces(memoryview(encoded))
    assert not c.running
    assert len(recorder.batches) == 5
    # The exporter helper's queue has several consumers: batches arrive in any order. The bytes
    # given as bytes, bytearray and memoryview arrive unchanged.
    assert recorder.batches.count(("traces", encoded)) == 3
    assert all(isinstance(data, bytes) for _, data in recorder.batches)
    assert 'otlpd_receiver_accepted_spans_total{receiver="embedded",transport="embedded"} 15' \
        in c.metrics_text()


def test_json_callback_gets_text():
    recorder = Recorder()
    with otlpd.Collector(callback_config("    encoding: json"),
                         callbacks={"callback": recorder}) as c:
        c.export_traces(spans_json())
    (signal, data), = recorder.batches
    assert signal == "traces"
    assert json.loads(data)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"] == "GET /cart"


def test_partial_success_bad_data_and_refusal():
    with otlpd.Collector(callback_config() + "  memory_budget: {limit_mib: 32}\n",
                         callbacks={"callback": Recorder()}) as c:
        r = c.export_traces(spans_json(count=2, invalid=1))
        assert r.partial and r.rejected == 1 and "span_id" in r.message
        with pytest.raises(otlpd.InvalidDataError):
            c.export_traces(b"\xff\xff\xff garbage")
        with pytest.raises(otlpd.InvalidDataError):
            c.export_traces('{"resourceSpans": 12}')
        with pytest.raises(otlpd.InvalidDataError, match="no pipeline takes metrics"):
            c.export_metrics(b"")
        with pytest.raises(otlpd.RefusedError, match="memory limit"):
            c.export_traces(b"x" * (20 << 20))
        with pytest.raises(otlpd.NotFoundError):
            c.export_traces(spans_json(), receiver="embedded/other")
        with pytest.raises(TypeError):
            c.export_traces(12)


def test_calls_after_close_raise_not_running():
    c = otlpd.Collector(callback_config(), callbacks={"callback": Recorder()})
    with pytest.raises(otlpd.NotRunningError):
        c.export_traces(spans_json())
    c.start()
    c.close()
    c.close()  # idempotent
    with pytest.raises(otlpd.NotRunningError):
        c.export_traces(spans_json())
    with pytest.raises(otlpd.NotRunningError):
        c.flush()


def test_a_raising_callback_drops_the_batch_and_retry_later_retries_it():
    calls = []

    def failing(signal, data):
        calls.append(signal)
        raise ValueError("boom")

    with otlpd.Collector(callback_config(), callbacks={"callback": failing}) as c:
        c.export_traces(spans_json())
    assert calls == ["traces"]  # permanent: not retried
    assert "otlpd_exporter_send_failed_spans_total" in c.metrics_text()

    attempts = []

    def flaky(signal, data):
        attempts.append(signal)
        if len(attempts) == 1:
            raise otlpd.RetryLater()

    with otlpd.Collector(callback_config("    retry_on_failure: {initial_interval: 10ms}"),
                         callbacks={"callback": flaky}) as c:
        c.export_traces(spans_json())
        for _ in range(1000):  # bounded wait for the retry; shutdown would cut the backoff
            if len(attempts) >= 2:
                break
            time.sleep(0.01)
    assert len(attempts) == 2


def test_reload_keeps_the_running_config_when_the_new_one_is_invalid():
    recorder = Recorder()
    with otlpd.Collector(callback_config(), callbacks={"callback": recorder}) as c:
        with pytest.raises(otlpd.ConfigError):
            c.reload("receivers: {embedded: {bad: 1}}")
        c.export_traces(spans_json())
        c.reload(callback_config())
        c.export_traces(spans_json())
    assert len(recorder.batches) == 2


def test_many_threads_and_two_collectors():
    first, second = Recorder(), Recorder()
    a = otlpd.Collector(callback_config(), callbacks={"callback": first})
    b = otlpd.Collector(callback_config(), callbacks={"callback": second})
    encoded = otlpd.otlp_from_json("traces", spans_json())
    errors = []
    with a, b:
        def work(target):
            try:
                for _ in range(50):
                    target.export_traces(encoded)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
        threads = [threading.Thread(target=work, args=(a if i % 2 else b,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert len(first.batches) == 200 and len(second.batches) == 200


def test_the_gil_is_released_during_an_export():
    # A request large enough that decoding its JSON takes a while.
    big = json.dumps(spans_json(count=50_000))
    progress = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            progress[0] += 1

    with otlpd.Collector(callback_config(), callbacks={"callback": Recorder()}) as c:
        counter = threading.Thread(target=count)
        counter.start()
        time.sleep(0.01)
        before = progress[0]
        c.export_traces(big)
        during = progress[0] - before
        stop.set()
        counter.join()
    assert during > 0


def test_store_columns_rows_and_queries(tmp_path):
    directory = str(tmp_path / "store")
    with otlpd.Collector(store_config(directory)) as c:
        c.export_traces(spans_json(7, count=3, service="cart"))
        c.export_traces(spans_json(8, count=2, service="billing"))
        c.export_logs({"resourceLogs": [{"resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "cart"}}]},
            "scopeLogs": [{"logRecords": [{"timeUnixNano": str(NOW), "severityNumber": 17,
                                           "body": {"stringValue": "payment failed"}}]}]}]})
        c.export_metrics({"resourceMetrics": [{"resource": {}, "scopeMetrics": [{"metrics": [
            {"name": "queue.depth", "gauge": {"dataPoints": [
                {"timeUnixNano": str(NOW), "asInt": "5"}]}}]}]}]})
        c.flush()
        assert len(otlpd.Store(directory).traces()["trace_id"]) == 5  # while still running
    store = otlpd.Store(directory)

    cols = store.traces()
    assert len(cols["trace_id"]) == 5
    assert cols["trace_id"].dtype == np.dtype("S16")
    assert cols["start_unix_nano"].dtype == np.int64
    assert sorted(set(cols["service"].tolist())) == ["billing", "cart"]
    assert (cols["end_unix_nano"] - cols["start_unix_nano"] == 2_000_000).all()
    cart = store.traces(service="cart", name="GET /cart")
    assert len(cart["span_id"]) == 1 and cart["kind"][0] == 2
    assert len(store.traces(end=NOW - 10**9)["trace_id"]) == 0
    assert len(store.traces(attributes={"http.status_code": 200})["trace_id"]) == 5

    rows = store.traces(service="billing", rows=True)
    assert len(rows) == 2 and rows[0]["attributes"]["http.status_code"] == 200
    assert rows[0]["resource"]["service.name"] == "billing"

    spans = store.trace("07" * 16)
    assert [s["name"] for s in spans] == ["GET /cart", "db.query", "db.query"]
    assert spans[0]["attributes"]["http.status_code"] == "200"
    assert store.trace_otlp("07" * 16)
    with pytest.raises(otlpd.NotFoundError):
        store.trace("09" * 16)
    with pytest.raises(otlpd.InvalidDataError):
        store.trace("not hex")
    assert store.services() == ["billing", "cart"]
    assert ("GET /cart", 2) in store.operations("cart")
    found = store.find_traces(service="billing")
    assert [t["trace_id"] for t in found] == ["08" * 16]

    logs = store.logs(min_severity=9)
    assert len(logs) == 1 and logs[0]["body"] == "payment failed"
    points = store.metrics(name="queue.depth")
    assert len(points) == 1 and points[0]["asInt"] == "5" and points[0]["type"] == "gauge"

    files = store.arrow_files("traces")
    assert files and all(f.endswith(".arrow") for f in files)
    assert store.arrow_ipc("traces")[0][:4] == b"\xff\xff\xff\xff"  # an IPC stream message
    assert len(store.requests("traces")) >= 1
    assert otlpd.Store(str(tmp_path / "nothing")).traces()["trace_id"].shape == (0,)


def test_flush_delivers_without_stopping_anything(tmp_path):
    directory = str(tmp_path / "store")
    config = """
receivers:
  embedded:
  otlp: {protocols: {grpc: {endpoint: "127.0.0.1:0"}}}
exporters:
  store: {directory: %s, write_interval: 1h}
  callback:
    sending_queue: {sizer: items, batch: {min_size: 100000, flush_timeout: 1h}}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [embedded, otlp], exporters: [store, callback]}
""" % directory
    recorder = Recorder()
    with otlpd.Collector(config, callbacks={"callback": recorder}) as c:
        endpoints = c.endpoints
        assert "otlp.grpc" in endpoints
        c.export_traces(spans_json(7, count=3))
        c.flush(timeout=30)
        # Only the flush can have written them: every timer is an hour.
        assert len(otlpd.Store(directory).traces()["trace_id"]) == 3
        assert len(recorder.batches) == 1
        assert c.endpoints == endpoints  # nothing rebound
        c.export_traces(spans_json(8, count=2))
        c.flush()
        assert len(otlpd.Store(directory).traces()["trace_id"]) == 5


def test_flush_past_its_timeout_raises_deadline_exceeded():
    up = threading.Event()
    delivered = []

    def destination(signal, data):
        if not up.is_set():
            raise otlpd.RetryLater()
        delivered.append(signal)

    config = callback_config("""    retry_on_failure: {initial_interval: 5ms, max_interval: 20ms,
                       max_elapsed_time: 10m}""")
    with otlpd.Collector(config, callbacks={"callback": destination}) as c:
        c.export_traces(spans_json())
        with pytest.raises(otlpd.DeadlineExceededError) as raised:
            c.flush(timeout=0.1)
        assert isinstance(raised.value, TimeoutError)
        assert "callback" in str(raised.value)
        up.set()
        c.flush(timeout=30)
        assert delivered == ["traces"]
