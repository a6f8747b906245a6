// A Zipkin v1 span as its readers (JSON, json_readers.cc; Thrift, thrift_v1_reader.cc) hold it
// before the conversion to v2 spans that both share. Views as in span.h. Pure.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "zipkin/span.h"

namespace otlpd::zipkin {

struct V1BinaryAnnotation {
  std::string_view key, value;
  bool bool_true = false;  // the address annotations ("ca", "sa", "ma") are booleans
  Endpoint endpoint;
};

struct V1Span {
  Span base;  // ids, name, timestamp, duration, debug
  std::vector<std::pair<Annotation, Endpoint>> annotations;
  std::vector<V1BinaryAnnotation> binary;
};

// v1 → v2 as Zipkin's V1SpanConverter does (one or two spans appended to `out`).
void convertV1(const V1Span& v1, SpanList& out);

}  // namespace otlpd::zipkin
