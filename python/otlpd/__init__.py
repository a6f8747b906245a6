"""otlpd as a Python library: an OpenTelemetry collector (receivers, processors, exporters, the
Arrow store and its queries) running inside this process, with no daemon and no port unless the
config asks for one.

    import otlpd

    config = '''
    receivers: {embedded: {}}
    exporters: {store: {directory: ./data}}
    service:
      telemetry: {metrics: {level: none}}
      pipelines: {traces: {receivers: [embedded], exporters: [store]}}
    '''
    with otlpd.Collector(config) as collector:
        collector.export_traces(encoded_request_bytes)   # or an OTLP/JSON dict or str
    columns = otlpd.Store("./data").traces()             # NumPy arrays

Errors are raised as subclasses of otlpd.Error with the messages `otlpd serve` prints.
"""

from __future__ import annotations

import atexit
import json as _json
import threading
import weakref
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from . import _otlpd

__all__ = [
    "Collector", "Store", "ExportResult", "Error", "ConfigError", "InvalidDataError",
    "RefusedError", "NotRunningError", "NotFoundError", "StoreError", "RetryLater",
    "version", "default_config", "otlp_to_json", "otlp_from_json",
]


class Error(Exception):
    """Base class of every error otlpd raises."""


class ConfigError(Error):
    """The config does not validate; the message lists every error with its path and line."""


class InvalidDataError(Error, ValueError):
    """The data cannot be decoded or is refused for good: sending it again cannot help."""


class RefusedError(Error):
    """Refused for now (memory budget spent, a pipeline busy, pipelines restarting): retry."""


class NotRunningError(Error):
    """The collector is not started, or already closed."""


class NotFoundError(Error, KeyError):
    """No such trace, or no such embedded receiver."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class StoreError(Error, OSError):
    """The store could not be read."""


class RetryLater(Exception):
    """Raise from a callback exporter's function to have the batch retried with backoff."""


_otlpd._set_exceptions(Error, ConfigError, InvalidDataError, RefusedError, NotRunningError,
                       NotFoundError, StoreError)


def version() -> str:
    """The otlpd library's version."""
    return _otlpd.version()


def default_config() -> str:
    """The config `otlpd serve` runs without --config (OTLP on :4317/:4318, a store, the UI)."""
    return _otlpd.default_config()


def otlp_to_json(signal: str, data: bytes) -> str:
    """An encoded OTLP export request of `signal` ("traces", "metrics", "logs") as OTLP/JSON."""
    return _otlpd.otlp_to_json(signal, data)


def otlp_from_json(signal: str, data: Union[str, Mapping[str, Any]]) -> bytes:
    """OTLP/JSON (text or a dict) as an encoded OTLP export request."""
    if not isinstance(data, str):
        data = _json.dumps(data)
    return _otlpd.otlp_from_json(signal, data)


class ExportResult:
    """What an OTLP client would have been told: accepted, possibly partially."""

    __slots__ = ("rejected", "message")

    def __init__(self, rejected: int, message: str) -> None:
        self.rejected = rejected  #: items removed by validation (a partial success)
        self.message = message    #: why they were removed

    @property
    def partial(self) -> bool:
        return self.rejected > 0

    def __repr__(self) -> str:
        return f"ExportResult(rejected={self.rejected}, message={self.message!r})"


_open_collectors: "weakref.WeakSet[Collector]" = weakref.WeakSet()


@atexit.register
def _close_open_collectors() -> None:
    for collector in list(_open_collectors):
        collector.close()


Payload = Union[bytes, bytearray, memoryview, str, Mapping[str, Any]]


class Collector:
    """A collector in this process. `config` is YAML text (None: the default config of
    `otlpd serve`), or pass `files` (YAML files merged in order). `callbacks` maps the ids of
    `callback` exporters in the config ("callback", "callback/name") to Python callables
    `fn(signal: str, data: bytes | str)` called with each batch (bytes for `encoding: proto`,
    str for `encoding: json`) from the exporter's threads; raise RetryLater to have a batch
    retried, any other exception drops it (counted, logged, dead-lettered if configured).

    Used as a context manager it starts on entry and closes on exit. Every method is
    thread-safe and releases the GIL while otlpd works.
    """

    def __init__(self, config: Optional[str] = None, *, files: Optional[Iterable[str]] = None,
                 callbacks: Optional[Mapping[str, Callable[[str, Union[bytes, str]], Any]]] = None
                 ) -> None:
        if config is not None and files is not None:
            raise ValueError("pass config or files, not both")
        self._lock = threading.Lock()
        self._impl: Optional[Any] = _otlpd.Collector(
            config, list(files) if files is not None else None, dict(callbacks or {}), RetryLater)
        _open_collectors.add(self)

    def __enter__(self) -> "Collector":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _live(self) -> Any:
        impl = self._impl
        if impl is None:
            raise NotRunningError("the collector is closed")
        return impl

    def start(self) -> None:
        """Binds listeners, opens stores, starts every pipeline."""
        self._live().start()

    def close(self, timeout: float = 60.0) -> None:
        """Drains every pipeline into its exporters and stops. Idempotent."""
        impl = self._impl
        if impl is None:
            return
        impl.shutdown(timeout)

    shutdown = close

    def flush(self) -> None:
        """Delivers everything accepted so far (the pipelines restart with the same config)."""
        self._live().flush()

    def reload(self, config: str) -> None:
        """Replaces the config; an invalid one raises ConfigError and the running one stays."""
        self._live().reload(config)

    @property
    def running(self) -> bool:
        return self._impl is not None and self._impl.running()

    @property
    def endpoints(self) -> Dict[str, str]:
        """Where listeners bound, e.g. {"otlp.grpc": "127.0.0.1:4317"}."""
        return self._live().endpoints()

    def metrics_text(self) -> str:
        """The collector's own metrics in the Prometheus text format."""
        return self._live().metrics_text()

    def _export(self, signal: str, data: Payload, receiver: Optional[str]) -> ExportResult:
        if isinstance(data, Mapping):
            payload: Union[bytes, bytearray, str] = _json.dumps(data)
            is_json = True
        elif isinstance(data, str):
            payload, is_json = data, True
        elif isinstance(data, memoryview):
            payload, is_json = data.tobytes(), False
        else:
            payload, is_json = data, False
        rejected, message = self._live().export(signal, payload, is_json, receiver or "")
        return ExportResult(rejected, message)

    def export_traces(self, data: Payload, receiver: Optional[str] = None) -> ExportResult:
        """An encoded ExportTraceServiceRequest (bytes), or OTLP/JSON (str or dict), into the
        pipelines of the `embedded` receiver `receiver` (None: the only one). Raises
        InvalidDataError, RefusedError (retry later), NotRunningError or NotFoundError."""
        return self._export("traces", data, receiver)

    def export_metrics(self, data: Payload, receiver: Optional[str] = None) -> ExportResult:
        """As export_traces, for an ExportMetricsServiceRequest."""
        return self._export("metrics", data, receiver)

    def export_logs(self, data: Payload, receiver: Optional[str] = None) -> ExportResult:
        """As export_traces, for an ExportLogsServiceRequest."""
        return self._export("logs", data, receiver)


def _rows(signal: str, requests: List[bytes]) -> List[Dict[str, Any]]:
    """Flattens OTLP/JSON requests into one dict per span, log record or data point."""
    rows: List[Dict[str, Any]] = []
    top = {"traces": ("resourceSpans", "scopeSpans", "spans"),
           "logs": ("resourceLogs", "scopeLogs", "logRecords"),
           "metrics": ("resourceMetrics", "scopeMetrics", "metrics")}[signal]
    for request in requests:
        doc = _json.loads(_otlpd.otlp_to_json(signal, request))
        for resource in doc.get(top[0], []):
            res_attrs = {a["key"]: _value(a.get("value", {}))
                         for a in resource.get("resource", {}).get("attributes", [])}
            for scope in resource.get(top[1], []):
                scope_name = scope.get("scope", {}).get("name", "")
                for item in scope.get(top[2], []):
                    if signal == "metrics":
                        rows.extend(_metric_rows(item, res_attrs, scope_name))
                        continue
                    row = {k: v for k, v in item.items() if k != "attributes"}
                    row["attributes"] = {a["key"]: _value(a.get("value", {}))
                                         for a in item.get("attributes", [])}
                    if signal == "logs" and "body" in row:
                        row["body"] = _value(row["body"])
                    row["resource"] = res_attrs
                    row["scope"] = scope_name
                    rows.append(row)
    return rows


def _metric_rows(metric: Dict[str, Any], res_attrs: Dict[str, Any], scope: str
                 ) -> List[Dict[str, Any]]:
    rows = []
    for kind in ("gauge", "sum", "histogram", "exponentialHistogram", "summary"):
        if kind not in metric:
            continue
        for point in metric[kind].get("dataPoints", []):
            row = {k: v for k, v in point.items() if k != "attributes"}
            row["attributes"] = {a["key"]: _value(a.get("value", {}))
                                 for a in point.get("attributes", [])}
            row.update(name=metric.get("name", ""), unit=metric.get("unit", ""), type=kind,
                       resource=res_attrs, scope=scope)
            rows.append(row)
    return rows


def _value(v: Dict[str, Any]) -> Any:
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "doubleValue" in v:
        return v["doubleValue"]
    if "boolValue" in v:
        return v["boolValue"]
    if "arrayValue" in v:
        return [_value(x) for x in v["arrayValue"].get("values", [])]
    if "kvlistValue" in v:
        return {x["key"]: _value(x.get("value", {})) for x in v["kvlistValue"].get("values", [])}
    if "bytesValue" in v:
        return v["bytesValue"]
    return None


def _ns(value: Any) -> Optional[int]:
    """ns since the epoch from an int (ns), a float (seconds) or a datetime."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value * 1e9)
    if hasattr(value, "timestamp"):
        return int(value.timestamp() * 1e9)
    raise TypeError("a time is an int (ns since the epoch), a float (seconds) or a datetime")


class Store:
    """A reader of an otlpd store directory (the `store` exporter's `directory`). Reads only;
    safe beside a collector writing it, in this process or another."""

    def __init__(self, directory: str) -> None:
        self.directory = str(directory)
        self._impl = _otlpd.Store(self.directory)

    @staticmethod
    def _query(signal: str, start: Any, end: Any, service: Optional[str], name: Optional[str],
               trace_id: Optional[str], min_duration_ns: Optional[int],
               max_duration_ns: Optional[int], min_severity: Optional[int],
               attributes: Optional[Mapping[str, Any]]) -> Any:
        return _otlpd.scan_query(signal, _ns(start), _ns(end), service, name, trace_id,
                                 min_duration_ns, max_duration_ns, min_severity,
                                 {str(k): str(v) for k, v in (attributes or {}).items()})

    def traces(self, start: Any = None, end: Any = None, *, service: Optional[str] = None,
               name: Optional[str] = None, trace_id: Optional[str] = None,
               min_duration_ns: Optional[int] = None, max_duration_ns: Optional[int] = None,
               attributes: Optional[Mapping[str, Any]] = None, rows: bool = False
               ) -> Union[Dict[str, Any], List[Dict[str, Any]]]:
        """Spans whose start is in [start, end) and that match every predicate.

        Columns (the default): a dict of NumPy arrays, one entry per span — trace_id (S16),
        span_id and parent_span_id (S8), start_unix_nano and end_unix_nano (int64), kind and
        status_code (int32), service and name (str arrays) — built without a Python object per
        span. rows=True: a list of dicts (OTLP/JSON field names)."""
        query = self._query("traces", start, end, service, name, trace_id, min_duration_ns,
                            max_duration_ns, None, attributes)
        if rows:
            return _rows("traces", self._impl.requests(query))
        import numpy as np
        columns = self._impl.span_columns(query)
        strings = np.array(columns.pop("strings") or [""], dtype=str)
        columns["service"] = strings[columns["service_code"]]
        columns["name"] = strings[columns["name_code"]]
        return columns

    def logs(self, start: Any = None, end: Any = None, *, service: Optional[str] = None,
             trace_id: Optional[str] = None, min_severity: Optional[int] = None,
             attributes: Optional[Mapping[str, Any]] = None) -> List[Dict[str, Any]]:
        """Log records in [start, end) matching every predicate, one dict each."""
        query = self._query("logs", start, end, service, None, trace_id, None, None,
                            min_severity, attributes)
        return _rows("logs", self._impl.requests(query))

    def metrics(self, start: Any = None, end: Any = None, *, service: Optional[str] = None,
                name: Optional[str] = None, attributes: Optional[Mapping[str, Any]] = None
                ) -> List[Dict[str, Any]]:
        """Metric data points in [start, end) matching every predicate, one dict each."""
        query = self._query("metrics", start, end, service, name, None, None, None, None,
                            attributes)
        return _rows("metrics", self._impl.requests(query))

    def requests(self, signal: str = "traces", start: Any = None, end: Any = None, **predicates: Any
                 ) -> List[bytes]:
        """The matching data as encoded OTLP export requests (one per stored record batch)."""
        query = self._query(signal, start, end, predicates.get("service"), predicates.get("name"),
                            predicates.get("trace_id"), predicates.get("min_duration_ns"),
                            predicates.get("max_duration_ns"), predicates.get("min_severity"),
                            predicates.get("attributes"))
        return self._impl.requests(query)

    def arrow_files(self, signal: str = "traces") -> List[str]:
        """The store's Arrow IPC stream files of `signal`, oldest first (any Arrow reader opens
        them: pyarrow.ipc.open_stream; the newest may still be growing)."""
        return self._impl.files(signal)

    def arrow_ipc(self, signal: str = "traces") -> List[bytes]:
        """The raw Arrow IPC stream bytes of each file of `signal`, oldest first (pyarrow:
        pa.ipc.open_stream(b))."""
        out = []
        for path in self.arrow_files(signal):
            with open(path, "rb") as f:
                out.append(f.read())
        return out

    def trace(self, trace_id: str) -> List[Dict[str, Any]]:
        """The spans of one trace (1 to 32 hex digits), as dicts. NotFoundError if none."""
        return self._impl.trace(trace_id)

    def trace_otlp(self, trace_id: str) -> bytes:
        """The spans of one trace as one encoded ExportTraceServiceRequest."""
        return self._impl.trace_otlp(trace_id)

    def find_traces(self, *, service: str = "", operation: str = "", start: Any = None,
                    end: Any = None, min_duration_ns: Optional[int] = None,
                    max_duration_ns: Optional[int] = None,
                    attributes: Optional[Mapping[str, Any]] = None, limit: int = 20
                    ) -> List[Dict[str, Any]]:
        """The newest traces with a span matching everything given (the viewer's search)."""
        return self._impl.find_traces(service, operation, _ns(start) or 0, _ns(end) or 0,
                                      min_duration_ns, max_duration_ns,
                                      {str(k): str(v) for k, v in (attributes or {}).items()},
                                      limit)

    def services(self) -> List[str]:
        """Every service that has spans, sorted."""
        return self._impl.services()

    def operations(self, service: str) -> List[Tuple[str, int]]:
        """(span name, OTLP span kind) of the spans of `service`."""
        return self._impl.operations(service)
