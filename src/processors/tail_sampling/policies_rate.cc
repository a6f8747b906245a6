// rate_limiting and bytes_limiting: stateful policies that count what they let through against the
// `now` they are given (the engine's clock), never a clock of their own.
#include <algorithm>

#include "common/strings.h"
#include "processors/tail_sampling/policies.h"

namespace otlpd::processors::tail_sampling {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;

int64_t unixSecond(int64_t unix_nanos) {
  // Floor, so that times before the epoch (a skewed clock) still fall into whole seconds.
  int64_t s = unix_nanos / kNanosPerSecond;
  if (unix_nanos % kNanosPerSecond < 0) --s;
  return s;
}

// At most spans_per_second spans per wall-clock second: a trace is sampled when its spans still fit
// in what the current second has left; the count starts again at each new second. A trace that
// does not fit takes nothing, so a smaller one later in the second may still pass.
class RateLimiting final : public Policy {
 public:
  explicit RateLimiting(int64_t spans_per_second) : limit_(spans_per_second) {}

  Decision evaluate(const TraceView& trace, int64_t now_unix_nanos) override {
    const int64_t second = unixSecond(now_unix_nanos);
    if (second != second_) {
      second_ = second;
      spent_ = 0;
    }
    const int64_t spans = static_cast<int64_t>(trace.spans.size());
    if (spent_ + spans > limit_) return Decision::kNotSampled;
    spent_ += spans;
    return Decision::kSampled;
  }

 private:
  int64_t limit_;
  int64_t second_ = INT64_MIN;
  int64_t spent_ = 0;
};

// A token bucket of bytes, like the Collector's (golang.org/x/time/rate): it starts full with
// burst_capacity tokens, refills continuously at bytes_per_second up to burst_capacity, and a
// trace is sampled when its encoded size can be taken from it. A trace larger than the burst
// capacity never passes.
class BytesLimiting final : public Policy {
 public:
  BytesLimiting(int64_t bytes_per_second, int64_t burst_capacity)
      : rate_(static_cast<double>(bytes_per_second)),
        burst_(static_cast<double>(burst_capacity)),
        tokens_(burst_) {}

  Decision evaluate(const TraceView& trace, int64_t now_unix_nanos) override {
    if (!started_) {
      started_ = true;
      last_ = now_unix_nanos;
    } else if (now_unix_nanos > last_) {
      // A clock that steps back refills nothing until it has caught up again.
      const double elapsed = static_cast<double>(now_unix_nanos - last_) / kNanosPerSecond;
      tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
      last_ = now_unix_nanos;
    }
    uint64_t bytes = trace.encoded_bytes;
    if (bytes == 0) {
      for (const SpanPiece& piece : trace.spans) bytes += piece.span.size();
    }
    const double needed = static_cast<double>(bytes);
    if (needed > tokens_) return Decision::kNotSampled;
    tokens_ -= needed;
    return Decision::kSampled;
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  int64_t last_ = 0;
  bool started_ = false;
};

}  // namespace

std::unique_ptr<Policy> readRateLimiting(config::ConfigNode& section) {
  const size_t errors = section.errors().size();
  if (!section.has("spans_per_second")) {
    section.addError("spans_per_second", "missing: the number of spans to sample per second");
  }
  const int64_t spans_per_second = section.getInt("spans_per_second", 0, 1);
  if (section.errors().size() != errors) return nullptr;
  return std::make_unique<RateLimiting>(spans_per_second);
}

std::unique_ptr<Policy> readBytesLimiting(config::ConfigNode& section) {
  const size_t errors = section.errors().size();
  if (!section.has("bytes_per_second")) {
    section.addError("bytes_per_second", "missing: the number of bytes to sample per second");
  }
  const int64_t bytes_per_second = section.getInt("bytes_per_second", 0, 1, INT64_MAX / 2);
  // The Collector's default: twice the rate.
  const int64_t burst = section.getInt("burst_capacity", 2 * bytes_per_second, 1);
  if (section.errors().size() != errors) return nullptr;
  return std::make_unique<BytesLimiting>(bytes_per_second, burst);
}

}  // namespace otlpd::processors::tail_sampling
