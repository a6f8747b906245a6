// What a load generator run counts, and how it is reported: a human summary, a JSON object for
// scripts, and the live progress line.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "loadgen/latency_histogram.h"

namespace otlpd::loadgen {

// How the destination answered one request.
enum class Outcome {
  kAcknowledged,  // OK (gRPC OK, HTTP 2xx), including a partial success
  kRefused,       // retryable: gRPC UNAVAILABLE/RESOURCE_EXHAUSTED, HTTP 429/503
  kFailed,        // anything else, including no answer (connection refused, timeout)
};

// `answered` is false when the status was produced by the client's transport (no connection),
// not sent by the server: such an UNAVAILABLE is a failure, not back-pressure.
Outcome classifyGrpcStatus(int grpc_code, bool answered);
Outcome classifyHttpStatus(int http_status);

struct Counters {
  int64_t requests_sent = 0;
  int64_t requests_acknowledged = 0;
  int64_t requests_refused = 0;
  int64_t requests_failed = 0;
  int64_t items_sent = 0;
  // Items of acknowledged requests minus those the server rejected in partial_success.
  int64_t items_acknowledged = 0;
  int64_t items_rejected = 0;  // partial_success rejected_* of acknowledged requests
  int64_t items_refused = 0;
  int64_t items_failed = 0;

  int64_t requestsInFlight() const {
    return requests_sent - requests_acknowledged - requests_refused - requests_failed;
  }
};

struct Report {
  std::string signal;
  std::string protocol;
  std::string endpoint;
  std::string compression;
  std::string shape;
  int64_t batch = 0;
  int64_t concurrency = 0;
  double rate_limit = 0;  // items/s; 0 = unlimited
  double elapsed_seconds = 0;
  double encoded_bytes_per_item = 0;
  double body_bytes_per_item = 0;
  Counters counters;
  // Latency of every request the server answered (acknowledged or refused).
  LatencyHistogram latency;
  // Distinct error messages (first ones only) and how often each occurred.
  std::map<std::string, int64_t> errors;

  double itemsPerSecond() const;  // acknowledged items per second
  double requestsPerSecond() const;
};

std::string toJson(const Report& report);
std::string toText(const Report& report);
// One line without a newline: elapsed time, counts and the rate over the last interval.
std::string progressLine(const Counters& now, double elapsed_seconds, double recent_items_per_s);

}  // namespace otlpd::loadgen
