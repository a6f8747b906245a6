// The live view's feed (/api/otlpd/live): the trace summaries of a search, sent as Server-Sent
// Events while new traces arrive, like `tail -f`. Bounded: at most `maxPerSecond` traces a second
// per client (the rest are counted in a `dropped` event, never buffered), a window of at most five
// minutes looked at, and an SSE comment every few seconds so a closed page ends the stream.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_set>

namespace otlpd::query {

class JaegerApi;

class LiveSearch {
 public:
  // `filters`: the search parameters (service, operation, tags, minDuration, maxDuration) as a
  // query string already checked by JaegerApi.
  LiveSearch(const JaegerApi* api, std::string filters, int64_t max_per_second,
             int64_t opened_unix_micros);
  // Notes the traces already stored, so that only later ones are news. Called when the stream
  // opens, before the client hears that it is open: a trace sent once the page shows the stream
  // open is always news, however late the server's first poll.
  void prime(int64_t now_unix_micros) { (void)poll(now_unix_micros); }
  // The events to send now ("" when none); called every poll interval.
  std::string poll(int64_t now_unix_micros);

  static constexpr int64_t kQueryIntervalMicros = 500'000;
  static constexpr int64_t kHeartbeatMicros = 5'000'000;
  static constexpr int64_t kMaxWindowMicros = int64_t{300} * 1'000'000;
  static constexpr size_t kMaxRemembered = 10000;

 private:
  const JaegerApi* api_;
  std::string filters_;
  int64_t max_per_second_;
  int64_t opened_;
  bool primed_ = false;  // the first look only notes what is already there
  int64_t last_query_ = 0;
  int64_t last_write_ = 0;
  double tokens_ = 0;
  std::unordered_set<std::string> seen_;
  std::deque<std::string> seen_order_;
};

}  // namespace otlpd::query
