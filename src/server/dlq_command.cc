#include "server/dlq_command.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <thread>
#include <tuple>

#include "absl/time/clock.h"
#include "common/strings.h"
#include "config/config_node.h"
#include "exporters/helper/dead_letter.h"
#include "exporters/otlp_grpc/otlp_grpc_exporter.h"
#include "exporters/otlp_http/otlp_http_exporter.h"
#include "selftrace/tracer.h"
#include "server/service.h"

namespace otlpd::server {
namespace {

using exporters::helper::DeadLetter;

struct ReplayOptions {
  std::string directory;
  std::string to;
  std::string compression = "none";
  std::string protocol = "grpc";
  std::string timeout = "10s";
  bool include_partial = false;
};

common::MetricsRegistry& replayMetrics() {
  static common::MetricsRegistry metrics;
  return metrics;
}

std::string reasonKind(const std::string& reason) {
  return reason.substr(0, reason.find(':'));
}

int list(const std::string& directory) {
  std::vector<std::string> unreadable;
  auto letters = exporters::helper::listDeadLetters(directory, false, &unreadable);
  if (!letters.ok()) {
    std::cerr << "otlpd dlq: " << letters.status().message() << "\n";
    return 1;
  }
  struct Group {
    int64_t letters = 0, items = 0, bytes = 0;
    absl::Time first = absl::InfiniteFuture(), last = absl::InfinitePast();
  };
  std::map<std::tuple<std::string, std::string, std::string, std::string>, Group> groups;
  int64_t total_items = 0, total_bytes = 0;
  for (const DeadLetter& l : *letters) {
    Group& g = groups[{l.header.exporter, l.header.destination,
                       std::string(pipeline::signalName(l.header.signal)),
                       (l.header.partial ? "partial: " : "") + reasonKind(l.header.reason)}];
    ++g.letters;
    g.items += l.header.items;
    g.bytes += l.file_bytes;
    g.first = std::min(g.first, l.header.time);
    g.last = std::max(g.last, l.header.time);
    total_items += l.header.items;
    total_bytes += l.file_bytes;
  }
  std::cout << directory << ": " << letters->size() << " dead letters, " << total_items
            << " items, " << total_bytes << " bytes\n";
  if (!groups.empty()) {
    std::cout << "EXPORTER\tDESTINATION\tSIGNAL\tREASON\tLETTERS\tITEMS\tBYTES\tFIRST\tLAST\n";
  }
  for (const auto& [key, g] : groups) {
    const auto& [exporter, destination, signal, reason] = key;
    std::cout << exporter << "\t" << destination << "\t" << signal << "\t" << reason << "\t"
              << g.letters << "\t" << g.items << "\t" << g.bytes << "\t"
              << absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", g.first, absl::UTCTimeZone()) << "\t"
              << absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", g.last, absl::UTCTimeZone()) << "\n";
  }
  for (const std::string& path : unreadable) std::cout << "unreadable: " << path << "\n";
  return 0;
}

void progress(size_t done, size_t total, int64_t items, bool final) {
  constexpr int kWidth = 30;
  const int filled = total == 0 ? kWidth : static_cast<int>(kWidth * done / total);
  std::fprintf(stderr, "\r[%.*s%*s] %zu/%zu letters, %lld items", filled,
               "##############################", kWidth - filled, "", done, total,
               static_cast<long long>(items));
  if (final) std::fputc('\n', stderr);
  std::fflush(stderr);
}

// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (a full URL), else OTEL_EXPORTER_OTLP_ENDPOINT (the base,
// /v1/traces appended), as the OpenTelemetry SDKs read them; unset: not traced.
std::unique_ptr<selftrace::Tracer> startReplayTracer() {
  std::string endpoint;
  if (const char* traces = std::getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); traces && *traces) {
    endpoint = traces;
  } else if (const char* base = std::getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); base && *base) {
    endpoint = base;
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    endpoint += "/v1/traces";
  }
  if (endpoint.empty()) return nullptr;
  auto send = selfTelemetryHttpSender(endpoint, "/v1/traces", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  if (!send.ok()) {
    std::cerr << "otlpd dlq replay: not traced: " << send.status().message() << "\n";
    return nullptr;
  }
  selftrace::TracerOptions options;
  options.send = *std::move(send);
  auto tracer = std::make_unique<selftrace::Tracer>(std::move(options), replayMetrics());
  selftrace::Tracer::install(tracer.get());
  return tracer;
}

int replay(const ReplayOptions& o) {
  const common::Compression compression =
      common::parseContentEncoding(o.compression).value_or(common::Compression::kNone);
  if (compression == common::Compression::kZstd && o.protocol == "grpc") {
    std::cerr << "otlpd dlq replay: zstd needs --protocol http/protobuf or http/json\n";
    return 2;
  }
  auto timeout = config::parseDuration(o.timeout);
  if (!timeout.ok()) {
    std::cerr << "otlpd dlq replay: --timeout: " << timeout.status().message() << "\n";
    return 2;
  }
  std::vector<std::string> unreadable;
  auto letters = exporters::helper::listDeadLetters(o.directory, true, &unreadable);
  if (!letters.ok()) {
    std::cerr << "otlpd dlq: " << letters.status().message() << "\n";
    return 1;
  }
  std::vector<DeadLetter*> todo;
  size_t skipped_partial = 0;
  for (DeadLetter& l : *letters) {
    if (l.header.partial && !o.include_partial) {
      ++skipped_partial;
      continue;
    }
    todo.push_back(&l);
  }
  // Traced when an OTLP traces endpoint is in the environment (the SDKs' variables): a span for
  // the replay, a client span per send whose traceparent the destination continues.
  std::unique_ptr<selftrace::Tracer> tracer = startReplayTracer();
  auto span = selftrace::ScopedSpan::child("dlq replay");
  span.setAttribute("otlpd.dlq.directory", o.directory);
  span.setAttribute("otlpd.dlq.letters", static_cast<int64_t>(todo.size()));
  std::map<pipeline::Signal, std::shared_ptr<exporters::helper::Sender>> senders;
  size_t done = 0, failed = 0;
  int64_t items = 0;
  progress(0, todo.size(), 0, todo.empty());
  for (DeadLetter* l : todo) {
    auto batch = exporters::helper::decodeDeadLetter(*l);
    if (!batch.ok()) {
      std::cerr << "\n" << l->path << ": " << batch.status().message() << "\n";
      ++failed;
      continue;
    }
    auto& sender = senders[l->header.signal];
    if (!sender) {
      // The same senders the exporters use, without their queue and retry.
      auto s = o.protocol == "grpc"
                   ? exporters::otlp_grpc::makeOtlpGrpcSender(l->header.signal, o.to, compression)
                   : exporters::otlp_http::makeOtlpHttpSender(
                         l->header.signal, o.to,
                         o.protocol == "http/json" ? exporters::otlp_http::Encoding::kJson
                                                   : exporters::otlp_http::Encoding::kProto,
                         compression);
      if (!s.ok()) {
        std::cerr << "\notlpd dlq replay: " << s.status().message() << "\n";
        return 1;
      }
      sender = *s;
    }
    // A few tries for a destination that blinks; a permanent refusal leaves the letter in place.
    exporters::helper::SendResult r;
    for (int attempt = 0; attempt < 5; ++attempt) {
      r = sender->send(*batch, *timeout);
      if (r.status.ok() || r.status.code() == absl::StatusCode::kInvalidArgument) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
    }
    if (!r.status.ok()) {
      std::cerr << "\n" << l->path << ": " << r.status.message() << "\n";
      ++failed;
      if (r.status.code() != absl::StatusCode::kInvalidArgument) break;  // destination down
      continue;
    }
    ::unlink(l->path.c_str());
    ++done;
    items += l->header.items;
    progress(done, todo.size(), items, done == todo.size());
  }
  span.setAttribute("otlpd.dlq.replayed", static_cast<int64_t>(done));
  span.setAttribute("otlpd.items", items);
  if (failed > 0) span.setError(strCat(failed, " dead letters not replayed"));
  std::cout << "replayed " << done << " of " << todo.size() << " dead letters (" << items
            << " items) to " << o.to;
  if (skipped_partial > 0) {
    std::cout << "; " << skipped_partial
              << " partial-success letters kept (--include-partial re-sends them)";
  }
  std::cout << "\n";
  return failed == 0 && done == todo.size() ? 0 : 1;
}

}  // namespace

void registerDlqCommand(CLI::App& app) {
  CLI::App* dlq = app.add_subcommand("dlq", "Inspect or re-send an exporter dead-letter queue");
  dlq->require_subcommand(1);

  auto dir = std::make_shared<std::string>();
  CLI::App* ls = dlq->add_subcommand("ls", "Summarise a dead-letter directory");
  ls->add_option("DIR", *dir, "dead_letter_queue.directory of an exporter")->required();
  ls->callback([dir] {
    if (int rc = list(*dir); rc != 0) throw CLI::RuntimeError(rc);
  });

  auto options = std::make_shared<ReplayOptions>();
  CLI::App* replay_cmd = dlq->add_subcommand(
      "replay", "Re-send dead letters over OTLP/gRPC or OTLP/HTTP; delivered ones are removed");
  replay_cmd->add_option("DIR", options->directory, "dead-letter directory")->required();
  replay_cmd
      ->add_option("--to", options->to,
                   "gRPC: host:port (plaintext) or https://host:port; HTTP: base URL "
                   "http(s)://host:port[/prefix] (/v1/<signal> is appended)")
      ->required();
  // grpc stays the default so that an existing `--to https://host:port` keeps meaning gRPC+TLS.
  replay_cmd->add_option("--protocol", options->protocol, "grpc | http/protobuf | http/json")
      ->check(CLI::IsMember({"grpc", "http/protobuf", "http/json"}));
  replay_cmd->add_option("--compression", options->compression, "none | gzip | zstd (HTTP only)")
      ->check(CLI::IsMember({"none", "gzip", "zstd"}));
  replay_cmd->add_option("--timeout", options->timeout, "per request, e.g. 10s");
  replay_cmd->add_flag("--include-partial", options->include_partial,
                       "Also re-send requests the destination partly accepted (duplicates)");
  replay_cmd->callback([options] {
    if (int rc = replay(*options); rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace otlpd::server
