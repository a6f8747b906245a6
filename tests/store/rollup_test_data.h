// Distributed traces across services for the rollup tests, and the reference numbers a full scan
// of them computes (what the rollups must equal).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "otlp/proto.h"
#include "store/rollup.h"

namespace otlpd::store::testing {

// `traces` traces of frontend → checkout → {payments, inventory} (+ an internal span), each
// service's spans in their own request, children's requests before their parents' (as exporters
// send them: a child ends first). Lognormal durations, ~5% errors, starts spread over `minutes`.
inline std::vector<otlp::TracesRequest> distributedTraces(int traces, uint64_t seed,
                                                          int64_t base_unix_nano, int minutes) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> latency(std::log(2e6), 1.0);  // ~2 ms median
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<otlp::TracesRequest> out;
  auto id = [&](size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xff);
    s[0] = static_cast<char>(s[0] | 1);  // never all zero
    return s;
  };
  struct Node {
    const char* service;
    const char* name;
    int kind;
    int parent;  // index in the trace, -1 root
  };
  static const Node kShape[] = {
      {"frontend", "GET /checkout", 2, -1},                                  // SERVER
      {"frontend", "POST checkout", 3, 0},                                   // CLIENT
      {"checkout", "PlaceOrder", 2, 1},     {"checkout", "validate", 1, 2},  // INTERNAL
      {"checkout", "Charge", 3, 2},         {"payments", "Charge", 2, 4},
      {"checkout", "Reserve", 3, 2},        {"inventory", "Reserve", 2, 6},
  };
  for (int t = 0; t < traces; ++t) {
    const std::string trace_id = id(16);
    const int64_t start = base_unix_nano + static_cast<int64_t>(u(rng) * minutes * 60e9);
    std::map<std::string, otlp::TracesRequest> by_service;
    std::vector<std::string> span_ids;
    for (const Node& n : kShape) {
      span_ids.push_back(id(8));
      auto& req = by_service[n.service];
      if (req.resource_spans_size() == 0) {
        auto* kv = req.add_resource_spans()->mutable_resource()->add_attributes();
        kv->set_key("service.name");
        kv->mutable_value()->set_string_value(n.service);
        req.mutable_resource_spans(0)->add_scope_spans();
      }
      auto* s = req.mutable_resource_spans(0)->mutable_scope_spans(0)->add_spans();
      s->set_trace_id(trace_id);
      s->set_span_id(span_ids.back());
      if (n.parent >= 0) s->set_parent_span_id(span_ids[static_cast<size_t>(n.parent)]);
      s->set_name(n.name);
      s->set_kind(static_cast<otlp::pb_trace::Span::SpanKind>(n.kind));
      const int64_t offset = n.parent < 0 ? 0 : static_cast<int64_t>(u(rng) * 1e5);
      const auto d = static_cast<int64_t>(u(rng) < 0.01 ? latency(rng) * 50 : latency(rng));
      s->set_start_time_unix_nano(static_cast<uint64_t>(start + offset));
      s->set_end_time_unix_nano(static_cast<uint64_t>(start + offset + d));
      if (u(rng) < 0.05)
        s->mutable_status()->set_code(otlp::pb_trace::Status::STATUS_CODE_ERROR);
      else if (u(rng) < 0.3)
        s->mutable_status()->set_code(otlp::pb_trace::Status::STATUS_CODE_OK);
    }
    for (const char* s : {"inventory", "payments", "checkout", "frontend"}) {
      out.push_back(std::move(by_service[s]));
    }
  }
  return out;
}

// What a full scan of spans computes, keyed like the rollups.
struct ReferenceRollups {
  using Key = std::tuple<int64_t, std::string, std::string, int, int, bool>;
  struct Value {
    uint64_t calls = 0, errors = 0;
    std::vector<int64_t> durations;
  };
  std::map<Key, Value> spans;
  std::map<std::tuple<int64_t, std::string, std::string>, std::pair<uint64_t, uint64_t>> edges;

  void add(const std::vector<otlp::TracesRequest>& requests) {
    struct Seen {
      std::string service;
    };
    std::map<std::string, std::string> service_of;  // trace + span id → service
    struct Child {
      std::string parent_key, service;
      int64_t minute;
      bool error;
    };
    std::vector<Child> children;
    for (const auto& req : requests) {
      for (const auto& rs : req.resource_spans()) {
        std::string service;
        for (const auto& kv : rs.resource().attributes()) {
          if (kv.key() == "service.name") service = kv.value().string_value();
        }
        for (const auto& ss : rs.scope_spans()) {
          for (const auto& s : ss.spans()) {
            const auto start = static_cast<int64_t>(s.start_time_unix_nano());
            const int64_t minute = minuteOf(start);
            const bool error = s.status().code() == otlp::pb_trace::Status::STATUS_CODE_ERROR;
            Value& v = spans[{minute, service, s.name(), s.kind(), s.status().code(),
                              s.parent_span_id().empty()}];
            ++v.calls;
            v.errors += error;
            v.durations.push_back(
                std::max<int64_t>(0, static_cast<int64_t>(s.end_time_unix_nano()) - start));
            service_of[s.trace_id() + s.span_id()] = service;
            if (!s.parent_span_id().empty()) {
              children.push_back({s.trace_id() + s.parent_span_id(), service, minute, error});
            }
          }
        }
      }
    }
    for (const Child& c : children) {
      auto it = service_of.find(c.parent_key);
      if (it == service_of.end() || it->second == c.service) continue;
      auto& e = edges[{c.minute, it->second, c.service}];
      ++e.first;
      e.second += c.error;
    }
  }

  // Nearest rank, as the histogram promises to approximate.
  static int64_t exactQuantile(std::vector<int64_t> v, double q) {
    std::sort(v.begin(), v.end());
    auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
    rank = std::clamp<size_t>(rank, 1, v.size());
    return v[rank - 1];
  }
};

}  // namespace otlpd::store::testing
