#include "exporters/prometheusremotewrite/remote_write_exporter.h"

#include <atomic>
#include <deque>
#include <mutex>

#include "common/logging.h"
#include "common/metrics_registry.h"
#include "common/strings.h"
#include "exporters/helper/policy.h"
#include "exporters/helper/queued_exporter.h"
#include "exporters/otlp_http/http_client.h"
#include "prometheus/remote_write.h"
#include "prometheus/series_translator.h"

namespace otlpd::exporters::prometheusremotewrite {
namespace {

namespace rw = otlpd::prometheus::remote_write;
using Request = std::vector<rw::Chunk>;

constexpr size_t kMaxMessageBytes = 256;

std::string shortMessage(int status, std::string_view body) {
  std::string text(body.substr(0, kMaxMessageBytes));
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text.empty() ? strCat("HTTP ", status) : strCat("HTTP ", status, ": ", text);
}

// Halves a request: by chunks when it has several, else a chunk by its samples. False when it is
// one sample (nothing left to isolate).
bool split(const Request& r, Request& left, Request& right) {
  if (r.size() > 1) {
    const auto mid = static_cast<std::ptrdiff_t>(r.size() / 2);
    left.assign(r.begin(), r.begin() + mid);
    right.assign(r.begin() + mid, r.end());
    return true;
  }
  if (r.empty() || r[0].end - r[0].begin < 2) return false;
  const rw::Chunk& c = r[0];
  const uint32_t mid = c.begin + (c.end - c.begin) / 2;
  left = {{c.series, c.begin, mid}};
  right = {{c.series, mid, c.end}};
  return true;
}

size_t samplesOf(const Request& r) {
  size_t n = 0;
  for (const rw::Chunk& c : r) n += c.end - c.begin;
  return n;
}

pipeline::Batch passthroughBatch(const std::vector<rw::Series>& series, const Request& chunks) {
  size_t points = 0;
  std::string bytes = otlpd::prometheus::encodeSeriesAsOtlp(series, chunks, &points);
  return pipeline::Batch::fromWire(pipeline::Signal::kMetrics,
                                   pipeline::WireBytes::fromString(std::move(bytes)), points);
}

class RemoteWriteSender final : public helper::Sender {
 public:
  RemoteWriteSender(const RemoteWriteConfig& config,
                    std::shared_ptr<otlp_http::ConnectionPool> pool, common::Counter* unsupported)
      : config_(config), pool_(std::move(pool)), unsupported_(unsupported) {
    headers_.emplace_back("content-type", std::string(rw::kContentType));
    headers_.emplace_back("content-encoding", std::string(rw::kContentEncoding));
    headers_.emplace_back(std::string(rw::kVersionHeader), std::string(rw::kVersion));
    for (const auto& [k, v] : config_.headers) headers_.emplace_back(k, v);
  }

  std::string destination() const override { return config_.url.toString(); }

  helper::SendResult send(const pipeline::Batch& batch, absl::Duration timeout) override {
    const absl::Time deadline = absl::Now() + timeout;
    helper::SendResult result;
    std::string encoded;
    std::string_view bytes;
    if (auto wire = batch.wireBytes()) {
      bytes = *wire;
    } else {
      if (!batch.metrics().SerializeToString(&encoded)) {
        result.status = absl::InvalidArgumentError("request does not serialize as protobuf");
        return result;
      }
      bytes = encoded;
    }
    std::unique_ptr<otlpd::prometheus::SeriesTranslator> translator = takeTranslator();
    if (absl::Status s = translator->add(bytes); !s.ok()) {
      giveBack(std::move(translator));
      result.status = absl::InvalidArgumentError(s.message());
      return result;
    }
    translator->finish();
    if (translator->unsupportedPoints() > 0) noteUnsupported(translator->unsupportedPoints());
    const std::vector<rw::Series>& series = translator->series();

    std::deque<Request> pending;
    for (Request& r : rw::packRequests(series, config_.max_batch_size_bytes)) {
      pending.push_back(std::move(r));
    }
    Request rejected;
    std::string reject_message;
    bool delivered_any = false;
    int isolation_left = config_.max_isolation_requests;
    std::string body, compressed;
    while (!pending.empty()) {
      Request request = std::move(pending.front());
      pending.pop_front();
      rw::encodeRequest(series, request, body);
      rw::snappyCompress(body, compressed);
      auto answer = pool_->post(config_.url.target, headers_, compressed, deadline);
      Answer kind = Answer::kRetry;
      std::string message;
      std::optional<absl::Duration> retry_after;
      if (answer.ok()) {
        kind = classifyStatus(answer->status);
        if (kind != Answer::kDelivered) message = shortMessage(answer->status, answer->body);
        if (kind == Answer::kRetry && !answer->retry_after.empty()) {
          retry_after = helper::parseRetryAfter(answer->retry_after, absl::Now());
        }
      } else {
        message = std::string(answer.status().message());
      }
      switch (kind) {
        case Answer::kDelivered:
          delivered_any = true;
          continue;
        case Answer::kBadData: {
          Request left, right;
          if (isolation_left >= 2 && split(request, left, right)) {
            // Both halves go before what follows, left first: timestamp order holds.
            isolation_left -= 2;
            pending.push_front(std::move(right));
            pending.push_front(std::move(left));
          } else {
            rejected.insert(rejected.end(), request.begin(), request.end());
            reject_message = message;
          }
          continue;
        }
        case Answer::kRefused:
          if (!delivered_any && rejected.empty()) {
            // Nothing went: the whole batch is refused, dead-lettered as it came.
            giveBack(std::move(translator));
            result.status = absl::InvalidArgumentError(message);
            return result;
          }
          rejected.insert(rejected.end(), request.begin(), request.end());
          for (const Request& r : pending) rejected.insert(rejected.end(), r.begin(), r.end());
          pending.clear();
          reject_message = message;
          continue;
        case Answer::kRetry: {
          result.status = absl::UnavailableError(message);
          result.retry_after = retry_after;
          if (delivered_any || !rejected.empty()) {
            Request rest = std::move(request);
            for (const Request& r : pending) rest.insert(rest.end(), r.begin(), r.end());
            result.remaining = passthroughBatch(series, rest);
          }
          if (!rejected.empty()) {
            result.rejected = passthroughBatch(series, rejected);
            result.rejected_message = reject_message;
          }
          giveBack(std::move(translator));
          return result;
        }
      }
    }
    if (!rejected.empty()) {
      result.rejected = passthroughBatch(series, rejected);
      result.rejected_message =
          strCat(samplesOf(rejected), " samples refused; last answer: ", reject_message);
    }
    giveBack(std::move(translator));
    return result;
  }

 private:
  std::unique_ptr<otlpd::prometheus::SeriesTranslator> takeTranslator() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        auto t = std::move(idle_.back());
        idle_.pop_back();
        t->clear();
        return t;
      }
    }
    return std::make_unique<otlpd::prometheus::SeriesTranslator>(seriesOptions(config_));
  }
  void giveBack(std::unique_ptr<otlpd::prometheus::SeriesTranslator> t) {
    std::lock_guard lock(mu_);
    if (idle_.size() < 16) idle_.push_back(std::move(t));
  }

  void noteUnsupported(size_t points) {
    if (unsupported_ != nullptr) unsupported_->add(points);
    const int64_t now = absl::GetCurrentTimeNanos();
    int64_t last = last_warning_ns_.load(std::memory_order_relaxed);
    if (now - last < 60'000'000'000 ||
        !last_warning_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
      return;
    }
    logging::warn(
        "remote write drops delta sums and histograms (Prometheus stores cumulative series); "
        "use cumulative temporality",
        {{"destination", destination()}, {"points", points}});
  }

  const RemoteWriteConfig config_;
  std::shared_ptr<otlp_http::ConnectionPool> pool_;
  common::Counter* unsupported_;
  otlp_http::HeaderList headers_;
  std::mutex mu_;
  std::vector<std::unique_ptr<otlpd::prometheus::SeriesTranslator>> idle_;
  std::atomic<int64_t> last_warning_ns_{0};
};

class RemoteWriteExporterFactory final : public pipeline::ExporterFactory {
 public:
  std::string_view type() const override { return "prometheusremotewrite"; }
  bool supports(pipeline::Signal signal) const override {
    return signal == pipeline::Signal::kMetrics;
  }
  bool queuesInternally() const override { return true; }  // the exporter helper's queue

  absl::StatusOr<std::unique_ptr<pipeline::Exporter>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config,
      pipeline::Signal signal) const override {
    RemoteWriteConfig c = parseRemoteWriteConfig(config);
    const std::string owner = settings.id.toString();
    common::Counter* unsupported = &settings.metrics.counter(
        "otlpd_exporter_prometheusremotewrite_unsupported_points_total",
        "Data points remote write cannot carry (delta sums and histograms), dropped.",
        {{"exporter", owner}});
    auto factory = [c, owner, unsupported]() -> absl::StatusOr<std::shared_ptr<helper::Sender>> {
      auto pool =
          otlp_http::ConnectionPool::shared(owner, c.url, c.tls, c.helper.queue.num_consumers);
      if (!pool.ok()) return pool.status();
      return std::shared_ptr<helper::Sender>(
          std::make_shared<RemoteWriteSender>(c, *std::move(pool), unsupported));
    };
    return helper::makeQueuedExporter(settings, signal, c.helper, std::move(factory));
  }
};

}  // namespace

std::shared_ptr<helper::Sender> makeRemoteWriteSender(const RemoteWriteConfig& config,
                                                      const std::string& owner,
                                                      common::Counter* unsupported_points) {
  auto pool = otlp_http::ConnectionPool::shared(owner, config.url, config.tls, 4);
  if (!pool.ok()) return nullptr;
  return std::make_shared<RemoteWriteSender>(config, *std::move(pool), unsupported_points);
}

std::unique_ptr<pipeline::ExporterFactory> makePrometheusRemoteWriteExporterFactory() {
  return std::make_unique<RemoteWriteExporterFactory>();
}

}  // namespace otlpd::exporters::prometheusremotewrite
