#include "otlpd/collector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "library_test_support.h"
#include "otlp/json_codec.h"
#include "otlpd/store_query.h"

namespace otlpd {
namespace {

using library_test::spans;
using library_test::TempDir;
using ::testing::HasSubstr;

// No port anywhere: the embedded receiver, a callback exporter, no self-metrics endpoint.
std::string callbackConfig(const std::string& extra_exporter_keys = "") {
  return R"(
receivers:
  embedded:
exporters:
  callback:
    sending_queue:
      num_consumers: 2
)" + extra_exporter_keys +
         R"(
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [embedded]
      exporters: [callback]
    logs:
      receivers: [embedded]
      exporters: [callback]
)";
}

struct Received {
  std::mutex mu;
  std::vector<std::string> requests;
  std::vector<Encoding> encodings;
  size_t count() {
    std::lock_guard lock(mu);
    return requests.size();
  }
};

CollectorOptions recordTo(Received& received) {
  CollectorOptions options;
  options.callbacks["callback"] = [&received](Signal, Encoding encoding, std::string_view data) {
    std::lock_guard lock(received.mu);
    received.requests.emplace_back(data);
    received.encodings.push_back(encoding);
    return Status();
  };
  return options;
}

TEST(Collector, InvalidConfigListsEveryErrorWithItsLine) {
  auto c = Collector::fromYaml(R"(
receivers:
  embedded:
    port: 4317
exporters:
  nop:
service:
  pipelines:
    traces:
      receivers: [embedded]
      exporters: [nop, missing]
)");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kConfigError);
  EXPECT_THAT(c.status().message(), HasSubstr("invalid config (2 errors)"));
  EXPECT_THAT(c.status().message(), HasSubstr("receivers.embedded.port (line 4"));
  EXPECT_THAT(c.status().message(), HasSubstr("missing"));
}

TEST(Collector, YamlSyntaxErrorIsAConfigErrorWithItsPosition) {
  auto c = Collector::fromYaml("receivers: [embedded\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kConfigError);
  EXPECT_THAT(c.status().message(), HasSubstr("line"));
}

TEST(Collector, CallbackExporterWithoutAFunctionDoesNotValidate) {
  auto c = Collector::fromYaml(callbackConfig());
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("no callback function is registered"));
}

TEST(Collector, DefaultConfigValidates) {
  auto c = Collector::fromDefault();
  EXPECT_TRUE(c.ok()) << c.status().toString();
  EXPECT_THAT(Collector::defaultConfig(), HasSubstr("receivers:"));
}

TEST(Collector, ExportsReachTheCallbackAsTheSameBytes) {
  Received received;
  auto c = Collector::fromYaml(callbackConfig(), recordTo(received));
  ASSERT_TRUE(c.ok()) << c.status().toString();
  ASSERT_TRUE((*c)->start().ok());
  const std::string bytes = spans(3).SerializeAsString();
  ExportResult r = (*c)->exportTraces(bytes);
  ASSERT_TRUE(r.ok()) << r.status.toString();
  EXPECT_FALSE(r.partial());
  ASSERT_TRUE((*c)->shutdown().ok());  // drains the exporter's queue
  ASSERT_EQ(received.count(), 1u);
  EXPECT_EQ(received.requests[0], bytes);
  EXPECT_EQ(received.encodings[0], Encoding::kProtobuf);
  EXPECT_THAT((*c)->metricsText(),
              HasSubstr("otlpd_receiver_accepted_spans_total{receiver=\"embedded\",transport="
                        "\"embedded\"} 3"));
}

TEST(Collector, OtlpJsonInAndOut) {
  Received received;
  auto c = Collector::fromYaml(callbackConfig("    encoding: json\n"), recordTo(received));
  ASSERT_TRUE(c.ok()) << c.status().toString();
  ASSERT_TRUE((*c)->start().ok());
  const std::string json = ::otlpd::otlp::toOtlpJson(spans(2));
  ExportResult r = (*c)->exportTraces(json, Encoding::kJson);
  ASSERT_TRUE(r.ok()) << r.status.toString();
  ASSERT_TRUE((*c)->shutdown().ok());
  ASSERT_EQ(received.count(), 1u);
  EXPECT_EQ(received.encodings[0], Encoding::kJson);
  ::otlpd::otlp::TracesRequest back;
  ASSERT_TRUE(::otlpd::otlp::parseOtlpJson(received.requests[0], back).ok());
  EXPECT_EQ(back.resource_spans(0).scope_spans(0).spans_size(), 2);
}

TEST(Collector, PartialSuccessSaysWhatWasRejected) {
  Received received;
  auto c = Collector::fromYaml(callbackConfig(), recordTo(received));
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->start().ok());
  ExportResult r = (*c)->exportTraces(spans(2, 1).SerializeAsString());
  ASSERT_TRUE(r.ok()) << r.status.toString();
  EXPECT_TRUE(r.partial());
  EXPECT_EQ(r.rejected_items, 1);
  EXPECT_THAT(r.rejected_message, HasSubstr("span_id"));
}

TEST(Collector, BadBytesAndBadJsonAreInvalidArguments) {
  Received received;
  auto c = Collector::fromYaml(callbackConfig(), recordTo(received));
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->start().ok());
  ExportResult r = (*c)->exportTraces(std::string("\xff\xff\xff\xff garbage", 12));
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument) << r.status.toString();
  r = (*c)->exportTraces("{\"resourceSpans\": 12}", Encoding::kJson);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument) << r.status.toString();
  // A signal no pipeline of this receiver takes.
  r = (*c)->exportMetrics("");
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument) << r.status.toString();
  EXPECT_THAT(r.status.message(), HasSubstr("no pipeline takes metrics"));
}

TEST(Collector, RequestBeyondTheMemoryBudgetIsRetryable) {
  Received received;
  auto c = Collector::fromYaml(callbackConfig() + R"(
  memory_budget:
    limit_mib: 32
)",
                               recordTo(received));
  ASSERT_TRUE(c.ok()) << c.status().toString();
  ASSERT_TRUE((*c)->start().ok());
  // Twice the wire size is reserved before decoding: 20 MiB does not fit in 32.
  ExportResult r = (*c)->exportTraces(std::string(size_t{20} << 20, 'x'));
  EXPECT_EQ(r.status.code(), StatusCode::kRetryable) << r.status.toString();
  EXPECT_TRUE(r.retryable());
  EXPECT_THAT(r.status.message(), HasSubstr("memory limit"));
}

TEST(Collector, CallsBeforeStartAndAfterShutdownAreRefused) {
  Received received;
  auto c = Collector::fromYaml(callbackConfig(), recordTo(received));
  ASSERT_TRUE(c.ok());
  const std::string bytes = spans(1).SerializeAsString();
  EXPECT_EQ((*c)->exportTraces(bytes).status.code(), StatusCode::kNotRunning);
  EXPECT_EQ((*c)->flush().code(), StatusCode::kNotRunning);
  ASSERT_TRUE((*c)->start().ok());
  EXPECT_TRUE((*c)->running());
  ASSERT_TRUE((*c)->shutdown().ok());
  EXPECT_FALSE((*c)->running());
  EXPECT_EQ((*c)->exportTraces(bytes).status.code(), StatusCode::kNotRunning);
  EXPECT_EQ((*c)->start().code(), StatusCode::kNotRunning);
  EXPECT_EQ((*c)->reload(callbackConfig()).code(), StatusCode::kNotRunning);
  EXPECT_TRUE((*c)->shutdown().ok());  // twice is fine
}

TEST(Collector, ReceiverMustBeNamedWhenThereAreSeveral) {
  Received received;
  auto c = Collector::fromYaml(R"(
receivers:
  embedded/a:
  embedded/b:
exporters:
  callback:
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces:
      receivers: [embedded/a, embedded/b]
      exporters: [callback]
)",
                               recordTo(received));
  ASSERT_TRUE(c.ok()) << c.status().toString();
  ASSERT_TRUE((*c)->start().ok());
  const std::string bytes = spans(1).SerializeAsString();
  EXPECT_EQ((*c)->exportTraces(bytes).status.code(), StatusCode::kNotFound);
  EXPECT_EQ((*c)->exportTraces(bytes, Encoding::kProtobuf, "embedded/c").status.code(),
            StatusCode::kNotFound);
  EXPECT_TRUE((*c)->exportTraces(bytes, Encoding::kProtobuf, "embedded/b").ok());
}

TEST(Collector, ThrowingCallbackIsCountedNotFatal) {
  CollectorOptions options;
  std::atomic<int> calls{0};
  options.callbacks["callback"] = [&](Signal, Encoding, std::string_view) -> Status {
    calls++;
    throw std::runtime_error("boom");
  };
  auto c = Collector::fromYaml(callbackConfig(), std::move(options));
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->start().ok());
  EXPECT_TRUE((*c)->exportTraces(spans(2).SerializeAsString()).ok());
  ASSERT_TRUE((*c)->shutdown().ok());
  EXPECT_EQ(calls.load(), 1);  // permanent: not retried
  EXPECT_THAT((*c)->metricsText(), HasSubstr("otlpd_exporter_send_failed_spans_total"));
}

TEST(Collector, RetryableCallbackFailureIsRetried) {
  CollectorOptions options;
  std::atomic<int> calls{0};
  options.callbacks["callback"] = [&](Signal, Encoding, std::string_view) -> Status {
    if (calls++ == 0) return Status(StatusCode::kRetryable, "not now");
    return Status();
  };
  auto c = Collector::fromYaml(callbackConfig(R"(    retry_on_failure:
      initial_interval: 10ms
)"),
                               std::move(options));
  ASSERT_TRUE(c.ok()) << c.status().toString();
  ASSERT_TRUE((*c)->start().ok());
  EXPECT_TRUE((*c)->exportTraces(spans(1).SerializeAsString()).ok());
  // Shutdown would interrupt the backoff: wait (bounded) for the retry first.
  for (int i = 0; i < 1000 && calls.load() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE((*c)->shutdown().ok());
  EXPECT_EQ(calls.load(), 2);
}

TEST(Collector, ManyThreadsExportAtOnceAndTwoCollectorsLiveSideBySide) {
  Received first_received, second_received;
  auto first = Collector::fromYaml(callbackConfig(), recordTo(first_received));
  auto second = Collector::fromYaml(callbackConfig(), recordTo(second_received));
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE((*first)->start().ok());
  ASSERT_TRUE((*second)->start().ok());
  const std::string bytes = spans(5).SerializeAsString();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Collector& target = t % 2 == 0 ? **first : **second;
      for (int i = 0; i < 50; ++i) {
        if (!target.exportTraces(bytes).ok()) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE((*first)->shutdown().ok());
  ASSERT_TRUE((*second)->shutdown().ok());
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(first_received.count(), 200u);
  EXPECT_EQ(second_received.count(), 200u);
}

TEST(Collector, ReloadKeepsTheRunningConfigWhenTheNewOneIsInvalid) {
  Received received;
  auto c = Collector::fromYaml(callbackConfig(), recordTo(received));
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->start().ok());
  Status s = (*c)->reload("receivers: {embedded: {bad: 1}}\n");
  EXPECT_EQ(s.code(), StatusCode::kConfigError);
  EXPECT_TRUE((*c)->exportTraces(spans(1).SerializeAsString()).ok());
  ASSERT_TRUE((*c)->reload(callbackConfig()).ok());
  EXPECT_TRUE((*c)->exportTraces(spans(1).SerializeAsString()).ok());
  ASSERT_TRUE((*c)->shutdown().ok());
  EXPECT_EQ(received.count(), 2u);
}

TEST(Collector, StoreRoundTripThroughTheQueryFunctions) {
  TempDir dir;
  auto c = Collector::fromYaml(R"(
receivers:
  embedded:
exporters:
  store:
    directory: )" + dir.path() +
                               R"(
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces:
      receivers: [embedded]
      exporters: [store]
)");
  ASSERT_TRUE(c.ok()) << c.status().toString();
  ASSERT_TRUE((*c)->start().ok());
  ASSERT_TRUE((*c)->exportTraces(spans(3, 0, '\x07', "cart").SerializeAsString()).ok());
  ASSERT_TRUE((*c)->exportTraces(spans(2, 0, '\x08', "billing").SerializeAsString()).ok());
  ASSERT_TRUE((*c)->flush().ok()) << "flush";
  ASSERT_TRUE((*c)->exportTraces(spans(1).SerializeAsString()).ok()) << "after flush";

  StoreQuery query(dir.path());
  auto trace = query.trace("07070707070707070707070707070707");
  ASSERT_TRUE(trace.ok()) << trace.status().toString();
  ASSERT_EQ(trace->spans.size(), 3u);
  EXPECT_EQ(trace->spans[0].service, "cart");
  EXPECT_EQ(trace->spans[0].name, "GET /cart");
  EXPECT_EQ(trace->spans[0].kind, 2);
  EXPECT_THAT(trace->spans[0].attributes,
              ::testing::Contains(std::pair<std::string, std::string>("http.status_code", "200")));
  auto otlp = query.traceOtlp("07070707070707070707070707070707");
  ASSERT_TRUE(otlp.ok());
  ::otlpd::otlp::TracesRequest request;
  ASSERT_TRUE(request.ParseFromString(*otlp));

  auto services = query.services();
  ASSERT_TRUE(services.ok()) << services.status().toString();
  EXPECT_THAT(*services, ::testing::IsSupersetOf({"billing", "cart"}));
  auto ops = query.operations("cart");
  ASSERT_TRUE(ops.ok());
  ASSERT_EQ(ops->size(), 2u);

  TraceSearch search;
  search.service = "billing";
  auto found = query.findTraces(search);
  ASSERT_TRUE(found.ok()) << found.status().toString();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].trace_id, "08080808080808080808080808080808");

  EXPECT_EQ(query.trace("0909").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(query.trace("not hex").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace otlpd
