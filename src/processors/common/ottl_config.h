// What the OTTL processors (filter, transform) share: reading statement and condition strings out
// of the config with where each one is, reporting OTTL errors at the string's YAML line:column plus
// the column inside the statement, and an editor that runs over the items of chosen contexts of an
// encoded request, bound through ottl::WireItem.
#pragma once

#include <yaml-cpp/yaml.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_node.h"
#include "otlp/wire_edit.h"
#include "ottl/ottl.h"
#include "ottl/wire_accessor.h"

namespace otlpd::processors {

// One statement or condition as written in the config.
struct OttlSource {
  std::string text;
  std::string path;  // e.g. processors.filter/health.traces.span[0]
  YAML::Mark mark;
};

// The strings of list `key` of `node` (non-strings are reported). Marks the key as read.
std::vector<OttlSource> readOttlList(config::ConfigNode& node, std::string_view key);

// Each error as a config error at the source's position:
// `invalid OTTL statement "set(nme, 1)": column 5: unknown path nme in the span context`.
void reportOttlErrors(config::ConfigErrors& errors, const OttlSource& source, bool condition,
                      const std::vector<ottl::Error>& ottl_errors);

// Compiles, reporting errors; null when there are any.
std::unique_ptr<ottl::Statement> compileStatement(config::ConfigErrors& errors,
                                                  const OttlSource& source, ottl::Context context);
std::unique_ptr<ottl::Condition> compileCondition(config::ConfigErrors& errors,
                                                  const OttlSource& source, ottl::Context context);

// Walks an encoded request and calls onItem for every item of the contexts asked for (resource,
// scope, span, span event, log record, metric, data point), with the item's messages bound:
// ancestors read-only, the item itself writable. Returning false drops the item.
class OttlItemEditor : public otlp::TracesEditor,
                       public otlp::LogsEditor,
                       public otlp::MetricsEditor {
 public:
  otlp::EditDepth depth() const override { return depth_; }
  bool editResource(otlp::MessageEdit& resource) override;
  bool editScope(const otlp::MessageEdit& resource, otlp::MessageEdit& scope) override;
  bool editSpan(const otlp::MessageEdit& resource, const otlp::MessageEdit& scope,
                otlp::MessageEdit& span) override;
  bool editSpanEvent(const otlp::MessageEdit& resource, const otlp::MessageEdit& scope,
                     const otlp::MessageEdit& span, otlp::MessageEdit& event) override;
  bool editLogRecord(const otlp::MessageEdit& resource, const otlp::MessageEdit& scope,
                     otlp::MessageEdit& record) override;
  bool editMetric(const otlp::MessageEdit& resource, const otlp::MessageEdit& scope,
                  otlp::MessageEdit& metric) override;
  bool editDataPoint(const otlp::MessageEdit& resource, const otlp::MessageEdit& scope,
                     const otlp::MessageEdit& metric, otlp::MetricType type,
                     otlp::MessageEdit& point) override;

  // Rewrites `request` of `signal` with this editor.
  absl::StatusOr<otlp::RewriteResult> rewrite(pipeline::Signal signal, std::string_view request);

 protected:
  void want(ottl::Context context);
  virtual bool onItem(ottl::Context context, ottl::WireItem& item) = 0;

 private:
  bool wanted(ottl::Context c) const { return wants_[static_cast<size_t>(c)]; }

  std::array<bool, ottl::kContextCount> wants_{};
  otlp::EditDepth depth_ = otlp::EditDepth::kResource;
  ottl::WireItem item_;
};

}  // namespace otlpd::processors
