// Metrics through the real binary into the store: a request with every metric type (exemplars,
// metadata, optional fields, exponential buckets) sent over OTLP/HTTP protobuf and OTLP/gRPC
// reaches the store exporter as a wire batch, is converted from its bytes (store/wire_columns.h)
// and reads back from the files as the request that was sent.
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "../store/store_test_data.h"
#include "otlp/proto.h"
#include "otlpd/store/reader.h"
#include "otlpd_process_support.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.grpc.pb.h"
#pragma GCC diagnostic pop

namespace otlpd::integration {
namespace {

namespace pb_collector_metrics = ::opentelemetry::proto::collector::metrics::v1;
using google::protobuf::util::MessageDifferencer;

constexpr std::string_view kConfig = R"(receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
      http: { endpoint: "127.0.0.1:0" }
exporters:
  store: { directory: "@DIR@/store", write_interval: 50ms }
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    metrics: { receivers: [otlp], exporters: [store] }
)";

// The metrics requests the store's files hold, one per record batch.
std::vector<otlp::MetricsRequest> storedRequests(const std::string& store_dir) {
  std::vector<otlp::MetricsRequest> out;
  store::StoreReader reader(store_dir);
  store::ScanQuery query;
  query.signal = store::StoredSignal::kMetrics;
  const std::string error = reader.scan(query, [&](std::string_view bytes) {
    otlp::MetricsRequest& r = out.emplace_back();
    EXPECT_TRUE(r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
    return true;
  });
  EXPECT_EQ(error, "");
  return out;
}

TEST(StoreMetricsTest, EveryMetricTypeSentOverHttpAndGrpcReadsBackAsSent) {
  auto process = OtlpdProcess::start(kConfig);
  ASSERT_TRUE(process.ok()) << process.status();
  const otlp::MetricsRequest sent = store::testing::richMetrics();

  auto posted = httpRequest((*process)->httpEndpoint(), "POST", "/v1/metrics",
                            {{"Content-Type", "application/x-protobuf"}}, sent.SerializeAsString());
  ASSERT_TRUE(posted.ok()) << posted.status();
  ASSERT_EQ(posted->status, 200) << posted->body;
  // The next request only once the first is in a record batch of its own.
  const std::string store_dir = (*process)->dir() + "/store";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (storedRequests(store_dir).empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  {  // closed before the stop: an open channel holds the server's shutdown up
    auto channel =
        grpc::CreateChannel((*process)->grpcEndpoint(), grpc::InsecureChannelCredentials());
    auto stub = pb_collector_metrics::MetricsService::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    pb_collector_metrics::ExportMetricsServiceResponse response;
    const grpc::Status status = stub->Export(&context, sent, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.partial_success().rejected_data_points(), 0);
  }
  ASSERT_TRUE((*process)->stop().cleanExit());  // writes what the store still holds
  const std::vector<otlp::MetricsRequest> stored = storedRequests(store_dir);
  ASSERT_EQ(stored.size(), 2u);
  for (const otlp::MetricsRequest& r : stored) {
    EXPECT_TRUE(MessageDifferencer::Equals(r, sent)) << "stored:\n"
                                                     << r.DebugString() << "\nsent:\n"
                                                     << sent.DebugString();
  }
}

}  // namespace
}  // namespace otlpd::integration
