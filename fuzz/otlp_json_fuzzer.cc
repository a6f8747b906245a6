// OTLP/JSON decoding (src/otlp/json_codec.h). Whatever parses must survive the way back: the
// JSON the codec writes for it parses again to the same message. Input: a selector byte (which
// export request), then the JSON text.
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/message_differencer.h>

#include <memory>

#include "fuzz_support.h"
#include "otlp/json_codec.h"

using namespace otlpd;

namespace {

std::unique_ptr<google::protobuf::Message> newRequest(pipeline::Signal signal) {
  switch (signal) {
    case pipeline::Signal::kTraces:
      return std::make_unique<otlp::TracesRequest>();
    case pipeline::Signal::kMetrics:
      return std::make_unique<otlp::MetricsRequest>();
    case pipeline::Signal::kLogs:
      return std::make_unique<otlp::LogsRequest>();
  }
  return nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogging();
  if (size == 0) return 0;
  const pipeline::Signal signal = fuzz::signalOf(data[0]);
  const std::string_view json(reinterpret_cast<const char*>(data) + 1, size - 1);

  auto first = newRequest(signal);
  if (!otlp::parseOtlpJson(json, *first).ok()) return 0;

  const std::string written = otlp::toOtlpJson(*first);
  auto second = newRequest(signal);
  const absl::Status again = otlp::parseOtlpJson(written, *second);
  OTLPD_FUZZ_CHECK(again.ok(), std::string(again.message()) + " in " + written);
  // NaN compares unequal to itself; the differencer treats NaN as equal to NaN when asked.
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  google::protobuf::util::MessageDifferencer differ;
  differ.set_field_comparator(&comparator);
  std::string diff;
  differ.ReportDifferencesToString(&diff);
  OTLPD_FUZZ_CHECK(differ.Compare(*first, *second), diff);
  return 0;
}
