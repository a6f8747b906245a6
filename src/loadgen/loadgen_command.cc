#include "loadgen/loadgen_command.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "common/strings.h"
#include "common/tls_server_config.h"
#include "config/config_node.h"
#include "loadgen/payloads.h"
#include "loadgen/runner.h"
#include "loadgen/sender.h"

namespace otlpd::loadgen {
namespace {

struct CommandOptions {
  std::string signal = "traces";
  std::string protocol = "grpc";
  std::string endpoint;
  std::string rate = "unlimited";
  std::string duration;
  int64_t count = 0;
  int64_t batch = 1000;
  int64_t concurrency = 4;
  std::string compression = "none";
  std::string shape = "realistic";
  int64_t variants = 0;  // 0: defaultVariants(batch)
  int64_t seed = 0;
  bool unique_ids = false;
  std::string timeout = "10s";
  bool json = false;
  bool quiet = false;
  std::string ca_file;
};

std::atomic<bool> g_stop{false};

extern "C" void onInterrupt(int) {
  g_stop.store(true);
}

int usage(std::string_view message) {
  std::cerr << "otlpd loadgen: " << message << "\n";
  return 2;
}

// The receivers' default ports.
std::string defaultEndpoint(Protocol protocol) {
  switch (protocol) {
    case Protocol::kGrpc:
      return "localhost:4317";
    case Protocol::kZipkinJson:
    case Protocol::kZipkinProto:
      return "http://localhost:9411";
    case Protocol::kJaegerThriftHttp:
      return "http://localhost:14268";
    case Protocol::kJaegerGrpc:
      return "localhost:14250";
    default:
      return "http://localhost:4318";
  }
}

int runLoadgen(const CommandOptions& o) {
  // CLI11 has checked the spellings already; these only convert.
  auto signal = pipeline::parseSignal(o.signal);
  auto protocol = parseProtocol(o.protocol);
  auto shape = parseShape(o.shape);
  auto compression = o.compression == "none" ? std::optional(common::Compression::kNone)
                                             : common::parseContentEncoding(o.compression);
  if (!signal) return usage("invalid --signal");
  if (!protocol) return usage("invalid --protocol");
  if (!shape) return usage("invalid --shape");
  if (!compression) return usage("invalid --compression");
  if (o.batch < 1) return usage("--batch must be at least 1");
  if (o.concurrency < 1) return usage("--concurrency must be at least 1");
  if (o.variants < 0) return usage("--variants must be at least 1 (or 0 for the default)");
  if (o.seed < 0 || o.seed > UINT32_MAX) return usage("--seed must be within 0..4294967295");

  double rate = 0;
  if (o.rate != "unlimited" && o.rate != "0") {
    if (!absl::SimpleAtod(o.rate, &rate) || !(rate > 0))
      return usage("--rate must be a positive number of items/s or 'unlimited'");
  }
  auto timeout = config::parseDuration(o.timeout);
  if (!timeout.ok() || *timeout <= absl::ZeroDuration()) return usage("invalid --timeout");

  RunOptions run_options;
  run_options.concurrency = static_cast<size_t>(o.concurrency);
  run_options.rate = rate;
  run_options.stop = &g_stop;
  if (o.count > 0) run_options.count = o.count;
  // Without --count a run lasts 10 s; with it, only as long as --duration says if given.
  const std::string duration_text = o.duration.empty() && o.count <= 0 ? "10s" : o.duration;
  if (!duration_text.empty()) {
    auto d = config::parseDuration(duration_text);
    if (!d.ok() || *d <= absl::ZeroDuration()) return usage("invalid --duration");
    run_options.duration = absl::ToChronoNanoseconds(*d);
  }

  const std::string endpoint = !o.endpoint.empty() ? o.endpoint : defaultEndpoint(*protocol);
  RequestSetOptions request_options;
  request_options.signal = *signal;
  request_options.shape = *shape;
  request_options.protocol = *protocol;
  request_options.compression = *compression;
  request_options.batch = static_cast<size_t>(o.batch);
  request_options.variants = o.variants > 0 ? static_cast<size_t>(o.variants)
                                            : defaultVariants(static_cast<size_t>(o.batch));
  request_options.tail_items = o.count > 0 ? static_cast<size_t>(o.count % o.batch) : 0;
  request_options.base_time_unix_nano = static_cast<uint64_t>(absl::GetCurrentTimeNanos());
  request_options.seed = static_cast<uint32_t>(o.seed);
  request_options.unique_ids = o.unique_ids;
  auto requests = buildRequestSet(request_options);
  if (!requests.ok()) return usage(toStd(requests.status().message()));

  SenderOptions sender_options;
  sender_options.signal = *signal;
  sender_options.protocol = *protocol;
  sender_options.compression = *compression;
  sender_options.endpoint = endpoint;
  sender_options.concurrency = run_options.concurrency;
  sender_options.timeout = absl::ToChronoMilliseconds(*timeout);
  if (!o.ca_file.empty()) {
    if (!isGrpc(*protocol)) return usage("--ca-file is for the gRPC protocols");
    auto pem = common::readSmallFile(o.ca_file);
    if (!pem.ok()) return usage(toStd(pem.status().message()));
    sender_options.tls_ca_pem = *std::move(pem);
  }
  auto sender = isGrpc(*protocol) ? makeGrpcSender(sender_options) : makeHttpSender(sender_options);
  if (!sender.ok()) return usage(toStd(sender.status().message()));

  const bool tty = ::isatty(STDERR_FILENO) == 1;
  if (!o.quiet) {
    // On a terminal one line is redrawn in place; otherwise (CI logs, pipes) a plain line per
    // second, which a script can tail or grep.
    run_options.progress = [tty](const Counters& c, double elapsed, double recent) {
      const std::string line = progressLine(c, elapsed, recent);
      if (tty) {
        std::fprintf(stderr, "\r\033[K%s", line.c_str());
      } else {
        std::fprintf(stderr, "%s\n", line.c_str());
      }
      std::fflush(stderr);
    };
  }

  ::signal(SIGPIPE, SIG_IGN);  // a peer that hangs up is an error code, not a dead generator
  ::signal(SIGINT, onInterrupt);

  Report report;
  report.signal = o.signal;
  report.protocol = std::string(protocolName(*protocol));
  report.endpoint = endpoint;
  report.compression = std::string(common::compressionName(*compression));
  report.shape = std::string(shapeName(*shape));
  report.batch = o.batch;
  report.concurrency = o.concurrency;
  report.rate_limit = rate;
  report.encoded_bytes_per_item = requests->encodedBytesPerItem();
  report.body_bytes_per_item = requests->bodyBytesPerItem();
  run(run_options, **sender, *requests, report);
  ::signal(SIGINT, SIG_DFL);
  if (run_options.progress && tty) std::fputc('\n', stderr);

  if (o.json) {
    std::cout << toJson(report) << "\n";
  } else {
    std::cout << toText(report);
  }
  std::cout.flush();
  const Counters& c = report.counters;
  return c.items_failed > 0 || c.items_acknowledged == 0 ? 1 : 0;
}

}  // namespace

void registerLoadgenCommand(CLI::App& app) {
  auto o = std::make_shared<CommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "loadgen",
      "Generate OTLP load (pre-encoded realistic traces, metrics or logs) and report "
      "acknowledged/refused/failed items, rate and latency");
  cmd->add_option("--signal", o->signal, "traces | metrics | logs")
      ->check(CLI::IsMember({"traces", "metrics", "logs"}))
      ->capture_default_str();
  std::vector<std::string> protocols;
  for (Protocol p : kAllProtocols) protocols.emplace_back(protocolName(p));
  cmd->add_option("--protocol", o->protocol,
                  "grpc | http/protobuf | http/json (OTLP); traces only: zipkin/json | "
                  "zipkin/proto (/api/v2/spans, default http://localhost:9411) | "
                  "jaeger/thrift_http (/api/traces, default http://localhost:14268) | "
                  "jaeger/grpc (PostSpans, default localhost:14250)")
      ->check(CLI::IsMember(protocols))
      ->capture_default_str();
  cmd->add_option("--endpoint", o->endpoint,
                  "host:port for grpc (default localhost:4317); http://host:port[/prefix] for "
                  "http (default http://localhost:4318), /v1/<signal> is appended");
  cmd->add_option("--rate", o->rate, "items per second, or 'unlimited'")->capture_default_str();
  cmd->add_option("--duration", o->duration,
                  "how long to send, e.g. 30s or 2m (default 10s, or unbounded with --count)");
  cmd->add_option("--count", o->count, "stop after sending this many items");
  cmd->add_option("--batch", o->batch, "items per request")->capture_default_str();
  cmd->add_option("--concurrency", o->concurrency, "requests in flight")->capture_default_str();
  cmd->add_option("--compression", o->compression, "none | gzip | deflate | zstd (zstd: HTTP only)")
      ->check(CLI::IsMember({"none", "gzip", "deflate", "zstd"}))
      ->capture_default_str();
  cmd->add_option("--shape", o->shape,
                  "realistic (spans ~800 B, logs ~350 B, metric points ~200 B) | minimal")
      ->check(CLI::IsMember({"realistic", "minimal"}))
      ->capture_default_str();
  cmd->add_option("--variants", o->variants,
                  "distinct pre-encoded requests sent round-robin (different ids and values); "
                  "default: as many as hold 16,000 items (16 of 1000)");
  cmd->add_option("--seed", o->seed,
                  "another seed sends other ids and values: for two loadgens at one server, or a "
                  "warm-up run before a measured one")
      ->capture_default_str();
  cmd->add_flag("--unique-ids", o->unique_ids,
                "every request carries trace ids, span ids and URL ids no other request carries "
                "(renewed in a copy of the body per send), however long the run: production-like "
                "data at any rate. Traces and logs over grpc or uncompressed http/protobuf");
  cmd->add_option("--timeout", o->timeout, "per request")->capture_default_str();
  cmd->add_option("--ca-file", o->ca_file,
                  "grpc over TLS, verifying the server against these CA certificates (PEM)");
  cmd->add_flag("--json", o->json, "print the final report as one JSON object");
  cmd->add_flag("--quiet", o->quiet, "no progress lines on stderr");
  cmd->callback([o] {
    if (int rc = runLoadgen(*o); rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace otlpd::loadgen
