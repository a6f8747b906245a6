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
  # otlpd's own traces enter here, in-process (service.telemetry.traces below): the viewer shows
  # them under service.name = otlpd. Remove the traces block to turn them off.
  embedded/otlpd: {}

exporters:
  debug:
    verbosity: basic
  # Keeps everything received as Arrow IPC files under ./otlpd-data/{traces,metrics,logs}
  # (relative to the working directory); see docs/STORAGE.md.
  store:
    directory: ./otlpd-data

extensions:
  health_check:
    endpoint: localhost:13133
  # The trace viewer and query API (Jaeger's port): open http://localhost:16686; see docs/API.md.
  jaeger_query:
    endpoint: localhost:16686
    store:
      directory: ./otlpd-data

service:
  extensions: [health_check, jaeger_query]
  telemetry:
    logs:
      level: info
      encoding: json
    metrics:
      address: localhost:8888
    # Spans of query/UI requests, OTLP ingest requests, exports and reloads; a bounded queue that
    # drops (counted) rather than slow the data path. See docs/CONFIG.md, service.telemetry.
    traces:
      level: basic
      processors:
        - batch:
            exporter:
              pipelines:
                receiver: embedded/otlpd
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug, store]
    metrics:
      receivers: [otlp]
      exporters: [debug, store]
    logs:
      receivers: [otlp]
      exporters: [debug, store]
    traces/otlpd:
      receivers: [embedded/otlpd]
      exporters: [store]
)";

}  // namespace otlpd::server
