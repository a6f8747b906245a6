// Realistic OTLP payloads for benchmarks: what an instrumented service sends, not minimal
// messages that flatter a decoder.
#pragma once

#include <cstddef>
#include <string>

#include "loadgen/payloads.h"
#include "otlp/proto.h"

namespace otlpd::bench {

// `spans` spans of one service in one request, ~590 bytes each on the wire: 10 attributes of
// mixed types (HTTP/DB semantic conventions), an event on every 4th span, parent links, a
// resource of 4 attributes.
otlp::TracesRequest makeTracesRequest(size_t spans, uint64_t seed = 1);

// The same spans made to ~800 bytes each on the wire, the size issue #4's store benchmark asks
// for: 4 more attributes per span (route, thread, code function, a random request id), and a
// resource of realistic size (SDK, process, host, Kubernetes and cloud attributes: 20 in all).
otlp::TracesRequest makeTracesRequest800(size_t spans, uint64_t seed = 1);

// The first request body `otlpd loadgen --protocol <protocol>` sends (built once per protocol),
// so that a decoder benchmark and its end-to-end scenario measure the same spans. Empty if
// loadgen cannot build it.
const std::string& loadgenBody(loadgen::Protocol protocol);

}  // namespace otlpd::bench
