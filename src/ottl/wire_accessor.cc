#include "ottl/wire_accessor.h"

#include <bit>
#include <cstring>

#include "common/strings.h"
#include "ottl/functions_impl.h"

namespace otlpd::ottl {
namespace {

namespace f = otlp::fields;

// An AnyValue's content as a value: a string_value borrows, anything else is decoded.
Value anyValue(std::string_view encoded) {
  if (encoded.empty()) return Value();
  otlp::wire::Reader r(encoded);
  otlp::wire::Field field;
  if (r.next(field) == otlp::wire::Stop::kNone && r.done()) {
    // One member and nothing else, as SDKs write it: the scalars need no otlp::Value either.
    switch (field.number) {
      case 1:
        if (field.type == otlp::wire::kLengthDelimited) return Value::ofStringView(field.bytes);
        break;
      case 2:
        if (field.type == otlp::wire::kVarint) return Value::ofBool(field.value != 0);
        break;
      case 3:
        if (field.type == otlp::wire::kVarint) {
          return Value::ofInt(static_cast<int64_t>(field.value));
        }
        break;
      case 4:
        if (field.type == otlp::wire::kFixed64) {
          return Value::ofDouble(std::bit_cast<double>(field.value));
        }
        break;
      default:
        break;
    }
  }
  otlp::Value v;
  if (!otlp::decodeValue(encoded, v)) return Value();
  return Value::ofPdata(std::move(v));
}

using otlp::wire::lastLengthDelimited;
using otlp::wire::lastVarint;

// Rewrites one field of sub-message `field` of `message`.
template <class Edit>
void editSub(otlp::MessageEdit& message, uint32_t field, Edit&& edit) {
  otlp::MessageEdit sub;
  const std::string original(message.lengthDelimited(field));
  sub.open(original, 0);
  edit(sub);
  std::string encoded;
  sub.encode(encoded);
  message.setLengthDelimited(field, encoded);
}

uint32_t pointFlagsField(otlp::MetricType type) {
  switch (type) {
    case otlp::MetricType::kHistogram:
    case otlp::MetricType::kExponentialHistogram:
      return 10;
    default:
      return f::kNumberFlags;
  }
}

bool pointHasCountAndSum(otlp::MetricType type) {
  return type == otlp::MetricType::kHistogram || type == otlp::MetricType::kExponentialHistogram ||
         type == otlp::MetricType::kSummary;
}

int64_t metricDataType(otlp::MetricType type) {
  switch (type) {
    case otlp::MetricType::kGauge:
      return 1;
    case otlp::MetricType::kSum:
      return 2;
    case otlp::MetricType::kHistogram:
      return 3;
    case otlp::MetricType::kExponentialHistogram:
      return 4;
    case otlp::MetricType::kSummary:
      return 5;
    case otlp::MetricType::kNone:
      break;
  }
  return 0;
}

}  // namespace

Value WireItem::get(const Field& field) {
  const otlp::MessageEdit* m = read_[static_cast<size_t>(field.level)];
  if (m == nullptr) return Value();
  switch (field.kind) {
    case FieldKind::kString:
      return Value::ofStringView(m->lengthDelimited(field.number));
    case FieldKind::kInt:
      return Value::ofInt(static_cast<int64_t>(m->varint(field.number)));
    case FieldKind::kFlags: {
      const uint32_t number =
          field.level == Context::kDataPoint ? pointFlagsField(metric_type_) : field.number;
      return Value::ofInt(m->fixed32(number));
    }
    case FieldKind::kFixed64:
      return Value::ofInt(static_cast<int64_t>(m->fixed64(field.number)));
    case FieldKind::kTime:
      return Value::ofTime(static_cast<int64_t>(m->fixed64(field.number)));
    case FieldKind::kId: {
      std::string_view id = m->lengthDelimited(field.number);
      if (id.size() == field.size) return Value::ofBytesView(id);
      return Value::ofBytes(std::string(field.size, '\0'));
    }
    case FieldKind::kIdString: {
      std::string_view id = m->lengthDelimited(field.number);
      const bool empty = id.find_first_not_of('\0') == std::string_view::npos;
      return Value::ofString(empty ? std::string() : hexLower(id));
    }
    case FieldKind::kBody:
      return m->has(field.number) ? anyValue(m->lengthDelimited(field.number)) : Value();
    case FieldKind::kStatusCode:
      return Value::ofInt(
          static_cast<int64_t>(lastVarint(m->lengthDelimited(f::kSpanStatus), f::kStatusCode)));
    case FieldKind::kStatusMessage:
      return Value::ofStringView(
          lastLengthDelimited(m->lengthDelimited(f::kSpanStatus), f::kStatusMessage));
    case FieldKind::kMetricType:
      return Value::ofInt(metricDataType(otlp::metricTypeOf(*m)));
    case FieldKind::kAggregationTemporality: {
      const otlp::MetricType t = otlp::metricTypeOf(*m);
      if (t == otlp::MetricType::kGauge || t == otlp::MetricType::kSummary ||
          t == otlp::MetricType::kNone) {
        return Value::ofInt(0);
      }
      return Value::ofInt(static_cast<int64_t>(
          lastVarint(m->lengthDelimited(static_cast<uint32_t>(t)), f::kAggregationTemporality)));
    }
    case FieldKind::kIsMonotonic: {
      if (otlp::metricTypeOf(*m) != otlp::MetricType::kSum) return Value::ofBool(false);
      return Value::ofBool(lastVarint(m->lengthDelimited(f::kMetricSum), f::kIsMonotonic) != 0);
    }
    case FieldKind::kValueInt:
      if (metric_type_ != otlp::MetricType::kGauge && metric_type_ != otlp::MetricType::kSum) {
        return Value();
      }
      return Value::ofInt(static_cast<int64_t>(m->fixed64(f::kNumberAsInt)));
    case FieldKind::kValueDouble:
      if (metric_type_ != otlp::MetricType::kGauge && metric_type_ != otlp::MetricType::kSum) {
        return Value();
      }
      return Value::ofDouble(std::bit_cast<double>(m->fixed64(f::kNumberAsDouble)));
    case FieldKind::kPointCount:
      if (!pointHasCountAndSum(metric_type_)) return Value();
      return Value::ofInt(static_cast<int64_t>(m->fixed64(field.number)));
    case FieldKind::kPointSum:
      if (!pointHasCountAndSum(metric_type_)) return Value();
      return Value::ofDouble(std::bit_cast<double>(m->fixed64(field.number)));
    case FieldKind::kAttributes:
      return allAttributes(field.level);
    case FieldKind::kCache:
      break;
  }
  return Value();
}

absl::Status WireItem::set(const Field& field, const Value& value) {
  otlp::MessageEdit* m = write_[static_cast<size_t>(field.level)];
  if (m == nullptr) {
    return absl::FailedPreconditionError(
        strCat(contextName(field.level), " fields cannot be changed here"));
  }
  // Like the Collector's setters, a value of the wrong type leaves the field as it is.
  const Type t = value.type();
  switch (field.kind) {
    case FieldKind::kString:
      if (t == Type::kString) m->setLengthDelimited(field.number, value.str());
      return absl::OkStatus();
    case FieldKind::kInt:
      if (t == Type::kInt) m->setVarint(field.number, static_cast<uint64_t>(value.integer()));
      return absl::OkStatus();
    case FieldKind::kFlags:
      if (t == Type::kInt) {
        const uint32_t number =
            field.level == Context::kDataPoint ? pointFlagsField(metric_type_) : field.number;
        m->setFixed32(number, static_cast<uint32_t>(value.integer()));
      }
      return absl::OkStatus();
    case FieldKind::kFixed64:
      if (t == Type::kInt) m->setFixed64(field.number, static_cast<uint64_t>(value.integer()));
      return absl::OkStatus();
    case FieldKind::kTime:
      if (t == Type::kTime) m->setFixed64(field.number, static_cast<uint64_t>(value.integer()));
      return absl::OkStatus();
    case FieldKind::kId:
      if (t == Type::kBytes && value.str().size() == field.size) {
        m->setLengthDelimited(field.number, value.str());
      }
      return absl::OkStatus();
    case FieldKind::kIdString:
      if (t == Type::kString && value.str().size() == field.size * 2u) {
        if (std::optional<std::string> id = fromHex(value.str())) {
          m->setLengthDelimited(field.number, *id);
        }
      }
      return absl::OkStatus();
    case FieldKind::kBody: {
      absl::StatusOr<otlp::Value> pv = value.toPdata();
      if (!pv.ok()) return pv.status();
      std::string encoded;
      otlp::encodeValue(*pv, encoded);
      m->setLengthDelimited(field.number, encoded);
      return absl::OkStatus();
    }
    case FieldKind::kStatusCode:
      if (t == Type::kInt) {
        editSub(*m, f::kSpanStatus, [&](otlp::MessageEdit& s) {
          s.setVarint(f::kStatusCode, static_cast<uint64_t>(value.integer()));
        });
      }
      return absl::OkStatus();
    case FieldKind::kStatusMessage:
      if (t == Type::kString) {
        editSub(*m, f::kSpanStatus, [&](otlp::MessageEdit& s) {
          s.setLengthDelimited(f::kStatusMessage, value.str());
        });
      }
      return absl::OkStatus();
    case FieldKind::kAggregationTemporality: {
      const otlp::MetricType type = otlp::metricTypeOf(*m);
      if (t == Type::kInt &&
          (type == otlp::MetricType::kSum || type == otlp::MetricType::kHistogram ||
           type == otlp::MetricType::kExponentialHistogram)) {
        editSub(*m, static_cast<uint32_t>(type), [&](otlp::MessageEdit& s) {
          s.setVarint(f::kAggregationTemporality, static_cast<uint64_t>(value.integer()));
        });
      }
      return absl::OkStatus();
    }
    case FieldKind::kIsMonotonic:
      if (t == Type::kBool && otlp::metricTypeOf(*m) == otlp::MetricType::kSum) {
        editSub(*m, f::kMetricSum, [&](otlp::MessageEdit& s) {
          s.setVarint(f::kIsMonotonic, value.boolean() ? 1 : 0);
        });
      }
      return absl::OkStatus();
    case FieldKind::kValueInt:
      if (t == Type::kInt &&
          (metric_type_ == otlp::MetricType::kGauge || metric_type_ == otlp::MetricType::kSum)) {
        m->clearField(f::kNumberAsDouble);
        m->setFixed64(f::kNumberAsInt, static_cast<uint64_t>(value.integer()));
      }
      return absl::OkStatus();
    case FieldKind::kValueDouble:
      if (t == Type::kDouble &&
          (metric_type_ == otlp::MetricType::kGauge || metric_type_ == otlp::MetricType::kSum)) {
        m->clearField(f::kNumberAsInt);
        m->setFixed64(f::kNumberAsDouble, std::bit_cast<uint64_t>(value.dbl()));
      }
      return absl::OkStatus();
    case FieldKind::kPointCount:
      if (t == Type::kInt && pointHasCountAndSum(metric_type_)) {
        m->setFixed64(field.number, static_cast<uint64_t>(value.integer()));
      }
      return absl::OkStatus();
    case FieldKind::kPointSum:
      if (t == Type::kDouble && pointHasCountAndSum(metric_type_)) {
        m->setFixed64(field.number, std::bit_cast<uint64_t>(value.dbl()));
      }
      return absl::OkStatus();
    case FieldKind::kMetricType:
    case FieldKind::kAttributes:
    case FieldKind::kCache:
      break;
  }
  return absl::FailedPreconditionError("this field cannot be set");
}

Value WireItem::attribute(Context level, std::string_view key) {
  const otlp::MessageEdit* m = read_[static_cast<size_t>(level)];
  if (m == nullptr) return Value();
  if (m->changed()) {
    const otlp::AttributeList& list = m->attributes();
    std::optional<size_t> i = list.find(key);
    if (!i) return Value();
    return anyValue(list.encodedValue(*i));
  }
  // Unchanged: find the key in the encoded KeyValues without building the list.
  const uint32_t number = m->attributesField();
  otlp::wire::Reader r(m->bytes());
  otlp::wire::Field field;
  while (!r.done()) {
    if (r.next(field) != otlp::wire::Stop::kNone) return Value();
    if (field.number != number || field.type != otlp::wire::kLengthDelimited) continue;
    // The usual encoding puts the key first with a one-byte length: compare it without a reader.
    const auto* p = reinterpret_cast<const uint8_t*>(field.bytes.data());
    if (field.bytes.size() >= 2 && p[0] == 0x0A && p[1] < 0x80) {
      const size_t len = p[1];
      if (len != key.size() || 2 + len > field.bytes.size() ||
          std::memcmp(p + 2, key.data(), len) != 0) {
        continue;
      }
    }
    otlp::wire::Reader kv(field.bytes);
    otlp::wire::Field part;
    std::string_view k, v;
    bool has_key = false;
    while (!kv.done() && kv.next(part) == otlp::wire::Stop::kNone) {
      if (part.type != otlp::wire::kLengthDelimited) continue;
      if (part.number == 1) {
        k = part.bytes;
        has_key = true;
        if (k != key) break;
      } else if (part.number == 2) {
        v = part.bytes;
      }
    }
    if (has_key && k == key) return anyValue(v);
  }
  return Value();
}

otlp::AttributeList* WireItem::attributes(Context level) {
  otlp::MessageEdit* m = write_[static_cast<size_t>(level)];
  return m == nullptr ? nullptr : &m->attributes();
}

Value WireItem::allAttributes(Context level) {
  const otlp::MessageEdit* m = read_[static_cast<size_t>(level)];
  if (m == nullptr) return Value();
  const otlp::AttributeList& list = m->attributes();
  otlp::Value::Map map;
  map.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i)
    map.emplace_back(std::string(list.key(i)), list.value(i));
  return Value::ofMap(std::move(map));
}

}  // namespace otlpd::ottl
