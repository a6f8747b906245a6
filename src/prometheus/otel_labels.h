// The labels of a Prometheus series made from an OTLP data point, as both Prometheus exporters
// build them (docs/PROMETHEUS.md):
//   1. the point's attributes, names sanitized (labelName); attributes whose names collide after
//      sanitizing are joined with ';' in the order of their original keys;
//   2. with resource_to_telemetry_conversion, the resource's attributes where the point has none
//      of that name;
//   3. otel_scope_name / otel_scope_version when the scope has them;
//   4. job (service.namespace/service.name) and instance (service.instance.id) from the resource;
//   5. const_labels / external_labels where none of that name is set yet.
// Empty values are dropped (Prometheus reads an empty label as an absent one). Pure.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "prometheus/otlp_metrics_walk.h"

namespace otlpd::prometheus {

struct Label {
  std::string_view name;
  std::string_view value;
  friend bool operator==(const Label&, const Label&) = default;
};

struct LabelOptions {
  bool resource_to_telemetry = false;
  bool scope_labels = true;
  // Sanitized at configuration time; added where no label of that name is set.
  std::vector<std::pair<std::string, std::string>> extra_labels;
};

class LabelBuilder {
 public:
  explicit LabelBuilder(LabelOptions options);

  // Per resource: job, instance, and the sanitized resource attributes.
  void setResource(const ResourceView& resource);
  void setScope(const ScopeView& scope);

  // The labels of a point, sorted by name, valid until the next build() or setResource().
  const std::vector<Label>& build(const std::vector<Attribute>& attributes);

  // target_info's labels for the current resource (job, instance and every other resource
  // attribute, sorted); empty when the resource has nothing beyond the service attributes.
  const std::vector<Label>& targetInfo() const { return target_info_; }
  std::string_view job() const { return job_; }
  std::string_view instance() const { return instance_; }

 private:
  std::string_view own(std::string value, bool per_point);
  std::string_view sanitized(std::string_view key);
  void sanitizeInto(const std::vector<Attribute>& attributes, std::vector<Label>& out,
                    bool per_point);

  LabelOptions options_;
  std::string job_;
  std::string instance_;
  std::vector<Label> resource_labels_;  // sanitized, sorted
  std::vector<Label> target_info_;
  std::string_view scope_name_, scope_version_;
  std::vector<Label> out_;
  std::vector<std::pair<std::string_view, size_t>> order_;  // scratch for collisions
  // Owned strings: sanitized names and joined values. A deque keeps views stable.
  std::deque<std::string> resource_owned_;
  std::deque<std::string> point_owned_;
  size_t point_used_ = 0;
  // Sanitized attribute keys, by key (node-based: views of the values stay valid).
  absl::node_hash_map<std::string, std::string> sanitized_;
};

// Sorts by name and removes empty values (in place).
void normalizeLabels(std::vector<Label>& labels);

}  // namespace otlpd::prometheus
