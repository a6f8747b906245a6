// The same spans fed to the spanmetrics connector's aggregator and to the store's rollups, and
// the metrics of either read back into one comparable shape (tests of rollup_metrics.h and of the
// store_rollups receiver).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "otlp/proto.h"
#include "store/rollup_metrics.h"

namespace otlpd::store::testing {

// (service.name, span.name, span.kind, status.code) as the data point attributes say.
using SeriesName = std::tuple<std::string, std::string, std::string, std::string>;

struct SeriesNumbers {
  uint64_t calls = 0;
  uint64_t count = 0;  // of the duration histogram
  double sum = 0;
  std::vector<uint64_t> buckets;
  std::vector<double> bounds;
};

inline std::map<SeriesName, SeriesNumbers> readSpanMetrics(
    const otlp::MetricsRequest& request, const std::string& prefix = "traces.span.metrics.") {
  std::map<SeriesName, SeriesNumbers> out;
  auto nameOf = [](const auto& attributes) {
    std::map<std::string, std::string> a;
    for (const auto& kv : attributes) a[kv.key()] = kv.value().string_value();
    return SeriesName{a["service.name"], a["span.name"], a["span.kind"], a["status.code"]};
  };
  for (const auto& rm : request.resource_metrics()) {
    for (const auto& sm : rm.scope_metrics()) {
      for (const auto& m : sm.metrics()) {
        if (m.name() == prefix + "calls") {
          for (const auto& p : m.sum().data_points()) {
            out[nameOf(p.attributes())].calls += static_cast<uint64_t>(p.as_int());
          }
        } else if (m.name() == prefix + "duration") {
          for (const auto& p : m.histogram().data_points()) {
            SeriesNumbers& n = out[nameOf(p.attributes())];
            n.count += p.count();
            n.sum += p.sum();
            n.buckets.resize(static_cast<size_t>(p.bucket_counts_size()), 0);
            for (int i = 0; i < p.bucket_counts_size(); ++i) {
              n.buckets[static_cast<size_t>(i)] += p.bucket_counts(i);
            }
            n.bounds.assign(p.explicit_bounds().begin(), p.explicit_bounds().end());
          }
        }
      }
    }
  }
  return out;
}

// Traces requests of 4 services × 5 span names × kinds × statuses, lognormal durations (~5 ms
// median, long tail) starting within `minutes` of `base`. With `clear_of_bounds`, no duration lies
// within 2% of a default explicit bound, so re-bucketing cannot move a span (exact comparisons).
inline std::vector<otlp::TracesRequest> spanMetricsRequests(uint64_t seed, int requests,
                                                            int spans_per_request, int64_t base,
                                                            int minutes, bool clear_of_bounds) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> latency(std::log(5e6), 1.5);
  std::uniform_int_distribution<int> pick(0, 1 << 20);
  const std::vector<uint64_t> bounds = SpanMetricsOptions::defaultBounds();
  auto nearBound = [&](uint64_t d) {
    for (uint64_t b : bounds) {
      if (std::abs(static_cast<double>(d) - static_cast<double>(b)) <=
          0.02 * static_cast<double>(b))
        return true;
    }
    return false;
  };
  std::vector<otlp::TracesRequest> out;
  for (int r = 0; r < requests; ++r) {
    otlp::TracesRequest req;
    const std::string service = "svc" + std::to_string(r % 4);
    auto* rs = req.add_resource_spans();
    auto* kv = rs->mutable_resource()->add_attributes();
    kv->set_key("service.name");
    kv->mutable_value()->set_string_value(service);
    auto* ss = rs->add_scope_spans();
    for (int i = 0; i < spans_per_request; ++i) {
      auto* span = ss->add_spans();
      std::string id(16, '\0');
      for (char& c : id) c = static_cast<char>(pick(rng) & 0xff);
      id[0] = 1;
      span->set_trace_id(id);
      span->set_span_id(id.substr(8));
      if (pick(rng) % 3 != 0) span->set_parent_span_id(id.substr(0, 8));
      span->set_name("op" + std::to_string(pick(rng) % 5));
      span->set_kind(static_cast<otlp::pb_trace::Span::SpanKind>(1 + pick(rng) % 5));
      span->mutable_status()->set_code(
          static_cast<otlp::pb_trace::Status::StatusCode>(pick(rng) % 10 == 0 ? 2 : pick(rng) % 2));
      uint64_t d;
      do {
        d = static_cast<uint64_t>(latency(rng));
      } while (clear_of_bounds && nearBound(d));
      if (pick(rng) % 50 == 0) d = 0;  // zero-length spans
      const auto start = static_cast<uint64_t>(base) + static_cast<uint64_t>(pick(rng)) *
                                                           static_cast<uint64_t>(minutes) *
                                                           60'000'000'000ull / (1u << 20);
      span->set_start_time_unix_nano(start);
      span->set_end_time_unix_nano(start + d);
    }
    out.push_back(std::move(req));
  }
  return out;
}

}  // namespace otlpd::store::testing
