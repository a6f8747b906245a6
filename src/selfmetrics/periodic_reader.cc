#include "selfmetrics/periodic_reader.h"

#include <algorithm>
#include <array>

#include "common/logging.h"
#include "common/strings.h"
#include "otlp/proto.h"

namespace otlpd::selfmetrics {
namespace {

namespace mv1 = ::opentelemetry::proto::metrics::v1;

// The series a scrape translation adds about the scrape itself: there was no scrape.
constexpr std::array<std::string_view, 5> kScrapeReportSeries = {
    "up", "scrape_duration_seconds", "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling", "scrape_series_added"};

prometheus::ScrapeTarget selfTarget() {
  prometheus::ScrapeTarget target;
  target.job = "otlpd";
  target.labels = {{"job", "otlpd"}};
  return target;
}

void setResource(opentelemetry::proto::resource::v1::Resource& resource) {
  resource.clear_attributes();
  auto* attr = resource.add_attributes();
  attr->set_key("service.name");
  attr->mutable_value()->set_string_value("otlpd");
  attr = resource.add_attributes();
  attr->set_key("service.version");
  attr->mutable_value()->set_string_value(OTLPD_VERSION);
}

}  // namespace

std::string collectorName(std::string_view name, bool monotonic_sum) {
  constexpr std::string_view kPrefix = "otlpd_";
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::string(name);
  std::string_view rest = name.substr(kPrefix.size());
  const bool component = rest.starts_with("receiver_") || rest.starts_with("exporter_") ||
                         rest.starts_with("processor_");
  if (!component) return std::string(name);
  if (monotonic_sum && rest.ends_with("_total")) rest.remove_suffix(6);
  return strCat("otelcol_", rest);
}

SelfMetricsEncoder::SelfMetricsEncoder(bool collector_names)
    : collector_names_(collector_names), translator_(selfTarget(), [] {
        prometheus::TranslateOptions options;
        options.scope_name = "otlpd";
        options.scope_version = OTLPD_VERSION;
        return options;
      }()) {}

absl::StatusOr<std::string> SelfMetricsEncoder::encode(std::string_view exposition,
                                                       int64_t now_ms) {
  if (absl::Status s = parser_.parse(exposition, prometheus::Format::kText, parsed_); !s.ok()) {
    return s;
  }
  std::string translated;
  prometheus::ScrapeStats stats;
  translator_.translate(parsed_, prometheus::Format::kText, now_ms, 0, translated, stats);
  otlp::MetricsRequest request;
  if (!request.ParseFromString(translated)) {
    return absl::InternalError("self-metrics translation wrote an unreadable request");
  }
  for (auto& rm : *request.mutable_resource_metrics()) {
    setResource(*rm.mutable_resource());
    for (auto& sm : *rm.mutable_scope_metrics()) {
      auto* metrics = sm.mutable_metrics();
      metrics->erase(std::remove_if(metrics->begin(), metrics->end(),
                                    [](const mv1::Metric& m) {
                                      return std::find(kScrapeReportSeries.begin(),
                                                       kScrapeReportSeries.end(),
                                                       m.name()) != kScrapeReportSeries.end();
                                    }),
                     metrics->end());
      if (!collector_names_) continue;
      for (mv1::Metric& m : *metrics) {
        m.set_name(collectorName(m.name(), m.has_sum() && m.sum().is_monotonic()));
      }
    }
  }
  return request.SerializeAsString();
}

PeriodicReader::PeriodicReader(PeriodicReaderOptions options, common::MetricsRegistry& metrics)
    : options_(std::move(options)), metrics_(metrics), encoder_(options_.collector_names) {
  auto counter = [&](const char* outcome) {
    return &metrics.counter("otlpd_selfmetrics_exports_total",
                            "Pushes of otlpd's own metrics as OTLP "
                            "(service.telemetry.metrics.readers) by outcome.",
                            {{"outcome", outcome}});
  };
  exported_ = counter("exported");
  failed_ = counter("failed");
  thread_ = std::thread([this] { run(); });
}

PeriodicReader::~PeriodicReader() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PeriodicReader::run() {
  for (;;) {
    bool stopping;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, options_.interval, [&] { return stopping_; });
      stopping = stopping_;
    }
    pushOnce();  // on stop too: the last values are not lost
    if (stopping) return;
  }
}

void PeriodicReader::pushOnce() {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  absl::StatusOr<std::string> body = encoder_.encode(metrics_.renderPrometheus(), now_ms);
  absl::Status s =
      body.ok() ? (options_.send ? options_.send(*body) : absl::OkStatus()) : body.status();
  if (s.ok()) {
    exported_->add();
  } else {
    failed_->add();
    logging::debug("self-metrics export failed", {{"error", s}});
  }
}

}  // namespace otlpd::selfmetrics
