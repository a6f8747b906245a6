#include "otlpd/codec.h"

#include "otlp/json_codec.h"
#include "pipeline/batch.h"

namespace otlpd {

Result<std::string> otlpToJson(Signal signal, std::string_view protobuf) {
  pipeline::Batch batch = pipeline::Batch::create(static_cast<pipeline::Signal>(signal));
  google::protobuf::Message& m = batch.mutableRequest();
  if (protobuf.size() > static_cast<size_t>(INT32_MAX) ||
      !m.ParseFromArray(protobuf.data(), static_cast<int>(protobuf.size()))) {
    return Status(StatusCode::kInvalidArgument, "not a valid OTLP protobuf request");
  }
  return otlp::toOtlpJson(m);
}

Result<std::string> otlpFromJson(Signal signal, std::string_view json) {
  pipeline::Batch batch = pipeline::Batch::create(static_cast<pipeline::Signal>(signal));
  google::protobuf::Message& m = batch.mutableRequest();
  if (absl::Status s = otlp::parseOtlpJson(json, m); !s.ok()) {
    return Status(StatusCode::kInvalidArgument, std::string(s.message()));
  }
  return m.SerializeAsString();
}

}  // namespace otlpd
