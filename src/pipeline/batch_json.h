// A batch as OTLP/JSON, for exporters that send or write JSON (file, otlp_http with
// `encoding: json`, callback): written straight from the batch's wire bytes when it still has
// them (otlp/json_wire.h), from its serialised request otherwise, through reflection only for
// bytes the direct encoder declines.
#pragma once

#include <string>

#include "pipeline/batch.h"

namespace otlpd::pipeline {

// Appends the batch's request as OTLP/JSON to `out`.
void appendBatchJson(const Batch& batch, std::string& out);

}  // namespace otlpd::pipeline
