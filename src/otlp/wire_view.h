// A zero-copy view over an encoded OTLP Export*ServiceRequest: walks the protobuf wire format in
// place, counts the items (spans, metric data points, log records) and applies the rules of
// validation.h, materialising nothing. It lets a receiver accept a valid request without
// decoding it; anything invalid or unusual goes to the full decode, which produces the partial
// success. Pure and free of I/O.
#pragma once

#include <cstddef>
#include <string_view>

namespace otlpd::otlp {

enum class WireVerdict {
  kValid,         // protobuf parses it and validation would reject nothing
  kInvalidItems,  // protobuf parses it and validation would reject some items
  kMalformed,     // protobuf's parser rejects it
  kUnusual,       // bytes the view does not interpret (groups, wrong wire types, a oneof or a
                  // nameless metric...): decode to find out
};

struct WireSummary {
  WireVerdict verdict = WireVerdict::kUnusual;
  size_t items = 0;  // all items, valid or not; meaningful for kValid and kInvalidItems
  bool valid() const { return verdict == WireVerdict::kValid; }
};

WireSummary inspectTracesWire(std::string_view request_bytes);
WireSummary inspectMetricsWire(std::string_view request_bytes);
WireSummary inspectLogsWire(std::string_view request_bytes);

}  // namespace otlpd::otlp
