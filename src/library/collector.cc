#include "otlpd/collector.h"

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>

#include "common/logging.h"
#include "common/strings.h"
#include "config/loader.h"
#include "library/components.h"
#include "otlp/proto.h"
#include "server/default_config.h"
#include "server/service.h"

namespace otlpd {

const char* version() {
  return OTLPD_VERSION;
}

const char* statusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kConfigError:
      return "config_error";
    case StatusCode::kRetryable:
      return "retryable";
    case StatusCode::kNotRunning:
      return "not_running";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kIoError:
      return "io_error";
    case StatusCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case StatusCode::kInternal:
      return "internal";
  }
  return "unknown";
}

std::string Status::toString() const {
  if (ok()) return "ok";
  return strCat(statusCodeName(code_), ": ", message_);
}

namespace {

using receivers::embedded::EmbeddedIngress;
using receivers::otlp::ExportOutcome;

enum class State { kCreated, kRunning, kRestarting, kStopped };

Status configError(const config::ConfigErrors& errors) {
  std::string message =
      strCat("invalid config (", errors.size(), " error", errors.size() == 1 ? "" : "s", "):");
  for (const auto& e : errors.all()) strAppend(&message, "\n  ", e.toString());
  return Status(StatusCode::kConfigError, std::move(message));
}

Status loadError(const absl::Status& s) {
  return Status(StatusCode::kConfigError, strCat("invalid config: ", s.message()));
}

Status fromAbsl(const absl::Status& s, StatusCode code) {
  if (s.ok()) return {};
  return Status(code, std::string(s.message()));
}

// The embedder's function as the callback exporter calls it: statuses mapped, exceptions caught.
exporters::callback::CallbackFunction adaptCallback(ExportCallback callback) {
  return [callback = std::move(callback)](pipeline::Signal signal, bool json,
                                          std::string_view data) -> absl::Status {
    Status s;
    try {
      s = callback(static_cast<Signal>(signal), json ? Encoding::kJson : Encoding::kProtobuf, data);
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(strCat("the callback threw: ", e.what()));
    } catch (...) {
      return absl::InvalidArgumentError("the callback threw an exception");
    }
    switch (s.code()) {
      case StatusCode::kOk:
        return absl::OkStatus();
      case StatusCode::kInvalidArgument:
        return absl::InvalidArgumentError(s.message());
      default:
        return absl::UnavailableError(s.message());
    }
  };
}

// A partial success, read back from the encoded Export*ServiceResponse.
template <typename Response>
void readPartialSuccess(const std::string& body, int64_t (*rejected)(const Response&),
                        ExportResult& result) {
  Response response;
  if (!response.ParseFromString(body) || !response.has_partial_success()) return;
  result.rejected_items = rejected(response);
  result.rejected_message = response.partial_success().error_message();
}

}  // namespace

class Collector::Impl {
 public:
  Impl(CollectorOptions options, std::vector<std::string> files, std::vector<std::string> sets,
       std::optional<std::string> yaml)
      : options_(std::move(options)),
        files_(std::move(files)),
        sets_(std::move(sets)),
        yaml_(std::move(yaml)),
        ingress_(std::make_shared<EmbeddedIngress>()) {
    auto callbacks = std::make_shared<exporters::callback::CallbackDirectory>();
    for (auto& [id, fn] : options_.callbacks) (*callbacks)[id] = adaptCallback(fn);
    library::registerComponents(factories_, ingress_, std::move(callbacks));
  }

  ~Impl() {
    (void)shutdown(std::chrono::hours(24));
    if (stopping_.valid()) stopping_.wait();
  }

  // The config of the collector's sources (the YAML text, or files + sets), env expanded.
  absl::StatusOr<YAML::Node> loadSources() const {
    absl::StatusOr<YAML::Node> root = yaml_ ? config::parseYaml(*yaml_, "<config>")
                                            : config::loadConfig(files_, server::kDefaultConfig);
    if (!root.ok()) return root.status();
    for (const std::string& set : sets_) {
      if (absl::Status s = config::applySet(*root, set); !s.ok()) return s;
    }
    if (absl::Status s = config::expandEnv(*root, config::processEnv); !s.ok()) return s;
    return root;
  }

  Status build() {
    auto root = loadSources();
    if (!root.ok()) return loadError(root.status());
    config::ConfigErrors errors;
    service_ = server::Service::build(*root, factories_, errors, ingress_);
    if (!service_) return configError(errors);
    root_ = *root;
    if (options_.configure_logging) {
      logging::init(service_->telemetry().log_level, service_->telemetry().log_format);
    }
    return {};
  }

  Status start() {
    std::lock_guard lock(lifecycle_mu_);
    switch (state_.load()) {
      case State::kRunning:
      case State::kRestarting:
        return {};
      case State::kStopped:
        return Status(StatusCode::kNotRunning, "the collector was shut down; create a new one");
      case State::kCreated:
        break;
    }
    if (absl::Status s = service_->start(options_.ready_file); !s.ok()) {
      state_ = State::kStopped;
      return fromAbsl(s, StatusCode::kIoError);
    }
    state_ = State::kRunning;
    return {};
  }

  Status shutdown(std::chrono::milliseconds deadline) {
    std::unique_lock lock(lifecycle_mu_);
    if (state_ == State::kCreated) {
      state_ = State::kStopped;
      return {};
    }
    if (!stopping_.valid()) {
      if (state_ == State::kStopped) return {};  // never started, or failed to start
      state_ = State::kStopped;
      server::Service* service = service_.get();
      stopping_ = std::async(std::launch::async, [service] { return service->shutdown(); });
    }
    std::shared_future<absl::Status> stopping = stopping_;
    lock.unlock();
    if (stopping.wait_for(deadline) != std::future_status::ready) {
      return Status(StatusCode::kDeadlineExceeded,
                    "the pipelines are still draining; the shutdown goes on in the background");
    }
    return fromAbsl(stopping.get(), StatusCode::kInternal);
  }

  Status reload(absl::StatusOr<YAML::Node> root) {
    if (!root.ok()) {
      logging::error("config reload rejected; keeping the running config",
                     {{"error", root.status().ToString()}});
      return loadError(root.status());
    }
    std::lock_guard lock(lifecycle_mu_);
    if (state_ != State::kRunning) {
      return Status(StatusCode::kNotRunning, "the collector is not running");
    }
    config::ConfigErrors errors;
    state_ = State::kRestarting;
    absl::Status s = service_->reload(*root, factories_, errors);
    state_ = State::kRunning;
    if (!errors.empty()) {
      for (const auto& e : errors.all()) {
        logging::error("config reload rejected; keeping the running config",
                       {{"error", e.toString()}});
      }
      return configError(errors);
    }
    if (!s.ok()) {
      logging::error("config reload failed", {{"error", s.ToString()}});
      return fromAbsl(s, StatusCode::kIoError);
    }
    root_ = *root;
    logging::info("config reloaded");
    return {};
  }

  Status reloadText(std::string_view yaml) {
    absl::StatusOr<YAML::Node> root = config::parseYaml(yaml, "<config>");
    if (root.ok()) {
      if (absl::Status s = config::expandEnv(*root, config::processEnv); !s.ok()) root = s;
    }
    return reload(std::move(root));
  }

  Status flush(std::chrono::milliseconds deadline) {
    const absl::Time until = absl::Now() + absl::FromChrono(std::max(deadline, {}));
    // Held so that no reload or shutdown swaps the graph under the flush; bounded by `deadline`.
    std::lock_guard lock(lifecycle_mu_);
    if (state_ != State::kRunning) {
      return Status(StatusCode::kNotRunning, "the collector is not running");
    }
    absl::Status s = service_->flush(until);
    if (s.ok()) return {};
    if (s.code() == absl::StatusCode::kDeadlineExceeded) {
      return Status(StatusCode::kDeadlineExceeded,
                    strCat("flush not done within its deadline; the data goes on in the "
                           "background: ",
                           s.message()));
    }
    logging::error("flush failed", {{"error", s.ToString()}});
    return fromAbsl(s, StatusCode::kIoError);
  }

  ExportResult exportData(Signal signal, std::string&& data, Encoding encoding,
                          std::string_view receiver) {
    ExportResult result;
    bool found = false;
    ExportOutcome out =
        ingress_->exportRequest(static_cast<pipeline::Signal>(signal), receiver, std::move(data),
                                encoding == Encoding::kJson, &found);
    if (!found) {
      result.status = notFound(receiver);
      return result;
    }
    switch (out.kind) {
      case ExportOutcome::Kind::kOk:
        break;
      case ExportOutcome::Kind::kBadRequest:
        result.status = Status(StatusCode::kInvalidArgument, std::move(out.message));
        return result;
      case ExportOutcome::Kind::kRetryable:
        result.status = Status(StatusCode::kRetryable, std::move(out.message));
        return result;
    }
    if (out.body.empty()) return result;  // a full success is an empty response
    switch (signal) {
      case Signal::kTraces:
        readPartialSuccess<otlp::TracesResponse>(
            out.body, [](const auto& r) { return r.partial_success().rejected_spans(); }, result);
        break;
      case Signal::kMetrics:
        readPartialSuccess<otlp::MetricsResponse>(
            out.body, [](const auto& r) { return r.partial_success().rejected_data_points(); },
            result);
        break;
      case Signal::kLogs:
        readPartialSuccess<otlp::LogsResponse>(
            out.body, [](const auto& r) { return r.partial_success().rejected_log_records(); },
            result);
        break;
    }
    return result;
  }

  bool running() const { return state_ == State::kRunning || state_ == State::kRestarting; }
  std::map<std::string, std::string> endpoints() const { return service_->endpoints(); }
  std::string metricsText() const { return service_->metrics().renderPrometheus(); }

 private:
  Status notFound(std::string_view receiver) const {
    switch (state_.load()) {
      case State::kCreated:
        return Status(StatusCode::kNotRunning, "the collector is not started");
      case State::kStopped:
        return Status(StatusCode::kNotRunning, "the collector was shut down");
      case State::kRestarting:
        return Status(StatusCode::kRetryable, "the pipelines are restarting; retry");
      case State::kRunning:
        break;
    }
    if (!receiver.empty()) {
      return Status(StatusCode::kNotFound,
                    strCat("no receiver '", receiver, "' of type embedded is in a pipeline"));
    }
    return Status(StatusCode::kNotFound,
                  "the config needs exactly one receiver of type embedded in its pipelines, "
                  "besides those otlpd's own telemetry enters by (or name the receiver in the "
                  "call)");
  }

  CollectorOptions options_;
  std::vector<std::string> files_;
  std::vector<std::string> sets_;
  std::optional<std::string> yaml_;
  std::shared_ptr<EmbeddedIngress> ingress_;
  pipeline::FactoryRegistry factories_;
  std::unique_ptr<server::Service> service_;
  YAML::Node root_;
  std::mutex lifecycle_mu_;
  std::atomic<State> state_{State::kCreated};
  std::shared_future<absl::Status> stopping_;

  friend class Collector;
};

Collector::Collector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Collector::~Collector() = default;

namespace {

Result<std::unique_ptr<Collector>> make(
    std::unique_ptr<Collector::Impl> impl,
    std::unique_ptr<Collector> (*wrap)(std::unique_ptr<Collector::Impl>)) {
  if (Status s = impl->build(); !s.ok()) return s;
  return wrap(std::move(impl));
}

}  // namespace

Result<std::unique_ptr<Collector>> Collector::fromYaml(std::string_view yaml,
                                                       CollectorOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options), std::vector<std::string>{},
                                     std::vector<std::string>{}, std::string(yaml));
  return make(std::move(impl), [](std::unique_ptr<Impl> i) {
    return std::unique_ptr<Collector>(new Collector(std::move(i)));
  });
}

Result<std::unique_ptr<Collector>> Collector::fromFiles(const std::vector<std::string>& files,
                                                        const std::vector<std::string>& sets,
                                                        CollectorOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options), files, sets, std::nullopt);
  return make(std::move(impl), [](std::unique_ptr<Impl> i) {
    return std::unique_ptr<Collector>(new Collector(std::move(i)));
  });
}

Result<std::unique_ptr<Collector>> Collector::fromDefault(CollectorOptions options) {
  return fromFiles({}, {}, std::move(options));
}

std::string Collector::defaultConfig() {
  return std::string(server::kDefaultConfig);
}

Status Collector::start() {
  return impl_->start();
}
Status Collector::shutdown(std::chrono::milliseconds deadline) {
  return impl_->shutdown(deadline);
}
Status Collector::reload(std::string_view yaml) {
  return impl_->reloadText(yaml);
}
Status Collector::reload() {
  return impl_->reload(impl_->loadSources());
}
Status Collector::flush(std::chrono::milliseconds deadline) {
  return impl_->flush(deadline);
}
bool Collector::running() const {
  return impl_->running();
}

ExportResult Collector::exportTraces(std::string_view data, Encoding encoding,
                                     std::string_view receiver) {
  return impl_->exportData(Signal::kTraces, std::string(data), encoding, receiver);
}
ExportResult Collector::exportMetrics(std::string_view data, Encoding encoding,
                                      std::string_view receiver) {
  return impl_->exportData(Signal::kMetrics, std::string(data), encoding, receiver);
}
ExportResult Collector::exportLogs(std::string_view data, Encoding encoding,
                                   std::string_view receiver) {
  return impl_->exportData(Signal::kLogs, std::string(data), encoding, receiver);
}
ExportResult Collector::exportData(Signal signal, std::string data, Encoding encoding,
                                   std::string_view receiver) {
  if (signal != Signal::kTraces && signal != Signal::kMetrics && signal != Signal::kLogs) {
    ExportResult r;
    r.status = Status(StatusCode::kInvalidArgument, "unknown signal");
    return r;
  }
  return impl_->exportData(signal, std::move(data), encoding, receiver);
}

std::map<std::string, std::string> Collector::endpoints() const {
  return impl_->endpoints();
}
std::string Collector::metricsText() const {
  return impl_->metricsText();
}

}  // namespace otlpd
