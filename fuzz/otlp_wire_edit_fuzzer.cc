// The wire editor (src/otlp/wire_edit.h) over any bytes, with a trivial editor whose actions (read
// fields, change attributes, set a field, drop the item) come from the input. A rewrite that
// succeeds on a request protobuf parses gives a request protobuf parses, with the item count it
// reports; an editor that changes nothing leaves the request as it was. Input: a selector byte
// (signal, depth), 8 bytes of editor plan, then the request.
#include "fuzz_support.h"
#include "otlp/wire_edit.h"

using namespace otlpd;

namespace {

class Plan {
 public:
  Plan(const uint8_t* plan, bool active) : active_(active) { std::memcpy(plan_, plan, 8); }
  bool active() const { return active_; }
  uint8_t next() { return plan_[step_++ % 8]; }

  // One action on `m`; false drops the item.
  bool act(otlp::MessageEdit& m, uint32_t string_field) {
    if (!active_) {
      // Reads only: they must not change anything.
      (void)m.varint(1);
      (void)m.lengthDelimited(string_field);
      if (m.attributesField() != 0) {
        const otlp::AttributeList& a = m.attributes();
        for (size_t i = 0; i < a.size(); ++i) (void)a.value(i);
      }
      return true;
    }
    const uint8_t op = next();
    switch (op % 12) {
      case 0:
        return true;
      case 1:
        return false;
      case 2:
        if (m.attributesField() != 0) m.attributes().put("fuzz.key", otlp::Value::ofInt(op));
        return true;
      case 3:
        if (m.attributesField() != 0 && !m.attributes().empty()) {
          m.attributes().erase(op % m.attributes().size());
        }
        return true;
      case 4:
        if (m.attributesField() != 0) {
          m.attributes().eraseIf([&](std::string_view k) { return k.size() % 2 == (op & 1); });
        }
        return true;
      case 5:
        if (m.attributesField() != 0 && !m.attributes().empty()) {
          otlp::AttributeList& a = m.attributes();
          a.set(op % a.size(),
                otlp::Value::ofArray({otlp::Value::ofString("x"), otlp::Value::ofDouble(1.5)}));
        }
        return true;
      case 6:
        if (m.attributesField() != 0) m.attributes().clear();
        return true;
      case 7:
        m.setLengthDelimited(string_field, "renamed");
        return true;
      case 8:
        m.clearField(string_field);
        return true;
      case 9:
        if (m.attributesField() != 0) {
          otlp::AttributeList& a = m.attributes();
          for (size_t i = 0; i < a.size(); ++i) {
            if (auto s = a.stringValue(i)) a.setString(i, std::string(*s) + "!");
          }
        }
        return true;
      case 10:
        (void)m.repeated(string_field);
        (void)m.fixed64(7);
        return true;
      default:
        if (m.attributesField() != 0) {
          m.attributes().append("fuzz.map", otlp::Value::ofMap({{"k", otlp::Value::ofBool(true)}}));
        }
        return true;
    }
  }

 private:
  uint8_t plan_[8];
  size_t step_ = 0;
  bool active_;
};

struct Editor final : otlp::TracesEditor, otlp::LogsEditor, otlp::MetricsEditor {
  Editor(otlp::EditDepth d, Plan& p) : depth_(d), plan(p) {}
  otlp::EditDepth depth() const override { return depth_; }
  bool editResource(otlp::MessageEdit& m) override { return plan.act(m, 99); }
  bool editScope(const otlp::MessageEdit&, otlp::MessageEdit& m) override {
    return plan.act(m, otlp::fields::kScopeName);
  }
  bool editSpan(const otlp::MessageEdit&, const otlp::MessageEdit&, otlp::MessageEdit& m) override {
    return plan.act(m, otlp::fields::kSpanName);
  }
  bool editSpanEvent(const otlp::MessageEdit&, const otlp::MessageEdit&, const otlp::MessageEdit&,
                     otlp::MessageEdit& m) override {
    return plan.act(m, otlp::fields::kEventName);
  }
  bool editLogRecord(const otlp::MessageEdit&, const otlp::MessageEdit&,
                     otlp::MessageEdit& m) override {
    return plan.act(m, otlp::fields::kLogSeverityText);
  }
  bool editMetric(const otlp::MessageEdit&, const otlp::MessageEdit&,
                  otlp::MessageEdit& m) override {
    (void)otlp::metricTypeOf(m);
    return plan.act(m, otlp::fields::kMetricDescription);
  }
  bool editDataPoint(const otlp::MessageEdit&, const otlp::MessageEdit&, const otlp::MessageEdit&,
                     otlp::MetricType, otlp::MessageEdit& m) override {
    return plan.act(m, 99);
  }
  otlp::EditDepth depth_;
  Plan& plan;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogging();
  if (size < 9) return 0;
  const uint8_t selector = data[0];
  const pipeline::Signal signal = fuzz::signalOf(selector);
  const auto depth = static_cast<otlp::EditDepth>((selector >> 2) & 3);
  const bool active = (selector & 16) != 0;
  const std::string_view request(reinterpret_cast<const char*>(data) + 9, size - 9);

  Plan plan(data + 1, active);
  Editor editor(depth, plan);
  absl::StatusOr<otlp::RewriteResult> result;
  switch (signal) {
    case pipeline::Signal::kTraces:
      result = otlp::rewriteTraces(request, static_cast<otlp::TracesEditor&>(editor));
      break;
    case pipeline::Signal::kMetrics:
      result = otlp::rewriteMetrics(request, static_cast<otlp::MetricsEditor&>(editor));
      break;
    case pipeline::Signal::kLogs:
      result = otlp::rewriteLogs(request, static_cast<otlp::LogsEditor&>(editor));
      break;
  }
  if (!result.ok()) return 0;
  if (!active) OTLPD_FUZZ_CHECK(!result->changed, "an editor that only reads changed the request");
  if (!result->changed) {
    OTLPD_FUZZ_CHECK(result->bytes.empty(), "unchanged with bytes");
    return 0;
  }
  const fuzz::Reference in = fuzz::referenceFor(signal, request);
  if (!in.parsed) return 0;
  const fuzz::Reference out = fuzz::referenceFor(signal, result->bytes);
  OTLPD_FUZZ_CHECK(out.parsed, "a parsable request was rewritten into an unparsable one");
  OTLPD_FUZZ_CHECK(out.items == result->items,
                   std::to_string(out.items) + " items, reported " + std::to_string(result->items));
  if (signal != pipeline::Signal::kMetrics) {
    OTLPD_FUZZ_CHECK(result->items + result->dropped == in.items,
                     std::to_string(result->items) + " kept + " + std::to_string(result->dropped) +
                         " dropped of " + std::to_string(in.items));
  }
  return 0;
}
