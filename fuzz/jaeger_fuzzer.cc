// The jaeger receiver's decoders of untrusted bytes (src/jaeger/): Thrift `jaeger.Batch` in the
// binary and compact protocols (thrift_http bodies), agent `emitBatch` packets (the UDP ports) and
// api_v2 `PostSpansRequest` protobuf (grpc), each followed by the translation to OTLP. Properties:
// no crash or unbounded allocation whatever the bytes; a decoded batch translates to bytes that
// protobuf parses as an ExportTraceServiceRequest with as many spans as the translation says; and
// when the translation vouches for its spans (no invalid ones, so the receiver skips the wire
// view), OTLP validation indeed rejects none. Input: a selector byte, then the bytes.
#include "fuzz_support.h"
#include "jaeger/model.h"
#include "jaeger/to_otlp.h"
#include "otlp/counts.h"

using namespace otlpd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogging();
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  jaeger::Batch batch;
  absl::Status status;
  switch (selector % 5) {
    case 0:
      status = jaeger::decodeThriftBatch(input, /*compact=*/false, batch);
      break;
    case 1:
      status = jaeger::decodeThriftBatch(input, /*compact=*/true, batch);
      break;
    case 2:
      status = jaeger::decodeAgentPacket(input, /*compact=*/false, batch);
      break;
    case 3:
      status = jaeger::decodeAgentPacket(input, /*compact=*/true, batch);
      break;
    default:
      status = jaeger::decodePostSpansRequest(input, batch);
      break;
  }
  if (!status.ok()) {
    OTLPD_FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument, status.ToString());
    return 0;
  }
  jaeger::OtlpTranslator translator;
  std::string bytes;
  const size_t spans = translator.translate(batch, bytes);
  otlp::TracesRequest request;
  OTLPD_FUZZ_CHECK(request.ParseFromString(bytes), "translation is not a valid OTLP request");
  OTLPD_FUZZ_CHECK(otlp::countSpans(request) == spans,
                   std::to_string(otlp::countSpans(request)) + " != " + std::to_string(spans));
  if (translator.invalidSpans() == 0) {
    const otlp::ValidationResult v = otlp::validateTraces(request);
    OTLPD_FUZZ_CHECK(v.rejected == 0, "vouched spans rejected: " + v.error_message);
  }
  return 0;
}
