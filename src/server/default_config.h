#pragma once

#include <string_view>

namespace otlpd::server {

// What `otlpd serve` runs without --config; printed by `otlpd config default`.
inline constexpr std::string_view kDefaultConfig = R"(# otlpd embedded default configuration
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: localhost:4317
      http:
        endpoint: localhost:4318

exporters:
  debug:
    verbosity: basic

extensions:
  health_check:
    endpoint: localhost:13133

service:
  extensions: [health_check]
  telemetry:
    logs:
      level: info
      encoding: json
    metrics:
      address: localhost:8888
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
    metrics:
      receivers: [otlp]
      exporters: [debug]
    logs:
      receivers: [otlp]
      exporters: [debug]
)";

}  // namespace otlpd::server
