// The zipkin receiver's decoders (src/zipkin/readers.h) and its translation to OTLP
// (src/zipkin/to_otlp.h), which read bodies from any Zipkin client. A body is refused with
// InvalidArgument or read into spans whose OTLP request the wire view accepts with exactly that
// many spans — the receiver vouches for that request and skips the wire view, so this is the
// property that keeps invalid spans out of the pipeline. Input: a selector byte (0: v2 JSON,
// 1: v1 JSON, 2: zipkin.proto, 3: v1 Thrift), then the body.
#include "fuzz_support.h"
#include "otlp/wire_view.h"
#include "zipkin/readers.h"
#include "zipkin/to_otlp.h"

using namespace otlpd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogging();
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  static zipkin::SpanList spans;  // reused, as the receiver's per-thread list is
  absl::Status s;
  switch (data[0] % 4) {
    case 0:
      s = zipkin::readJsonV2(body, body.size(), spans);
      break;
    case 1:
      s = zipkin::readJsonV1(body, body.size(), spans);
      break;
    case 2:
      s = zipkin::readProto(body, spans);
      break;
    default:
      s = zipkin::readThriftV1(body, spans);
      break;
  }
  std::string otlp;
  if (s.ok()) {
    s = zipkin::appendOtlpTraces(
        spans, zipkin::ToOtlpOptions{.parse_string_tags = (data[0] & 4) != 0}, otlp);
  }
  if (!s.ok()) {
    OTLPD_FUZZ_CHECK(s.code() == absl::StatusCode::kInvalidArgument, s.ToString());
    return 0;
  }
  if (spans.spans.empty()) return 0;
  const otlp::WireSummary summary = otlp::inspectTracesWire(otlp);
  OTLPD_FUZZ_CHECK(summary.valid(), "the OTLP request written from accepted spans is not valid");
  OTLPD_FUZZ_CHECK(summary.items == spans.spans.size(), "span count differs");
  return 0;
}
