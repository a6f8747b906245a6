// OTLP/JSON decoding (src/otlp/json_codec.h). Whatever parses must survive the way back: the
// JSON the codec writes for it parses again to the same message. And the direct codec
// (src/otlp/json_wire.h) must agree with the reflection codec: the same verdict and error
// message (where the text is not malformed JSON, which the two may find at different places),
// wire bytes that parse to the same message, and the same JSON written back from them (from the
// canonical bytes and from the direct decoder's, in the text's key order). Input: a
// selector byte (which export request), then the JSON text.
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/message_differencer.h>

#include <memory>
#include <optional>

#include "absl/strings/match.h"
#include "fuzz_support.h"
#include "otlp/json_codec.h"
#include "otlp/json_wire.h"
#include "otlp/wire_view.h"

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
  const absl::Status parsed = otlp::parseOtlpJson(json, *first);
  std::string wire;
  std::optional<size_t> vouched;
  const absl::Status direct =
      otlp::otlpJsonToWire(*first->GetDescriptor(), json, json.size(), wire, &vouched);
  OTLPD_FUZZ_CHECK(parsed.ok() == direct.ok(), "verdicts differ: reflection " + parsed.ToString() +
                                                   ", direct " + direct.ToString());
  if (!parsed.ok()) {
    const bool syntax = absl::StartsWith(parsed.message(), "malformed JSON") ||
                        absl::StartsWith(direct.message(), "malformed JSON");
    OTLPD_FUZZ_CHECK(
        syntax || parsed.message() == direct.message(),
        "messages differ: reflection " + parsed.ToString() + ", direct " + direct.ToString());
    return 0;
  }

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

  // A vouch for a traces request must be right: the wire view finds the bytes valid.
  if (vouched) {
    const otlp::WireSummary view = otlp::inspectTracesWire(wire);
    OTLPD_FUZZ_CHECK(signal == pipeline::Signal::kTraces && view.valid() && view.items == *vouched,
                     "the decoder vouched for bytes the wire view doubts");
  }

  auto from_wire = newRequest(signal);
  OTLPD_FUZZ_CHECK(from_wire->ParseFromString(wire), "direct decoder wrote bytes protobuf refuses");
  diff.clear();
  OTLPD_FUZZ_CHECK(differ.Compare(*first, *from_wire), "direct decoder differs: " + diff);
  // The direct encoder writes, from the canonical bytes, what the reflection codec wrote.
  const std::string canonical = first->SerializeAsString();
  std::string rewritten;
  OTLPD_FUZZ_CHECK(otlp::appendOtlpJsonFromWire(*first->GetDescriptor(), canonical, rewritten),
                   "direct encoder declined canonical bytes");
  OTLPD_FUZZ_CHECK(rewritten == written, "direct encoder differs: " + rewritten + " vs " + written);
  // So it does from the direct decoder's bytes, whose fields follow the text's key order rather
  // than field numbers (what a JSON -> JSON pipeline encodes); it may only decline them.
  std::string from_decoder;
  if (otlp::appendOtlpJsonFromWire(*first->GetDescriptor(), wire, from_decoder)) {
    OTLPD_FUZZ_CHECK(from_decoder == written, "direct encoder differs on the decoder's bytes: " +
                                                  from_decoder + " vs " + written);
  }
  return 0;
}
