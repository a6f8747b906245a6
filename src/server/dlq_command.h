// `otlpd dlq ls DIR` and `otlpd dlq replay DIR --to ENDPOINT`: inspect and re-send what exporters
// wrote to a dead-letter queue.
#pragma once

#include <CLI/CLI.hpp>

namespace otlpd::server {

// Adds the `dlq` subcommand; its subcommands run from CLI11 callbacks during parsing and report
// failure with CLI::RuntimeError (exit code 1).
void registerDlqCommand(CLI::App& app);

}  // namespace otlpd::server
