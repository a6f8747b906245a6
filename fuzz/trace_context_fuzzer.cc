// W3C Trace Context headers from untrusted requests (src/selftrace/trace_context.h): any
// `traceparent` or `tracestate` value. Properties: a parsed traceparent has non-zero ids and
// formats back to a value that parses to the same context; a parsed tracestate has at most 32
// members and parses to itself; limitTracestate keeps to 512 characters. Input: a selector byte,
// then the header value.
#include "fuzz_support.h"
#include "selftrace/trace_context.h"

using namespace otlpd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogging();
  if (size == 0) return 0;
  const std::string_view value(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    auto context = selftrace::parseTraceparent(value);
    if (!context) return 0;
    OTLPD_FUZZ_CHECK(context->valid(), "a parsed traceparent with a zero id");
    const std::string formatted = selftrace::formatTraceparent(*context);
    auto again = selftrace::parseTraceparent(formatted);
    OTLPD_FUZZ_CHECK(again && again->trace_id == context->trace_id &&
                         again->span_id == context->span_id && again->flags == context->flags,
                     formatted);
    return 0;
  }
  auto state = selftrace::parseTracestate(value);
  if (!state) return 0;
  OTLPD_FUZZ_CHECK(std::count(state->begin(), state->end(), '=') <= 32, *state);
  auto again = selftrace::parseTracestate(*state);
  OTLPD_FUZZ_CHECK(again && *again == *state, *state);
  OTLPD_FUZZ_CHECK(selftrace::limitTracestate(*state).size() <= 512, *state);
  return 0;
}
