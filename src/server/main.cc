// otlpd: an OpenTelemetry collector, telemetry pipeline, local store and trace viewer in one
// binary. This file is only the command line; everything else lives in the library.
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/logging.h"
#include "common/strings.h"
#include "library/components.h"
#include "loadgen/loadgen_command.h"
#include "otlpd/collector.h"
#include "server/dlq_command.h"

namespace {

using namespace otlpd;

struct ConfigOptions {
  std::vector<std::string> files;
  std::vector<std::string> sets;
};

void addConfigOptions(CLI::App& cmd, ConfigOptions& options) {
  cmd.add_option("--config", options.files,
                 "YAML config file in the OpenTelemetry Collector's shape; repeat to merge "
                 "several, later ones win. Without it, the embedded default "
                 "(see `otlpd config default`)")
      ->check(CLI::ExistingFile);
  cmd.add_option("--set", options.sets,
                 "Override one config value, e.g. "
                 "--set receivers.otlp.protocols.grpc.endpoint=0.0.0.0:4317");
}

// Builds the collector from the config; prints every config error at once.
std::unique_ptr<Collector> buildCollector(const ConfigOptions& options,
                                          CollectorOptions collector_options = {}) {
  auto collector = Collector::fromFiles(options.files, options.sets, std::move(collector_options));
  if (!collector.ok()) {
    std::cerr << "otlpd: " << collector.status().message() << "\n";
    return nullptr;
  }
  return *std::move(collector);
}

int serve(const ConfigOptions& options, const std::string& ready_file) {
  // Signals are taken synchronously by this thread; every thread started later inherits the
  // mask, so none of them is interrupted.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  CollectorOptions collector_options;
  collector_options.ready_file = ready_file;
  collector_options.configure_logging = true;
  std::unique_ptr<Collector> collector = buildCollector(options, std::move(collector_options));
  if (!collector) return 2;

  if (Status s = collector->start(); !s.ok()) {
    logging::error("otlpd failed to start", {{"error", s.message()}});
    return 1;
  }
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      // Re-reads the same files and --set values. A config that does not validate, or whose
      // graph fails to start, leaves the running one in place (and is logged).
      logging::info("SIGHUP received: reloading config");
      (void)collector->reload();
      continue;
    }
    logging::info("shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    break;
  }
  Status s = collector->shutdown(std::chrono::hours(1));
  if (!s.ok()) {
    logging::error("shutdown finished with an error", {{"error", s.message()}});
    return 1;
  }
  logging::info("otlpd stopped");
  return 0;
}

int validate(const ConfigOptions& options) {
  if (!buildCollector(options)) return 2;
  std::cout << "config is valid\n";
  return 0;
}

int listComponents() {
  pipeline::FactoryRegistry factories;
  library::registerComponents(factories, nullptr, nullptr);
  for (const pipeline::Factory* f : factories.all()) {
    std::string signals;
    if (f->kind() == pipeline::ComponentKind::kConnector) {
      // A connector joins pairs: "traces->metrics".
      const auto* connector = static_cast<const pipeline::ConnectorFactory*>(f);
      for (pipeline::Signal from : pipeline::kAllSignals) {
        for (pipeline::Signal to : pipeline::kAllSignals) {
          if (!connector->supportsPair(from, to)) continue;
          strAppend(&signals, signals.empty() ? "" : ",", signalName(from), "->", signalName(to));
        }
      }
    } else {
      for (pipeline::Signal s : pipeline::kAllSignals) {
        if (f->supports(s)) strAppend(&signals, signals.empty() ? "" : ",", signalName(s));
      }
    }
    std::cout << pipeline::componentKindName(f->kind()) << "\t" << f->type() << "\t"
              << (signals.empty() ? "-" : signals) << "\n";
  }
  return 0;
}

// Requests are buffers of hundreds of KiB (gRPC's read buffers, the contiguous copy a batch
// keeps). glibc serves those with mmap by default and hands freed heap tops back at once, so
// every request paid page faults on fresh pages: ~20% of a core at 1M spans/s (perf). Keep them
// on the heap and trim a heap only beyond 8 MiB free at its top; 4 MiB brought the faults back,
// 16 MiB cost +20 MiB RSS at 100k spans/s. Each heap keeps that much, and glibc makes up to
// 8 heaps per core for our threads: two heaps (what two cores need to rarely contend) took RSS
// at 100k spans/s from 59 to 34 MiB (traces → nop) and from 137 to 80 MiB (forwarding).
void tuneMalloc() {
  mallopt(M_MMAP_THRESHOLD, 2 << 20);
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
  mallopt(M_ARENA_MAX, 2);
}

// A listener may hold thousands of connections (max_connections, default 10000): the soft limit
// on open files (often 1024) would refuse them long before, so take the hard limit.
void raiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Debian builds abseil without NDEBUG, which leaves absl::Mutex's deadlock detection on: every
// lock of one of gRPC's mutexes then looks the mutex up in a process-wide lock-order graph
// (GraphCycles::GetId, ~0.4% of otlpd's CPU receiving traces into the store, issue #18). The
// otlpd binary turns that debugging aid off; the library leaves its embedder's setting alone.
void skipMutexDeadlockDetection() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace

int main(int argc, char** argv) {
  tuneMalloc();
  skipMutexDeadlockDetection();
  raiseOpenFileLimit();
  CLI::App app{
      "otlpd: an OpenTelemetry collector that receives OTLP (gRPC :4317, HTTP :4318) and runs "
      "Collector-style pipelines.\n"
      "Quick start: `otlpd serve`, then point an OpenTelemetry SDK at localhost:4317 or "
      "http://localhost:4318; own metrics on http://localhost:8888/metrics, health on "
      "http://localhost:13133/."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("otlpd ") + OTLPD_VERSION);

  ConfigOptions serve_options;
  std::string ready_file;
  CLI::App* serve_cmd = app.add_subcommand("serve", "Run the collector until SIGINT/SIGTERM");
  addConfigOptions(*serve_cmd, serve_options);
  serve_cmd->add_option("--ready-file", ready_file,
                        "Once every listener is bound, write a JSON object of their addresses "
                        "here (useful with port 0)");

  ConfigOptions validate_options;
  CLI::App* validate_cmd =
      app.add_subcommand("validate", "Check a config and print every error with its path");
  addConfigOptions(*validate_cmd, validate_options);

  CLI::App* config_cmd = app.add_subcommand("config", "Show configuration");
  config_cmd->require_subcommand(1);
  CLI::App* default_cmd = config_cmd->add_subcommand("default", "Print the embedded default");

  CLI::App* components_cmd =
      app.add_subcommand("components", "List the component types this binary knows");

  otlpd::server::registerDlqCommand(app);
  otlpd::loadgen::registerLoadgenCommand(app);
  CLI11_PARSE(app, argc, argv);

  if (serve_cmd->parsed()) return serve(serve_options, ready_file);
  if (validate_cmd->parsed()) return validate(validate_options);
  if (default_cmd->parsed()) {
    std::cout << otlpd::Collector::defaultConfig();
    return 0;
  }
  if (components_cmd->parsed()) return listComponents();
  return 0;
}
