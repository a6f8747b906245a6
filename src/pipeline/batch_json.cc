#include "pipeline/batch_json.h"

#include "otlp/json_codec.h"
#include "otlp/json_wire.h"
#include "otlp/proto.h"

namespace otlpd::pipeline {
const google::protobuf::Descriptor& exportRequestDescriptor(Signal signal) {
  switch (signal) {
    case Signal::kTraces:
      return *otlp::TracesRequest::descriptor();
    case Signal::kMetrics:
      return *otlp::MetricsRequest::descriptor();
    case Signal::kLogs:
      break;
  }
  return *otlp::LogsRequest::descriptor();
}

void appendBatchJson(const Batch& batch, std::string& out) {
  const google::protobuf::Descriptor& type = exportRequestDescriptor(batch.signal());
  if (auto wire = batch.wireBytes()) {
    if (otlp::appendOtlpJsonFromWire(type, *wire, out)) return;
  } else {
    // Serialising and writing from the bytes is several times faster than reflection.
    thread_local std::string scratch;
    scratch.clear();
    const bool encoded = batch.request().SerializeToString(&scratch) &&
                         otlp::appendOtlpJsonFromWire(type, scratch, out);
    if (scratch.capacity() > (size_t{16} << 20)) std::string().swap(scratch);
    if (encoded) return;
  }
  otlp::appendOtlpJson(batch.request(), out);
}

}  // namespace otlpd::pipeline
