#include "receivers/jaeger/ingest.h"

#include "jaeger/to_otlp.h"

namespace otlpd::receivers::jaeger {

::otlpd::jaeger::Batch& threadBatch() {
  thread_local ::otlpd::jaeger::Batch batch;
  return batch;
}

ExportOutcome ingestBatch(Ingestor& ingestor, Transport transport,
                          const ::otlpd::jaeger::Batch& batch,
                          std::optional<pipeline::MemoryBudget::Reservation> admitted,
                          std::shared_ptr<const pipeline::RequestMetadata> metadata) {
  thread_local ::otlpd::jaeger::OtlpTranslator translator;
  std::string encoded;
  translator.translate(batch, encoded);
  pipeline::WireBytes body = pipeline::WireBytes::fromString(std::move(encoded));
  const std::string_view bytes = body.bytes;
  // The wire view validates what the translation wrote (ids, times); only a request with
  // invalid spans is decoded, so that validation can remove them and say so.
  return ingestor.exportRequest(
      pipeline::Signal::kTraces, transport, otlp::Encoding::kProtobuf, bytes.size(),
      [bytes](google::protobuf::Message& message) -> absl::Status {
        if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
          return absl::InternalError("translated Jaeger batch is not valid OTLP");
        }
        return absl::OkStatus();
      },
      std::move(admitted), std::move(body), std::move(metadata));
}

}  // namespace otlpd::receivers::jaeger
