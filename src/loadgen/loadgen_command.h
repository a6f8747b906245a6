// `otlpd loadgen`: sends pre-encoded OTLP traffic (traces, metrics or logs over gRPC, HTTP/protobuf
// or HTTP/JSON) at a rate or as fast as the destination takes it, and reports what was
// acknowledged, refused and failed, the achieved rate and request latency. See docs/LOADGEN.md.
#pragma once

#include <CLI/CLI.hpp>

namespace otlpd::loadgen {

// Adds the `loadgen` subcommand; it runs from a CLI11 callback during parsing and reports a
// non-zero exit with CLI::RuntimeError (1: failures or nothing acknowledged, 2: bad options).
void registerLoadgenCommand(CLI::App& app);

}  // namespace otlpd::loadgen
