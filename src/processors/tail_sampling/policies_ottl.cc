// ottl_condition: sampled when any `span` condition holds for a span, or any `spanevent` condition
// for one of its events — the conditions of each list are ORed, as in the Collector. They are
// compiled by src/ottl when the config is read and run over the span's bytes through the wire
// accessor (each level opened as a read-only MessageEdit, decoding only what a condition reads).
#include <vector>

#include "common/strings.h"
#include "ottl/ottl.h"
#include "ottl/wire_accessor.h"
#include "processors/common/editing_processor.h"
#include "processors/common/ottl_config.h"
#include "processors/tail_sampling/policies.h"

namespace otlpd::processors::tail_sampling {
namespace {

using ConditionList = std::vector<std::unique_ptr<ottl::Condition>>;

class OttlCondition final : public Policy {
 public:
  OttlCondition(ConditionList span, ConditionList event, ErrorMode mode)
      : span_(std::move(span)), event_(std::move(event)), mode_(mode) {}

  Decision evaluate(const TraceView& trace, int64_t now_unix_nanos) override {
    state_.now_unix_nanos = now_unix_nanos;
    // MessageEdits hold views of the trace's bytes: nothing is kept from one trace to the next.
    std::string_view resource_envelope, scope_envelope;
    bool first = true, resource_ok = false, scope_ok = false;
    for (const SpanPiece& piece : trace.spans) {
      if (first || !same(piece.resource_envelope, resource_envelope)) {
        resource_envelope = piece.resource_envelope;
        resource_ok =
            open(resource_, envelopeMessage(resource_envelope), otlp::fields::kResourceAttributes);
      }
      if (first || !same(piece.scope_envelope, scope_envelope)) {
        scope_envelope = piece.scope_envelope;
        scope_ok = open(scope_, envelopeMessage(scope_envelope), otlp::fields::kScopeAttributes);
      }
      first = false;
      if (!resource_ok || !scope_ok ||
          !open(span_edit_, piece.span, otlp::fields::kSpanAttributes)) {
        if (failed()) return Decision::kError;
        continue;
      }
      item_.clear();
      item_.bind(ottl::Context::kResource, resource_);
      item_.bind(ottl::Context::kScope, scope_);
      item_.bind(ottl::Context::kSpan, span_edit_);
      if (const Decision d = any(span_); d != Decision::kNotSampled) return d;
      if (event_.empty()) continue;
      otlp::wire::Reader reader(piece.span);
      otlp::wire::Field f;
      while (!reader.done() && reader.next(f) == otlp::wire::Stop::kNone) {
        if (f.number != otlp::fields::kSpanEvents || f.type != otlp::wire::kLengthDelimited) {
          continue;
        }
        if (!open(event_edit_, f.bytes, otlp::fields::kEventAttributes)) {
          if (failed()) return Decision::kError;
          continue;
        }
        item_.bind(ottl::Context::kSpanEvent, event_edit_);
        if (const Decision d = any(event_); d != Decision::kNotSampled) return d;
      }
    }
    return Decision::kNotSampled;
  }

 private:
  // kSampled when a condition holds, kError when one fails under error_mode propagate.
  Decision any(const ConditionList& conditions) {
    for (const auto& condition : conditions) {
      state_.resetCache();
      absl::StatusOr<bool> held = condition->evaluate(item_, state_);
      if (!held.ok()) {
        if (mode_ == ErrorMode::kPropagate) return Decision::kError;
        continue;  // ignore / silent: the condition counts as false
      }
      if (*held) return Decision::kSampled;
    }
    return Decision::kNotSampled;
  }

  static bool same(std::string_view a, std::string_view b) {
    return a.data() == b.data() && a.size() == b.size();
  }
  // Malformed bytes cannot be evaluated: an error under propagate, skipped otherwise.
  bool open(otlp::MessageEdit& edit, std::string_view bytes, uint32_t attributes_field) {
    return edit.open(bytes, attributes_field) == otlp::wire::Stop::kNone;
  }
  bool failed() const { return mode_ == ErrorMode::kPropagate; }

  ConditionList span_;
  ConditionList event_;
  ErrorMode mode_;
  ottl::EvalState state_;
  ottl::WireItem item_;
  otlp::MessageEdit resource_, scope_, span_edit_, event_edit_;
};

}  // namespace

std::unique_ptr<Policy> readOttlCondition(config::ConfigNode& section) {
  const size_t errors = section.errors().size();
  // The Collector's default is propagate (ignore behind a feature gate).
  const ErrorMode mode = readErrorMode(section, ErrorMode::kPropagate);
  ConditionList span, event;
  for (const OttlSource& source : readOttlList(section, "span")) {
    if (auto c = compileCondition(section.errors(), source, ottl::Context::kSpan)) {
      span.push_back(std::move(c));
    }
  }
  for (const OttlSource& source : readOttlList(section, "spanevent")) {
    if (auto c = compileCondition(section.errors(), source, ottl::Context::kSpanEvent)) {
      event.push_back(std::move(c));
    }
  }
  if (span.empty() && event.empty() && section.errors().size() == errors) {
    section.addError("span", "missing: give span and/or spanevent conditions");
  }
  if (section.errors().size() != errors) return nullptr;
  return std::make_unique<OttlCondition>(std::move(span), std::move(event), mode);
}

}  // namespace otlpd::processors::tail_sampling
