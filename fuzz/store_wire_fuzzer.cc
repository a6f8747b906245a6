// The store's conversion of encoded requests (src/store/wire_columns.h) against its conversion of
// decoded ones (otlp_columns.h), for every signal: on bytes protobuf parses, a walk that does not
// give up appends exactly the buffers, dictionary entries and time range the decoded request
// does (tests/store/wire_columns_test.cc on fixed inputs); on any bytes it stays in bounds; and a
// walk that gives up half-way is undone by truncating the table. Input: a selector byte (signal),
// then the request bytes.
#include "fuzz_support.h"
#include "store/otlp_columns.h"
#include "store/wire_columns.h"

using namespace otlpd;

namespace {

void checkSameColumn(store::Column& a, store::Column& b, const std::string& path) {
  OTLPD_FUZZ_CHECK(a.length() == b.length(), path);
  OTLPD_FUZZ_CHECK(a.nullCount() == b.nullCount(), path);
  OTLPD_FUZZ_CHECK(a.validityBuffer() == b.validityBuffer(), path + " validity");
  OTLPD_FUZZ_CHECK(a.valuesBuffer() == b.valuesBuffer(), path + " values");
  OTLPD_FUZZ_CHECK(a.offsetsBuffer() == b.offsetsBuffer(), path + " offsets");
  OTLPD_FUZZ_CHECK(a.dataBuffer() == b.dataBuffer(), path + " data");
  OTLPD_FUZZ_CHECK(a.childCount() == b.childCount(), path);
  for (size_t i = 0; i < a.childCount(); ++i) {
    checkSameColumn(a.child(i), b.child(i), path + "." + a.child(i).spec().name);
  }
}

void checkSameColumns(store::ColumnTable& a, store::ColumnTable& b) {
  for (size_t c = 0; c < a.columnCount(); ++c) {
    checkSameColumn(a.column(c), b.column(c), a.column(c).spec().name);
  }
}

void checkSameTables(store::ColumnTable& a, store::ColumnTable& b) {
  checkSameColumns(a, b);
  OTLPD_FUZZ_CHECK(a.dictionaries().size() == b.dictionaries().size());
  for (size_t d = 0; d < a.dictionaries().size(); ++d) {
    const store::Dictionary& da = *a.dictionaries()[d];
    const store::Dictionary& db = *b.dictionaries()[d];
    OTLPD_FUZZ_CHECK(da.size() == db.size(), "dictionary " + std::to_string(d));
    for (size_t i = 0; i < da.size(); ++i) {
      OTLPD_FUZZ_CHECK(da.at(i) == db.at(i), "dictionary " + std::to_string(d));
    }
  }
}

template <class Request>
bool appendDecoded(std::string_view bytes, store::ColumnTable& t, store::TimeRange& range,
                   void (*append)(const Request&, store::ColumnTable&, store::TimeRange&)) {
  google::protobuf::Arena arena;
  auto* request = google::protobuf::Arena::CreateMessage<Request>(&arena);
  if (!request->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
  append(*request, t, range);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogging();
  if (size == 0) return 0;
  const pipeline::Signal signal = fuzz::signalOf(data[0]);
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  const auto* fields = &store::fieldsFor(signal);
  store::ColumnTable by_wire(fields), by_message(fields);
  store::TimeRange wire_range, message_range;
  bool handled = false, parsed = false;
  switch (signal) {
    case pipeline::Signal::kTraces:
      handled = store::appendTracesWire(bytes, by_wire, wire_range);
      parsed =
          appendDecoded<otlp::TracesRequest>(bytes, by_message, message_range, store::appendTraces);
      break;
    case pipeline::Signal::kMetrics:
      handled = store::appendMetricsWire(bytes, by_wire, wire_range);
      parsed = appendDecoded<otlp::MetricsRequest>(bytes, by_message, message_range,
                                                   store::appendMetrics);
      break;
    case pipeline::Signal::kLogs:
      handled = store::appendLogsWire(bytes, by_wire, wire_range);
      parsed =
          appendDecoded<otlp::LogsRequest>(bytes, by_message, message_range, store::appendLogs);
      break;
  }
  if (!handled) {
    // What SignalStore::appendWire() does next: truncate, then append the decoded request. The
    // buffers are then those of a table that never had the rows (dictionaries may keep values).
    by_wire.truncateRows(0);
    store::ColumnTable empty(fields);
    checkSameColumns(by_wire, empty);
    return 0;
  }
  if (!parsed) return 0;  // e.g. invalid UTF-8 the walk does not look at: the wire view's job
  OTLPD_FUZZ_CHECK(wire_range.min == message_range.min && wire_range.max == message_range.max,
                   "time range");
  checkSameTables(by_wire, by_message);
  return 0;
}
