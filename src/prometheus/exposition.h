// The Prometheus exposition formats a scrape answers with — the text format 0.0.4 and OpenMetrics
// 1.0 — parsed in place: names, label values and help texts are views into the body, copied only
// when they carry escapes. Pure; the scrape receiver's hot path (bench/prometheus_parse_bench.cc).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"

namespace otlpd::prometheus {

enum class Format : uint8_t { kText, kOpenMetrics };

// What a scraper sends, as Prometheus 2.x does: OpenMetrics preferred, the text format next.
inline constexpr std::string_view kScrapeAcceptHeader =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

// The parser for an answer's Content-Type: OpenMetrics for application/openmetrics-text, the
// text format for anything else (Prometheus falls back to it the same way).
Format formatFromContentType(std::string_view content_type);

enum class MetricType : uint8_t {
  kUnknown,  // "untyped" in the text format, or no TYPE line
  kCounter,
  kGauge,
  kHistogram,
  kGaugeHistogram,
  kSummary,
  kInfo,
  kStateSet,
};

std::string_view metricTypeName(MetricType type);  // "counter", "gaugehistogram", ...

struct ExpositionLabel {
  std::string_view name;
  std::string_view value;
};

// One metric family: the name its TYPE/HELP/UNIT lines give (OpenMetrics counters are declared
// without their `_total`), or the sample's own name when nothing declared it.
struct Family {
  std::string_view name;
  MetricType type = MetricType::kUnknown;
  bool declared = false;  // a TYPE line said so
  // A second TYPE line gave an already declared family another type: its samples are not to be
  // trusted (the translation drops them).
  bool conflicting = false;
  uint32_t sample_count = 0;
  std::string help;       // unescaped
  std::string_view unit;  // OpenMetrics UNIT
};

struct Exemplar {
  uint32_t first_label = 0;
  uint32_t label_count = 0;
  double value = 0;
  bool has_timestamp = false;
  double timestamp_seconds = 0;
};

struct Sample {
  std::string_view name;  // as written: foo_total, foo_bucket, foo_count...
  uint32_t family = 0;    // index into ParsedExposition::families
  uint32_t first_label = 0;
  uint32_t label_count = 0;
  int32_t exemplar = -1;  // index into ParsedExposition::exemplars
  bool has_timestamp = false;
  int64_t timestamp_ms = 0;
  double value = 0;
};

// The parse of one body. Views point into the body (and `unescaped`), so the body must outlive
// it. Reused between scrapes: clear() keeps the vectors' capacity.
struct ParsedExposition {
  std::vector<Family> families;
  std::vector<Sample> samples;
  std::vector<ExpositionLabel> labels;
  std::vector<Exemplar> exemplars;
  // Label values that had escapes, unescaped (a deque: growing never moves its strings).
  std::deque<std::string> unescaped;

  void clear();
  // The labels of a sample or an exemplar.
  const ExpositionLabel* labelsOf(const Sample& s) const { return labels.data() + s.first_label; }
  const ExpositionLabel* labelsOf(const Exemplar& e) const { return labels.data() + e.first_label; }
};

// Reusable parser state (the family index), so a scrape loop allocates nothing in steady state.
class ExpositionParser {
 public:
  // Parses `body` into `out` (cleared first). A malformed body is InvalidArgument naming the line;
  // `out` then holds what came before it and must not be used. Checks what Prometheus checks:
  // names and label names by their grammar, label values and help valid UTF-8, a label name once
  // per sample, values and timestamps as numbers, the known TYPE names, and for OpenMetrics the
  // single spaces and the `# EOF` at the end.
  absl::Status parse(std::string_view body, Format format, ParsedExposition& out);

 private:
  class Impl;
  absl::flat_hash_map<std::string_view, uint32_t> family_index_;
};

// Go's strconv.ParseFloat as Prometheus reads sample values: decimal and hex floats, NaN, Inf,
// +Inf, -Inf (case-insensitive). False when `text` is not entirely a number.
bool parseFloat(std::string_view text, double& out);

}  // namespace otlpd::prometheus
