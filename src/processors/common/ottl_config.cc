#include "processors/common/ottl_config.h"

#include "common/strings.h"

namespace otlpd::processors {

std::vector<OttlSource> readOttlList(config::ConfigNode& node, std::string_view key) {
  std::vector<OttlSource> out;
  (void)node.getStringList(key);  // marks the key read and reports what is not a list of strings
  if (!node.yaml().IsMap()) return out;
  const YAML::Node& map = node.yaml();
  const YAML::Node list = map[std::string(key)];
  if (!list.IsDefined() || !list.IsSequence()) return out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].IsScalar()) continue;
    const std::string path =
        node.path().empty() ? strCat(key, "[", i, "]") : strCat(node.path(), ".", key, "[", i, "]");
    out.push_back({list[i].Scalar(), path, list[i].Mark()});
  }
  return out;
}

void reportOttlErrors(config::ConfigErrors& errors, const OttlSource& source, bool condition,
                      const std::vector<ottl::Error>& ottl_errors) {
  for (const ottl::Error& e : ottl_errors) {
    errors.add(source.path, source.mark,
               strCat("invalid OTTL ", condition ? "condition" : "statement", " \"", source.text,
                      "\": ", e.toString()));
  }
}

std::unique_ptr<ottl::Statement> compileStatement(config::ConfigErrors& errors,
                                                  const OttlSource& source, ottl::Context context) {
  ottl::Compiled<ottl::Statement> c = ottl::parseStatement(source.text, context);
  if (!c.ok()) reportOttlErrors(errors, source, false, c.errors);
  return std::move(c.program);
}

std::unique_ptr<ottl::Condition> compileCondition(config::ConfigErrors& errors,
                                                  const OttlSource& source, ottl::Context context) {
  ottl::Compiled<ottl::Condition> c = ottl::parseCondition(source.text, context);
  if (!c.ok()) reportOttlErrors(errors, source, true, c.errors);
  return std::move(c.program);
}

void OttlItemEditor::want(ottl::Context context) {
  wants_[static_cast<size_t>(context)] = true;
  otlp::EditDepth d = otlp::EditDepth::kResource;
  switch (context) {
    case ottl::Context::kResource:
      d = otlp::EditDepth::kResource;
      break;
    case ottl::Context::kScope:
      d = otlp::EditDepth::kScope;
      break;
    case ottl::Context::kSpan:
    case ottl::Context::kLog:
    case ottl::Context::kMetric:
      d = otlp::EditDepth::kItem;
      break;
    case ottl::Context::kSpanEvent:
    case ottl::Context::kDataPoint:
      d = otlp::EditDepth::kSubItem;
      break;
  }
  if (static_cast<int>(d) > static_cast<int>(depth_)) depth_ = d;
}

bool OttlItemEditor::editResource(otlp::MessageEdit& resource) {
  if (!wanted(ottl::Context::kResource)) return true;
  item_.clear();
  item_.bindMutable(ottl::Context::kResource, resource);
  return onItem(ottl::Context::kResource, item_);
}

bool OttlItemEditor::editScope(const otlp::MessageEdit& resource, otlp::MessageEdit& scope) {
  if (!wanted(ottl::Context::kScope)) return true;
  item_.clear();
  item_.bind(ottl::Context::kResource, resource);
  item_.bindMutable(ottl::Context::kScope, scope);
  return onItem(ottl::Context::kScope, item_);
}

bool OttlItemEditor::editSpan(const otlp::MessageEdit& resource, const otlp::MessageEdit& scope,
                              otlp::MessageEdit& span) {
  if (!wanted(ottl::Context::kSpan)) return true;
  item_.clear();
  item_.bind(ottl::Context::kResource, resource);
  item_.bind(ottl::Context::kScope, scope);
  item_.bindMutable(ottl::Context::kSpan, span);
  return onItem(ottl::Context::kSpan, item_);
}

bool OttlItemEditor::editSpanEvent(const otlp::MessageEdit& resource,
                                   const otlp::MessageEdit& scope, const otlp::MessageEdit& span,
                                   otlp::MessageEdit& event) {
  if (!wanted(ottl::Context::kSpanEvent)) return true;
  item_.clear();
  item_.bind(ottl::Context::kResource, resource);
  item_.bind(ottl::Context::kScope, scope);
  item_.bind(ottl::Context::kSpan, span);
  item_.bindMutable(ottl::Context::kSpanEvent, event);
  return onItem(ottl::Context::kSpanEvent, item_);
}

bool OttlItemEditor::editLogRecord(const otlp::MessageEdit& resource,
                                   const otlp::MessageEdit& scope, otlp::MessageEdit& record) {
  if (!wanted(ottl::Context::kLog)) return true;
  item_.clear();
  item_.bind(ottl::Context::kResource, resource);
  item_.bind(ottl::Context::kScope, scope);
  item_.bindMutable(ottl::Context::kLog, record);
  return onItem(ottl::Context::kLog, item_);
}

bool OttlItemEditor::editMetric(const otlp::MessageEdit& resource, const otlp::MessageEdit& scope,
                                otlp::MessageEdit& metric) {
  if (!wanted(ottl::Context::kMetric)) return true;
  item_.clear();
  item_.bind(ottl::Context::kResource, resource);
  item_.bind(ottl::Context::kScope, scope);
  item_.bindMutable(ottl::Context::kMetric, metric);
  item_.setMetricType(otlp::metricTypeOf(metric));
  return onItem(ottl::Context::kMetric, item_);
}

bool OttlItemEditor::editDataPoint(const otlp::MessageEdit& resource,
                                   const otlp::MessageEdit& scope, const otlp::MessageEdit& metric,
                                   otlp::MetricType type, otlp::MessageEdit& point) {
  if (!wanted(ottl::Context::kDataPoint)) return true;
  item_.clear();
  item_.bind(ottl::Context::kResource, resource);
  item_.bind(ottl::Context::kScope, scope);
  item_.bind(ottl::Context::kMetric, metric);
  item_.bindMutable(ottl::Context::kDataPoint, point);
  item_.setMetricType(type);
  return onItem(ottl::Context::kDataPoint, item_);
}

absl::StatusOr<otlp::RewriteResult> OttlItemEditor::rewrite(pipeline::Signal signal,
                                                            std::string_view request) {
  switch (signal) {
    case pipeline::Signal::kTraces:
      return otlp::rewriteTraces(request, static_cast<otlp::TracesEditor&>(*this));
    case pipeline::Signal::kMetrics:
      return otlp::rewriteMetrics(request, static_cast<otlp::MetricsEditor&>(*this));
    case pipeline::Signal::kLogs:
      return otlp::rewriteLogs(request, static_cast<otlp::LogsEditor&>(*this));
  }
  return absl::InternalError("unknown signal");
}

}  // namespace otlpd::processors
