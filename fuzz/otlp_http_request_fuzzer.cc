// The OTLP/HTTP request path without sockets: raw bytes (one or more pipelined requests) through
// Beast's request parser with the HTTP server's limits, then the OtlpHttpHandler calls in the
// order src/common/http_server.cc makes them (max_header_count, admit, growAdmission as the body
// grows, handleAdmitted or bodyTooLarge), with an Ingestor whose pipeline reads every batch it
// is given. Headers, content types, content encodings (gzip, deflate, zstd) and bodies
// (protobuf, JSON) all come from the input. Every response must serialise.
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <memory>

#include "fuzz_support.h"
#include "pipeline/batch.h"
#include "pipeline/component.h"
#include "pipeline/memory_budget.h"
#include "receivers/otlp/http_handler.h"
#include "receivers/otlp/ingest.h"

using namespace otlpd;
namespace http = boost::beast::http;

namespace {

// The pipeline: reads what a processor would (the decoded request, the wire bytes).
class ReadingConsumer final : public pipeline::Consumer {
 public:
  absl::Status consume(pipeline::Batch&& batch) override {
    if (auto wire = batch.wireBytes()) bytes_ += wire->size();
    bytes_ += batch.request().ByteSizeLong();
    // Every few batches the pipeline pushes back, as a full queue does.
    return ++calls_ % 7 == 0 ? absl::UnavailableError("queue full") : absl::OkStatus();
  }

 private:
  size_t bytes_ = 0;
  size_t calls_ = 0;
};

// The limits are small so that the fuzzer reaches them: a 256 KiB body, 1 MiB of memory budget.
constexpr size_t kMaxBodyBytes = 256 * 1024;
constexpr size_t kMaxHeaderBytes = 64 * 1024;  // as http_server.cc
constexpr size_t kMaxHeaderCount = 100;

struct Receiver {
  common::MetricsRegistry metrics{common::MetricsRegistry::ProcessMetrics::kExclude};
  pipeline::MemoryBudget budget;
  std::shared_ptr<receivers::otlp::OtlpHttpHandler> handlers[2];

  Receiver() {
    budget.setLimit(1 << 20);
    pipeline::SignalConsumers next{std::make_shared<ReadingConsumer>(),
                                   std::make_shared<ReadingConsumer>(),
                                   std::make_shared<ReadingConsumer>()};
    auto ingestor = std::make_shared<receivers::otlp::Ingestor>("otlp", next, metrics, &budget);
    receivers::otlp::CorsConfig cors;
    cors.allowed_origins = {"https://app.example.com", "https://*.example.org"};
    cors.allowed_headers = {"X-Tenant"};
    cors.max_age_seconds = 600;
    handlers[0] = std::make_shared<receivers::otlp::OtlpHttpHandler>(
        ingestor, receivers::otlp::HttpPaths{}, cors, kMaxBodyBytes, false);
    // The other with metadata kept and paths of its own.
    receivers::otlp::HttpPaths paths{"/otlp/v1/traces", "/otlp/v1/metrics", "/otlp/v1/logs"};
    handlers[1] = std::make_shared<receivers::otlp::OtlpHttpHandler>(ingestor, paths, cors,
                                                                     kMaxBodyBytes, true);
  }
};

void serialise(common::HttpResponse&& response, bool close_after) {
  if (close_after) response.keep_alive(false);
  response.prepare_payload();
  http::response_serializer<http::string_body> serializer(response);
  boost::beast::error_code ec;
  size_t bytes = 0;
  while (!serializer.is_done() && !ec) {
    serializer.next(ec, [&](boost::beast::error_code&, const auto& buffers) {
      const size_t n = boost::asio::buffer_size(buffers);
      bytes += n;
      serializer.consume(n);
    });
  }
  OTLPD_FUZZ_CHECK(!ec, ec.message());
}

// One request from `input` at `pos`; false when the connection would be closed.
bool serveOne(common::HttpHandler& handler, std::string_view input, size_t& pos) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(kMaxHeaderBytes);
  parser.body_limit(kMaxBodyBytes);
  parser.eager(false);
  boost::beast::error_code ec;

  // Headers.
  while (!parser.is_header_done()) {
    const size_t used = parser.put(boost::asio::buffer(input.data() + pos, input.size() - pos), ec);
    pos += used;
    if (ec == http::error::need_more) return false;  // the client would time out
    if (ec) {
      // http_server.cc answers a plain 400 and closes.
      return false;
    }
    if (used == 0) return false;
  }
  std::shared_ptr<void> admission;
  const common::HttpRequest& header = parser.get();
  if (static_cast<size_t>(std::distance(header.begin(), header.end())) > kMaxHeaderCount) {
    return false;  // 431 and close, the handler is not called
  }
  if (auto refusal = handler.admit(header, admission)) {
    serialise(*std::move(refusal), true);
    return false;
  }

  // Body: the server grows the handler's admission before the body's memory grows.
  parser.eager(true);
  size_t admitted = 0;
  while (!parser.is_done()) {
    if (pos == input.size()) {
      parser.put_eof(ec);
      if (ec) return false;
      break;
    }
    const size_t body_before = parser.get().body().size();
    const size_t want = body_before + (input.size() - pos);
    if (want > admitted) {
      if (auto refusal = handler.growAdmission(parser.get(), admission, want)) {
        serialise(*std::move(refusal), true);
        return false;
      }
      admitted = want;
    }
    const size_t used = parser.put(boost::asio::buffer(input.data() + pos, input.size() - pos), ec);
    pos += used;
    if (ec == http::error::body_limit) {
      serialise(handler.bodyTooLarge(parser.get(), kMaxBodyBytes), true);
      return false;
    }
    if (ec == http::error::need_more) {
      if (pos == input.size()) continue;
      ec = {};
    }
    if (ec) return false;
    if (used == 0 && !parser.is_done()) return false;
  }
  common::HttpResponse response = handler.handleAdmitted(parser.release(), std::move(admission));
  const bool keep_alive = response.keep_alive();
  serialise(std::move(response), !keep_alive);
  return keep_alive;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogging();
  static Receiver* receiver = new Receiver();
  if (size == 0) return 0;
  common::HttpHandler& handler = *receiver->handlers[data[0] & 1];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t pos = 0;
  for (int requests = 0; requests < 16 && pos < input.size(); ++requests) {
    if (!serveOne(handler, input, pos)) break;
  }
  // Whatever was admitted has been handed back.
  OTLPD_FUZZ_CHECK(receiver->budget.inUse() == 0,
                   "memory budget still holds " + std::to_string(receiver->budget.inUse()));
  return 0;
}
