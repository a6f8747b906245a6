// Changing encoded OTLP requests without decoding them: "change the bytes, not the objects".
//
// A rewrite walks an Export*ServiceRequest in place, down to the depth an editor asks for, and
// hands the editor each resource, scope, span / span event / log record / metric / data point as a
// MessageEdit: the message's fields as slices of the input, its attributes as an AttributeList
// parsed only when first touched. The output copies every unchanged message's bytes as they were
// and re-encodes only what an editor changed (protobuf fields may come in any order, and a
// length-delimited field is replaced by writing its new length), so a processor pays for what it
// reads and changes, not for a protobuf decode (~0.5M spans per core here). Pure and free of I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "otlp/value.h"
#include "otlp/wire_reader.h"
#include "pipeline/signal.h"

namespace otlpd::otlp {

// Field numbers of the OTLP messages an editor reads, from the .proto files in proto/.
namespace fields {
inline constexpr uint32_t kResourceAttributes = 1;
inline constexpr uint32_t kResourceDroppedAttributesCount = 2;
inline constexpr uint32_t kScopeName = 1, kScopeVersion = 2, kScopeAttributes = 3;
inline constexpr uint32_t kSpanTraceId = 1, kSpanSpanId = 2, kSpanTraceState = 3,
                          kSpanParentSpanId = 4, kSpanName = 5, kSpanKind = 6, kSpanStartTime = 7,
                          kSpanEndTime = 8, kSpanAttributes = 9, kSpanDroppedAttributesCount = 10,
                          kSpanEvents = 11, kSpanDroppedEventsCount = 12, kSpanLinks = 13,
                          kSpanDroppedLinksCount = 14, kSpanStatus = 15, kSpanFlags = 16;
inline constexpr uint32_t kStatusMessage = 2, kStatusCode = 3;
inline constexpr uint32_t kEventTime = 1, kEventName = 2, kEventAttributes = 3,
                          kEventDroppedAttributesCount = 4;
inline constexpr uint32_t kLogTime = 1, kLogSeverityNumber = 2, kLogSeverityText = 3, kLogBody = 5,
                          kLogAttributes = 6, kLogDroppedAttributesCount = 7, kLogFlags = 8,
                          kLogTraceId = 9, kLogSpanId = 10, kLogObservedTime = 11,
                          kLogEventName = 12;
inline constexpr uint32_t kMetricName = 1, kMetricDescription = 2, kMetricUnit = 3,
                          kMetricGauge = 5, kMetricSum = 7, kMetricHistogram = 9,
                          kMetricExponentialHistogram = 10, kMetricSummary = 11,
                          kMetricMetadata = 12;
// Inside Gauge/Sum/Histogram/ExponentialHistogram/Summary.
inline constexpr uint32_t kDataPoints = 1, kAggregationTemporality = 2, kIsMonotonic = 3;
// NumberDataPoint.
inline constexpr uint32_t kNumberAttributes = 7, kNumberStartTime = 2, kNumberTime = 3,
                          kNumberAsDouble = 4, kNumberAsInt = 6, kNumberFlags = 8;
inline constexpr uint32_t kHistogramAttributes = 9, kExponentialHistogramAttributes = 1,
                          kSummaryAttributes = 7;
}  // namespace fields

// Bytes that stay where they are until reset(): what editors write lives here while a rewrite
// runs. Blocks are kept across resets, so a rewrite that reuses it allocates nothing once warm.
class ByteArena {
 public:
  std::string_view copy(std::string_view bytes);
  void reset() {
    block_ = 0;
    used_ = 0;
  }

 private:
  static constexpr size_t kBlockSize = 16 * 1024;
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size;
  };
  std::vector<Block> blocks_;
  size_t block_ = 0;  // the block being filled
  size_t used_ = 0;   // bytes used in it
};

// The KeyValue entries of one repeated `attributes` field, editable. Entries read from the input
// stay slices of it until changed; keys and values written by an editor are owned here.
class AttributeList {
 public:
  AttributeList() = default;
  AttributeList(const AttributeList&) = delete;
  AttributeList& operator=(const AttributeList&) = delete;

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  std::string_view key(size_t i) const { return entries_[i].key; }
  // The content of the entry's encoded AnyValue (empty for an empty value).
  std::string_view encodedValue(size_t i) const { return entries_[i].value; }
  // The decoded value; an empty value when the bytes do not decode.
  Value value(size_t i) const;
  // The string of a string value, without decoding anything else; nullopt for other kinds.
  std::optional<std::string_view> stringValue(size_t i) const;
  // Index of the first entry with `key` (OTLP keys are unique; the first wins if not).
  std::optional<size_t> find(std::string_view key) const;

  void set(size_t i, const Value& value);
  void setString(size_t i, std::string_view value);
  // Appends a new entry (the caller checked the key is absent where that matters).
  void append(std::string_view key, const Value& value);
  // Upserts by key.
  void put(std::string_view key, const Value& value);
  void erase(size_t i);
  // Removes the entries for which `drop(key)` is true; returns how many went.
  template <class Pred>
  size_t eraseIf(Pred&& drop) {
    size_t kept = 0;
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (!drop(entries_[i].key)) entries_[kept++] = entries_[i];
    }
    const size_t removed = entries_.size() - kept;
    if (removed != 0) {
      entries_.resize(kept);
      changed_ = true;
    }
    return removed;
  }
  void clear();

  bool changed() const { return changed_; }

  // Parses the entries from the encoded KeyValue messages (each without tag and length). False on
  // malformed bytes (the list is then empty).
  bool parse(const std::vector<std::string_view>& keyvalues);
  // Starts an empty list (forgetting what was owned), then adds entries one by one.
  void reset();
  // `raw`, when known, is the whole field (tag and length included) as the input holds it:
  // unchanged entries are then copied from there, adjacent ones at once.
  bool addEncoded(std::string_view keyvalue, std::string_view raw = {});
  // Appends every entry as repeated field `field_number`; returns the bytes appended.
  size_t encode(uint32_t field_number, std::string& out) const;

 private:
  // Fills `e` from an encoded KeyValue; false when malformed.
  struct Entry;
  static bool decodeEntry(Entry& e, std::string_view keyvalue, std::string_view raw);

  struct Entry {
    std::string_view key;
    std::string_view value;     // content of the AnyValue message
    std::string_view original;  // the whole KeyValue content while unchanged, else empty
    std::string_view raw;       // the field in the input (tag included) while unchanged, if known
  };
  std::string_view ownValue(const Value& value);

  friend class MessageEdit;

  std::vector<Entry> entries_;
  ByteArena storage_;
  std::string encode_buffer_;
  bool changed_ = false;
};

// One encoded message opened for reading and editing. Scalar reads take the last occurrence of a
// field, as protobuf does. Setting a field replaces every occurrence of it; the encoding keeps the
// other fields' bytes and order as they were.
class MessageEdit {
 public:
  // Opens `bytes` (the message content, no tag or length); `attributes_field` is the number of
  // its repeated KeyValue field, or 0. The view stays valid only as long as `bytes`.
  wire::Stop open(std::string_view bytes, uint32_t attributes_field);

  std::string_view bytes() const { return bytes_; }
  bool changed() const;

  bool has(uint32_t field) const;
  uint64_t varint(uint32_t field, uint64_t default_value = 0) const;
  uint64_t fixed64(uint32_t field, uint64_t default_value = 0) const;
  uint32_t fixed32(uint32_t field, uint32_t default_value = 0) const;
  // A length-delimited field (string, bytes or sub-message content); empty when absent.
  std::string_view lengthDelimited(uint32_t field) const;
  // Every occurrence of a repeated length-delimited field, in order.
  std::vector<std::string_view> repeated(uint32_t field) const;

  void setVarint(uint32_t field, uint64_t value);
  void setFixed64(uint32_t field, uint64_t value);
  void setFixed32(uint32_t field, uint32_t value);
  void setLengthDelimited(uint32_t field, std::string_view bytes);
  // Replaces every occurrence of repeated field `field` by `items` (message contents).
  void setRepeated(uint32_t field, std::vector<std::string> items);
  void clearField(uint32_t field);

  // The attributes, parsed when first asked for. An editor that never calls this pays nothing.
  AttributeList& attributes();
  const AttributeList& attributes() const { return const_cast<MessageEdit*>(this)->attributes(); }
  uint32_t attributesField() const { return attributes_field_; }

  // Appends the message content (no tag, no length).
  void encode(std::string& out) const;

 private:
  struct RawField {
    uint32_t number;
    wire::WireType type;
    uint64_t value;
    std::string_view bytes;  // the value of a length-delimited field
    std::string_view raw;    // tag and value, as in the input
  };
  struct Override {
    uint32_t number;
    wire::WireType type;
    uint64_t value = 0;
    std::vector<std::string> items;  // length-delimited: one per occurrence
    bool cleared = false;
  };
  const RawField* last(uint32_t field) const;
  const Override* findOverride(uint32_t field) const;
  Override& override(uint32_t field, wire::WireType type);

  std::string_view bytes_;
  uint32_t attributes_field_ = 0;
  std::span<const RawField> rawFields() const { return {fields_.data(), field_count_}; }
  RawField& nextField() {
    if (field_count_ == fields_.size()) fields_.resize(fields_.size() * 2 + 32);
    return fields_[field_count_++];
  }

  // Grown, never shrunk: the first field_count_ hold this message's fields (a reused MessageEdit
  // allocates nothing).
  std::vector<RawField> fields_;
  size_t field_count_ = 0;
  size_t attribute_count_ = 0;
  std::vector<Override> overrides_;
  AttributeList attributes_;
  bool attributes_parsed_ = false;
  bool attributes_malformed_ = false;
};

// What a rewrite visits. Each hook sees the message it edits and its ancestors; returning false
// drops the item (and everything inside it). Hooks below depth() are never called, and the bytes
// below that depth are copied without being parsed.
enum class EditDepth : uint8_t { kResource = 0, kScope = 1, kItem = 2, kSubItem = 3 };

class TracesEditor {
 public:
  virtual ~TracesEditor() = default;
  // kItem = spans, kSubItem = span events.
  virtual EditDepth depth() const = 0;
  virtual bool editResource(MessageEdit& /*resource*/) { return true; }
  virtual bool editScope(const MessageEdit& /*resource*/, MessageEdit& /*scope*/) { return true; }
  virtual bool editSpan(const MessageEdit& /*resource*/, const MessageEdit& /*scope*/,
                        MessageEdit& /*span*/) {
    return true;
  }
  virtual bool editSpanEvent(const MessageEdit& /*resource*/, const MessageEdit& /*scope*/,
                             const MessageEdit& /*span*/, MessageEdit& /*event*/) {
    return true;
  }
};

class LogsEditor {
 public:
  virtual ~LogsEditor() = default;
  // kItem = log records.
  virtual EditDepth depth() const = 0;
  virtual bool editResource(MessageEdit& /*resource*/) { return true; }
  virtual bool editScope(const MessageEdit& /*resource*/, MessageEdit& /*scope*/) { return true; }
  virtual bool editLogRecord(const MessageEdit& /*resource*/, const MessageEdit& /*scope*/,
                             MessageEdit& /*record*/) {
    return true;
  }
};

// The data of a metric: which oneof member carries the points.
enum class MetricType : uint8_t {
  kNone = 0,
  kGauge = fields::kMetricGauge,
  kSum = fields::kMetricSum,
  kHistogram = fields::kMetricHistogram,
  kExponentialHistogram = fields::kMetricExponentialHistogram,
  kSummary = fields::kMetricSummary,
};
MetricType metricTypeOf(const MessageEdit& metric);

class MetricsEditor {
 public:
  virtual ~MetricsEditor() = default;
  // kItem = metrics, kSubItem = data points. A metric left without data points is removed.
  virtual EditDepth depth() const = 0;
  virtual bool editResource(MessageEdit& /*resource*/) { return true; }
  virtual bool editScope(const MessageEdit& /*resource*/, MessageEdit& /*scope*/) { return true; }
  virtual bool editMetric(const MessageEdit& /*resource*/, const MessageEdit& /*scope*/,
                          MessageEdit& /*metric*/) {
    return true;
  }
  // `point` is a NumberDataPoint, HistogramDataPoint... as `type` says; its attributes() are the
  // point's attributes whatever the type.
  virtual bool editDataPoint(const MessageEdit& /*resource*/, const MessageEdit& /*scope*/,
                             const MessageEdit& /*metric*/, MetricType /*type*/,
                             MessageEdit& /*point*/) {
    return true;
  }
};

struct RewriteResult {
  bool changed = false;  // false: `bytes` is empty and the input stands as it was
  std::string bytes;     // the new request when changed
  size_t items = 0;      // spans, data points or log records in the result
  size_t dropped = 0;    // items the editor dropped (with their resource or scope or not)
  std::vector<size_t> dropped_by_editor;  // of `dropped`, per editor (fused rewrites)
};

// InvalidArgument when the request is malformed at the depth walked (receivers validated it, so
// this is rare: a batch that was decoded and re-encoded never is).
absl::StatusOr<RewriteResult> rewriteTraces(std::string_view request, TracesEditor& editor);
absl::StatusOr<RewriteResult> rewriteLogs(std::string_view request, LogsEditor& editor);
absl::StatusOr<RewriteResult> rewriteMetrics(std::string_view request, MetricsEditor& editor);

// Several editors in one walk, with the result of running them one after the other: each editor
// sees every message as the editors before it left it, and the resource and scope as they were
// after its own hook (a later editor's resource edit is not visible to an earlier editor's span
// hook); an item one editor drops is not shown to the next. One walk and one copy instead of one
// per editor. `items`, when the caller knows the request's item count, spares counting it.
absl::StatusOr<RewriteResult> rewriteTraces(std::string_view request,
                                            const std::vector<TracesEditor*>& editors,
                                            std::optional<size_t> items = std::nullopt);
absl::StatusOr<RewriteResult> rewriteLogs(std::string_view request,
                                          const std::vector<LogsEditor*>& editors,
                                          std::optional<size_t> items = std::nullopt);
absl::StatusOr<RewriteResult> rewriteMetrics(std::string_view request,
                                             const std::vector<MetricsEditor*>& editors,
                                             std::optional<size_t> items = std::nullopt);

}  // namespace otlpd::otlp
