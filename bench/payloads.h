// Realistic OTLP payloads for benchmarks: what an instrumented service sends, not minimal
// messages that flatter a decoder.
#pragma once

#include <cstddef>

#include "otlp/proto.h"

namespace otlpd::bench {

// `spans` spans of one service in one request, ~800 bytes each on the wire: ~10 attributes of
// mixed types (HTTP/DB semantic conventions), an event on every 4th span, parent links.
otlp::TracesRequest makeTracesRequest(size_t spans, uint64_t seed = 1);

}  // namespace otlpd::bench
