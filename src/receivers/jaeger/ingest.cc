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
  const size_t spans = translator.translate(batch, encoded);
  // The translation writes well-formed protobuf with valid UTF-8; when it also found every span
  // valid (ids, times), the wire view has nothing left to find.
  std::optional<size_t> vouched;
  if (translator.invalidSpans() == 0) vouched = spans;
  pipeline::WireBytes body = pipeline::WireBytes::fromString(std::move(encoded));
  const std::string_view bytes = body.bytes;
  // A request with invalid spans goes through the wire view and is decoded, so that validation
  // removes them and counts them as the otlp receiver does.
  return ingestor.exportRequest(
      pipeline::Signal::kTraces, transport, otlp::Encoding::kProtobuf, bytes.size(),
      [bytes](google::protobuf::Message& message) -> absl::Status {
        if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
          return absl::InternalError("translated Jaeger batch is not valid OTLP");
        }
        return absl::OkStatus();
      },
      std::move(admitted), std::move(body), std::move(metadata), vouched);
}

}  // namespace otlpd::receivers::jaeger
