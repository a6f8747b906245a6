#include "loadgen/report.h"

#include "absl/strings/str_format.h"
#include "common/json_escape.h"
#include "common/strings.h"

namespace otlpd::loadgen {
namespace {

// gRPC status codes (grpc::StatusCode), spelled out so this pure code does not include gRPC.
constexpr int kGrpcOk = 0;
constexpr int kGrpcResourceExhausted = 8;
constexpr int kGrpcUnavailable = 14;

std::string number(double v) {
  return absl::StrFormat("%.6g", v);
}

double millis(uint64_t nanos) {
  return static_cast<double>(nanos) / 1e6;
}

// 1234567 → "1.23M": progress lines must stay short.
std::string compact(double v) {
  if (v >= 1e9) return absl::StrFormat("%.2fG", v / 1e9);
  if (v >= 1e6) return absl::StrFormat("%.2fM", v / 1e6);
  if (v >= 1e4) return absl::StrFormat("%.1fk", v / 1e3);
  return absl::StrFormat("%.0f", v);
}

}  // namespace

Outcome classifyGrpcStatus(int code, bool answered) {
  if (code == kGrpcOk) return Outcome::kAcknowledged;
  if ((code == kGrpcUnavailable || code == kGrpcResourceExhausted) && answered) {
    return Outcome::kRefused;
  }
  return Outcome::kFailed;
}

Outcome classifyHttpStatus(int status) {
  if (status >= 200 && status < 300) return Outcome::kAcknowledged;
  if (status == 429 || status == 503) return Outcome::kRefused;
  return Outcome::kFailed;
}

double Report::itemsPerSecond() const {
  return elapsed_seconds > 0 ? static_cast<double>(counters.items_acknowledged) / elapsed_seconds
                             : 0;
}

double Report::requestsPerSecond() const {
  return elapsed_seconds > 0 ? static_cast<double>(counters.requests_acknowledged) / elapsed_seconds
                             : 0;
}

std::string toJson(const Report& r) {
  const Counters& c = r.counters;
  std::string out = "{";
  strAppend(&out, "\"signal\":", common::jsonString(r.signal),
            ",\"protocol\":", common::jsonString(r.protocol),
            ",\"endpoint\":", common::jsonString(r.endpoint),
            ",\"compression\":", common::jsonString(r.compression),
            ",\"shape\":", common::jsonString(r.shape), ",\"batch\":", r.batch,
            ",\"concurrency\":", r.concurrency,
            ",\"rate_limit\":", r.rate_limit > 0 ? number(r.rate_limit) : "null",
            ",\"elapsed_seconds\":", number(r.elapsed_seconds));
  strAppend(&out, ",\"payload\":{\"encoded_bytes_per_item\":", number(r.encoded_bytes_per_item),
            ",\"body_bytes_per_item\":", number(r.body_bytes_per_item), "}");
  strAppend(&out, ",\"items\":{\"sent\":", c.items_sent, ",\"acknowledged\":", c.items_acknowledged,
            ",\"rejected\":", c.items_rejected, ",\"refused\":", c.items_refused,
            ",\"failed\":", c.items_failed, "}");
  strAppend(&out, ",\"requests\":{\"sent\":", c.requests_sent,
            ",\"acknowledged\":", c.requests_acknowledged, ",\"refused\":", c.requests_refused,
            ",\"failed\":", c.requests_failed, "}");
  strAppend(&out, ",\"rate\":{\"items_per_second\":", number(r.itemsPerSecond()),
            ",\"requests_per_second\":", number(r.requestsPerSecond()), "}");
  strAppend(&out, ",\"latency_ms\":{\"count\":", r.latency.count(),
            ",\"p50\":", number(millis(r.latency.percentile(0.5))),
            ",\"p99\":", number(millis(r.latency.percentile(0.99))),
            ",\"p999\":", number(millis(r.latency.percentile(0.999))),
            ",\"max\":", number(millis(r.latency.max())), "}");
  out += ",\"errors\":[";
  bool first = true;
  for (const auto& [message, count] : r.errors) {
    strAppend(&out, first ? "" : ",", "{\"message\":", common::jsonString(message),
              ",\"count\":", count, "}");
    first = false;
  }
  out += "]}";
  return out;
}

std::string toText(const Report& r) {
  const Counters& c = r.counters;
  std::string out = absl::StrFormat(
      "otlpd loadgen: %s over %s to %s (%s shape, batch %d, concurrency %d, rate %s, "
      "compression %s)\n",
      r.signal, r.protocol, r.endpoint, r.shape, r.batch, r.concurrency,
      r.rate_limit > 0 ? absl::StrFormat("%s items/s", number(r.rate_limit)) : "unlimited",
      r.compression);
  out += absl::StrFormat("payload:  %.0f bytes/item encoded, %.0f bytes/item as sent\n",
                         r.encoded_bytes_per_item, r.body_bytes_per_item);
  out += absl::StrFormat("elapsed:  %.2f s\n", r.elapsed_seconds);
  out += absl::StrFormat(
      "items:    %d sent, %d acknowledged, %d rejected (partial success), %d refused, %d "
      "failed\n",
      c.items_sent, c.items_acknowledged, c.items_rejected, c.items_refused, c.items_failed);
  out += absl::StrFormat("requests: %d sent, %d acknowledged, %d refused, %d failed\n",
                         c.requests_sent, c.requests_acknowledged, c.requests_refused,
                         c.requests_failed);
  out += absl::StrFormat("rate:     %.0f items/s acknowledged (%.1f requests/s, %.1f MB/s)\n",
                         r.itemsPerSecond(), r.requestsPerSecond(),
                         r.itemsPerSecond() * r.body_bytes_per_item / 1e6);
  out += absl::StrFormat(
      "latency:  p50 %.2f ms, p99 %.2f ms, p999 %.2f ms, max %.2f ms (%d "
      "answered requests)\n",
      millis(r.latency.percentile(0.5)), millis(r.latency.percentile(0.99)),
      millis(r.latency.percentile(0.999)), millis(r.latency.max()), r.latency.count());
  for (const auto& [message, count] : r.errors) {
    out += absl::StrFormat("error:    %d× %s\n", count, message);
  }
  return out;
}

std::string progressLine(const Counters& c, double elapsed, double recent_items_per_s) {
  return absl::StrFormat(
      "[%6.1fs] sent %s, acked %s, rejected %s, refused %s, failed %s items | %s items/s | %d in "
      "flight",
      elapsed, compact(static_cast<double>(c.items_sent)),
      compact(static_cast<double>(c.items_acknowledged)),
      compact(static_cast<double>(c.items_rejected)), compact(static_cast<double>(c.items_refused)),
      compact(static_cast<double>(c.items_failed)), compact(recent_items_per_s),
      c.requestsInFlight());
}

}  // namespace otlpd::loadgen
