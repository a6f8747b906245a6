// The OpenTelemetry Transformation Language, the subset real configs use: statements
// `editor(args) where condition` and bare conditions, checked against a context (span, log,
// data point...) when parsed, then run over items through an ItemAccessor. Pure: no I/O; the
// clock is passed in. Used by the filter and transform processors.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "otlp/value.h"
#include "ottl/accessor.h"
#include "ottl/error.h"
#include "ottl/program.h"
#include "pipeline/signal.h"

namespace otlpd::ottl {

// What one evaluation may keep between statements of a group for one item.
struct EvalState {
  otlp::Value cache = otlp::Value::ofMap({});  // the `cache` path; reset per item by the caller
  int64_t now_unix_nanos = 0;                  // what Now() returns
  void resetCache() {
    if (!cache.map().empty()) cache.mutableMap().clear();
  }
};

class Condition {
 public:
  absl::StatusOr<bool> evaluate(ItemAccessor& item, EvalState& state) const;
  // The highest level the condition reads (to skip work: a resource-only condition...).
  const std::string& text() const { return text_; }

 private:
  friend struct Compiler;
  std::string text_;
  ExprPtr expr_;
};

class Statement {
 public:
  // Runs the editor when the where clause holds (or there is none). Returns whether it ran.
  absl::StatusOr<bool> execute(ItemAccessor& item, EvalState& state) const;
  const std::string& text() const { return text_; }
  Context context() const { return context_; }

 private:
  friend struct Compiler;
  std::string text_;
  Context context_ = Context::kSpan;
  ExprPtr editor_;
  ExprPtr where_;
};

template <class T>
struct Compiled {
  std::unique_ptr<T> program;  // null when there are errors
  std::vector<Error> errors;
  bool ok() const { return errors.empty(); }
};

Compiled<Statement> parseStatement(std::string_view text, Context context);
Compiled<Condition> parseCondition(std::string_view text, Context context);

// The context names of the Collector's `context:` key: resource, scope, span, spanevent, log,
// metric, datapoint.
std::optional<Context> contextFromName(std::string_view name);
// The contexts a signal's statements may use, outermost first.
std::vector<Context> contextsOf(pipeline::Signal signal);

// The context a statement or condition is written for, inferred from its paths' prefixes
// (`span.name`, `resource.attributes[...]`): the innermost one named. Errors when the text does
// not parse or names no context (or one the signal does not have).
absl::StatusOr<Context> inferContext(std::string_view text, pipeline::Signal signal,
                                     bool is_condition);

}  // namespace otlpd::ottl
