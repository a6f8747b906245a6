#pragma once

#include <memory>

#include "exporters/helper/sender.h"
#include "exporters/prometheusremotewrite/config.h"
#include "pipeline/factory.h"

namespace otlpd::common {
class Counter;
}

namespace otlpd::exporters::prometheusremotewrite {

// The `prometheusremotewrite` exporter: OTLP metrics → Prometheus Remote Write 1.0 through the
// exporter helper (queue, retry, circuit breaker, persistent queue, dead letters).
std::unique_ptr<pipeline::ExporterFactory> makePrometheusRemoteWriteExporterFactory();

// The sender alone (tests): one batch becomes one or more requests below max_batch_size_bytes,
// sent in order. A 400 (some sample refused, the request not stored) is answered by sending the
// request's halves, down to single series and samples, at most max_isolation_requests extra
// requests per batch: what is still refused is reported as `rejected` (dead-lettered as OTLP of
// scope otlpd::prometheus::kSeriesPassthroughScope), the rest is delivered. A retryable failure
// after some requests went returns the rest as `remaining`, so nothing is sent twice.
std::shared_ptr<helper::Sender> makeRemoteWriteSender(const RemoteWriteConfig& config,
                                                      const std::string& owner,
                                                      common::Counter* unsupported_points);

}  // namespace otlpd::exporters::prometheusremotewrite
