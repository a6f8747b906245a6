#include "exporters/loadbalancing/regroup.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/strings.h"
#include "otlp/proto.h"

namespace otlpd::exporters::loadbalancing {
namespace {

using pipeline::Signal;
namespace pbc = otlp::pb_common;
namespace pbt = otlp::pb_trace;
namespace pbl = otlp::pb_logs;
namespace pbm = otlp::pb_metrics;

void addString(google::protobuf::RepeatedPtrField<pbc::KeyValue>* attrs, const std::string& key,
               const std::string& value) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

std::string traceId(int trace) {
  std::string id = strCat("trace-", trace, "-");
  id.resize(16, 'x');
  return id;
}

HashRing ring(int n) {
  std::vector<std::string> list;
  for (int i = 0; i < n; ++i) list.push_back(strCat("backend-", i, ":4317"));
  return HashRing(list);
}

// 3 resources (services) × 2 scopes; spans of `traces` traces spread over all of them, so the
// spans of one trace sit under different envelopes and far apart in the request.
otlp::TracesRequest tracesRequest(int traces, int spans_per_trace) {
  otlp::TracesRequest req;
  std::vector<pbt::ScopeSpans*> scopes;
  for (int r = 0; r < 3; ++r) {
    auto* rs = req.add_resource_spans();
    rs->set_schema_url(strCat("https://opentelemetry.io/schemas/1.", r));
    addString(rs->mutable_resource()->mutable_attributes(), "service.name", strCat("svc-", r));
    addString(rs->mutable_resource()->mutable_attributes(), "host.name", strCat("host-", r));
    rs->mutable_resource()->set_dropped_attributes_count(r);
    for (int s = 0; s < 2; ++s) {
      auto* ss = rs->add_scope_spans();
      ss->mutable_scope()->set_name(strCat("scope-", s));
      ss->mutable_scope()->set_version(strCat("1.", r, ".", s));
      ss->set_schema_url(strCat("scope-schema-", s));
      scopes.push_back(ss);
    }
  }
  int n = 0;
  for (int s = 0; s < spans_per_trace; ++s) {
    for (int t = 0; t < traces; ++t) {
      auto* span = scopes[static_cast<size_t>(n++) % scopes.size()]->add_spans();
      span->set_trace_id(traceId(t));
      span->set_span_id(strCat("span", t, "-", s).substr(0, 8));
      span->set_name(strCat("t", t, "-s", s));
    }
  }
  return req;
}

struct SpanPlace {
  size_t share;
  std::string resource;  // the Resource message's bytes
  std::string resource_schema;
  std::string scope;  // the InstrumentationScope's bytes
  std::string scope_schema;
  std::string trace_id;
};

std::map<std::string, SpanPlace> placesIn(const otlp::TracesRequest& req, size_t share) {
  std::map<std::string, SpanPlace> out;
  for (const auto& rs : req.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) {
      for (const auto& span : ss.spans()) {
        EXPECT_TRUE(
            out.emplace(span.name(),
                        SpanPlace{share, rs.resource().SerializeAsString(), rs.schema_url(),
                                  ss.scope().SerializeAsString(), ss.schema_url(), span.trace_id()})
                .second)
            << span.name();
      }
    }
  }
  return out;
}

TEST(Regroup, EverySpanLandsOnceWithItsTraceAndItsEnvelopes) {
  const otlp::TracesRequest req = tracesRequest(40, 5);
  const std::string bytes = req.SerializeAsString();
  const HashRing backends = ring(3);
  Regrouper regrouper(Signal::kTraces, RoutingKey::kTraceId);
  std::vector<Share> shares;
  RegroupResult result;
  ASSERT_TRUE(regrouper.regroup(bytes, backends, 0, shares, result).ok());
  ASSERT_FALSE(result.whole.has_value());
  ASSERT_EQ(shares.size(), 3u);

  const std::map<std::string, SpanPlace> original = placesIn(req, 0);
  std::map<std::string, SpanPlace> landed;
  size_t total = 0;
  for (size_t b = 0; b < shares.size(); ++b) {
    otlp::TracesRequest part;
    ASSERT_TRUE(part.ParseFromString(shares[b].request));
    const auto places = placesIn(part, b);
    EXPECT_EQ(shares[b].items, places.size());
    EXPECT_GT(places.size(), 0u) << "40 traces on 3 backends leave none empty";
    total += places.size();
    for (const auto& [name, place] : places) {
      EXPECT_TRUE(landed.emplace(name, place).second) << name << " landed twice";
    }
  }
  EXPECT_EQ(total, 200u);
  ASSERT_EQ(landed.size(), original.size());
  std::map<std::string, size_t> share_of_trace;
  for (const auto& [name, place] : landed) {
    const SpanPlace& before = original.at(name);
    EXPECT_EQ(place.resource, before.resource) << name;
    EXPECT_EQ(place.resource_schema, before.resource_schema) << name;
    EXPECT_EQ(place.scope, before.scope) << name;
    EXPECT_EQ(place.scope_schema, before.scope_schema) << name;
    auto [it, first] = share_of_trace.emplace(place.trace_id, place.share);
    EXPECT_EQ(it->second, place.share) << "trace of " << name << " split over backends";
    // The owner is the ring's: the same on every instance.
    EXPECT_EQ(place.share, backends.owner(stableHash(place.trace_id))) << name;
  }
  EXPECT_EQ(share_of_trace.size(), 40u);
}

TEST(Regroup, ARequestForOneBackendIsLeftWhole) {
  const otlp::TracesRequest req = tracesRequest(1, 7);
  const HashRing backends = ring(4);
  Regrouper regrouper(Signal::kTraces, RoutingKey::kTraceId);
  std::vector<Share> shares;
  RegroupResult result;
  ASSERT_TRUE(regrouper.regroup(req.SerializeAsString(), backends, 0, shares, result).ok());
  ASSERT_TRUE(result.whole.has_value());
  EXPECT_EQ(*result.whole, backends.owner(stableHash(traceId(0))));
  EXPECT_EQ(shares[*result.whole].items, 7u);
  for (const Share& s : shares) EXPECT_TRUE(s.request.empty());
}

TEST(Regroup, ARegrouperIsReusedAcrossRequests) {
  const HashRing backends = ring(3);
  Regrouper regrouper(Signal::kTraces, RoutingKey::kTraceId);
  std::vector<Share> shares;
  RegroupResult result;
  for (int round = 0; round < 3; ++round) {
    const otlp::TracesRequest req = tracesRequest(10 + round, 2);
    ASSERT_TRUE(regrouper.regroup(req.SerializeAsString(), backends, 0, shares, result).ok());
    size_t total = 0;
    for (const Share& s : shares) {
      otlp::TracesRequest part;
      ASSERT_TRUE(part.ParseFromString(s.request));
      total += s.items;
    }
    EXPECT_EQ(total, static_cast<size_t>((10 + round) * 2));
  }
}

TEST(Regroup, ServiceRoutingKeepsEachServiceOnOneBackend) {
  otlp::TracesRequest req = tracesRequest(30, 2);
  // A fourth resource of svc-1 (another host): same service, same backend.
  auto* extra = req.add_resource_spans();
  addString(extra->mutable_resource()->mutable_attributes(), "service.name", "svc-1");
  addString(extra->mutable_resource()->mutable_attributes(), "host.name", "other-host");
  extra->add_scope_spans()->add_spans()->set_name("extra");
  extra->mutable_scope_spans(0)->mutable_spans(0)->set_trace_id(traceId(99));
  // And one without service.name: routed as the empty name, consistently.
  auto* nameless = req.add_resource_spans();
  nameless->add_scope_spans()->add_spans()->set_name("nameless");
  const HashRing backends = ring(5);
  Regrouper regrouper(Signal::kTraces, RoutingKey::kService);
  std::vector<Share> shares;
  RegroupResult result;
  ASSERT_TRUE(regrouper.regroup(req.SerializeAsString(), backends, 0, shares, result).ok());
  std::map<std::string, size_t> spans_of_service;
  size_t expected_total = 0;
  for (const Share& s : shares) expected_total += s.items;
  EXPECT_EQ(expected_total, 30u * 2 + 2);
  const size_t expected_share[] = {backends.owner(stableHash("svc-0")),
                                   backends.owner(stableHash("svc-1")),
                                   backends.owner(stableHash("svc-2"))};
  ASSERT_FALSE(result.whole) << "4 services on 5 backends";
  for (size_t b = 0; b < shares.size(); ++b) {
    otlp::TracesRequest part;
    ASSERT_TRUE(part.ParseFromString(shares[b].request));
    for (const auto& rs : part.resource_spans()) {
      std::string service;
      for (const auto& kv : rs.resource().attributes()) {
        if (kv.key() == "service.name") service = kv.value().string_value();
      }
      if (service.empty()) {
        EXPECT_EQ(b, backends.owner(stableHash("")));
        continue;
      }
      EXPECT_EQ(b, expected_share[service.back() - '0']) << service;
    }
  }
}

TEST(Regroup, LogsFollowTheirTraceAndRecordsWithoutOneGoTogether) {
  otlp::LogsRequest req;
  auto* rl = req.add_resource_logs();
  addString(rl->mutable_resource()->mutable_attributes(), "service.name", "logger");
  auto* sl = rl->add_scope_logs();
  for (int i = 0; i < 60; ++i) {
    auto* rec = sl->add_log_records();
    rec->mutable_body()->set_string_value(strCat("rec-", i));
    if (i % 3 != 0) rec->set_trace_id(traceId(i % 12));
  }
  const HashRing backends = ring(3);
  Regrouper regrouper(Signal::kLogs, RoutingKey::kTraceId);
  std::vector<Share> shares;
  RegroupResult result;
  ASSERT_TRUE(regrouper.regroup(req.SerializeAsString(), backends, 2, shares, result).ok());
  EXPECT_EQ(result.unkeyed_items, 20u);
  std::set<std::string> seen;
  for (size_t b = 0; b < shares.size(); ++b) {
    otlp::LogsRequest part;
    ASSERT_TRUE(part.ParseFromString(shares[b].request));
    size_t items = 0;
    for (const auto& r : part.resource_logs()) {
      ASSERT_EQ(r.resource().SerializeAsString(), rl->resource().SerializeAsString());
      for (const auto& s : r.scope_logs()) {
        for (const auto& rec : s.log_records()) {
          ++items;
          EXPECT_TRUE(seen.insert(rec.body().string_value()).second);
          const size_t expected =
              rec.trace_id().empty() ? 2 : backends.owner(stableHash(rec.trace_id()));
          EXPECT_EQ(b, expected) << rec.body().string_value();
        }
      }
    }
    EXPECT_EQ(items, shares[b].items);
  }
  EXPECT_EQ(seen.size(), 60u);
}

// A resource envelope as the walker sees it: the Resource in field 1.
std::string envelope(const otlp::pb_resource::Resource& resource) {
  const std::string body = resource.SerializeAsString();
  return std::string(1, '\x0a') + static_cast<char>(body.size()) + body;
}

TEST(Regroup, ResourceRoutingIgnoresTheOrderOfAttributes) {
  using Attrs = std::vector<std::pair<std::string, std::string>>;
  auto resource = [](const Attrs& attrs) {
    otlp::pb_resource::Resource r;
    for (const auto& [k, v] : attrs) addString(r.mutable_attributes(), k, v);
    return r;
  };
  auto logs = [&](const Attrs& attrs) {
    otlp::LogsRequest req;
    auto* rl = req.add_resource_logs();
    *rl->mutable_resource() = resource(attrs);
    rl->add_scope_logs()->add_log_records()->mutable_body()->set_string_value("x");
    return req.SerializeAsString();
  };
  Attrs attrs = {{"service.name", "api"}, {"k8s.pod.name", "api-1"}, {"cloud.region", "eu-1"}};
  Attrs reversed(attrs.rbegin(), attrs.rend());
  Attrs other = attrs;
  other[1].second = "api-2";
  EXPECT_EQ(resourceAttributesHash(envelope(resource(attrs))),
            resourceAttributesHash(envelope(resource(reversed))));
  EXPECT_NE(resourceAttributesHash(envelope(resource(attrs))),
            resourceAttributesHash(envelope(resource(other))));

  const HashRing backends = ring(7);
  Regrouper regrouper(Signal::kLogs, RoutingKey::kResource);
  std::vector<Share> shares;
  RegroupResult a, b;
  ASSERT_TRUE(regrouper.regroup(logs(attrs), backends, 0, shares, a).ok());
  ASSERT_TRUE(regrouper.regroup(logs(reversed), backends, 0, shares, b).ok());
  ASSERT_TRUE(a.whole && b.whole);
  EXPECT_EQ(*a.whole, *b.whole);
  EXPECT_EQ(*a.whole, backends.owner(resourceAttributesHash(envelope(resource(attrs)))));
}

pbm::Metric* gauge(pbm::ScopeMetrics* sm, const std::string& name, int points) {
  auto* m = sm->add_metrics();
  m->set_name(name);
  m->set_unit("ms");
  m->set_description("a gauge");
  for (int p = 0; p < points; ++p) {
    auto* dp = m->mutable_gauge()->add_data_points();
    addString(dp->mutable_attributes(), "point", strCat(name, "-", p));
    addString(dp->mutable_attributes(), "zone", strCat("z", p % 3));
    dp->set_as_int(p);
  }
  return m;
}

otlp::MetricsRequest metricsRequest() {
  otlp::MetricsRequest req;
  for (int r = 0; r < 2; ++r) {
    auto* rm = req.add_resource_metrics();
    addString(rm->mutable_resource()->mutable_attributes(), "service.name", strCat("svc-", r));
    auto* sm = rm->add_scope_metrics();
    sm->mutable_scope()->set_name("meter");
    gauge(sm, strCat("gauge-", r), 40);
    auto* sum = sm->add_metrics();
    sum->set_name(strCat("sum-", r));
    sum->mutable_sum()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
    sum->mutable_sum()->set_is_monotonic(true);
    for (int p = 0; p < 30; ++p) {
      auto* dp = sum->mutable_sum()->add_data_points();
      addString(dp->mutable_attributes(), "point", strCat("sum-", r, "-", p));
      dp->set_as_double(p);
    }
    auto* hist = sm->add_metrics();
    hist->set_name(strCat("hist-", r));
    hist->mutable_histogram()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_DELTA);
    for (int p = 0; p < 20; ++p) {
      auto* dp = hist->mutable_histogram()->add_data_points();
      addString(dp->mutable_attributes(), "point", strCat("hist-", r, "-", p));
      dp->set_count(static_cast<uint64_t>(p));
    }
    sm->add_metrics()->set_name(strCat("empty-", r));  // no data at all
  }
  return req;
}

// Point "name" attribute → (backend, metric as it was around the point, minus the points).
struct PointPlace {
  size_t backend;
  std::string metric_shape;
  std::string resource;
};

void collectPoints(const otlp::MetricsRequest& req, size_t backend,
                   std::map<std::string, PointPlace>& out, size_t* points) {
  for (const auto& rm : req.resource_metrics()) {
    for (const auto& sm : rm.scope_metrics()) {
      for (const auto& m : sm.metrics()) {
        pbm::Metric shape = m;
        auto note = [&](const auto& dps) {
          for (const auto& dp : dps) {
            std::string name;
            for (const auto& kv : dp.attributes()) {
              if (kv.key() == "point") name = kv.value().string_value();
            }
            ++*points;
            EXPECT_TRUE(
                out.emplace(name, PointPlace{backend, "", rm.resource().SerializeAsString()})
                    .second)
                << name << " twice";
            out[name].metric_shape = shape.SerializeAsString();
          }
        };
        if (m.has_gauge()) {
          shape.mutable_gauge()->clear_data_points();
          note(m.gauge().data_points());
        } else if (m.has_sum()) {
          shape.mutable_sum()->clear_data_points();
          note(m.sum().data_points());
        } else if (m.has_histogram()) {
          shape.mutable_histogram()->clear_data_points();
          note(m.histogram().data_points());
        }
      }
    }
  }
}

TEST(Regroup, StreamIdSplitsDataPointsWithinAMetricAndKeepsItsIdentity) {
  const otlp::MetricsRequest req = metricsRequest();
  const std::string bytes = req.SerializeAsString();
  const HashRing backends = ring(3);
  Regrouper regrouper(Signal::kMetrics, RoutingKey::kStreamId);
  std::vector<Share> shares;
  RegroupResult result;
  ASSERT_TRUE(regrouper.regroup(bytes, backends, 0, shares, result).ok());
  ASSERT_FALSE(result.whole);
  std::map<std::string, PointPlace> original, landed;
  size_t original_points = 0, landed_points = 0;
  collectPoints(req, 0, original, &original_points);
  std::set<std::string> empties;
  for (size_t b = 0; b < shares.size(); ++b) {
    otlp::MetricsRequest part;
    ASSERT_TRUE(part.ParseFromString(shares[b].request));
    size_t points = 0;
    collectPoints(part, b, landed, &points);
    EXPECT_EQ(points, shares[b].items);
    landed_points += points;
    for (const auto& rm : part.resource_metrics()) {
      for (const auto& sm : rm.scope_metrics()) {
        EXPECT_EQ(sm.scope().name(), "meter");
        for (const auto& m : sm.metrics()) {
          if (m.name().starts_with("empty-")) {
            EXPECT_TRUE(empties.insert(m.name()).second);
          }
        }
      }
    }
  }
  EXPECT_EQ(original_points, 2u * (40 + 30 + 20));
  EXPECT_EQ(landed_points, original_points);
  EXPECT_EQ(empties.size(), 2u) << "metrics without points are routed whole, once";
  std::map<std::string, std::set<size_t>> backends_of_metric;
  for (const auto& [name, before] : original) {
    ASSERT_TRUE(landed.count(name)) << name;
    const PointPlace& after = landed.at(name);
    // Name, unit, description, temporality, monotonicity: every copy of a metric has them.
    EXPECT_EQ(after.metric_shape, before.metric_shape) << name;
    EXPECT_EQ(after.resource, before.resource) << name;
    backends_of_metric[name.substr(0, name.rfind('-'))].insert(after.backend);
  }
  // 40 streams of one metric over 3 backends: the metric was split.
  EXPECT_GT(backends_of_metric["gauge-0"].size(), 1u);

  // The same streams in another request go where they went before.
  Regrouper again(Signal::kMetrics, RoutingKey::kStreamId);
  std::vector<Share> shares2;
  ASSERT_TRUE(again.regroup(bytes, backends, 0, shares2, result).ok());
  for (size_t b = 0; b < shares.size(); ++b) EXPECT_EQ(shares2[b].request, shares[b].request);
}

TEST(Regroup, MetricRoutingKeepsEveryMetricOfANameTogether) {
  const otlp::MetricsRequest req = metricsRequest();
  const HashRing backends = ring(3);
  Regrouper regrouper(Signal::kMetrics, RoutingKey::kMetric);
  std::vector<Share> shares;
  RegroupResult result;
  ASSERT_TRUE(regrouper.regroup(req.SerializeAsString(), backends, 0, shares, result).ok());
  size_t total = 0;
  for (size_t b = 0; b < shares.size(); ++b) {
    otlp::MetricsRequest part;
    ASSERT_TRUE(part.ParseFromString(shares[b].request));
    std::map<std::string, PointPlace> points;
    size_t n = 0;
    collectPoints(part, b, points, &n);
    EXPECT_EQ(n, shares[b].items);
    total += n;
    for (const auto& rm : part.resource_metrics()) {
      for (const auto& sm : rm.scope_metrics()) {
        for (const auto& m : sm.metrics()) {
          EXPECT_EQ(b, backends.owner(stableHash(m.name()))) << m.name();
        }
      }
    }
  }
  EXPECT_EQ(total, 180u);
}

TEST(Regroup, ServiceRoutingOfMetricsCountsDataPoints) {
  const otlp::MetricsRequest req = metricsRequest();
  const HashRing backends = ring(2);
  Regrouper regrouper(Signal::kMetrics, RoutingKey::kService);
  std::vector<Share> shares;
  RegroupResult result;
  ASSERT_TRUE(regrouper.regroup(req.SerializeAsString(), backends, 0, shares, result).ok());
  size_t total = 0;
  for (const Share& s : shares) total += s.items;
  EXPECT_EQ(total, 180u);
}

TEST(Regroup, MalformedBytesAreRefused) {
  const HashRing backends = ring(2);
  Regrouper regrouper(Signal::kTraces, RoutingKey::kTraceId);
  std::vector<Share> shares;
  RegroupResult result;
  std::string bytes = tracesRequest(3, 3).SerializeAsString();
  bytes.resize(bytes.size() - 5);
  EXPECT_EQ(regrouper.regroup(bytes, backends, 0, shares, result).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RoutingKeys, ValidForTheSignalsTheCollectorLists) {
  EXPECT_EQ(parseRoutingKey("traceID"), RoutingKey::kTraceId);
  EXPECT_EQ(parseRoutingKey("streamID"), RoutingKey::kStreamId);
  EXPECT_EQ(parseRoutingKey("traceid"), std::nullopt);
  EXPECT_TRUE(routingKeyValidFor(RoutingKey::kTraceId, Signal::kLogs));
  EXPECT_FALSE(routingKeyValidFor(RoutingKey::kTraceId, Signal::kMetrics));
  EXPECT_FALSE(routingKeyValidFor(RoutingKey::kStreamId, Signal::kTraces));
  EXPECT_FALSE(routingKeyValidFor(RoutingKey::kMetric, Signal::kLogs));
  EXPECT_TRUE(routingKeyValidFor(RoutingKey::kResource, Signal::kMetrics));
  EXPECT_EQ(defaultRoutingKey(Signal::kTraces), RoutingKey::kTraceId);
  EXPECT_EQ(defaultRoutingKey(Signal::kLogs), RoutingKey::kTraceId);
  EXPECT_EQ(defaultRoutingKey(Signal::kMetrics), RoutingKey::kService);
}

}  // namespace
}  // namespace otlpd::exporters::loadbalancing
