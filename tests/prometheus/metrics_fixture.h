// OTLP metrics requests for the Prometheus tests, built with the generated classes.
#pragma once

#include <string>
#include <vector>

#include "otlp/proto.h"

namespace otlpd::prometheus::testing {

namespace pbm = otlp::pb_metrics;

inline void setAttr(google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>* attrs,
                    const std::string& key, const std::string& value) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

struct RequestBuilder {
  otlp::MetricsRequest request;
  pbm::ResourceMetrics* rm = nullptr;
  pbm::ScopeMetrics* sm = nullptr;

  RequestBuilder& resource(std::vector<std::pair<std::string, std::string>> attrs) {
    rm = request.add_resource_metrics();
    for (const auto& [k, v] : attrs) setAttr(rm->mutable_resource()->mutable_attributes(), k, v);
    sm = nullptr;
    return *this;
  }
  RequestBuilder& scope(const std::string& name, const std::string& version) {
    if (rm == nullptr) resource({});
    sm = rm->add_scope_metrics();
    sm->mutable_scope()->set_name(name);
    sm->mutable_scope()->set_version(version);
    return *this;
  }
  pbm::Metric* metric(const std::string& name, const std::string& unit = "",
                      const std::string& description = "") {
    if (sm == nullptr) scope("", "");
    pbm::Metric* m = sm->add_metrics();
    m->set_name(name);
    m->set_unit(unit);
    m->set_description(description);
    return m;
  }
  std::string bytes() const { return request.SerializeAsString(); }
};

inline pbm::NumberDataPoint* addNumber(
    google::protobuf::RepeatedPtrField<pbm::NumberDataPoint>* pts, double value, uint64_t time_ns,
    std::vector<std::pair<std::string, std::string>> attrs = {}, uint64_t start_ns = 0) {
  auto* p = pts->Add();
  p->set_as_double(value);
  p->set_time_unix_nano(time_ns);
  p->set_start_time_unix_nano(start_ns);
  for (const auto& [k, v] : attrs) setAttr(p->mutable_attributes(), k, v);
  return p;
}

}  // namespace otlpd::prometheus::testing
