// A batch as OTLP/JSON, for exporters that send or write JSON (file, otlp_http with
// `encoding: json`, callback): written straight from the batch's wire bytes when it still has
// them (otlp/json_wire.h), from its serialised request otherwise, through reflection only for
// bytes the direct encoder declines.
#pragma once

#include <string>

#include "pipeline/batch.h"

namespace google::protobuf {
class Descriptor;
}

namespace otlpd::pipeline {

// The Export*ServiceRequest message of a signal, which the JSON codecs are driven by.
const google::protobuf::Descriptor& exportRequestDescriptor(Signal signal);

// Appends the batch's request as OTLP/JSON to `out`.
void appendBatchJson(const Batch& batch, std::string& out);

}  // namespace otlpd::pipeline
