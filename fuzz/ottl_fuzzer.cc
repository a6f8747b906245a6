// The OTTL parser and compiler (src/ottl/), and what compiles run over real requests: a statement
// or condition for the context the selector byte picks is compiled, then executed (statements) or
// evaluated (conditions, dropping the items they hold for, as the filter processor does) over
// every item of that context of a realistic request, through the same wire editor binding the
// processors use. What comes out must still parse with protobuf. Input: a selector byte, then the
// OTTL text.
#include <cstdlib>
#include <memory>

#include "fuzz_support.h"
#include "loadgen/payloads.h"
#include "otlp/wire_reader.h"
#include "ottl/ottl.h"
#include "processors/common/ottl_config.h"

using namespace otlpd;

namespace {

constexpr ottl::Context kContexts[] = {ottl::Context::kResource,  ottl::Context::kScope,
                                       ottl::Context::kSpan,      ottl::Context::kSpanEvent,
                                       ottl::Context::kLog,       ottl::Context::kMetric,
                                       ottl::Context::kDataPoint, ottl::Context::kSpan};

pipeline::Signal signalFor(ottl::Context context, uint8_t selector) {
  switch (context) {
    case ottl::Context::kSpan:
    case ottl::Context::kSpanEvent:
      return pipeline::Signal::kTraces;
    case ottl::Context::kLog:
      return pipeline::Signal::kLogs;
    case ottl::Context::kMetric:
    case ottl::Context::kDataPoint:
      return pipeline::Signal::kMetrics;
    case ottl::Context::kResource:
    case ottl::Context::kScope:
      break;
  }
  return fuzz::signalOf(selector >> 5);
}

class Runner final : public processors::OttlItemEditor {
 public:
  Runner(ottl::Context context, const ottl::Statement* statement, const ottl::Condition* condition)
      : statement_(statement), condition_(condition) {
    want(context);
    state_.now_unix_nanos = 1'700'000'000'000'000'000;
  }

 protected:
  bool onItem(ottl::Context, ottl::WireItem& item) override {
    state_.resetCache();
    if (statement_ != nullptr) {
      (void)statement_->execute(item, state_);
      return true;
    }
    absl::StatusOr<bool> holds = condition_->evaluate(item, state_);
    return !(holds.ok() && *holds);
  }

 private:
  const ottl::Statement* statement_;
  const ottl::Condition* condition_;
  ottl::EvalState state_;
};

const std::string& sampleRequest(pipeline::Signal signal) {
  static const std::string* requests = [] {
    auto* r = new std::string[3];
    for (pipeline::Signal s : pipeline::kAllSignals) {
      r[static_cast<int>(s)] =
          loadgen::makeRequest(s, loadgen::Shape::kRealistic, 6, 3, 1'700'000'000'000'000'000ULL)
              ->SerializeAsString();
    }
    return r;
  }();
  return requests[static_cast<int>(signal)];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogging();
  if (size == 0 || size > 4096) return 0;
  const uint8_t selector = data[0];
  const ottl::Context context = kContexts[selector & 7];
  const bool is_condition = (selector & 8) != 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const pipeline::Signal signal = signalFor(context, selector);

  (void)ottl::inferContext(text, signal, is_condition);
  std::unique_ptr<ottl::Statement> statement;
  std::unique_ptr<ottl::Condition> condition;
  if (is_condition) {
    ottl::Compiled<ottl::Condition> c = ottl::parseCondition(text, context);
    if (!c.ok()) return 0;
    condition = std::move(c.program);
  } else {
    ottl::Compiled<ottl::Statement> c = ottl::parseStatement(text, context);
    if (!c.ok()) return 0;
    statement = std::move(c.program);
  }
  OTLPD_FUZZ_CHECK(statement != nullptr || condition != nullptr, "compiled to nothing");

  Runner runner(context, statement.get(), condition.get());
  auto result = runner.rewrite(signal, sampleRequest(signal));
  if (result.ok() && result->changed) {
    OTLPD_FUZZ_CHECK(fuzz::wellFormed(signal, result->bytes),
                     "the rewritten request is malformed: " + std::string(text));
    // Strings written from valid UTF-8 should stay valid UTF-8, else protobuf (and the next
    // otlpd) rejects the whole request. Byte-based functions break this today (Substring cuts a
    // character, as the Collector's does), so the check is opt-in: OTLPD_FUZZ_STRICT_UTF8=1.
    // Escapes (\xff, \ud800) can spell anything.
    static const bool strict_utf8 = std::getenv("OTLPD_FUZZ_STRICT_UTF8") != nullptr;
    if (strict_utf8 && otlp::wire::validUtf8(text) && text.find('\\') == std::string_view::npos) {
      OTLPD_FUZZ_CHECK(fuzz::protobufParses(signal, result->bytes),
                       "the rewritten request has invalid UTF-8: " + std::string(text));
    }
  }
  return 0;
}
