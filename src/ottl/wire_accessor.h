// The ItemAccessor over encoded OTLP being rewritten (otlp/wire_edit.h): each level of the item is
// a MessageEdit; reads decode only the field asked for (an attribute is found by scanning the
// encoded KeyValues, without building the list), writes go through MessageEdit so only changed
// messages are re-encoded.
#pragma once

#include <array>

#include "otlp/wire_edit.h"
#include "ottl/accessor.h"

namespace otlpd::ottl {

class WireItem final : public ItemAccessor {
 public:
  WireItem() { clear(); }
  void clear() {
    read_.fill(nullptr);
    write_.fill(nullptr);
    metric_type_ = otlp::MetricType::kNone;
  }
  // The message of `level`, read-only (an ancestor of the item being edited).
  void bind(Context level, const otlp::MessageEdit& message) {
    read_[static_cast<size_t>(level)] = &message;
    write_[static_cast<size_t>(level)] = nullptr;
  }
  // The message of `level`, writable (the item the statement's context edits).
  void bindMutable(Context level, otlp::MessageEdit& message) {
    read_[static_cast<size_t>(level)] = &message;
    write_[static_cast<size_t>(level)] = &message;
  }
  // The data member of the metric (for metric.type and data point fields).
  void setMetricType(otlp::MetricType type) { metric_type_ = type; }

  Value get(const Field& field) override;
  absl::Status set(const Field& field, const Value& value) override;
  Value attribute(Context level, std::string_view key) override;
  otlp::AttributeList* attributes(Context level) override;
  Value allAttributes(Context level) override;

 private:
  std::array<const otlp::MessageEdit*, kContextCount> read_;
  std::array<otlp::MessageEdit*, kContextCount> write_;
  otlp::MetricType metric_type_ = otlp::MetricType::kNone;
};

}  // namespace otlpd::ottl
