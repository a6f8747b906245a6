#include "query/live_search.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/strings.h"
#include "query/jaeger_api.h"

namespace otlpd::query {

using json = nlohmann::json;

LiveSearch::LiveSearch(const JaegerApi* api, std::string filters, int64_t max_per_second,
                       int64_t opened)
    : api_(api),
      filters_(std::move(filters)),
      max_per_second_(max_per_second),
      opened_(opened),
      last_write_(opened),
      tokens_(static_cast<double>(max_per_second)) {}

std::string LiveSearch::poll(int64_t now) {
  std::string out;
  if (now - last_query_ >= kQueryIntervalMicros) {
    const int64_t elapsed = last_query_ == 0 ? 0 : now - last_query_;
    last_query_ = now;
    tokens_ = std::min(
        static_cast<double>(max_per_second_),
        tokens_ + static_cast<double>(max_per_second_) * static_cast<double>(elapsed) / 1e6);
    // Traces with spans that started in the last five minutes (a request may take a while
    // before its spans are sent); the ones already stored at the first look are not news.
    const int64_t start = now - kMaxWindowMicros;
    const std::string target =
        strCat("/api/otlpd/trace-summaries?", filters_, filters_.empty() ? "" : "&",
               "start=", start, "&end=", now, "&limit=", max_per_second_ + 1);
    const ApiResponse r = api_->handle(target, now);
    const json body = json::parse(r.body, nullptr, false);
    if (r.status == 200 && body.is_object() && body["data"].is_array()) {
      // Oldest first among the new ones, so the page shows them in order of arrival.
      std::vector<const json*> fresh;
      for (const json& s : body["data"]) {
        const std::string id = s.value("traceID", "");
        if (!id.empty() && seen_.count(id) == 0) fresh.push_back(&s);
      }
      std::reverse(fresh.begin(), fresh.end());
      uint64_t dropped = 0;
      const bool priming = !primed_;
      primed_ = true;
      for (const json* s : fresh) {
        const std::string id = s->value("traceID", "");
        seen_.insert(id);
        seen_order_.push_back(id);
        if (seen_order_.size() > kMaxRemembered) {
          seen_.erase(seen_order_.front());
          seen_order_.pop_front();
        }
        if (priming) continue;
        if (tokens_ >= 1) {
          tokens_ -= 1;
          out += strCat("event: trace\ndata: ", s->dump(), "\n\n");
        } else {
          ++dropped;
        }
      }
      if (dropped > 0) {
        out += strCat("event: dropped\ndata: {\"count\":", dropped,
                      ",\"maxPerSecond\":", max_per_second_, "}\n\n");
      }
    } else if (r.status != 200) {
      out += strCat("event: error\ndata: ", r.body, "\n\n");
    }
  }
  if (out.empty() && now - last_write_ >= kHeartbeatMicros) out = ": keepalive\n\n";
  if (!out.empty()) last_write_ = now;
  return out;
}

}  // namespace otlpd::query
