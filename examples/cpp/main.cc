// An application that keeps its own telemetry: a collector in the process (no port opened) with
// a store, spans exported to it as OTLP/JSON, and the trace read back with the query functions.
// Usage: otlpd_example_cpp <store directory>
#include <otlpd/collector.h>
#include <otlpd/store_query.h>

#include <chrono>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " <store directory>\n";
    return 2;
  }
  const std::string directory = argv[1];
  auto collector = otlpd::Collector::fromYaml(R"(
receivers:
  embedded:
exporters:
  store:
    directory: )" + directory + R"(
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [embedded]
      exporters: [store]
)");
  if (!collector.ok()) {
    std::cerr << collector.status().message() << "\n";
    return 1;
  }
  if (otlpd::Status s = (*collector)->start(); !s.ok()) {
    std::cerr << "start: " << s.toString() << "\n";
    return 1;
  }

  const long long now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  const std::string trace_id = "5b8efff798038103d269b633813fc60c";
  const std::string request = R"({"resourceSpans":[{"resource":{"attributes":[
      {"key":"service.name","value":{"stringValue":"example-shop"}}]},
    "scopeSpans":[{"spans":[
      {"traceId":")" + trace_id +
                              R"(","spanId":"eee19b7ec3c1b174","name":"GET /cart","kind":2,
       "startTimeUnixNano":")" +
                              std::to_string(now - 3000000) + R"(",
       "endTimeUnixNano":")" + std::to_string(now) +
                              R"("},
      {"traceId":")" + trace_id +
                              R"(","spanId":"eee19b7ec3c1b175","parentSpanId":"eee19b7ec3c1b174",
       "name":"SELECT cart","kind":3,
       "startTimeUnixNano":")" +
                              std::to_string(now - 2000000) + R"(",
       "endTimeUnixNano":")" + std::to_string(now - 1000000) +
                              R"("}]}]}]})";
  otlpd::ExportResult result = (*collector)->exportTraces(request, otlpd::Encoding::kJson);
  if (!result.ok()) {
    std::cerr << "export: " << result.status.toString() << "\n";
    return 1;
  }
  // Shutting down drains the pipeline: the store has written its files.
  if (otlpd::Status s = (*collector)->shutdown(); !s.ok()) {
    std::cerr << "shutdown: " << s.toString() << "\n";
    return 1;
  }

  otlpd::StoreQuery store(directory);
  auto trace = store.trace(trace_id);
  if (!trace.ok()) {
    std::cerr << "trace: " << trace.status().toString() << "\n";
    return 1;
  }
  for (const otlpd::SpanRecord& span : trace->spans) {
    std::cout << span.service << " " << span.name << " "
              << (span.end_unix_nano - span.start_unix_nano) / 1000 << "us\n";
  }
  std::cout << "otlpd " << otlpd::version() << ": " << trace->spans.size() << " spans read back\n";
  return trace->spans.size() == 2 ? 0 : 1;
}
