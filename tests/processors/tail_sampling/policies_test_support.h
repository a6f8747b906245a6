// Traces for the tail_sampling policy tests: built with the protobuf classes, encoded, and cut into
// SpanPieces by otlp::ItemWalker as the engine does; and policies read from YAML.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "../editing_test_support.h"
#include "config/loader.h"
#include "otlp/proto.h"
#include "otlp/wire_split.h"
#include "processors/tail_sampling/policies.h"
#include "processors/tail_sampling/policy.h"

namespace otlpd::processors::tail_sampling::testing {

using processors::testing::Attrs;
using processors::testing::boolean;
using processors::testing::dbl;
using processors::testing::i64;
using processors::testing::setAttributes;
using processors::testing::str;
namespace pbt = otlp::pb_trace;

inline constexpr int64_t kMs = 1'000'000;
inline constexpr int64_t kSecond = 1'000'000'000;
// A fixed "now" and span times around it (2024-01-01T00:00:00Z).
inline constexpr int64_t kNow = 1'704'067'200LL * kSecond;

// 16 bytes that differ per n (and are not all zero).
inline std::string traceId(uint64_t n) {
  std::string id(16, '\0');
  uint64_t hi = n * 0x9e3779b97f4a7c15ULL + 0x0123456789abcdefULL;
  uint64_t lo = n;
  for (int i = 0; i < 8; ++i) {
    id[7 - i] = static_cast<char>(hi >> (8 * i));
    id[15 - i] = static_cast<char>(lo >> (8 * i));
  }
  return id;
}

// Spans of one trace as the engine holds them: pieces whose bytes this object owns.
class TestTrace {
 public:
  TestTrace() = default;
  TestTrace(const TestTrace&) = delete;
  TestTrace& operator=(const TestTrace&) = delete;
  TestTrace(TestTrace&&) = default;
  TestTrace& operator=(TestTrace&&) = default;

  // Every span of `request`, in order.
  static TestTrace of(const otlp::TracesRequest& request) {
    TestTrace t;
    const std::string bytes = request.SerializeAsString();
    otlp::ItemWalker walker;
    // Envelopes repeat from span to span; keep one copy of each, as the engine would, so policies
    // see the same bytes (same address) for spans of one resource.
    std::string_view last_resource, last_scope;
    absl::Status s = walker.walk(bytes, [&](const otlp::ItemSlice& slice) {
      if (t.bytes_.empty() || last_resource != slice.resource_envelope) {
        last_resource = t.keep(slice.resource_envelope);
      }
      if (last_scope.data() == nullptr || last_scope != slice.scope_envelope) {
        last_scope = t.keep(slice.scope_envelope);
      }
      const std::string_view span = t.keep(slice.item);
      t.pieces_.push_back({last_resource, last_scope, span});
      t.encoded_ += span.size();
      if (t.trace_id_.empty()) t.trace_id_ = std::string(otlp::spanTraceId(span));
    });
    EXPECT_TRUE(s.ok()) << s;
    return t;
  }

  TraceView view() const { return TraceView{trace_id_, pieces_, encoded_, 0}; }
  size_t spans() const { return pieces_.size(); }
  uint64_t encodedBytes() const { return encoded_; }

 private:
  std::string_view keep(std::string_view bytes) {
    bytes_.emplace_back(bytes);
    return bytes_.back();
  }
  std::string trace_id_;
  std::deque<std::string> bytes_;
  std::vector<SpanPiece> pieces_;
  uint64_t encoded_ = 0;
};

// One trace: resources (each with one scope) and their spans, all with the trace's id.
class TraceBuilder {
 public:
  explicit TraceBuilder(uint64_t n = 1) : trace_id_(traceId(n)) {}

  // Starts a resource with these attributes; the spans added next belong to it.
  TraceBuilder& resource(const Attrs& attributes = {}) {
    auto* rs = request_.add_resource_spans();
    setAttributes(rs->mutable_resource()->mutable_attributes(), attributes);
    rs->add_scope_spans()->mutable_scope()->set_name("test-scope");
    return *this;
  }
  TraceBuilder& service(const std::string& name) { return resource({{"service.name", str(name)}}); }

  // A span of the current resource (one is started if there is none), 1 ms long from kNow.
  pbt::Span& span(const std::string& name = "op") {
    if (request_.resource_spans_size() == 0) resource();
    auto* ss =
        request_.mutable_resource_spans(request_.resource_spans_size() - 1)->mutable_scope_spans(0);
    pbt::Span* s = ss->add_spans();
    s->set_trace_id(trace_id_);
    std::string span_id(8, '\0');
    span_id[7] = static_cast<char>(++spans_);
    span_id[0] = 1;
    s->set_span_id(span_id);
    s->set_name(name);
    s->set_start_time_unix_nano(kNow);
    s->set_end_time_unix_nano(kNow + kMs);
    return *s;
  }
  // `count` plain spans.
  TraceBuilder& spans(int count) {
    for (int i = 0; i < count; ++i) span();
    return *this;
  }

  const otlp::TracesRequest& request() const { return request_; }
  TestTrace build() const { return TestTrace::of(request_); }

 private:
  std::string trace_id_;
  otlp::TracesRequest request_;
  int spans_ = 0;
};

// Policies read from a tail_sampling processor config in YAML, with the errors reported.
struct ReadResult {
  std::vector<NamedPolicy> policies;
  std::string errors;  // one per line, "" when none
};
inline ReadResult readYaml(std::string_view yaml) {
  ReadResult out;
  auto node = config::parseYaml(yaml, "test");
  if (!node.ok()) {
    out.errors = std::string(node.status().message());
    return out;
  }
  config::ConfigErrors errors;
  config::ConfigNode processor(*node, "processors.tail_sampling", errors);
  out.policies = readPolicies(processor);
  out.errors = errors.toString();
  return out;
}

// The one policy of `yaml` (a list of one policy under `policies:`); fails the test on errors.
inline std::unique_ptr<Policy> onePolicy(std::string_view yaml) {
  ReadResult r = readYaml(yaml);
  EXPECT_EQ(r.errors, "");
  EXPECT_EQ(r.policies.size(), 1u);
  if (r.policies.empty()) return nullptr;
  return std::move(r.policies[0].policy);
}

inline Decision decide(Policy& policy, const TestTrace& trace, int64_t now = kNow) {
  return policy.evaluate(trace.view(), now);
}

// Evaluates every policy and combines, as the engine does; whether the trace is kept.
inline FinalDecision decideAll(std::vector<NamedPolicy>& policies, const TestTrace& trace,
                               int64_t now = kNow) {
  std::vector<Decision> decisions;
  for (NamedPolicy& p : policies) decisions.push_back(p.policy->evaluate(trace.view(), now));
  return combine(decisions);
}

inline std::string_view name(Decision d) {
  switch (d) {
    case Decision::kNotSampled:
      return "NotSampled";
    case Decision::kSampled:
      return "Sampled";
    case Decision::kInvertNotSampled:
      return "InvertNotSampled";
    case Decision::kInvertSampled:
      return "InvertSampled";
    case Decision::kDropped:
      return "Dropped";
    case Decision::kError:
      return "Error";
  }
  return "?";
}

}  // namespace otlpd::processors::tail_sampling::testing

namespace otlpd::processors::tail_sampling {
// So that EXPECT_EQ prints decisions by name.
inline void PrintTo(Decision d, std::ostream* os) {
  *os << testing::name(d);
}
}  // namespace otlpd::processors::tail_sampling
