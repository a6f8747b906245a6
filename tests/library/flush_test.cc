// Collector::flush(): everything accepted before the call is finished with by the exporters when
// it returns, with the receivers running and nothing rebound.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "library_test_support.h"
#include "otlpd/collector.h"
#include "otlpd/store/reader.h"
#include "otlpd/store_query.h"

namespace otlpd {
namespace {

using library_test::spans;
using library_test::TempDir;
using ::testing::HasSubstr;

// Spans in the store, read by a reader opened now.
size_t storedSpans(const std::string& directory) {
  auto columns = StoreQuery(directory).spanColumns(store::ScanQuery{});
  EXPECT_TRUE(columns.ok()) << columns.status().toString();
  return columns.ok() ? columns->rows : 0;
}

// The embedded receiver and an OTLP/gRPC listener on an ephemeral port feed a batch processor
// and then the store and a callback exporter; every timer (batch timeout, the store's
// write_interval, the exporter helper's batch flush_timeout) is an hour, so only a flush can have
// delivered what a test sees.
std::string holdingConfig(const std::string& store_dir) {
  return R"(
receivers:
  embedded:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
processors:
  batch:
    send_batch_size: 100000
    timeout: 1h
exporters:
  store:
    directory: )" +
         store_dir + R"(
    write_interval: 1h
  callback:
    sending_queue:
      num_consumers: 2
      sizer: items
      batch:
        min_size: 100000
        flush_timeout: 1h
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces:
      receivers: [embedded, otlp]
      exporters: [store, callback]
    traces/batched:
      receivers: [otlp]
      processors: [batch]
      exporters: [callback]
)";
}

size_t spanCount(std::string_view encoded) {
  ::otlpd::otlp::TracesRequest request;
  if (!request.ParseFromArray(encoded.data(), static_cast<int>(encoded.size()))) return 0;
  size_t n = 0;
  for (const auto& rs : request.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) n += static_cast<size_t>(ss.spans_size());
  }
  return n;
}

struct Counted {
  std::atomic<size_t> spans{0};
};

CollectorOptions countInto(Counted& counted) {
  CollectorOptions options;
  options.callbacks["callback"] = [&counted](Signal, Encoding, std::string_view data) {
    counted.spans += spanCount(data);
    return Status();
  };
  return options;
}

TEST(CollectorFlush, StoredDataIsReadableAtOnceAndNothingRebinds) {
  TempDir dir;
  Counted counted;
  auto c = Collector::fromYaml(holdingConfig(dir.path()), countInto(counted));
  ASSERT_TRUE(c.ok()) << c.status().toString();
  ASSERT_TRUE((*c)->start().ok());
  const std::map<std::string, std::string> endpoints = (*c)->endpoints();
  ASSERT_EQ(endpoints.count("otlp.grpc"), 1u);

  ASSERT_TRUE((*c)->exportTraces(spans(3, 0, '\x07', "cart").SerializeAsString()).ok());
  ASSERT_TRUE((*c)->exportTraces(spans(2, 0, '\x08', "billing").SerializeAsString()).ok());
  ASSERT_TRUE((*c)->flush(std::chrono::seconds(30)).ok());

  StoreQuery query(dir.path());
  auto trace = query.trace("07070707070707070707070707070707");
  ASSERT_TRUE(trace.ok()) << trace.status().toString();
  EXPECT_EQ(trace->spans.size(), 3u);
  EXPECT_EQ(storedSpans(dir.path()), 5u);
  EXPECT_EQ(counted.spans.load(), 5u);  // the helper's queue did not wait for min_size

  // Still running on the same listener; the next flush delivers what came since.
  EXPECT_EQ((*c)->endpoints(), endpoints);
  ASSERT_TRUE((*c)->exportTraces(spans(4, 0, '\x09').SerializeAsString()).ok());
  ASSERT_TRUE((*c)->flush(std::chrono::seconds(30)).ok());
  EXPECT_EQ(storedSpans(dir.path()), 9u);
  EXPECT_EQ(counted.spans.load(), 9u);
  ASSERT_TRUE((*c)->shutdown().ok());
  EXPECT_EQ((*c)->flush().code(), StatusCode::kNotRunning);
}

TEST(CollectorFlush, FlushesWhileAnotherThreadKeepsExporting) {
  TempDir dir;
  Counted counted;
  auto c = Collector::fromYaml(R"(
receivers:
  embedded:
exporters:
  store:
    directory: )" + dir.path() + R"(
    write_interval: 1h
  callback:
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces:
      receivers: [embedded]
      exporters: [store, callback]
)",
                               countInto(counted));
  ASSERT_TRUE(c.ok()) << c.status().toString();
  ASSERT_TRUE((*c)->start().ok());

  std::atomic<bool> stop{false};
  std::atomic<size_t> accepted_spans{0};
  std::atomic<int> failures{0};
  const std::string request = spans(5).SerializeAsString();
  std::thread exporter([&] {
    while (!stop) {
      if ((*c)->exportTraces(request).ok()) {
        accepted_spans += 5;
      } else {
        failures++;
      }
      // Paced, so the run stays small; the flushes still overlap exports.
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  for (int round = 0; round < 5; ++round) {
    // Wait (bounded) for something new, so each round flushes data accepted before it.
    for (int i = 0; i < 10000 && accepted_spans.load() < 100 * static_cast<size_t>(round + 1);
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const size_t before = accepted_spans.load();
    ASSERT_TRUE((*c)->flush(std::chrono::seconds(30)).ok()) << "round " << round;
    EXPECT_GE(storedSpans(dir.path()), before) << "round " << round;
  }
  stop = true;
  exporter.join();
  EXPECT_EQ(failures.load(), 0);  // the queues have room: nothing is refused
  ASSERT_TRUE((*c)->flush(std::chrono::seconds(30)).ok());
  EXPECT_EQ(storedSpans(dir.path()), accepted_spans.load());
  EXPECT_EQ(counted.spans.load(), accepted_spans.load());
  ASSERT_TRUE((*c)->shutdown().ok());
}

TEST(CollectorFlush, AStalledExporterMakesFlushMissItsDeadline) {
  CollectorOptions options;
  std::atomic<bool> destination_up{false};
  std::atomic<size_t> delivered{0};
  options.callbacks["callback"] = [&](Signal, Encoding, std::string_view data) -> Status {
    if (!destination_up) return Status(StatusCode::kRetryable, "destination down");
    delivered += spanCount(data);
    return Status();
  };
  auto c = Collector::fromYaml(R"(
receivers:
  embedded:
exporters:
  callback:
    retry_on_failure:
      initial_interval: 5ms
      max_interval: 20ms
      max_elapsed_time: 10m
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces:
      receivers: [embedded]
      exporters: [callback]
)",
                               std::move(options));
  ASSERT_TRUE(c.ok()) << c.status().toString();
  ASSERT_TRUE((*c)->start().ok());
  ASSERT_TRUE((*c)->exportTraces(spans(2).SerializeAsString()).ok());
  const Status stalled = (*c)->flush(std::chrono::milliseconds(100));
  EXPECT_EQ(stalled.code(), StatusCode::kDeadlineExceeded) << stalled.toString();
  EXPECT_THAT(stalled.message(), HasSubstr("exporter callback (traces)"));
  // The exports go on meanwhile, and nothing was dropped: once the destination is back, the
  // next flush sees the request delivered.
  EXPECT_TRUE((*c)->exportTraces(spans(1).SerializeAsString()).ok());
  destination_up = true;
  ASSERT_TRUE((*c)->flush(std::chrono::seconds(30)).ok());
  EXPECT_EQ(delivered.load(), 3u);
  ASSERT_TRUE((*c)->shutdown().ok());
}

}  // namespace
}  // namespace otlpd
