// The Prometheus text and OpenMetrics exposition parser (src/prometheus/exposition.h), which reads
// scrape bodies from targets otlpd does not control. A body is accepted or refused with
// InvalidArgument; what is accepted is consistent (every sample's family and labels in range, and
// what it points at inside the body or the unescaped strings). Input: a selector byte (format),
// then the body.
#include "fuzz_support.h"
#include "prometheus/exposition.h"

using namespace otlpd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogging();
  if (size == 0) return 0;
  const prometheus::Format format =
      (data[0] & 1) != 0 ? prometheus::Format::kOpenMetrics : prometheus::Format::kText;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  static prometheus::ExpositionParser parser;  // reused, as a scrape loop does
  static prometheus::ParsedExposition parsed;
  const absl::Status s = parser.parse(body, format, parsed);
  if (!s.ok()) {
    OTLPD_FUZZ_CHECK(s.code() == absl::StatusCode::kInvalidArgument, s.ToString());
    return 0;
  }
  for (const prometheus::Sample& sample : parsed.samples) {
    OTLPD_FUZZ_CHECK(sample.family < parsed.families.size(), "sample family out of range");
    OTLPD_FUZZ_CHECK(size_t{sample.first_label} + sample.label_count <= parsed.labels.size(),
                     "sample labels out of range");
    OTLPD_FUZZ_CHECK(
        sample.exemplar < 0 || static_cast<size_t>(sample.exemplar) < parsed.exemplars.size(),
        "exemplar out of range");
    const prometheus::ExpositionLabel* labels = parsed.labelsOf(sample);
    size_t bytes = sample.name.size();
    for (uint32_t i = 0; i < sample.label_count; ++i) {
      bytes += labels[i].name.size() + labels[i].value.size();
    }
    (void)bytes;
  }
  for (const prometheus::Exemplar& e : parsed.exemplars) {
    OTLPD_FUZZ_CHECK(size_t{e.first_label} + e.label_count <= parsed.labels.size(),
                     "exemplar labels out of range");
  }
  for (const prometheus::Family& f : parsed.families) {
    (void)prometheus::metricTypeName(f.type);
  }
  return 0;
}
