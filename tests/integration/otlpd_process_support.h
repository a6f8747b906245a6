// Helpers for integration tests that run the real otlpd binary: start it on port 0 with a config
// in a fresh temp dir, find its listeners through the ready file, talk HTTP to it, read what the
// file exporters wrote, and stop it the way an operator would (SIGTERM).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace otlpd::integration {

using HeaderList = std::vector<std::pair<std::string, std::string>>;
using LabelMap = std::map<std::string, std::string>;

inline constexpr std::chrono::milliseconds kDefaultIoTimeout{10000};

// std::string_view versions: Debian's absl::StrContains takes absl::string_view only.
inline bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}
bool containsIgnoreCase(std::string_view haystack, std::string_view needle);

struct HttpResult {
  int status = 0;
  // Header names lower-cased; a repeated header keeps its last value.
  std::map<std::string, std::string> headers;
  std::string body;
  // Whether the server left the connection open for another request.
  bool keep_alive = false;

  // "" when absent; `name` is matched case-insensitively.
  std::string header(std::string_view name) const;
  bool hasHeader(std::string_view name) const;
};

// One HTTP/1.1 connection that can carry several requests (keep-alive). Every operation is bounded
// by a timeout so a server that hangs fails the test instead of hanging it.
class HttpConnection {
 public:
  static absl::StatusOr<std::unique_ptr<HttpConnection>> open(
      const std::string& endpoint, std::chrono::milliseconds timeout = kDefaultIoTimeout);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Any method name is allowed, including ones Beast has no verb for. Content-Length is set from
  // the body unless the caller gives one. The response is read while the body is still being
  // written, because a server may answer (413) and hang up before taking the whole body.
  absl::StatusOr<HttpResult> request(std::string_view method, std::string_view target,
                                     const HeaderList& headers = {}, std::string body = {});

 private:
  struct Impl;
  explicit HttpConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A single request on a connection of its own.
absl::StatusOr<HttpResult> httpRequest(const std::string& endpoint, std::string_view method,
                                       std::string_view target, const HeaderList& headers = {},
                                       std::string body = {});

// Parses Prometheus text exposition and returns the sample whose name is `name` and whose label
// set is exactly `labels`; nullopt when there is none.
std::optional<double> findPrometheusSample(std::string_view exposition, std::string_view name,
                                           const LabelMap& labels);

// The flat {"key":"value",...} object otlpd writes as its ready file.
absl::StatusOr<std::map<std::string, std::string>> parseReadyFile(std::string_view json);

struct ExitStatus {
  bool exited = false;  // false: killed by a signal (see `signal`)
  int code = -1;        // exit code when `exited`
  int signal = 0;       // terminating signal otherwise
  bool forced = false;  // SIGTERM was not enough and SIGKILL was sent

  bool cleanExit() const { return exited && code == 0 && !forced; }
  std::string toString() const;
};

// Result of running the binary to completion, for CLI tests.
struct CommandResult {
  ExitStatus status;
  std::string out;
  std::string err;
};

// Runs the binary under test (OTLPD_BINARY, or $OTLPD_TEST_BINARY when set) with `args` (argv[1..])
// and waits for it, at most `timeout`.
absl::StatusOr<CommandResult> runOtlpd(const std::vector<std::string>& args,
                                       std::chrono::milliseconds timeout = kDefaultIoTimeout);

// A TCP port on 127.0.0.1 that was free a moment ago, for configs that must name a fixed port
// (a reload that rebinds the same address, a downstream started after its forwarder).
int freeLoopbackPort();

// A running `otlpd serve`.
class OtlpdProcess {
 public:
  // The config the OTLP tests share: an otlp receiver with gRPC and HTTP (4 MiB limits), a file
  // exporter per signal writing traces.jsonl, metrics.jsonl and logs.jsonl, health_check and
  // self-metrics, every listener on 127.0.0.1:0. `http_extra` adds flow-style keys to
  // receivers.otlp.protocols.http, e.g. `cors: { allowed_origins: ["http://example.test"] }`.
  static std::string standardConfig(std::string_view http_extra = {});
  // The standard config with the `protocol` ("grpc" or "http") listener on `endpoint` instead of
  // port 0, for a downstream that must come up where a forwarder already points.
  static std::string standardConfigListeningOn(std::string_view protocol,
                                               std::string_view endpoint);

  // Writes `config_yaml` (every "@DIR@" replaced by the fresh temp dir) and starts otlpd on it,
  // then waits up to `ready_timeout` for the ready file. If the child exits first, the error
  // carries its stderr.
  static absl::StatusOr<std::unique_ptr<OtlpdProcess>> start(
      std::string_view config_yaml,
      std::chrono::milliseconds ready_timeout = std::chrono::seconds(20));

  // Stops the child if still running (SIGTERM, then SIGKILL after a bound) and removes the temp
  // dir unless OTLPD_KEEP_TEST_DIRS is set.
  ~OtlpdProcess();
  OtlpdProcess(const OtlpdProcess&) = delete;
  OtlpdProcess& operator=(const OtlpdProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& dir() const { return dir_; }
  std::string path(std::string_view file) const;

  // Listener address from the ready file by key, e.g. "otlp.grpc"; "" when absent.
  std::string endpoint(std::string_view key) const;
  std::string grpcEndpoint() const { return endpoint("otlp.grpc"); }
  std::string httpEndpoint() const { return endpoint("otlp.http"); }
  std::string healthEndpoint() const { return endpoint("health_check"); }
  std::string metricsEndpoint() const { return endpoint("telemetry.metrics"); }
  const std::map<std::string, std::string>& endpoints() const { return endpoints_; }

  absl::StatusOr<std::string> scrape() const;
  // One sample of GET /metrics on telemetry.metrics; NotFound when the series is absent.
  absl::StatusOr<double> scrapeMetric(std::string_view name, const LabelMap& labels) const;
  // Polls scrapeMetric until it returns `expected` or `timeout` passes; returns the last value
  // read, so the caller's EXPECT_EQ shows what was there instead.
  absl::StatusOr<double> waitForMetric(
      std::string_view name, const LabelMap& labels, double expected,
      std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

  // Non-empty lines of a file in the temp dir; an absent file has none.
  std::vector<std::string> readJsonLines(std::string_view file) const;
  // Polls readJsonLines until at least `count` lines are there or `timeout` passes.
  std::vector<std::string> waitForJsonLines(
      std::string_view file, size_t count,
      std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

  std::string stdoutContents() const;
  std::string stderrContents() const;

  // Whether the child is still running (reaps it if not).
  bool running();
  // SIGTERM, then waits up to `grace`; SIGKILL after that. Idempotent: later calls return the
  // first result.
  ExitStatus stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

 private:
  OtlpdProcess() = default;

  std::string dir_;
  pid_t pid_ = -1;
  std::optional<ExitStatus> exit_;
  std::map<std::string, std::string> endpoints_;
};

// Every otlpd_receiver_* counter of receiver "otlp" for one transport ("grpc" or "http").
struct ReceiverCounters {
  double accepted_spans = 0, refused_spans = 0, invalid_spans = 0;
  double accepted_points = 0, refused_points = 0, invalid_points = 0;
  double accepted_logs = 0, refused_logs = 0, invalid_logs = 0;
  double malformed = 0;

  bool operator==(const ReceiverCounters&) const = default;
  std::string toString() const;
};
// gtest prints values through this.
void PrintTo(const ReceiverCounters& c, std::ostream* os);

absl::StatusOr<ReceiverCounters> readReceiverCounters(const OtlpdProcess& process,
                                                      std::string_view transport);
// Polls until the counters equal `expected` or `timeout` passes; returns the last read.
absl::StatusOr<ReceiverCounters> waitForReceiverCounters(
    const OtlpdProcess& process, std::string_view transport, const ReceiverCounters& expected,
    std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace otlpd::integration
