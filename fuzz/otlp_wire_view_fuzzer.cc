// The OTLP wire view (src/otlp/wire_view.h) against protobuf's parser and validation.h: its
// verdict must be what decoding and validating find (kUnusual promises nothing), as
// tests/otlp/wire_view_test.cc states. Input: a selector byte (signal), then the request bytes.
#include "fuzz_support.h"
#include "otlp/wire_view.h"

using namespace otlpd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogging();
  if (size == 0) return 0;
  const pipeline::Signal signal = fuzz::signalOf(data[0]);
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  otlp::WireSummary wire;
  switch (signal) {
    case pipeline::Signal::kTraces:
      wire = otlp::inspectTracesWire(bytes);
      break;
    case pipeline::Signal::kMetrics:
      wire = otlp::inspectMetricsWire(bytes);
      break;
    case pipeline::Signal::kLogs:
      wire = otlp::inspectLogsWire(bytes);
      break;
  }
  const fuzz::Reference ref = fuzz::referenceFor(signal, bytes);
  const std::string detail = "signal " + std::string(pipeline::signalName(signal)) + ", items " +
                             std::to_string(wire.items) + " vs " + std::to_string(ref.items) +
                             ", rejected " + std::to_string(ref.rejected);
  switch (wire.verdict) {
    case otlp::WireVerdict::kValid:
      OTLPD_FUZZ_CHECK(ref.parsed, "kValid but protobuf rejects: " + detail);
      OTLPD_FUZZ_CHECK(ref.rejected == 0, "kValid but validation rejects: " + detail);
      OTLPD_FUZZ_CHECK(wire.items == ref.items, "kValid with another count: " + detail);
      break;
    case otlp::WireVerdict::kInvalidItems:
      OTLPD_FUZZ_CHECK(ref.parsed, "kInvalidItems but protobuf rejects: " + detail);
      OTLPD_FUZZ_CHECK(ref.rejected > 0, "kInvalidItems but validation rejects none: " + detail);
      OTLPD_FUZZ_CHECK(wire.items == ref.items, "kInvalidItems with another count: " + detail);
      break;
    case otlp::WireVerdict::kMalformed:
      OTLPD_FUZZ_CHECK(!ref.parsed, "kMalformed but protobuf parses: " + detail);
      break;
    case otlp::WireVerdict::kUnusual:
      break;
  }
  return 0;
}
