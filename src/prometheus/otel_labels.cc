#include "prometheus/otel_labels.h"

#include <algorithm>

#include "common/strings.h"
#include "prometheus/otel_names.h"

namespace otlpd::prometheus {
namespace {

bool byName(const Label& a, const Label& b) {
  return a.name < b.name;
}

bool hasLabel(const std::vector<Label>& labels, std::string_view name) {
  for (const Label& l : labels) {
    if (l.name == name) return true;
  }
  return false;
}

void setLabel(std::vector<Label>& labels, std::string_view name, std::string_view value) {
  for (Label& l : labels) {
    if (l.name == name) {
      l.value = value;
      return;
    }
  }
  labels.push_back({name, value});
}

}  // namespace

void normalizeLabels(std::vector<Label>& labels) {
  std::erase_if(labels, [](const Label& l) { return l.value.empty(); });
  std::sort(labels.begin(), labels.end(), byName);
}

LabelBuilder::LabelBuilder(LabelOptions options) : options_(std::move(options)) {
  for (auto& [name, value] : options_.extra_labels) name = labelName(name);
}

std::string_view LabelBuilder::own(std::string value, bool per_point) {
  if (!per_point) {
    resource_owned_.push_back(std::move(value));
    return resource_owned_.back();
  }
  if (point_used_ == point_owned_.size()) point_owned_.emplace_back();
  std::string& slot = point_owned_[point_used_++];
  slot = std::move(value);
  return slot;
}

std::string_view LabelBuilder::sanitized(std::string_view key) {
  // Attribute keys repeat from point to point: sanitize each once.
  auto it = sanitized_.find(toAbsl(key));
  if (it != sanitized_.end()) return it->second;
  // (Bounded: build() clears it between points when it grows large.)
  return sanitized_.emplace(std::string(key), labelName(key)).first->second;
}

void LabelBuilder::sanitizeInto(const std::vector<Attribute>& attributes, std::vector<Label>& out,
                                bool per_point) {
  const size_t base = out.size();
  bool renamed = false;
  for (const Attribute& a : attributes) {
    if (isPlainLabelName(a.key)) {
      out.push_back({a.key, a.value});
    } else {
      out.push_back({per_point ? sanitized(a.key) : own(labelName(a.key), false), a.value});
      renamed = true;
    }
  }
  if (!renamed) return;  // OTLP keys are unique: only renaming makes names collide
  bool collide = false;
  for (size_t i = base; i < out.size() && !collide; ++i) {
    for (size_t j = i + 1; j < out.size() && !collide; ++j) collide = out[i].name == out[j].name;
  }
  if (!collide) return;
  // Collisions: join values in the order of the original keys.
  order_.clear();
  for (size_t i = 0; i < attributes.size(); ++i) order_.emplace_back(attributes[i].key, base + i);
  std::sort(order_.begin(), order_.end());
  std::vector<Label> sorted;
  sorted.reserve(attributes.size());
  for (const auto& [key, index] : order_) sorted.push_back(out[index]);
  out.resize(base);
  for (const Label& l : sorted) {
    auto it = std::find_if(out.begin() + static_cast<std::ptrdiff_t>(base), out.end(),
                           [&](const Label& o) { return o.name == l.name; });
    if (it == out.end()) {
      out.push_back(l);
    } else if (!l.value.empty()) {
      it->value = it->value.empty()
                      ? l.value
                      : own(std::string(it->value) + ";" + std::string(l.value), per_point);
    }
  }
}

void LabelBuilder::setResource(const ResourceView& resource) {
  resource_owned_.clear();
  resource_labels_.clear();
  target_info_.clear();
  job_.clear();
  instance_.clear();
  std::string_view name, name_space;
  for (const Attribute& a : resource.attributes) {
    if (a.key == kServiceName) name = a.value;
    if (a.key == kServiceNamespace) name_space = a.value;
    if (a.key == kServiceInstanceId) instance_ = std::string(a.value);
  }
  if (!name.empty()) {
    job_ =
        name_space.empty() ? std::string(name) : std::string(name_space) + "/" + std::string(name);
  }
  sanitizeInto(resource.attributes, resource_labels_, false);
  normalizeLabels(resource_labels_);

  // target_info: every resource attribute but the ones job and instance stand for.
  std::vector<Attribute> others;
  for (const Attribute& a : resource.attributes) {
    if (a.key != kServiceName && a.key != kServiceNamespace && a.key != kServiceInstanceId) {
      others.push_back(a);
    }
  }
  if (!others.empty()) {
    sanitizeInto(others, target_info_, false);
    if (!job_.empty()) setLabel(target_info_, "job", job_);
    if (!instance_.empty()) setLabel(target_info_, "instance", instance_);
    normalizeLabels(target_info_);
    if (target_info_.empty()) target_info_.clear();
  }
}

void LabelBuilder::setScope(const ScopeView& scope) {
  scope_name_ = scope.name;
  scope_version_ = scope.version;
}

const std::vector<Label>& LabelBuilder::build(const std::vector<Attribute>& attributes) {
  point_used_ = 0;
  // Views of the previous point are dead now: a cache grown by unbounded key sets can go.
  if (sanitized_.size() > 4096) sanitized_.clear();
  out_.clear();
  sanitizeInto(attributes, out_, true);
  if (options_.resource_to_telemetry) {
    for (const Label& l : resource_labels_) {
      if (!hasLabel(out_, l.name)) out_.push_back(l);
    }
  }
  if (options_.scope_labels) {
    if (!scope_name_.empty()) setLabel(out_, kScopeNameLabel, scope_name_);
    if (!scope_version_.empty()) setLabel(out_, kScopeVersionLabel, scope_version_);
  }
  if (!job_.empty()) setLabel(out_, "job", job_);
  if (!instance_.empty()) setLabel(out_, "instance", instance_);
  for (const auto& [name, value] : options_.extra_labels) {
    if (!hasLabel(out_, name)) out_.push_back({name, value});
  }
  normalizeLabels(out_);
  return out_;
}

}  // namespace otlpd::prometheus
