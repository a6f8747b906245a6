// The C API (include/otlpd/otlpd.h) over the C++ one. Nothing throws out of here: every entry
// point catches, and every handle carries a magic number that is checked on each call and wiped
// on free.
#include <cstdlib>
#include <cstring>
#include <new>

#include "otlpd/collector.h"
#include "otlpd/otlpd.h"
#include "otlpd/store/reader.h"
#include "otlpd/store_query.h"

namespace {

constexpr uint64_t kCollectorMagic = 0x6f746c7064636f6cULL;  // "otlpdcol"
constexpr uint64_t kStoreMagic = 0x6f746c7064737472ULL;      // "otlpdstr"

char* copyString(std::string_view s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out == nullptr) return nullptr;
  std::memcpy(out, s.data(), s.size());
  out[s.size()] = '\0';
  return out;
}

otlpd_status fail(otlpd_error* err, otlpd_status code, std::string_view message) {
  if (err != nullptr) {
    std::free(err->message);
    err->code = code;
    err->message = copyString(message);
  }
  return code;
}

otlpd_status report(otlpd_error* err, const otlpd::Status& s) {
  if (s.ok()) {
    if (err != nullptr) {
      std::free(err->message);
      *err = OTLPD_ERROR_INIT;
    }
    return OTLPD_OK;
  }
  return fail(err, static_cast<otlpd_status>(s.code()), s.message());
}

// Runs `body`, turning any exception into OTLPD_INTERNAL.
template <typename Body>
otlpd_status guarded(otlpd_error* err, Body&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(err, OTLPD_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return fail(err, OTLPD_INTERNAL, e.what());
  } catch (...) {
    return fail(err, OTLPD_INTERNAL, "unknown exception");
  }
}

}  // namespace

struct otlpd_collector {
  uint64_t magic = kCollectorMagic;
  std::unique_ptr<otlpd::Collector> collector;
};

struct otlpd_store {
  uint64_t magic = kStoreMagic;
  std::string directory;
  otlpd::StoreQuery query;
};

namespace {

bool valid(const otlpd_collector* c) {
  return c != nullptr && c->magic == kCollectorMagic && c->collector != nullptr;
}
bool valid(const otlpd_store* s) {
  return s != nullptr && s->magic == kStoreMagic;
}

otlpd::CollectorOptions convertOptions(const otlpd_collector_options* options, otlpd_error* err,
                                       bool* ok) {
  otlpd::CollectorOptions out;
  *ok = true;
  if (options == nullptr) return out;
  if (options->ready_file != nullptr) out.ready_file = options->ready_file;
  if (options->callback_count > 0 && options->callbacks == nullptr) {
    *ok = false;
    fail(err, OTLPD_INVALID_ARGUMENT, "options->callbacks is NULL");
    return out;
  }
  for (size_t i = 0; i < options->callback_count; ++i) {
    const otlpd_callback& cb = options->callbacks[i];
    if (cb.exporter_id == nullptr || cb.fn == nullptr) {
      *ok = false;
      fail(err, OTLPD_INVALID_ARGUMENT, "a callback needs an exporter_id and a fn");
      return out;
    }
    otlpd_export_fn fn = cb.fn;
    void* user_data = cb.user_data;
    out.callbacks[cb.exporter_id] = [fn, user_data](otlpd::Signal signal, otlpd::Encoding encoding,
                                                    std::string_view data) {
      const otlpd_status s =
          fn(user_data, static_cast<otlpd_signal>(signal), static_cast<otlpd_encoding>(encoding),
             reinterpret_cast<const uint8_t*>(data.data()), data.size());
      if (s == OTLPD_OK) return otlpd::Status();
      return otlpd::Status(
          static_cast<otlpd::StatusCode>(s),
          std::string("callback returned ") + otlpd_status_name(static_cast<otlpd_status>(s)));
    };
  }
  return out;
}

otlpd_status finishCollector(otlpd::Result<std::unique_ptr<otlpd::Collector>> made,
                             otlpd_collector** out, otlpd_error* err) {
  if (!made.ok()) return report(err, made.status());
  auto* handle = new otlpd_collector();
  handle->collector = *std::move(made);
  *out = handle;
  return report(err, {});
}

}  // namespace

extern "C" {

void otlpd_error_clear(otlpd_error* err) {
  if (err == nullptr) return;
  std::free(err->message);
  *err = OTLPD_ERROR_INIT;
}

const char* otlpd_version(void) {
  return otlpd::version();
}
int otlpd_abi_version(void) {
  return OTLPD_ABI_VERSION;
}

const char* otlpd_status_name(otlpd_status status) {
  // A C caller may pass any int; read it as one, since a C++ load of an enum outside its
  // enumerators' range is undefined.
  static_assert(sizeof(otlpd_status) == sizeof(int));
  int code = 0;
  std::memcpy(&code, &status, sizeof code);
  if (code < OTLPD_OK || code > OTLPD_INTERNAL) return "unknown";
  return otlpd::statusCodeName(static_cast<otlpd::StatusCode>(code));
}

void otlpd_buffer_free(otlpd_buffer* buffer) {
  if (buffer == nullptr) return;
  std::free(buffer->data);
  buffer->data = nullptr;
  buffer->size = 0;
}

otlpd_status otlpd_collector_new(const char* yaml, const otlpd_collector_options* options,
                                 otlpd_collector** out, otlpd_error* err) {
  return guarded(err, [&] {
    if (out == nullptr) return fail(err, OTLPD_INVALID_ARGUMENT, "out is NULL");
    *out = nullptr;
    bool ok = false;
    otlpd::CollectorOptions converted = convertOptions(options, err, &ok);
    if (!ok) return OTLPD_INVALID_ARGUMENT;
    return finishCollector(yaml == nullptr ? otlpd::Collector::fromDefault(std::move(converted))
                                           : otlpd::Collector::fromYaml(yaml, std::move(converted)),
                           out, err);
  });
}

otlpd_status otlpd_collector_new_from_files(const char* const* files, size_t file_count,
                                            const otlpd_collector_options* options,
                                            otlpd_collector** out, otlpd_error* err) {
  return guarded(err, [&] {
    if (out == nullptr) return fail(err, OTLPD_INVALID_ARGUMENT, "out is NULL");
    *out = nullptr;
    if (file_count > 0 && files == nullptr) {
      return fail(err, OTLPD_INVALID_ARGUMENT, "files is NULL");
    }
    std::vector<std::string> paths;
    for (size_t i = 0; i < file_count; ++i) {
      if (files[i] == nullptr) return fail(err, OTLPD_INVALID_ARGUMENT, "a file name is NULL");
      paths.emplace_back(files[i]);
    }
    bool ok = false;
    otlpd::CollectorOptions converted = convertOptions(options, err, &ok);
    if (!ok) return OTLPD_INVALID_ARGUMENT;
    return finishCollector(otlpd::Collector::fromFiles(paths, {}, std::move(converted)), out, err);
  });
}

#define OTLPD_CHECK_COLLECTOR(c) \
  if (!valid(c)) return fail(err, OTLPD_INVALID_ARGUMENT, "not a live otlpd_collector handle")

otlpd_status otlpd_collector_start(otlpd_collector* collector, otlpd_error* err) {
  return guarded(err, [&] {
    OTLPD_CHECK_COLLECTOR(collector);
    return report(err, collector->collector->start());
  });
}

otlpd_status otlpd_collector_shutdown(otlpd_collector* collector, int64_t deadline_ms,
                                      otlpd_error* err) {
  return guarded(err, [&] {
    OTLPD_CHECK_COLLECTOR(collector);
    if (deadline_ms < 0) deadline_ms = 0;
    return report(err, collector->collector->shutdown(std::chrono::milliseconds(deadline_ms)));
  });
}

otlpd_status otlpd_collector_reload(otlpd_collector* collector, const char* yaml,
                                    otlpd_error* err) {
  return guarded(err, [&] {
    OTLPD_CHECK_COLLECTOR(collector);
    if (yaml == nullptr) return fail(err, OTLPD_INVALID_ARGUMENT, "yaml is NULL");
    return report(err, collector->collector->reload(std::string_view(yaml)));
  });
}

otlpd_status otlpd_collector_flush(otlpd_collector* collector, int64_t deadline_ms,
                                   otlpd_error* err) {
  return guarded(err, [&] {
    OTLPD_CHECK_COLLECTOR(collector);
    if (deadline_ms < 0) deadline_ms = 0;
    return report(err, collector->collector->flush(std::chrono::milliseconds(deadline_ms)));
  });
}

otlpd_status otlpd_collector_export(otlpd_collector* collector, otlpd_signal signal,
                                    otlpd_encoding encoding, const uint8_t* data, size_t size,
                                    const char* receiver, int64_t* rejected_items,
                                    otlpd_error* err) {
  return guarded(err, [&] {
    OTLPD_CHECK_COLLECTOR(collector);
    if (rejected_items != nullptr) *rejected_items = 0;
    if (data == nullptr && size > 0) return fail(err, OTLPD_INVALID_ARGUMENT, "data is NULL");
    if (signal < OTLPD_TRACES || signal > OTLPD_LOGS) {
      return fail(err, OTLPD_INVALID_ARGUMENT, "unknown signal");
    }
    if (encoding != OTLPD_PROTOBUF && encoding != OTLPD_JSON) {
      return fail(err, OTLPD_INVALID_ARGUMENT, "unknown encoding");
    }
    otlpd::ExportResult r = collector->collector->exportData(
        static_cast<otlpd::Signal>(signal),
        std::string(reinterpret_cast<const char*>(data), data == nullptr ? 0 : size),
        static_cast<otlpd::Encoding>(encoding), receiver == nullptr ? "" : receiver);
    if (!r.ok()) return report(err, r.status);
    if (rejected_items != nullptr) *rejected_items = r.rejected_items;
    report(err, {});
    if (r.rejected_items > 0 && err != nullptr) err->message = copyString(r.rejected_message);
    return OTLPD_OK;
  });
}

otlpd_status otlpd_collector_metrics(otlpd_collector* collector, otlpd_buffer* out,
                                     otlpd_error* err) {
  return guarded(err, [&] {
    OTLPD_CHECK_COLLECTOR(collector);
    if (out == nullptr) return fail(err, OTLPD_INVALID_ARGUMENT, "out is NULL");
    const std::string text = collector->collector->metricsText();
    out->data = reinterpret_cast<uint8_t*>(copyString(text));
    out->size = out->data ? text.size() : 0;
    return report(err, {});
  });
}

void otlpd_collector_free(otlpd_collector* collector) {
  if (!valid(collector)) return;
  try {
    collector->magic = 0;
    collector->collector.reset();  // shuts down and waits
  } catch (...) {
  }
  delete collector;
}

otlpd_status otlpd_store_open(const char* directory, otlpd_store** out, otlpd_error* err) {
  return guarded(err, [&] {
    if (out == nullptr) return fail(err, OTLPD_INVALID_ARGUMENT, "out is NULL");
    *out = nullptr;
    if (directory == nullptr) return fail(err, OTLPD_INVALID_ARGUMENT, "directory is NULL");
    *out = new otlpd_store{kStoreMagic, directory, otlpd::StoreQuery(directory)};
    return report(err, {});
  });
}

void otlpd_store_free(otlpd_store* store) {
  if (!valid(store)) return;
  store->magic = 0;
  delete store;
}

#define OTLPD_CHECK_STORE(s) \
  if (!valid(s)) return fail(err, OTLPD_INVALID_ARGUMENT, "not a live otlpd_store handle")

namespace {

// One allocation per list: the structs first, then every string they point to.
struct SpanListBlock {
  std::vector<otlpd_span> spans;
  std::vector<otlpd_attribute> attributes;
  std::vector<std::string> strings;
};

}  // namespace

otlpd_status otlpd_store_trace(otlpd_store* store, const char* trace_id_hex, otlpd_span_list* out,
                               otlpd_error* err) {
  return guarded(err, [&] {
    OTLPD_CHECK_STORE(store);
    if (out == nullptr || trace_id_hex == nullptr) {
      return fail(err, OTLPD_INVALID_ARGUMENT, "out or trace_id_hex is NULL");
    }
    *out = otlpd_span_list{nullptr, 0, nullptr};
    auto trace = store->query.trace(trace_id_hex);
    if (!trace.ok()) return report(err, trace.status());
    auto* block = new SpanListBlock();
    size_t attribute_total = 0;
    for (const auto& span : trace->spans) attribute_total += span.attributes.size();
    block->attributes.reserve(attribute_total);
    block->spans.reserve(trace->spans.size());
    // Strings are moved into the block first, so their addresses are stable (no reallocation).
    size_t string_total = 0;
    for (const auto& span : trace->spans) string_total += 7 + 2 * span.attributes.size();
    block->strings.reserve(string_total);
    auto keep = [&](std::string s) { return block->strings.emplace_back(std::move(s)).c_str(); };
    for (auto& span : trace->spans) {
      otlpd_span s{};
      s.trace_id = keep(std::move(span.trace_id));
      s.span_id = keep(std::move(span.span_id));
      s.parent_span_id = keep(std::move(span.parent_span_id));
      s.service = keep(std::move(span.service));
      s.name = keep(std::move(span.name));
      s.kind = span.kind;
      s.start_unix_nano = span.start_unix_nano;
      s.end_unix_nano = span.end_unix_nano;
      s.status_code = span.status_code;
      s.status_message = keep(std::move(span.status_message));
      s.attributes = block->attributes.data() + block->attributes.size();
      s.attribute_count = span.attributes.size();
      for (auto& [k, v] : span.attributes) {
        block->attributes.push_back(otlpd_attribute{keep(std::move(k)), keep(std::move(v))});
      }
      block->spans.push_back(s);
    }
    out->spans = block->spans.data();
    out->count = block->spans.size();
    out->internal = block;
    return report(err, {});
  });
}

void otlpd_span_list_free(otlpd_span_list* list) {
  if (list == nullptr) return;
  delete static_cast<SpanListBlock*>(list->internal);
  *list = otlpd_span_list{nullptr, 0, nullptr};
}

otlpd_status otlpd_store_trace_otlp(otlpd_store* store, const char* trace_id_hex, otlpd_buffer* out,
                                    otlpd_error* err) {
  return guarded(err, [&] {
    OTLPD_CHECK_STORE(store);
    if (out == nullptr || trace_id_hex == nullptr) {
      return fail(err, OTLPD_INVALID_ARGUMENT, "out or trace_id_hex is NULL");
    }
    *out = otlpd_buffer{nullptr, 0};
    auto bytes = store->query.traceOtlp(trace_id_hex);
    if (!bytes.ok()) return report(err, bytes.status());
    out->data = static_cast<uint8_t*>(std::malloc(bytes->size() + 1));
    if (out->data == nullptr) return fail(err, OTLPD_INTERNAL, "out of memory");
    std::memcpy(out->data, bytes->data(), bytes->size());
    out->size = bytes->size();
    return report(err, {});
  });
}

otlpd_status otlpd_store_services(otlpd_store* store, otlpd_string_list* out, otlpd_error* err) {
  return guarded(err, [&] {
    OTLPD_CHECK_STORE(store);
    if (out == nullptr) return fail(err, OTLPD_INVALID_ARGUMENT, "out is NULL");
    *out = otlpd_string_list{nullptr, 0};
    auto services = store->query.services();
    if (!services.ok()) return report(err, services.status());
    // One allocation: the pointer array, then the strings.
    size_t bytes = sizeof(char*) * services->size();
    for (const auto& s : *services) bytes += s.size() + 1;
    char* memory = static_cast<char*>(std::malloc(bytes == 0 ? 1 : bytes));
    if (memory == nullptr) return fail(err, OTLPD_INTERNAL, "out of memory");
    auto** items = reinterpret_cast<const char**>(memory);
    char* text = memory + sizeof(char*) * services->size();
    for (size_t i = 0; i < services->size(); ++i) {
      const std::string& s = (*services)[i];
      std::memcpy(text, s.c_str(), s.size() + 1);
      items[i] = text;
      text += s.size() + 1;
    }
    out->items = items;
    out->count = services->size();
    return report(err, {});
  });
}

void otlpd_string_list_free(otlpd_string_list* list) {
  if (list == nullptr) return;
  std::free(const_cast<const char**>(list->items));
  list->items = nullptr;
  list->count = 0;
}

otlpd_status otlpd_store_scan(otlpd_store* store, otlpd_signal signal, int64_t start_unix_nano,
                              int64_t end_unix_nano, otlpd_request_fn fn, void* user_data,
                              otlpd_error* err) {
  return guarded(err, [&] {
    OTLPD_CHECK_STORE(store);
    if (fn == nullptr) return fail(err, OTLPD_INVALID_ARGUMENT, "fn is NULL");
    if (signal < OTLPD_TRACES || signal > OTLPD_LOGS) {
      return fail(err, OTLPD_INVALID_ARGUMENT, "unknown signal");
    }
    otlpd::store::ScanQuery q;
    q.signal = static_cast<otlpd::store::StoredSignal>(signal);
    if (start_unix_nano != 0) q.start_unix_nano = start_unix_nano;
    if (end_unix_nano != 0) q.end_unix_nano = end_unix_nano;
    otlpd::store::StoreReader reader(store->directory);
    const std::string error = reader.scan(q, [&](std::string_view request) {
      return fn(user_data, reinterpret_cast<const uint8_t*>(request.data()), request.size()) != 0;
    });
    if (!error.empty() && error.find("No such file") == std::string::npos &&
        error.find("does not exist") == std::string::npos) {
      return fail(err, OTLPD_IO_ERROR, error);
    }
    return report(err, {});
  });
}

}  // extern "C"
