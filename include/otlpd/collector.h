// otlpd as a library: the collector's pipelines (receivers, processors, exporters, the store, the
// viewer) running inside the embedding program. Same YAML, same validation and same behaviour as
// `otlpd serve`; the binary itself is built on this class.
//
//   auto collector = otlpd::Collector::fromYaml(yaml);      // validates, binds nothing
//   if (!collector.ok()) ... collector.status().message()   // every config error, with its line
//   (*collector)->start();
//   otlpd::ExportResult r = (*collector)->exportTraces(encoded_request);  // an `embedded` receiver
//   (*collector)->shutdown();
//
// Thread safety: every method may be called from any thread, concurrently; exports run in
// parallel. Several collectors may live in one process (they share nothing, except the process's
// log output, see CollectorOptions::configure_logging).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "otlpd/status.h"

namespace otlpd {

// The library's version, e.g. "0.1.0".
const char* version();

enum class Signal { kTraces = 0, kMetrics = 1, kLogs = 2 };
enum class Encoding { kProtobuf = 0, kJson = 1 };

// What an OTLP client would have been told.
struct ExportResult {
  // kOk: accepted (check rejected_items: a partial success); kInvalidArgument: undecodable or
  // permanently refused, do not retry; kRetryable: refused for now (memory budget spent, a
  // pipeline refused), retry later; kNotRunning / kNotFound: no running embedded receiver.
  Status status;
  // Partial success: items that validation removed (spans, data points or log records), and why.
  int64_t rejected_items = 0;
  std::string rejected_message;

  bool ok() const { return status.ok(); }
  bool partial() const { return status.ok() && rejected_items > 0; }
  bool retryable() const { return status.code() == StatusCode::kRetryable; }
};

// The function behind a `callback` exporter. `data` is one export request of `signal` (valid only
// during the call; copy what you keep) encoded as the exporter's `encoding` says (proto: OTLP
// protobuf bytes, json: OTLP/JSON). Called from the exporter's queue threads, possibly several at
// once (sending_queue.num_consumers). Return OK when done; kInvalidArgument when this data will
// never be taken (it goes to the dead-letter queue, or is dropped); anything else is retried with
// backoff (retry_on_failure). An exception thrown out of it is caught and counts as permanent.
using ExportCallback =
    std::function<Status(Signal signal, Encoding encoding, std::string_view data)>;

struct CollectorOptions {
  // Functions of `callback` exporters, by exporter id as written in the config ("callback",
  // "callback/audit"). A config naming a callback exporter without a function does not validate.
  std::map<std::string, ExportCallback> callbacks;
  // Once started: a JSON object of every listener's address, written here (for port 0).
  std::string ready_file;
  // Apply service.telemetry.logs (level, encoding) to the process's log output. The log output
  // is process-wide, so embedders leave this off (the default: info, JSON, on stderr) and the
  // otlpd binary turns it on.
  bool configure_logging = false;
};

class Collector {
 public:
  // Each validates the whole config (same rules and messages as `otlpd validate`) and binds
  // nothing; StatusCode::kConfigError lists every error with its path and line.
  static Result<std::unique_ptr<Collector>> fromYaml(std::string_view yaml,
                                                     CollectorOptions options = {});
  // YAML files merged in order (later win), then `sets` ("a.b.c=value") applied, then ${env:X}
  // expanded: `otlpd serve --config ... --set ...`. No files: the default config.
  static Result<std::unique_ptr<Collector>> fromFiles(const std::vector<std::string>& files,
                                                      const std::vector<std::string>& sets = {},
                                                      CollectorOptions options = {});
  // What `otlpd serve` runs without --config (OTLP on :4317/:4318, a store, the viewer).
  static Result<std::unique_ptr<Collector>> fromDefault(CollectorOptions options = {});
  static std::string defaultConfig();

  ~Collector();  // shuts down if still running
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Binds listeners, opens stores, starts every pipeline. kNotRunning after shutdown().
  Status start();
  // Stops receivers first so everything in flight drains into the exporters, then the rest.
  // Returns kDeadlineExceeded if that takes longer than `deadline`; the stop then completes in
  // the background (and the destructor waits for it).
  Status shutdown(std::chrono::milliseconds deadline = std::chrono::seconds(60));
  // Replaces the running config. A config that does not validate (kConfigError) or does not
  // start leaves the running one in place. Exports during the switch get kRetryable.
  Status reload(std::string_view yaml);
  // Re-reads the files and sets the collector was created from (SIGHUP in `otlpd serve`).
  Status reload();
  // Delivers everything accepted so far: stops the pipelines (draining every queue into its
  // exporter, the store writing its files) and starts them again with the same config.
  // Listeners bind again (an ephemeral port may change).
  Status flush();
  bool running() const;

  // An encoded Export{Trace,Metrics,Logs}ServiceRequest (what every OTLP exporter sends), or
  // OTLP/JSON, into the pipelines of the `embedded` receiver `receiver` ("embedded",
  // "embedded/x"; empty: the only one). The data is copied (the rvalue overloads take it).
  ExportResult exportTraces(std::string_view data, Encoding encoding = Encoding::kProtobuf,
                            std::string_view receiver = {});
  ExportResult exportMetrics(std::string_view data, Encoding encoding = Encoding::kProtobuf,
                             std::string_view receiver = {});
  ExportResult exportLogs(std::string_view data, Encoding encoding = Encoding::kProtobuf,
                          std::string_view receiver = {});
  ExportResult exportData(Signal signal, std::string data, Encoding encoding = Encoding::kProtobuf,
                          std::string_view receiver = {});

  // Where listeners bound ("otlp.grpc" → "127.0.0.1:4317", "telemetry.metrics" → ...).
  std::map<std::string, std::string> endpoints() const;
  // The collector's own metrics in the Prometheus text format (what /metrics serves).
  std::string metricsText() const;

  class Impl;

 private:
  explicit Collector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace otlpd
