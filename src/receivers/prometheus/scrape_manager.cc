#include "receivers/prometheus/scrape_manager.h"

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "common/fnv1a.h"
#include "common/logging.h"
#include "common/strings.h"
#include "pipeline/batch.h"
#include "prometheus/exposition.h"
#include "prometheus/scrape_translator.h"
#include "receivers/prometheus/file_sd.h"
#include "receivers/prometheus/scrape_client.h"
#include "receivers/prometheus/targets.h"

namespace otlpd::receivers::prometheus {

namespace asio = boost::asio;
namespace prom = otlpd::prometheus;

namespace {

std::optional<std::string> readSecretFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  // Prometheus trims the trailing newline editors add.
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

struct TargetLoop;

struct Job {
  ScrapeConfig config;
  std::shared_ptr<asio::ssl::context> ssl;  // null for http
  std::vector<FileDiscovery> discoveries;
  absl::Time next_full_refresh;
  std::map<std::string, std::shared_ptr<TargetLoop>> loops;  // by identity
  std::set<std::string> logged_errors;
  common::Gauge* targets = nullptr;
};

struct TargetLoop : std::enable_shared_from_this<TargetLoop> {
  TargetLoop(ScrapeManager::Impl& manager, Job& owner, ResolvedTarget t);

  ScrapeManager::Impl& m;
  Job& job;
  ResolvedTarget resolved;
  ScrapeClient client;
  asio::steady_timer timer;
  std::chrono::steady_clock::time_point next_run;

  // I/O thread only.
  bool busy = false;
  bool stopping = false;
  bool finish_when_stopped = false;

  // The worker processing this target (one at a time).
  prom::ScrapeTranslator translator;
  std::set<std::string> logged;  // failure reasons already logged
  absl::Time scrape_started;

  common::Counter* scrapes = nullptr;
  common::Gauge* up = nullptr;
  common::Counter* type_changes = nullptr;

  common::Labels labels() const;
  void schedule();
  void fire();
  void process(FetchResult result);
  void finish();
  void afterWork();
  FetchRequest request() const;
};

struct ScrapeManager::Impl : std::enable_shared_from_this<Impl> {
  ScrapeManagerOptions options;
  asio::io_context ioc{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::unique_ptr<asio::thread_pool> workers;
  std::thread io_thread;
  asio::steady_timer file_timer{ioc};
  std::vector<std::unique_ptr<Job>> jobs;
  std::atomic<bool> stopping{false};
  bool stopped = false;

  common::Counter* accepted = nullptr;
  common::Counter* refused = nullptr;
  std::atomic<int64_t> last_refusal_log_ns{0};

  void updateTargets(Job& job, const std::vector<TargetGroup>& groups);
  void pollFiles(bool first);
  void deliver(std::string&& request, uint64_t points, TargetLoop& loop);
  void logOnce(TargetLoop& loop, const std::string& reason, std::string_view message,
               const absl::Status& status);
};

TargetLoop::TargetLoop(ScrapeManager::Impl& manager, Job& owner, ResolvedTarget t)
    : m(manager),
      job(owner),
      resolved(std::move(t)),
      client(manager.ioc, resolved.target.scheme == "https" ? owner.ssl : nullptr,
             owner.config.tls_config),
      timer(manager.ioc),
      translator(resolved.target, [&] {
        prom::TranslateOptions o;
        o.honor_labels = owner.config.honor_labels;
        o.honor_timestamps = owner.config.honor_timestamps;
        o.metric_relabel_configs = owner.config.metric_relabel_configs;
        o.sample_limit = owner.config.sample_limit;
        o.scope_version = OTLPD_VERSION;
        return o;
      }()) {
  common::MetricsRegistry& metrics = *m.options.metrics;
  const common::Labels l = labels();
  scrapes = &metrics.counter("otlpd_prometheus_scrapes_total",
                             "Scrapes of a target, whatever their outcome.", l);
  up = &metrics.gauge("otlpd_prometheus_target_up",
                      "1 when the last scrape of a target succeeded, else 0 (its `up` series).", l);
  type_changes = &metrics.counter(
      "otlpd_prometheus_type_changes_total",
      "Metrics whose type differs from the previous scrape (a new series starts).", l);
}

common::Labels TargetLoop::labels() const {
  return {{"receiver", m.options.receiver_id},
          {"job", resolved.target.job},
          {"instance", resolved.target.instance}};
}

FetchRequest TargetLoop::request() const {
  const ScrapeConfig& c = job.config;
  FetchRequest r;
  r.host = resolved.host;
  r.port = resolved.port;
  r.tls = resolved.target.scheme == "https";
  r.target = resolved.path_and_query;
  r.timeout = resolved.timeout;
  r.body_limit = c.body_size_limit != 0 ? c.body_size_limit : kDefaultBodySizeLimit;
  r.headers = {
      {"Accept", std::string(prom::kScrapeAcceptHeader)},
      {"Accept-Encoding", "gzip"},
      {"User-Agent", "otlpd/" OTLPD_VERSION},
      {"X-Prometheus-Scrape-Timeout-Seconds", strCat(absl::ToDoubleSeconds(resolved.timeout))},
  };
  if (c.basic_auth) {
    std::string password = c.basic_auth->password;
    if (!c.basic_auth->password_file.empty()) {
      password = readSecretFile(c.basic_auth->password_file).value_or("");
    }
    r.headers.emplace_back(
        "Authorization",
        strCat("Basic ",
               absl::Base64Escape(toAbsl(strCat(c.basic_auth->username, ":", password)))));
  } else if (c.authorization) {
    std::string credentials = c.authorization->credentials;
    if (!c.authorization->credentials_file.empty()) {
      credentials = readSecretFile(c.authorization->credentials_file).value_or("");
    }
    r.headers.emplace_back("Authorization", strCat(c.authorization->type, " ", credentials));
  }
  return r;
}

void TargetLoop::schedule() {
  const auto now = std::chrono::steady_clock::now();
  const auto interval = absl::ToChronoNanoseconds(resolved.interval);
  if (next_run.time_since_epoch().count() == 0) {
    // The first scrape at a fixed offset into the interval, from a hash of the target: a job's
    // targets spread over the interval instead of all scraping at once.
    const int64_t interval_ns = interval.count();
    const int64_t offset = static_cast<int64_t>(
        common::fnv1a64(strCat(m.options.receiver_id, "\xff", resolved.identity())) %
        static_cast<uint64_t>(interval_ns));
    const int64_t wall_ns = absl::ToUnixNanos(absl::Now());
    const int64_t delay =
        ((offset - wall_ns % interval_ns) % interval_ns + interval_ns) % interval_ns;
    next_run = now + std::chrono::nanoseconds(delay);
  } else {
    next_run += interval;
    if (next_run <= now) {
      // Slow scrapes or a stalled pipeline: skip the missed slots, keep the grid.
      const auto behind = now - next_run;
      next_run += (behind / interval + 1) * interval;
    }
  }
  timer.expires_at(next_run);
  timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->fire();
  });
}

void TargetLoop::fire() {
  if (stopping) return;
  busy = true;
  scrape_started = absl::Now();
  client.fetch(request(), [self = shared_from_this()](FetchResult result) {
    asio::post(*self->m.workers,
               [self, result = std::move(result)]() mutable { self->process(std::move(result)); });
  });
}

void ScrapeManager::Impl::logOnce(TargetLoop& loop, const std::string& reason,
                                  std::string_view message, const absl::Status& status) {
  if (!loop.logged.insert(reason).second) return;
  logging::warn(message, {{"receiver", options.receiver_id},
                          {"job", loop.resolved.target.job},
                          {"instance", loop.resolved.target.instance},
                          {"url", loop.resolved.url()},
                          {"reason", reason},
                          {"error", status}});
}

void TargetLoop::process(FetchResult result) {
  if (m.stopping.load()) {
    asio::post(m.ioc, [self = shared_from_this()] { self->afterWork(); });
    return;
  }
  const int64_t time_ms = absl::ToUnixMillis(scrape_started);
  const double duration = absl::ToDoubleSeconds(absl::Now() - scrape_started);
  common::MetricsRegistry& metrics = *m.options.metrics;
  std::string out;
  prom::ScrapeStats stats;
  std::string failure;
  absl::Status failure_status;
  if (result.failure != FetchFailure::kNone) {
    failure = std::string(fetchFailureName(result.failure));
    failure_status = result.status;
  } else {
    // Parse state is per worker thread, not per target: targets hold only their series.
    thread_local prom::ExpositionParser parser;
    thread_local prom::ParsedExposition parsed;
    const prom::Format format = prom::formatFromContentType(result.content_type);
    failure_status = parser.parse(result.body, format, parsed);
    if (failure_status.ok()) {
      translator.translate(parsed, format, time_ms, duration, out, stats);
      if (!stats.up) {
        failure = "sample_limit";
        failure_status = absl::ResourceExhaustedError(stats.error);
      }
    } else {
      failure = "invalid_body";
    }
  }
  if (!failure.empty()) {
    if (failure != "sample_limit") {
      translator.failed(time_ms, duration, std::string(failure_status.message()), out, stats);
    }
    common::Labels l = labels();
    l.emplace_back("reason", failure);
    metrics
        .counter("otlpd_prometheus_scrape_failures_total",
                 "Scrapes that failed (up = 0), by reason: timeout, connection, http_status, "
                 "body_too_large, invalid_body, sample_limit.",
                 l)
        .add();
    m.logOnce(*this, failure,
              "prometheus scrape failed; up = 0 (logged once per target and reason)",
              failure_status);
  }
  scrapes->add();
  up->set(failure.empty() ? 1 : 0);
  const std::pair<const char*, uint64_t> drops[] = {{"duplicate", stats.duplicates},
                                                    {"type_conflict", stats.type_conflicts},
                                                    {"invalid", stats.invalid},
                                                    {"unsupported_type", stats.unsupported}};
  for (const auto& [reason, n] : drops) {
    if (n == 0) continue;
    common::Labels l = labels();
    l.emplace_back("reason", reason);
    metrics
        .counter("otlpd_prometheus_dropped_samples_total",
                 "Samples of successful scrapes that were dropped, by reason: duplicate, "
                 "type_conflict, invalid, unsupported_type (gauge histograms).",
                 l)
        .add(n);
    m.logOnce(*this, reason, "prometheus samples dropped (logged once per target and reason)",
              absl::InvalidArgumentError(strCat(n, " samples: ", reason)));
  }
  if (stats.type_changes != 0) {
    type_changes->add(stats.type_changes);
    m.logOnce(*this, "type_change", "prometheus metric changed its type; a new series starts",
              absl::OkStatus());
  }
  if (!out.empty()) m.deliver(std::move(out), stats.points, *this);
  asio::post(m.ioc, [self = shared_from_this()] { self->afterWork(); });
}

void TargetLoop::finish() {
  if (!m.stopping.load()) {
    std::string out;
    const uint64_t points = translator.finish(absl::ToUnixMillis(absl::Now()), out);
    if (!out.empty()) m.deliver(std::move(out), points, *this);
  }
  // The last reference goes on the I/O thread, which owns the loop's sockets and timer.
  asio::post(m.ioc, [self = shared_from_this()] {});
}

void TargetLoop::afterWork() {
  busy = false;
  if (!stopping) {
    schedule();
    return;
  }
  if (finish_when_stopped) {
    busy = true;
    asio::post(*m.workers, [self = shared_from_this()] { self->finish(); });
  }
}

void ScrapeManager::Impl::deliver(std::string&& request, uint64_t points, TargetLoop& loop) {
  if (!options.next) return;
  std::optional<pipeline::MemoryBudget::Reservation> reservation;
  if (options.memory != nullptr) {
    reservation = options.memory->tryReserve(request.size());
    if (!reservation) {
      refused->add(points);
      logOnce(loop, "memory", "prometheus scrape dropped: the memory budget is spent",
              absl::ResourceExhaustedError("memory budget"));
      return;
    }
  }
  pipeline::Batch batch = pipeline::Batch::fromWire(
      pipeline::Signal::kMetrics, pipeline::WireBytes::fromString(std::move(request)), points);
  if (reservation) batch.attachReservation(*std::move(reservation));
  absl::Status s = options.next->consume(std::move(batch));
  if (s.ok()) {
    accepted->add(points);
  } else {
    refused->add(points);
    logOnce(loop, "pipeline", "prometheus scrape refused by the pipeline", s);
  }
}

void ScrapeManager::Impl::updateTargets(Job& job, const std::vector<TargetGroup>& groups) {
  TargetResolution resolution = resolveTargets(job.config, groups);
  for (const std::string& e : resolution.errors) {
    if (job.logged_errors.insert(e).second) {
      logging::warn(
          "prometheus target skipped",
          {{"receiver", options.receiver_id}, {"job", job.config.job_name}, {"error", e}});
    }
  }
  std::set<std::string> wanted;
  for (ResolvedTarget& t : resolution.targets) {
    const std::string id = t.identity();
    wanted.insert(id);
    if (job.loops.count(id)) continue;
    auto loop = std::make_shared<TargetLoop>(*this, job, std::move(t));
    job.loops.emplace(id, loop);
    loop->schedule();
  }
  for (auto it = job.loops.begin(); it != job.loops.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    // Gone from discovery: stop, and mark its series stale once its scrape in hand is done.
    std::shared_ptr<TargetLoop> loop = it->second;
    it = job.loops.erase(it);
    loop->stopping = true;
    loop->finish_when_stopped = true;
    loop->timer.cancel();
    if (!loop->busy) {
      loop->busy = true;
      asio::post(*workers, [loop] { loop->finish(); });
    }
  }
  job.targets->set(static_cast<double>(job.loops.size()));
}

void ScrapeManager::Impl::pollFiles(bool first) {
  const absl::Time now = absl::Now();
  for (auto& job : jobs) {
    if (job->discoveries.empty()) continue;
    const bool full = first || now >= job->next_full_refresh;
    bool changed = first;
    for (FileDiscovery& d : job->discoveries) {
      changed |= d.poll(full);
      for (const std::string& e : d.takeErrors()) {
        logging::warn(
            "prometheus file_sd file not used (its previous targets stay)",
            {{"receiver", options.receiver_id}, {"job", job->config.job_name}, {"error", e}});
      }
    }
    if (full) {
      absl::Duration refresh = absl::InfiniteDuration();
      for (const FileDiscovery& d : job->discoveries) {
        refresh = std::min(refresh, d.config().refresh_interval);
      }
      job->next_full_refresh = now + refresh;
    }
    if (!changed) continue;
    std::vector<TargetGroup> groups = job->config.static_configs;
    for (const FileDiscovery& d : job->discoveries) {
      std::vector<TargetGroup> g = d.groups();
      groups.insert(groups.end(), g.begin(), g.end());
    }
    updateTargets(*job, groups);
  }
  file_timer.expires_after(absl::ToChronoNanoseconds(options.file_poll_interval));
  file_timer.async_wait([this](boost::system::error_code ec) {
    if (!ec && !stopping.load()) pollFiles(false);
  });
}

ScrapeManager::ScrapeManager(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

ScrapeManager::~ScrapeManager() {
  stop();
}

absl::StatusOr<std::unique_ptr<ScrapeManager>> ScrapeManager::start(
    ScrapeManagerOptions options, PrometheusReceiverConfig config) {
  auto impl = std::make_shared<Impl>();
  impl->options = std::move(options);
  common::MetricsRegistry& metrics = *impl->options.metrics;
  const common::Labels labels = {{"receiver", impl->options.receiver_id}, {"transport", "http"}};
  impl->accepted =
      &metrics.counter("otlpd_receiver_accepted_metric_points_total",
                       "Items successfully pushed into the pipeline (metric_points).", labels);
  impl->refused = &metrics.counter(
      "otlpd_receiver_refused_metric_points_total",
      "Items the receiver did not accept, invalid or refused by the pipeline (metric_points).",
      labels);
  for (ScrapeConfig& c : config.scrape_configs) {
    auto job = std::make_unique<Job>();
    job->config = std::move(c);
    bool https = job->config.scheme == "https";
    for (const auto& rule : job->config.relabel_configs) {
      // A relabeling may turn a target to https; have a context ready.
      https |= rule.target_label == "__scheme__";
    }
    if (https || !job->config.tls_config.ca_file.empty()) {
      auto ctx = makeTlsContext(job->config.tls_config);
      if (!ctx.ok()) {
        return absl::FailedPreconditionError(
            strCat("job ", job->config.job_name, ": ", ctx.status().message()));
      }
      job->ssl = *std::move(ctx);
    }
    for (const FileSdConfig& f : job->config.file_sd_configs) job->discoveries.emplace_back(f);
    job->targets =
        &metrics.gauge("otlpd_prometheus_targets", "Targets a scrape job scrapes now.",
                       {{"receiver", impl->options.receiver_id}, {"job", job->config.job_name}});
    impl->jobs.push_back(std::move(job));
  }
  impl->workers = std::make_unique<asio::thread_pool>(std::max<size_t>(1, impl->options.workers));
  impl->work.emplace(asio::make_work_guard(impl->ioc));
  Impl* raw = impl.get();
  asio::post(impl->ioc, [raw] {
    for (auto& job : raw->jobs) {
      if (job->discoveries.empty()) raw->updateTargets(*job, job->config.static_configs);
    }
    raw->pollFiles(true);
  });
  impl->io_thread = std::thread([raw] {
    for (;;) {
      // Handlers report through error codes; the catch keeps a surprise from ending the thread.
      try {
        raw->ioc.run();
        return;
      } catch (const std::exception& e) {
        logging::error("prometheus receiver I/O thread", {{"error", e.what()}});
      }
    }
  });
  return std::unique_ptr<ScrapeManager>(new ScrapeManager(std::move(impl)));
}

void ScrapeManager::stop() {
  Impl& m = *impl_;
  if (m.stopped) return;
  m.stopped = true;
  m.stopping.store(true);
  // Stop every loop on the I/O thread (which owns them), then let it finish.
  std::promise<void> stopped_loops;
  asio::post(m.ioc, [&m, &stopped_loops] {
    m.file_timer.cancel();
    for (auto& job : m.jobs) {
      for (auto& [id, loop] : job->loops) {
        loop->stopping = true;
        loop->timer.cancel();
        loop->client.close();
      }
    }
    stopped_loops.set_value();
  });
  stopped_loops.get_future().wait();
  m.work.reset();
  m.ioc.stop();
  if (m.io_thread.joinable()) m.io_thread.join();
  m.workers->join();
  for (auto& job : m.jobs) job->loops.clear();
}

}  // namespace otlpd::receivers::prometheus
