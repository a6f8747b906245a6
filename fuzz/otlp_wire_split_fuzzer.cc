// Splitting requests item by item and building them again (src/otlp/wire_split.h), as tail
// sampling and load balancing do: walking the built request gives back the same items under the
// same envelopes, and a request protobuf parses is rebuilt into one protobuf parses with as many
// items. Input: a selector byte (signal, how items are regrouped), then the request.
#include <algorithm>
#include <vector>

#include "fuzz_support.h"
#include "otlp/wire_split.h"
#include "otlp/wire_view.h"

using namespace otlpd;

namespace {

struct Piece {
  std::string resource, scope, item;
  auto operator<=>(const Piece&) const = default;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogging();
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const pipeline::Signal signal = fuzz::signalOf(selector);
  const std::string_view request(reinterpret_cast<const char*>(data) + 1, size - 1);

  otlp::ItemWalker walker;
  std::vector<Piece> pieces;
  size_t points = 0;
  const absl::Status walked = walker.walk(request, [&](const otlp::ItemSlice& s) {
    pieces.push_back(
        {std::string(s.resource_envelope), std::string(s.scope_envelope), std::string(s.item)});
    if (signal == pipeline::Signal::kMetrics) points += otlp::metricPointCount(s.item);
    (void)otlp::spanTraceId(s.item);
    (void)otlp::logTraceId(s.item);
    (void)otlp::resourceStringAttribute(s.resource_envelope, "service.name");
  });
  if (!walked.ok()) return 0;

  // Regroup: all items in order, or split in two requests by the trace id's first byte (the way
  // the load-balancing exporter routes).
  const bool split = (selector & 4) != 0;
  otlp::RequestBuilder builders[2];
  std::vector<Piece> expected[2];
  for (const Piece& p : pieces) {
    const std::string_view id =
        signal == pipeline::Signal::kLogs ? otlp::logTraceId(p.item) : otlp::spanTraceId(p.item);
    const int to = split && !id.empty() ? (static_cast<uint8_t>(id[0]) & 1) : 0;
    builders[to].add(p.resource, p.scope, p.item);
    expected[to].push_back(p);
  }
  const bool in_parsed = fuzz::protobufParses(signal, request);
  for (int b = 0; b < 2; ++b) {
    OTLPD_FUZZ_CHECK(builders[b].items() == expected[b].size(), "builder count");
    const std::string built = builders[b].finish();
    OTLPD_FUZZ_CHECK(builders[b].empty(), "builder not empty after finish");
    std::vector<Piece> again;
    otlp::ItemWalker rewalk;
    const absl::Status s = rewalk.walk(built, [&](const otlp::ItemSlice& x) {
      again.push_back(
          {std::string(x.resource_envelope), std::string(x.scope_envelope), std::string(x.item)});
    });
    OTLPD_FUZZ_CHECK(s.ok(), "the built request does not walk: " + s.ToString());
    OTLPD_FUZZ_CHECK(again.size() == expected[b].size(),
                     std::to_string(again.size()) + " vs " + std::to_string(expected[b].size()));
    // Items under an envelope seen earlier join it, so the order may change: compare as sets.
    std::sort(again.begin(), again.end());
    std::sort(expected[b].begin(), expected[b].end());
    for (size_t i = 0; i < again.size(); ++i) {
      OTLPD_FUZZ_CHECK(again[i].item == expected[b][i].item, "item " + std::to_string(i));
      OTLPD_FUZZ_CHECK(again[i].resource == expected[b][i].resource,
                       "resource envelope of item " + std::to_string(i));
      OTLPD_FUZZ_CHECK(again[i].scope == expected[b][i].scope,
                       "scope envelope of item " + std::to_string(i));
    }
    if (in_parsed) {
      const fuzz::Reference out = fuzz::referenceFor(signal, built);
      OTLPD_FUZZ_CHECK(out.parsed, "a parsable request was rebuilt into an unparsable one");
    }
  }
  // Counting is exact for what the zero-copy readers interpret; bytes the wire view calls unusual
  // (e.g. a tag past 32 bits, which protobuf truncates and the readers refuse) may count less.
  const bool usual = (signal == pipeline::Signal::kTraces    ? otlp::inspectTracesWire(request)
                      : signal == pipeline::Signal::kMetrics ? otlp::inspectMetricsWire(request)
                                                             : otlp::inspectLogsWire(request))
                         .verdict != otlp::WireVerdict::kUnusual;
  if (in_parsed && !split && usual) {
    const fuzz::Reference in = fuzz::referenceFor(signal, request);
    OTLPD_FUZZ_CHECK(in.items == (signal == pipeline::Signal::kMetrics ? points : pieces.size()),
                     "walked " + std::to_string(pieces.size()) + " items (" +
                         std::to_string(points) + " points), protobuf counts " +
                         std::to_string(in.items));
  }
  return 0;
}
