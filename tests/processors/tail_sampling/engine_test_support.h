// Building trace requests span by span, a clock moved by hand, small policies and a recording
// next consumer, for the tail_sampling engine tests.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/metrics_registry.h"
#include "otlp/proto.h"
#include "otlp/wire_edit.h"
#include "otlp/wire_reader.h"
#include "pipeline/batch.h"
#include "processors/tail_sampling/tail_sampling_processor.h"

namespace otlpd::processors::tail_sampling::engine_testing {

namespace pbt = otlp::pb_trace;

// A trace id from a small number: non-zero, 16 bytes.
inline std::string traceId(uint64_t n) {
  std::string id(16, '\0');
  id[0] = '\x5a';
  for (int i = 0; i < 8; ++i) id[15 - i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return id;
}
inline uint64_t traceNumber(std::string_view id) {
  uint64_t n = 0;
  for (int i = 8; i < 16; ++i) n = (n << 8) | static_cast<uint8_t>(id[i]);
  return n;
}
inline std::string spanId(uint64_t n) {
  std::string id(8, '\0');
  for (int i = 0; i < 8; ++i) id[7 - i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return id;
}

struct SpanSpec {
  uint64_t trace = 1;
  uint64_t span = 1;
  uint64_t parent = 0;  // 0: a root
  std::string name = "op";
  std::string service = "svc";
  std::string scope = "lib";
  bool error = false;
  int64_t start_unix_nanos = 1'700'000'000'000'000'000;
  int64_t end_unix_nanos = 1'700'000'000'100'000'000;
  std::string raw_trace_id = std::string();  // overrides `trace` when set (invalid ids)
  bool no_trace_id = false;
};

// A request with the spans under resources (by service) and scopes, in the order given.
inline otlp::TracesRequest request(const std::vector<SpanSpec>& spans) {
  otlp::TracesRequest req;
  for (const SpanSpec& s : spans) {
    pbt::ResourceSpans* rs = nullptr;
    for (auto& r : *req.mutable_resource_spans()) {
      if (r.resource().attributes(0).value().string_value() == s.service) rs = &r;
    }
    if (rs == nullptr) {
      rs = req.add_resource_spans();
      auto* kv = rs->mutable_resource()->add_attributes();
      kv->set_key("service.name");
      kv->mutable_value()->set_string_value(s.service);
    }
    pbt::ScopeSpans* ss = nullptr;
    for (auto& sc : *rs->mutable_scope_spans()) {
      if (sc.scope().name() == s.scope) ss = &sc;
    }
    if (ss == nullptr) {
      ss = rs->add_scope_spans();
      ss->mutable_scope()->set_name(s.scope);
    }
    pbt::Span* span = ss->add_spans();
    if (!s.no_trace_id)
      span->set_trace_id(s.raw_trace_id.empty() ? traceId(s.trace) : s.raw_trace_id);
    span->set_span_id(spanId(s.span));
    if (s.parent != 0) span->set_parent_span_id(spanId(s.parent));
    span->set_name(s.name);
    span->set_start_time_unix_nano(static_cast<uint64_t>(s.start_unix_nanos));
    span->set_end_time_unix_nano(static_cast<uint64_t>(s.end_unix_nanos));
    if (s.error) span->mutable_status()->set_code(pbt::Status::STATUS_CODE_ERROR);
    auto* attr = span->add_attributes();
    attr->set_key("http.route");
    attr->mutable_value()->set_string_value("/api/items/{id}");
  }
  return req;
}

inline pipeline::Batch wireBatch(const otlp::TracesRequest& req) {
  return pipeline::Batch::fromWire(pipeline::Signal::kTraces,
                                   pipeline::WireBytes::fromString(req.SerializeAsString()),
                                   static_cast<size_t>(0));
}

class ManualClock final : public Clock {
 public:
  Instant now() override { return Instant{mono_, unix_}; }
  void advance(absl::Duration d) {
    mono_ += absl::ToInt64Nanoseconds(d);
    unix_ += absl::ToInt64Nanoseconds(d);
  }

 private:
  int64_t mono_ = 1'000'000'000;
  int64_t unix_ = 1'700'000'000'000'000'000;
};

// A policy given as a function.
class FnPolicy final : public Policy {
 public:
  explicit FnPolicy(std::function<Decision(const TraceView&, int64_t)> fn) : fn_(std::move(fn)) {}
  Decision evaluate(const TraceView& trace, int64_t now) override {
    ++evaluations;
    return fn_(trace, now);
  }
  int evaluations = 0;

 private:
  std::function<Decision(const TraceView&, int64_t)> fn_;
};

inline NamedPolicy named(std::string name, std::function<Decision(const TraceView&, int64_t)> fn) {
  return NamedPolicy{std::move(name), "test", std::make_unique<FnPolicy>(std::move(fn))};
}

// Keeps traces whose number (traceId(n)) is in `keep`.
inline NamedPolicy keepTraces(std::set<uint64_t> keep, std::string name = "keep-ids") {
  return named(std::move(name), [keep = std::move(keep)](const TraceView& t, int64_t) {
    return keep.contains(traceNumber(t.trace_id)) ? Decision::kSampled : Decision::kNotSampled;
  });
}
// A list of policies (NamedPolicy is move-only, so no initializer list).
template <class... P>
std::vector<NamedPolicy> policies(P&&... p) {
  std::vector<NamedPolicy> out;
  (out.push_back(std::forward<P>(p)), ...);
  return out;
}

inline NamedPolicy keepAll(std::string name = "all") {
  return named(std::move(name), [](const TraceView&, int64_t) { return Decision::kSampled; });
}
inline NamedPolicy dropAll(std::string name = "none") {
  return named(std::move(name), [](const TraceView&, int64_t) { return Decision::kNotSampled; });
}

// The name of a span from its wire bytes.
inline std::string_view spanName(std::string_view span) {
  return otlp::wire::lastLengthDelimited(span, otlp::fields::kSpanName);
}

// Records what the processor passes on, decoded: per trace number, the span names with their
// service and scope ("svc/lib/op").
class RecordingConsumer final : public pipeline::Consumer {
 public:
  absl::Status consume(pipeline::Batch&& batch) override {
    std::lock_guard lock(mutex);
    ++batches;
    batch_sizes.push_back(batch.itemCount());
    for (const auto& rs : batch.traces().resource_spans()) {
      std::string service;
      for (const auto& kv : rs.resource().attributes()) {
        if (kv.key() == "service.name") service = kv.value().string_value();
      }
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& span : ss.spans()) {
          received[traceNumber(span.trace_id())].push_back(service + "/" + ss.scope().name() + "/" +
                                                           span.name());
          ++spans;
        }
      }
    }
    return result;
  }
  size_t spansOf(uint64_t trace) {
    std::lock_guard lock(mutex);
    auto it = received.find(trace);
    return it == received.end() ? 0 : it->second.size();
  }

  std::mutex mutex;
  std::map<uint64_t, std::vector<std::string>> received;
  std::vector<size_t> batch_sizes;
  size_t batches = 0;
  size_t spans = 0;
  absl::Status result;
};

}  // namespace otlpd::processors::tail_sampling::engine_testing
