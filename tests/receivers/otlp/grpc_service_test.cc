// The OTLP receiver's gRPC service in process: a consumer that holds the client's OK
// (DeferredAck, as the store does with `durability: sync` or a full queue) decides when, and
// with what, the client is answered, also while the receiver shuts down.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "common/metrics_registry.h"
#include "config/loader.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "otlp/proto.h"
#include "pipeline/deferred_ack.h"
#include "receivers/otlp/factory.h"

namespace otlpd::receivers::otlp {
namespace {

namespace collector_trace = opentelemetry::proto::collector::trace::v1;
using namespace std::chrono_literals;

// Takes a hold on every batch's acknowledgement and keeps it until the test releases it.
class HoldingSink final : public pipeline::Consumer {
 public:
  absl::Status consume(pipeline::Batch&& batch) override {
    pipeline::DeferredAck* ack = pipeline::DeferredAck::current();
    if (ack == nullptr) return absl::InternalError("no deferred acknowledgement in scope");
    std::lock_guard lock(mu_);
    items_ += batch.itemCount();
    holds_.push_back(ack->hold());
    cv_.notify_all();
    return absl::OkStatus();
  }
  bool waitForHolds(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return holds_.size() >= n; });
  }
  void releaseAll(const absl::Status& status) {
    std::vector<pipeline::DeferredAck::Done> holds;
    {
      std::lock_guard lock(mu_);
      holds.swap(holds_);
    }
    for (auto& done : holds) done(status);
  }
  size_t items() {
    std::lock_guard lock(mu_);
    return items_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<pipeline::DeferredAck::Done> holds_;
  size_t items_ = 0;
};

struct EndpointHost final : pipeline::Host {
  void publishEndpoint(const std::string& key, const std::string& endpoint) override {
    if (key == "otlp.grpc") grpc_endpoint = endpoint;
  }
  std::string grpc_endpoint;
};

class OtlpGrpcServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = config::parseYaml("protocols: { grpc: { endpoint: \"127.0.0.1:0\" } }", "test");
    ASSERT_TRUE(root.ok());
    config::ConfigErrors errors;
    config::ConfigNode node(*root, "receivers.otlp", errors);
    pipeline::SignalConsumers next;
    next.traces = sink_;
    auto receiver = makeOtlpReceiverFactory()->create(
        pipeline::CreateSettings{{"otlp", ""}, metrics_}, node, next);
    ASSERT_TRUE(receiver.ok()) << receiver.status();
    ASSERT_TRUE(errors.empty()) << errors.toString();
    receiver_ = *std::move(receiver);
    ASSERT_TRUE(receiver_->start(host_).ok());
    ASSERT_FALSE(host_.grpc_endpoint.empty());
    stub_ = collector_trace::TraceService::NewStub(
        grpc::CreateChannel(host_.grpc_endpoint, grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    sink_->releaseAll(absl::OkStatus());
    if (receiver_) (void)receiver_->shutdown();
  }

  // Sends one request of `spans` spans on its own thread; the future holds its status.
  std::future<grpc::Status> exportSpans(int spans) {
    return std::async(std::launch::async, [this, spans] {
      collector_trace::ExportTraceServiceRequest request;
      auto* scope = request.add_resource_spans()->add_scope_spans();
      for (int i = 0; i < spans; ++i) {
        auto* span = scope->add_spans();
        span->set_trace_id(std::string(15, '\x01') + static_cast<char>(i + 1));
        span->set_span_id(std::string(7, '\x02') + static_cast<char>(i + 1));
        span->set_name("held");
      }
      collector_trace::ExportTraceServiceResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + 30s);
      return stub_->Export(&context, request, &response);
    });
  }

  // Shuts the receiver down on another thread while the sink holds its answers: the shutdown
  // must still be going after `held_for`; then the holds are released with OK and the shutdown's
  // result returned.
  absl::Status shutDownWhileHeldFor(std::chrono::milliseconds held_for) {
    auto stopped = std::async(std::launch::async, [this] { return receiver_->shutdown(); });
    EXPECT_EQ(stopped.wait_for(held_for), std::future_status::timeout)
        << "the receiver stopped with answers still held";
    sink_->releaseAll(absl::OkStatus());
    if (stopped.wait_for(20s) != std::future_status::ready) {
      ADD_FAILURE() << "the receiver did not stop once the answers were released";
      return absl::DeadlineExceededError("shutdown did not return");
    }
    return stopped.get();
  }

  common::MetricsRegistry metrics_{common::MetricsRegistry::ProcessMetrics::kExclude};
  std::shared_ptr<HoldingSink> sink_ = std::make_shared<HoldingSink>();
  EndpointHost host_;
  std::unique_ptr<pipeline::Receiver> receiver_;
  std::unique_ptr<collector_trace::TraceService::Stub> stub_;
};

TEST_F(OtlpGrpcServiceTest, TheOkIsSentWhenTheConsumerReleasesItsHold) {
  auto answer = exportSpans(3);
  ASSERT_TRUE(sink_->waitForHolds(1));
  EXPECT_EQ(answer.wait_for(200ms), std::future_status::timeout) << "answered before the release";
  sink_->releaseAll(absl::OkStatus());
  ASSERT_EQ(answer.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(answer.get().ok());
  EXPECT_EQ(sink_->items(), 3u);
}

TEST_F(OtlpGrpcServiceTest, AFailedHoldIsAnsweredRetryably) {
  auto answer = exportSpans(1);
  ASSERT_TRUE(sink_->waitForHolds(1));
  sink_->releaseAll(absl::UnavailableError("the store shut down"));
  ASSERT_EQ(answer.wait_for(10s), std::future_status::ready);
  const grpc::Status status = answer.get();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(status.error_message().find("the store shut down"), std::string::npos);
}

// The pipeline releases what it holds after the receivers stopped (exporters stop last), so
// shutting the receiver down with calls held must neither crash nor lose their answers.
TEST_F(OtlpGrpcServiceTest, ShutdownWaitsForHeldCallsAndTheirAnswersAreSent) {
  std::vector<std::future<grpc::Status>> answers;
  answers.reserve(4);
  for (int i = 0; i < 4; ++i) answers.push_back(exportSpans(2));
  ASSERT_TRUE(sink_->waitForHolds(4));
  EXPECT_TRUE(shutDownWhileHeldFor(300ms).ok());
  for (auto& a : answers) {
    ASSERT_EQ(a.wait_for(10s), std::future_status::ready);
    EXPECT_TRUE(a.get().ok());
  }
  receiver_.reset();
}

// Past its deadline (5 s) gRPC cancels what is still open, and a call whose answer is still held
// is answered UNAVAILABLE by the receiver's stop() instead of waiting for the consumer: what holds
// it may let go only once the pipeline behind the receiver stops, which is after it (a sending
// queue blocking on overflow, an exporter without a queue, while the destination is down). The
// release that comes later answers nothing (the call is gone).
TEST_F(OtlpGrpcServiceTest, ACallHeldPastTheShutdownDeadlineIsAnsweredRetryably) {
  auto answer = exportSpans(2);
  ASSERT_TRUE(sink_->waitForHolds(1));
  const auto before = std::chrono::steady_clock::now();
  auto stopped = std::async(std::launch::async, [this] { return receiver_->shutdown(); });
  ASSERT_EQ(stopped.wait_for(20s), std::future_status::ready) << "the receiver waited for the hold";
  EXPECT_TRUE(stopped.get().ok());
  EXPECT_GE(std::chrono::steady_clock::now() - before, 4s) << "the call had its grace period";
  ASSERT_EQ(answer.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(answer.get().error_code(), grpc::StatusCode::UNAVAILABLE);
  sink_->releaseAll(absl::OkStatus());
  receiver_.reset();
}

}  // namespace
}  // namespace otlpd::receivers::otlp
