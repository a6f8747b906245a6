#include "selftrace/tracer.h"

#include <gtest/gtest.h>

#include <mutex>

#include "common/logging.h"
#include "otlp/proto.h"

namespace otlpd::selftrace {
namespace {

namespace v1 = ::opentelemetry::proto::trace::v1;

// A tracer whose exporter keeps what it would send.
struct Captured {
  std::mutex mu;
  std::vector<v1::Span> spans;
};

std::unique_ptr<Tracer> captureTracer(Captured& out, common::MetricsRegistry& metrics,
                                      double ratio = 1.0, size_t queue = 2048,
                                      bool detailed = false) {
  TracerOptions options;
  options.sampling_ratio = ratio;
  options.detailed = detailed;
  options.max_queued_spans = queue;
  options.export_interval = std::chrono::milliseconds(10);
  options.send = [&out](const std::string& body) {
    otlp::TracesRequest request;
    EXPECT_TRUE(request.ParseFromString(body));
    std::lock_guard lock(out.mu);
    for (const auto& rs : request.resource_spans()) {
      EXPECT_EQ(rs.resource().attributes(0).value().string_value(), "otlpd");
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& s : ss.spans()) out.spans.push_back(s);
      }
    }
    return absl::OkStatus();
  };
  return std::make_unique<Tracer>(std::move(options), metrics);
}

auto noHeaders = [](std::string_view) -> std::optional<std::string_view> { return std::nullopt; };

TEST(ScopedSpan, WithoutATracerNothingIsRecorded) {
  ASSERT_EQ(Tracer::installed(), nullptr);
  int lookups = 0;
  auto span =
      ScopedSpan::server("GET /x", [&](std::string_view) -> std::optional<std::string_view> {
        ++lookups;
        return std::nullopt;
      });
  EXPECT_FALSE(span.recording());
  EXPECT_EQ(span.traceparent(), "");
  EXPECT_EQ(lookups, 0) << "headers are not even looked at";
  EXPECT_EQ(ScopedSpan::current(), nullptr);
}

TEST(ScopedSpan, ServerSpanContinuesTheCallersTraceAndChildrenNest) {
  common::MetricsRegistry metrics;
  Captured captured;
  {
    auto tracer = captureTracer(captured, metrics, /*ratio=*/0.0);  // the parent decides
    Tracer::install(tracer.get());
    std::string child_parent;
    {
      auto server = ScopedSpan::server(
          "GET /api/services", [](std::string_view name) -> std::optional<std::string_view> {
            if (name == "traceparent") {
              return "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
            }
            if (name == "tracestate") return "rojo=1";
            return std::nullopt;
          });
      ASSERT_TRUE(server.recording());
      EXPECT_TRUE(server.traceparent().starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
      EXPECT_EQ(server.tracestate(), "rojo=1");
      server.setAttribute("http.response.status_code", int64_t{200});
      auto child = ScopedSpan::child("store read");
      child_parent = server.traceparent().substr(36, 16);
    }
    Tracer::install(nullptr);
  }  // the tracer's destructor exports what is queued
  ASSERT_EQ(captured.spans.size(), 2u);
  const v1::Span& child = captured.spans[0];
  const v1::Span& server = captured.spans[1];
  EXPECT_EQ(server.name(), "GET /api/services");
  EXPECT_EQ(server.kind(), v1::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(toHex(reinterpret_cast<const uint8_t*>(server.trace_id().data()), 16),
            "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(toHex(reinterpret_cast<const uint8_t*>(server.parent_span_id().data()), 8),
            "00f067aa0ba902b7");
  EXPECT_EQ(server.trace_state(), "rojo=1");
  EXPECT_EQ(server.attributes(0).value().int_value(), 200);
  EXPECT_EQ(child.trace_id(), server.trace_id());
  EXPECT_EQ(child.parent_span_id(), server.span_id());
  EXPECT_GE(server.end_time_unix_nano(), server.start_time_unix_nano());
}

// `level: detailed` traces the stages inside a sampled operation; `basic` does not, and neither
// level starts a trace for a stage on its own or records one under an unsampled request.
TEST(ScopedSpan, DetailSpansOnlyAtLevelDetailedInsideSampledSpans) {
  auto run = [](bool detailed) {
    common::MetricsRegistry metrics;
    Captured captured;
    {
      auto tracer = captureTracer(captured, metrics, /*ratio=*/1.0, 2048, detailed);
      Tracer::install(tracer.get());
      {
        auto lone = ScopedSpan::detail("stage without a request");
        EXPECT_FALSE(lone.recording());
      }
      {
        auto unsampled =
            ScopedSpan::server("x", [](std::string_view n) -> std::optional<std::string_view> {
              if (n == "traceparent")
                return "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
              return std::nullopt;
            });
        auto stage = ScopedSpan::detail("stage of an unsampled request");
        EXPECT_FALSE(stage.recording());
      }
      {
        auto request = ScopedSpan::server("ingest traces", noHeaders);
        auto stage = ScopedSpan::detail("processor batch");
        EXPECT_EQ(stage.recording(), detailed);
      }
      Tracer::install(nullptr);
    }
    std::vector<std::string> names;
    for (const auto& s : captured.spans) names.push_back(s.name());
    return names;
  };
  EXPECT_EQ(run(false), std::vector<std::string>{"ingest traces"});
  EXPECT_EQ(run(true), (std::vector<std::string>{"processor batch", "ingest traces"}));
}

TEST(ScopedSpan, NewTracesFollowTheRatioAndUnsampledParentsAreHonoured) {
  common::MetricsRegistry metrics;
  Captured captured;
  {
    auto tracer = captureTracer(captured, metrics, /*ratio=*/0.0);
    Tracer::install(tracer.get());
    { auto root = ScopedSpan::server("root", noHeaders); }
    {
      auto unsampled =
          ScopedSpan::server("x", [](std::string_view n) -> std::optional<std::string_view> {
            if (n == "traceparent")
              return "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
            return std::nullopt;
          });
      EXPECT_TRUE(unsampled.traceparent().ends_with("-00"));
    }
    // An invalid traceparent (version ff) starts a new trace instead.
    {
      auto bad = ScopedSpan::server("y", [](std::string_view n) -> std::optional<std::string_view> {
        if (n == "traceparent") return "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        return std::nullopt;
      });
      EXPECT_FALSE(bad.traceparent().starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736"));
    }
    Tracer::install(nullptr);
  }
  EXPECT_TRUE(captured.spans.empty());
}

TEST(ScopedSpan, LogLinesInsideASpanCarryItsIds) {
  common::MetricsRegistry metrics;
  Captured captured;
  std::vector<std::string> lines;
  logging::setSinkForTesting([&](std::string_view line) { lines.emplace_back(line); });
  std::string traceparent;
  {
    auto tracer = captureTracer(captured, metrics);
    Tracer::install(tracer.get());
    {
      auto span = ScopedSpan::child("work");
      traceparent = span.traceparent();
      logging::info("inside");
    }
    logging::info("outside");
    Tracer::install(nullptr);
  }
  logging::setSinkForTesting(nullptr);
  ASSERT_GE(lines.size(), 2u);
  const std::string trace_id = traceparent.substr(3, 32), span_id = traceparent.substr(36, 16);
  bool inside = false, outside = false;
  for (const auto& line : lines) {
    if (line.find("\"inside\"") != std::string::npos) {
      inside = true;
      EXPECT_NE(line.find("\"trace_id\":\"" + trace_id + "\",\"span_id\":\"" + span_id + "\""),
                std::string::npos)
          << line;
    }
    if (line.find("\"outside\"") != std::string::npos) {
      outside = true;
      EXPECT_EQ(line.find("trace_id"), std::string::npos) << line;
    }
  }
  EXPECT_TRUE(inside && outside);
}

TEST(Tracer, AFullQueueDropsAndCountsInsteadOfWaiting) {
  common::MetricsRegistry metrics;
  TracerOptions options;
  options.max_queued_spans = 3;
  options.export_interval = std::chrono::hours(1);
  std::atomic<int> sent{0};
  options.send = [&](const std::string& body) {
    otlp::TracesRequest r;
    r.ParseFromString(body);
    sent += r.resource_spans(0).scope_spans(0).spans_size();
    return absl::OkStatus();
  };
  {
    Tracer tracer(std::move(options), metrics);
    Tracer::install(&tracer);
    for (int i = 0; i < 10; ++i) auto s = ScopedSpan::child("s");
    Tracer::install(nullptr);
  }
  EXPECT_EQ(sent.load(), 3);
  const std::string text = metrics.renderPrometheus();
  EXPECT_NE(text.find("otlpd_selftrace_spans_total{outcome=\"dropped\"} 7"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace otlpd::selftrace
