// otlpd._otlpd: the Python binding of the C++ library API (include/otlpd/). The Python package
// (python/otlpd/__init__.py) wraps it into the documented API. The GIL is released whenever otlpd
// works (exports, start, shutdown, reload, flush, store reads) and taken back only to call a
// Python callback or build Python objects.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>

#include "otlpd/codec.h"
#include "otlpd/collector.h"
#include "otlpd/store_query.h"

namespace py = pybind11;

namespace {

// The exception classes of the Python package, set once by _set_exceptions().
struct Exceptions {
  py::object base, config, invalid, refused, not_running, not_found, store;
};
Exceptions& exceptions() {
  static Exceptions* e = new Exceptions();  // never destroyed: outlives the interpreter's objects
  return *e;
}

[[noreturn]] void raise(const otlpd::Status& s) {
  Exceptions& e = exceptions();
  py::object type = e.base;
  switch (s.code()) {
    case otlpd::StatusCode::kConfigError:
      type = e.config;
      break;
    case otlpd::StatusCode::kInvalidArgument:
      type = e.invalid;
      break;
    case otlpd::StatusCode::kRetryable:
      type = e.refused;
      break;
    case otlpd::StatusCode::kNotRunning:
      type = e.not_running;
      break;
    case otlpd::StatusCode::kNotFound:
      type = e.not_found;
      break;
    case otlpd::StatusCode::kIoError:
      type = e.store;
      break;
    default:
      break;
  }
  if (!type || type.is_none()) type = py::reinterpret_borrow<py::object>(PyExc_RuntimeError);
  PyErr_SetString(type.ptr(), s.message().c_str());
  throw py::error_already_set();
}

otlpd::Signal signalOf(const std::string& name) {
  if (name == "traces") return otlpd::Signal::kTraces;
  if (name == "metrics") return otlpd::Signal::kMetrics;
  if (name == "logs") return otlpd::Signal::kLogs;
  throw py::value_error("signal must be traces, metrics or logs");
}

const char* signalName(otlpd::Signal s) {
  switch (s) {
    case otlpd::Signal::kTraces:
      return "traces";
    case otlpd::Signal::kMetrics:
      return "metrics";
    case otlpd::Signal::kLogs:
      return "logs";
  }
  return "traces";
}

// A Python object that may be released on a thread without the GIL.
std::shared_ptr<py::object> keepAlive(py::object o) {
  return std::shared_ptr<py::object>(new py::object(std::move(o)), [](py::object* p) {
    py::gil_scoped_acquire gil;
    delete p;
  });
}

// A Python callable as the callback exporter's function: called with the GIL taken. Raising
// RetryLater asks for a retry; any other exception is a permanent failure of that batch.
otlpd::ExportCallback pythonCallback(py::object fn, py::object retry_type) {
  auto callable = keepAlive(std::move(fn));
  auto retry = keepAlive(std::move(retry_type));
  return [callable, retry](otlpd::Signal signal, otlpd::Encoding encoding,
                           std::string_view data) -> otlpd::Status {
    py::gil_scoped_acquire gil;
    try {
      py::object payload = encoding == otlpd::Encoding::kJson
                               ? py::object(py::str(data.data(), data.size()))
                               : py::object(py::bytes(data.data(), data.size()));
      (*callable)(signalName(signal), payload);
      return {};
    } catch (py::error_already_set& e) {
      const bool retryable = e.matches(*retry);
      std::string message = e.what();
      e.restore();
      PyErr_Clear();
      return otlpd::Status(
          retryable ? otlpd::StatusCode::kRetryable : otlpd::StatusCode::kInvalidArgument,
          "the Python callback raised: " + message);
    } catch (const std::exception& e) {
      return otlpd::Status(otlpd::StatusCode::kInvalidArgument,
                           std::string("the Python callback failed: ") + e.what());
    }
  };
}

class PyCollector {
 public:
  PyCollector(std::optional<std::string> config, std::optional<std::vector<std::string>> files,
              py::dict callbacks, py::object retry_type) {
    otlpd::CollectorOptions options;
    for (auto item : callbacks) {
      options.callbacks[py::cast<std::string>(item.first)] =
          pythonCallback(py::reinterpret_borrow<py::object>(item.second), retry_type);
    }
    otlpd::Result<std::unique_ptr<otlpd::Collector>> made =
        otlpd::Status(otlpd::StatusCode::kInternal, "not built");
    {
      py::gil_scoped_release release;
      if (config) {
        made = otlpd::Collector::fromYaml(*config, std::move(options));
      } else if (files) {
        made = otlpd::Collector::fromFiles(*files, {}, std::move(options));
      } else {
        made = otlpd::Collector::fromDefault(std::move(options));
      }
    }
    if (!made.ok()) raise(made.status());
    collector_ = *std::move(made);
  }

  ~PyCollector() {
    // Shutting down drains into callbacks that need the GIL.
    py::gil_scoped_release release;
    collector_.reset();
  }

  void start() {
    check(call([&] { return collector_->start(); }));
  }
  void shutdown(double timeout_seconds) {
    const auto deadline = std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000));
    check(call([&] { return collector_->shutdown(deadline); }));
  }
  void reload(const std::string& yaml) {
    check(call([&] { return collector_->reload(yaml); }));
  }
  void flush() {
    check(call([&] { return collector_->flush(); }));
  }
  bool running() const { return collector_->running(); }

  // Returns (rejected_items, rejected_message); raises on refusal.
  py::tuple exportData(const std::string& signal, py::object data, bool json,
                       const std::string& receiver) {
    const otlpd::Signal s = signalOf(signal);
    std::string copy;
    {
      char* buffer = nullptr;
      Py_ssize_t size = 0;
      if (PyBytes_Check(data.ptr())) {
        PyBytes_AsStringAndSize(data.ptr(), &buffer, &size);
      } else if (PyByteArray_Check(data.ptr())) {
        buffer = PyByteArray_AsString(data.ptr());
        size = PyByteArray_Size(data.ptr());
      } else if (PyUnicode_Check(data.ptr())) {
        buffer = const_cast<char*>(PyUnicode_AsUTF8AndSize(data.ptr(), &size));
        if (buffer == nullptr) throw py::error_already_set();
      } else {
        throw py::type_error("data must be bytes, bytearray or str");
      }
      copy.assign(buffer, static_cast<size_t>(size));
    }
    otlpd::ExportResult r;
    {
      py::gil_scoped_release release;
      r = collector_->exportData(
          s, std::move(copy), json ? otlpd::Encoding::kJson : otlpd::Encoding::kProtobuf, receiver);
    }
    if (!r.ok()) raise(r.status);
    return py::make_tuple(r.rejected_items, r.rejected_message);
  }

  std::map<std::string, std::string> endpoints() const { return collector_->endpoints(); }
  std::string metricsText() const { return collector_->metricsText(); }

 private:
  template <typename F>
  otlpd::Status call(F&& f) {
    py::gil_scoped_release release;
    return f();
  }
  static void check(const otlpd::Status& s) {
    if (!s.ok()) raise(s);
  }
  std::unique_ptr<otlpd::Collector> collector_;
};

otlpd::store::ScanQuery scanQuery(const std::string& signal, std::optional<int64_t> start,
                                  std::optional<int64_t> end, std::optional<std::string> service,
                                  std::optional<std::string> name,
                                  std::optional<std::string> trace_id,
                                  std::optional<int64_t> min_duration_ns,
                                  std::optional<int64_t> max_duration_ns,
                                  std::optional<int32_t> min_severity,
                                  std::map<std::string, std::string> attributes) {
  otlpd::store::ScanQuery q;
  const otlpd::Signal s = signalOf(signal);
  q.signal = s == otlpd::Signal::kTraces    ? otlpd::store::StoredSignal::kTraces
             : s == otlpd::Signal::kMetrics ? otlpd::store::StoredSignal::kMetrics
                                            : otlpd::store::StoredSignal::kLogs;
  if (start) q.start_unix_nano = *start;
  if (end) q.end_unix_nano = *end;
  q.service = std::move(service);
  q.name = std::move(name);
  q.trace_id = std::move(trace_id);
  q.min_duration_ns = min_duration_ns;
  q.max_duration_ns = max_duration_ns;
  q.min_severity = min_severity;
  for (auto& [k, v] : attributes) q.attributes.emplace_back(k, v);
  return q;
}

template <typename T>
py::array_t<T> toArray(std::vector<T>&& values) {
  auto* owned = new std::vector<T>(std::move(values));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({owned->size()}, {sizeof(T)}, owned->data(), free_when_done);
}

// Packed ids as a NumPy array of fixed-width bytes (dtype S16 / S8): one buffer, no objects.
py::array idArray(std::string&& packed, size_t width) {
  auto* owned = new std::string(std::move(packed));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::string*>(p); });
  const size_t rows = width == 0 ? 0 : owned->size() / width;
  return py::array(py::dtype("S" + std::to_string(width)), {rows}, {width}, owned->data(),
                   free_when_done);
}

py::dict spanRecordDict(const otlpd::SpanRecord& s) {
  py::dict d;
  d["trace_id"] = s.trace_id;
  d["span_id"] = s.span_id;
  d["parent_span_id"] = s.parent_span_id;
  d["service"] = s.service;
  d["name"] = s.name;
  d["kind"] = s.kind;
  d["start_unix_nano"] = s.start_unix_nano;
  d["end_unix_nano"] = s.end_unix_nano;
  d["status_code"] = s.status_code;
  d["status_message"] = s.status_message;
  py::dict attributes, resource;
  for (const auto& [k, v] : s.attributes) attributes[py::str(k)] = v;
  for (const auto& [k, v] : s.resource_attributes) resource[py::str(k)] = v;
  d["attributes"] = attributes;
  d["resource_attributes"] = resource;
  return d;
}

class PyStore {
 public:
  explicit PyStore(std::string directory) : query_(directory), reader_(std::move(directory)) {}

  py::dict spanColumns(const otlpd::store::ScanQuery& q) {
    otlpd::Result<otlpd::SpanColumns> columns = otlpd::Status();
    {
      py::gil_scoped_release release;
      columns = query_.spanColumns(q);
    }
    if (!columns.ok()) raise(columns.status());
    otlpd::SpanColumns& c = *columns;
    py::dict d;
    d["trace_id"] = idArray(std::move(c.trace_ids), 16);
    d["span_id"] = idArray(std::move(c.span_ids), 8);
    d["parent_span_id"] = idArray(std::move(c.parent_span_ids), 8);
    d["start_unix_nano"] = toArray(std::move(c.start_unix_nano));
    d["end_unix_nano"] = toArray(std::move(c.end_unix_nano));
    d["kind"] = toArray(std::move(c.kind));
    d["status_code"] = toArray(std::move(c.status_code));
    d["service_code"] = toArray(std::move(c.service));
    d["name_code"] = toArray(std::move(c.name));
    d["strings"] = py::cast(c.strings);
    return d;
  }

  // The OTLP export requests of a scan, encoded (one per stored record batch with matches).
  std::vector<py::bytes> requests(const otlpd::store::ScanQuery& q) {
    std::vector<std::string> out;
    std::string error;
    {
      py::gil_scoped_release release;
      error = reader_.scan(q, [&](std::string_view request) {
        out.emplace_back(request);
        return true;
      });
    }
    if (!error.empty() && error.find("No such file") == std::string::npos &&
        error.find("does not exist") == std::string::npos) {
      raise(otlpd::Status(otlpd::StatusCode::kIoError, error));
    }
    std::vector<py::bytes> result;
    result.reserve(out.size());
    for (auto& s : out) result.emplace_back(s);
    return result;
  }

  std::vector<std::string> files(const std::string& signal) {
    const otlpd::Signal s = signalOf(signal);
    return reader_.files(s == otlpd::Signal::kTraces    ? otlpd::store::StoredSignal::kTraces
                         : s == otlpd::Signal::kMetrics ? otlpd::store::StoredSignal::kMetrics
                                                        : otlpd::store::StoredSignal::kLogs);
  }

  py::list trace(const std::string& trace_id) {
    otlpd::Result<otlpd::TraceRecord> t = otlpd::Status();
    {
      py::gil_scoped_release release;
      t = query_.trace(trace_id);
    }
    if (!t.ok()) raise(t.status());
    py::list spans;
    for (const auto& s : t->spans) spans.append(spanRecordDict(s));
    return spans;
  }

  py::bytes traceOtlp(const std::string& trace_id) {
    otlpd::Result<std::string> t = otlpd::Status();
    {
      py::gil_scoped_release release;
      t = query_.traceOtlp(trace_id);
    }
    if (!t.ok()) raise(t.status());
    return py::bytes(*t);
  }

  py::list findTraces(std::string service, std::string operation, int64_t start, int64_t end,
                      std::optional<int64_t> min_duration, std::optional<int64_t> max_duration,
                      std::map<std::string, std::string> attributes, size_t limit) {
    otlpd::TraceSearch search;
    search.service = std::move(service);
    search.operation = std::move(operation);
    search.start_unix_nano = start;
    search.end_unix_nano = end;
    search.min_duration_ns = min_duration;
    search.max_duration_ns = max_duration;
    for (auto& [k, v] : attributes) search.attributes.emplace_back(k, v);
    search.limit = limit;
    otlpd::Result<std::vector<otlpd::TraceRecord>> found = otlpd::Status();
    {
      py::gil_scoped_release release;
      found = query_.findTraces(search);
    }
    if (!found.ok()) raise(found.status());
    py::list traces;
    for (const auto& t : *found) {
      py::list spans;
      for (const auto& s : t.spans) spans.append(spanRecordDict(s));
      py::dict d;
      d["trace_id"] = t.trace_id;
      d["spans"] = spans;
      traces.append(d);
    }
    return traces;
  }

  std::vector<std::string> services() {
    otlpd::Result<std::vector<std::string>> s = otlpd::Status();
    {
      py::gil_scoped_release release;
      s = query_.services();
    }
    if (!s.ok()) raise(s.status());
    return *s;
  }

  std::vector<std::pair<std::string, int>> operations(const std::string& service) {
    otlpd::Result<std::vector<otlpd::OperationRecord>> ops = otlpd::Status();
    {
      py::gil_scoped_release release;
      ops = query_.operations(service);
    }
    if (!ops.ok()) raise(ops.status());
    std::vector<std::pair<std::string, int>> out;
    for (const auto& op : *ops) out.emplace_back(op.name, op.kind);
    return out;
  }

 private:
  otlpd::StoreQuery query_;
  otlpd::store::StoreReader reader_;
};

}  // namespace

PYBIND11_MODULE(_otlpd, m) {
  m.doc() = "otlpd's C++ library API; use the otlpd package, not this module.";
  m.def("version", [] { return std::string(otlpd::version()); });
  m.def("default_config", [] { return otlpd::Collector::defaultConfig(); });
  m.def("otlp_to_json", [](const std::string& signal, py::bytes data) {
    const otlpd::Signal s = signalOf(signal);
    std::string bytes = data;
    otlpd::Result<std::string> json = otlpd::Status();
    {
      py::gil_scoped_release release;
      json = otlpd::otlpToJson(s, bytes);
    }
    if (!json.ok()) raise(json.status());
    return *json;
  });
  m.def("otlp_from_json", [](const std::string& signal, const std::string& json) {
    otlpd::Result<std::string> bytes = otlpd::otlpFromJson(signalOf(signal), json);
    if (!bytes.ok()) raise(bytes.status());
    return py::bytes(*bytes);
  });
  m.def("_set_exceptions",
        [](py::object base, py::object config, py::object invalid, py::object refused,
           py::object not_running, py::object not_found, py::object store) {
          exceptions() = Exceptions{base, config, invalid, refused, not_running, not_found, store};
        });

  py::class_<PyCollector>(m, "Collector")
      .def(py::init<std::optional<std::string>, std::optional<std::vector<std::string>>, py::dict,
                    py::object>(),
           py::arg("config"), py::arg("files"), py::arg("callbacks"), py::arg("retry_type"))
      .def("start", &PyCollector::start)
      .def("shutdown", &PyCollector::shutdown, py::arg("timeout"))
      .def("reload", &PyCollector::reload)
      .def("flush", &PyCollector::flush)
      .def("running", &PyCollector::running)
      .def("export", &PyCollector::exportData, py::arg("signal"), py::arg("data"), py::arg("json"),
           py::arg("receiver"))
      .def("endpoints", &PyCollector::endpoints)
      .def("metrics_text", &PyCollector::metricsText);

  py::class_<otlpd::store::ScanQuery>(m, "ScanQuery");
  m.def("scan_query", &scanQuery);

  py::class_<PyStore>(m, "Store")
      .def(py::init<std::string>())
      .def("span_columns", &PyStore::spanColumns)
      .def("requests", &PyStore::requests)
      .def("files", &PyStore::files)
      .def("trace", &PyStore::trace)
      .def("trace_otlp", &PyStore::traceOtlp)
      .def("find_traces", &PyStore::findTraces)
      .def("services", &PyStore::services)
      .def("operations", &PyStore::operations);
}
