// Policies over the trace as a whole: always_sample, latency, status_code, probabilistic,
// span_count, trace_state. latency, status_code and probabilistic are on the hot path of every
// tail_sampling config: they read two or three fixed fields per span (or only the trace id) and
// allocate nothing.
#include <algorithm>
#include <limits>
#include <vector>

#include "common/strings.h"
#include "processors/tail_sampling/policies.h"

namespace otlpd::processors::tail_sampling {
namespace {

class AlwaysSample final : public Policy {
 public:
  Decision evaluate(const TraceView&, int64_t) override { return Decision::kSampled; }
};

// The trace's duration is its latest end minus its earliest start, in whole milliseconds (as the
// Collector truncates it). Without an upper bound the trace is sampled from threshold_ms on; with
// one, when threshold_ms < duration <= upper_threshold_ms. Spans without a start or end time do
// not count (a zero time would make any trace look decades long).
class Latency final : public Policy {
 public:
  Latency(int64_t threshold_ms, int64_t upper_threshold_ms)
      : threshold_ms_(threshold_ms), upper_threshold_ms_(upper_threshold_ms) {}

  Decision evaluate(const TraceView& trace, int64_t) override {
    uint64_t earliest = std::numeric_limits<uint64_t>::max();
    uint64_t latest = 0;
    bool any = false;
    for (const SpanPiece& piece : trace.spans) {
      const SpanTimes t = spanTimes(piece.span);
      if (t.start == 0 || t.end == 0) continue;
      earliest = std::min(earliest, t.start);
      latest = std::max(latest, t.end);
      any = true;
      // The duration only grows span by span: without an upper bound the first crossing decides.
      if (upper_threshold_ms_ == 0 && durationMs(earliest, latest) >= threshold_ms_) {
        return Decision::kSampled;
      }
    }
    if (!any || upper_threshold_ms_ == 0) return Decision::kNotSampled;
    const int64_t ms = durationMs(earliest, latest);
    return threshold_ms_ < ms && ms <= upper_threshold_ms_ ? Decision::kSampled
                                                           : Decision::kNotSampled;
  }

 private:
  static int64_t durationMs(uint64_t earliest, uint64_t latest) {
    return static_cast<int64_t>(latest - earliest) / 1'000'000;
  }
  int64_t threshold_ms_;
  int64_t upper_threshold_ms_;  // 0: no upper bound
};

// Sampled when any span's status code is one of the configured ones.
class StatusCode final : public Policy {
 public:
  explicit StatusCode(uint8_t codes) : codes_(codes) {}

  Decision evaluate(const TraceView& trace, int64_t) override {
    for (const SpanPiece& piece : trace.spans) {
      const uint64_t code = spanStatusCode(piece.span);
      if (code < 8 && (codes_ >> code & 1) != 0) return Decision::kSampled;
    }
    return Decision::kNotSampled;
  }

 private:
  uint8_t codes_;  // bit n: status code n
};

// The Collector's hash: FNV-1a 64 over the salt, then the 16 trace id bytes, sampled when at or
// below sampling_percentage/100 of 2^64-1. Same salt and percentage, same traces as the Collector.
class Probabilistic final : public Policy {
 public:
  Probabilistic(std::string_view salt, double percentage)
      : salted_(fnv1a64(kFnvOffset64, salt)), threshold_(probabilityThreshold(percentage / 100)) {}

  Decision evaluate(const TraceView& trace, int64_t) override {
    return fnv1a64(salted_, trace.trace_id) <= threshold_ ? Decision::kSampled
                                                          : Decision::kNotSampled;
  }

 private:
  uint64_t salted_;  // the hash state after the salt
  uint64_t threshold_;
};

// Sampled when min_spans <= span count <= max_spans (max_spans 0: no upper bound).
class SpanCount final : public Policy {
 public:
  SpanCount(int64_t min_spans, int64_t max_spans) : min_(min_spans), max_(max_spans) {}

  Decision evaluate(const TraceView& trace, int64_t) override {
    const int64_t n = static_cast<int64_t>(trace.spans.size());
    return n >= min_ && (max_ == 0 || n <= max_) ? Decision::kSampled : Decision::kNotSampled;
  }

 private:
  int64_t min_;
  int64_t max_;
};

// Sampled when a span's tracestate has `key` with one of `values`.
class TraceState final : public Policy {
 public:
  TraceState(std::string key, std::vector<std::string> values)
      : key_(std::move(key)), values_(std::move(values)) {}

  Decision evaluate(const TraceView& trace, int64_t) override {
    for (const SpanPiece& piece : trace.spans) {
      const std::string_view state =
          otlp::wire::lastLengthDelimited(piece.span, otlp::fields::kSpanTraceState);
      std::string_view value;
      if (state.empty() || !traceStateValue(state, key_, value)) continue;
      for (const std::string& v : values_) {
        if (v == value) return Decision::kSampled;
      }
    }
    return Decision::kNotSampled;
  }

 private:
  std::string key_;
  std::vector<std::string> values_;
};

}  // namespace

std::unique_ptr<Policy> makeAlwaysSample() {
  return std::make_unique<AlwaysSample>();
}

std::unique_ptr<Policy> readLatency(config::ConfigNode& section) {
  const size_t errors = section.errors().size();
  const bool has_lower = section.has("threshold_ms");
  const bool has_upper = section.has("upper_threshold_ms");
  const int64_t lower = section.getInt("threshold_ms", 0, 0);
  const int64_t upper = section.getInt("upper_threshold_ms", 0, 0);
  if (!has_lower && !has_upper) {
    section.addError("threshold_ms", "missing: give threshold_ms and/or upper_threshold_ms");
  } else if (upper != 0 && upper <= lower) {
    section.addError("upper_threshold_ms",
                     strCat("must be greater than threshold_ms (", lower, "), got ", upper));
  }
  if (section.errors().size() != errors) return nullptr;
  return std::make_unique<Latency>(lower, upper);
}

std::unique_ptr<Policy> readStatusCode(config::ConfigNode& section) {
  const size_t errors = section.errors().size();
  const std::vector<std::string> names = section.getStringList("status_codes");
  uint8_t codes = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "UNSET") {
      codes |= 1 << 0;
    } else if (names[i] == "OK") {
      codes |= 1 << 1;
    } else if (names[i] == "ERROR") {
      codes |= 1 << 2;
    } else {
      addListError(section, "status_codes", i,
                   strCat("unknown status code \"", names[i], "\" (expected OK, ERROR or UNSET)"));
    }
  }
  if (names.empty() && section.errors().size() == errors) {
    section.addError("status_codes", "missing: a list of OK, ERROR and/or UNSET");
  }
  if (section.errors().size() != errors) return nullptr;
  return std::make_unique<StatusCode>(codes);
}

std::unique_ptr<Policy> readProbabilistic(config::ConfigNode& section) {
  const size_t errors = section.errors().size();
  std::string salt = section.getString("hash_salt", "");
  // The Collector's salt when none is given, so both keep the same traces by default.
  if (salt.empty()) salt = "default-hash-seed";
  if (!section.has("sampling_percentage")) {
    section.addError("sampling_percentage", "missing: the percentage of traces to sample (0-100)");
  }
  const double percentage = section.getDouble("sampling_percentage", 0);
  if (percentage < 0) {
    section.addError("sampling_percentage", strCat("must be 0 or more, got ", percentage));
  }
  if (section.errors().size() != errors) return nullptr;
  return std::make_unique<Probabilistic>(salt, percentage);
}

std::unique_ptr<Policy> readSpanCount(config::ConfigNode& section) {
  const size_t errors = section.errors().size();
  const bool given = section.has("min_spans") || section.has("max_spans");
  const int64_t min_spans = section.getInt("min_spans", 0, 0, INT32_MAX);
  const int64_t max_spans = section.getInt("max_spans", 0, 0, INT32_MAX);
  if (!given) {
    section.addError("min_spans", "missing: give min_spans and/or max_spans");
  } else if (max_spans != 0 && max_spans < min_spans) {
    section.addError("max_spans",
                     strCat("must be at least min_spans (", min_spans, "), got ", max_spans));
  }
  if (section.errors().size() != errors) return nullptr;
  return std::make_unique<SpanCount>(min_spans, max_spans);
}

std::unique_ptr<Policy> readTraceState(config::ConfigNode& section) {
  const size_t errors = section.errors().size();
  std::string key = section.getString("key", "");
  std::vector<std::string> values = section.getStringList("values");
  if (key.empty()) section.addError("key", "missing: the tracestate key to look at");
  if (values.empty() && section.errors().size() == errors) {
    section.addError("values", "missing: the tracestate values to sample");
  }
  // W3C trace context: keys and values are at most 256 characters.
  if (key.size() > 256) section.addError("key", "must be at most 256 characters");
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].size() > 256) {
      addListError(section, "values", i, "must be at most 256 characters");
    }
  }
  if (section.errors().size() != errors) return nullptr;
  return std::make_unique<TraceState>(std::move(key), std::move(values));
}

}  // namespace otlpd::processors::tail_sampling
