// The `callback` exporter: hands each batch to a function of the program that embeds otlpd (the
// library's ExportCallback), as encoded OTLP or OTLP/JSON, with the exporter helper's queue,
// batching, retry, timeout, circuit breaker and dead-letter queue around it, like any exporter.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "pipeline/factory.h"

namespace otlpd::exporters::callback {

// OK: delivered. InvalidArgument: the function will never take this data (dead-lettered, not
// retried). Anything else: retried with backoff.
using CallbackFunction =
    std::function<absl::Status(pipeline::Signal signal, bool json, std::string_view data)>;

// The embedder's functions by exporter id ("callback", "callback/audit"). Fixed before the
// collector is created; shared by the factories of every config it runs.
using CallbackDirectory = std::map<std::string, CallbackFunction, std::less<>>;

std::unique_ptr<pipeline::ExporterFactory> makeCallbackExporterFactory(
    std::shared_ptr<const CallbackDirectory> callbacks);

}  // namespace otlpd::exporters::callback
