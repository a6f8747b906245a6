// The HTTP side of a scrape: one GET to one target over a kept-alive connection (plaintext or
// TLS with OpenSSL), asynchronous on the receiver's io_context, bounded by the scrape timeout,
// and reading the body with a cap so an oversized answer is cut off once the cap is passed,
// never buffered whole.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "receivers/prometheus/config.h"

namespace otlpd::receivers::prometheus {

// Why a fetch failed, for counting; the status says the details.
enum class FetchFailure {
  kNone,
  kTimeout,       // scrape_timeout passed
  kConnection,    // resolve, connect, TLS, I/O
  kHttpStatus,    // an answer other than 200
  kBodyTooLarge,  // body_size_limit passed (compressed or not)
  kInvalidBody,   // undecodable Content-Encoding
};

std::string_view fetchFailureName(FetchFailure f);  // "timeout", "connection", ...

struct FetchResult {
  FetchFailure failure = FetchFailure::kNone;
  absl::Status status;
  int http_status = 0;
  std::string content_type;
  std::string body;  // decompressed
};

struct FetchRequest {
  std::string host;
  uint16_t port = 0;
  bool tls = false;
  std::string target;  // path and query
  std::vector<std::pair<std::string, std::string>> headers;
  uint64_t body_limit = kDefaultBodySizeLimit;
  absl::Duration timeout = absl::Seconds(10);
};

// An OpenSSL client context for a job's tls_config (CA, client certificate, minimum version).
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> makeTlsContext(const TlsConfig& tls);

class ScrapeClient {
 public:
  // `ssl` is null for plaintext targets. `tls` gives server_name and insecure_skip_verify.
  ScrapeClient(boost::asio::io_context& ioc, std::shared_ptr<boost::asio::ssl::context> ssl,
               TlsConfig tls);
  ~ScrapeClient();
  ScrapeClient(const ScrapeClient&) = delete;
  ScrapeClient& operator=(const ScrapeClient&) = delete;

  // Starts one GET; `done` runs on the io_context's thread with the outcome. One at a time.
  // Must be called on that thread.
  void fetch(FetchRequest request, std::function<void(FetchResult)> done);
  // Closes the connection (and aborts a fetch in flight, which then completes as failed).
  void close();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace otlpd::receivers::prometheus
