// How the evaluator reaches telemetry: paths are resolved once, at check time, to a Field (which
// message of the item, which kind of field, which field number), and read or written through an
// ItemAccessor per item. The evaluator never looks a path up by name while it runs, and the
// accessor decodes only what it is asked for (one attribute's value, one scalar field).
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "ottl/value.h"

namespace otlpd::otlp {
class AttributeList;
}

namespace otlpd::ottl {

// The OTTL contexts, which are also the levels of the messages an item is made of, outermost
// first.
enum class Context : uint8_t { kResource, kScope, kSpan, kSpanEvent, kLog, kMetric, kDataPoint };
inline constexpr int kContextCount = 7;
std::string_view contextName(Context context);

enum class FieldKind : uint8_t {
  kAttributes,              // the message's attributes
  kString,                  // string field `number`
  kInt,                     // varint field `number` as int (enums, counts)
  kFlags,                   // fixed32 flags (field number depends on the data point type)
  kFixed64,                 // fixed64 field `number` as int (times in nanoseconds, counts)
  kTime,                    // fixed64 field `number` as a time
  kId,                      // bytes field `number` of `size` bytes (trace_id, span_id)
  kIdString,                // the same, as lower-case hex
  kBody,                    // AnyValue field `number` (log body)
  kStatusCode,              // span status code
  kStatusMessage,           // span status message
  kMetricType,              // which data member the metric has (METRIC_DATA_TYPE_*)
  kAggregationTemporality,  // inside the metric's sum / histogram / exponential histogram
  kIsMonotonic,             // inside the metric's sum
  kValueInt,                // number data point as_int
  kValueDouble,             // number data point as_double
  kPointCount,              // histogram / exponential histogram / summary count
  kPointSum,                // histogram / exponential histogram / summary sum
  kCache,                   // the statement group's per-item scratch map
};

struct Field {
  Context level = Context::kResource;
  FieldKind kind = FieldKind::kAttributes;
  uint32_t number = 0;
  uint8_t size = 0;  // kId: 16 or 8
};

// One item (a span with its resource and scope, a data point with its metric...) as the
// evaluator sees it. Implementations bind it to a representation: wire_accessor.h to encoded
// OTLP being rewritten (otlp::MessageEdit).
class ItemAccessor {
 public:
  virtual ~ItemAccessor() = default;
  // A field other than kAttributes / kCache; nil when absent (or not applicable to the item, such
  // as value_int on a histogram point).
  virtual Value get(const Field& field) = 0;
  virtual absl::Status set(const Field& field, const Value& value) = 0;
  // One attribute of `level`, nil when absent, decoding nothing else. Strings may borrow.
  virtual Value attribute(Context level, std::string_view key) = 0;
  // The attributes of `level` for editing (or reading all of them); null when the item has no
  // such level or it is read-only here.
  virtual otlp::AttributeList* attributes(Context level) = 0;
  // Read-only whole-map read of `level`'s attributes.
  virtual Value allAttributes(Context level) = 0;
};

}  // namespace otlpd::ottl
