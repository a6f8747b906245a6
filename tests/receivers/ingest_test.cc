#include "receivers/otlp/ingest.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "otlp/proto.h"

namespace otlpd::receivers::otlp {
namespace {

using pipeline::Signal;

class RecordingConsumer final : public pipeline::Consumer {
 public:
  absl::Status consume(pipeline::Batch&& batch) override {
    batches.push_back(std::move(batch));
    return absl::OkStatus();
  }
  std::vector<pipeline::Batch> batches;
};

::otlpd::otlp::TracesRequest spans(int valid, int invalid) {
  ::otlpd::otlp::TracesRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  for (int i = 0; i < valid + invalid; ++i) {
    auto* span = ss->add_spans();
    span->set_trace_id(std::string(16, '\x01'));
    span->set_span_id(i < valid ? std::string(8, '\x02') : std::string(3, '\x02'));
    span->set_name("op");
  }
  return req;
}

struct Fixture {
  Fixture() {
    budget.setLimit(64 << 20);
    pipeline::SignalConsumers next;
    next.traces = consumer;
    ingestor = std::make_unique<Ingestor>("otlp", next, metrics, &budget);
  }
  ExportOutcome send(const std::string& bytes) {
    return ingestor->exportRequest(
        Signal::kTraces, Transport::kGrpc, Encoding::kProtobuf, bytes.size(),
        [&](google::protobuf::Message& m) {
          return m.ParseFromString(bytes) ? absl::OkStatus() : absl::InvalidArgumentError("bad");
        },
        std::nullopt, pipeline::WireBytes::fromString(bytes));
  }
  common::MetricsRegistry metrics{common::MetricsRegistry::ProcessMetrics::kExclude};
  pipeline::MemoryBudget budget;
  std::shared_ptr<RecordingConsumer> consumer = std::make_shared<RecordingConsumer>();
  std::unique_ptr<Ingestor> ingestor;
};

TEST(Ingest, ValidProtobufRequestGoesOnAsItsBytesUndecoded) {
  Fixture f;
  const std::string bytes = spans(3, 0).SerializeAsString();
  const ExportOutcome out = f.send(bytes);
  ASSERT_EQ(out.kind, ExportOutcome::Kind::kOk);
  EXPECT_TRUE(out.body.empty());  // an empty Export*ServiceResponse: full success
  ASSERT_EQ(f.consumer->batches.size(), 1u);
  const pipeline::Batch& batch = f.consumer->batches[0];
  ASSERT_TRUE(batch.wireBytes());
  EXPECT_EQ(*batch.wireBytes(), bytes);
  EXPECT_EQ(batch.itemCount(), 3u);
  EXPECT_EQ(batch.arenaBytes(), 0u);
  // The budget counts the bytes the batch holds, until the batch is gone.
  EXPECT_EQ(f.budget.inUse(), bytes.size());
  f.consumer->batches.clear();
  EXPECT_EQ(f.budget.inUse(), 0u);
}

TEST(Ingest, InvalidItemsTakeTheDecodePathAndAPartialSuccess) {
  Fixture f;
  const ExportOutcome out = f.send(spans(2, 1).SerializeAsString());
  ASSERT_EQ(out.kind, ExportOutcome::Kind::kOk);
  ::otlpd::otlp::TracesResponse response;
  ASSERT_TRUE(response.ParseFromString(out.body));
  EXPECT_EQ(response.partial_success().rejected_spans(), 1);
  ASSERT_EQ(f.consumer->batches.size(), 1u);
  EXPECT_FALSE(f.consumer->batches[0].wireBytes());
  EXPECT_EQ(f.consumer->batches[0].itemCount(), 2u);
}

// A small compressed body may decompress to far more than admit() reserved for it: the output
// is admitted from the budget as it grows. A body the budget cannot hold now is refused as
// retryable (counted as a refusal for memory); one that needs more than the whole budget could
// never be taken, and is refused as too large (413 / RESOURCE_EXHAUSTED, no retry). Neither
// holds anything afterwards.
TEST(Ingest, DecompressionGrowsTheAdmissionWithinTheBudget) {
  Fixture f;
  f.budget.setLimit(8 << 20);
  const common::Labels labels = {{"receiver", "otlp"}, {"transport", "http"}, {"reason", "memory"}};
  common::Counter& refused = f.metrics.counter("otlpd_receiver_refused_requests_total", "", labels);
  std::string refusal;

  const std::string small = spans(100, 0).SerializeAsString();
  const std::string small_gzip = *common::compress(common::Compression::kGzip, small);
  auto admitted = f.ingestor->admit(Transport::kHttp, Signal::kTraces, &refusal, small_gzip.size());
  ASSERT_TRUE(admitted.has_value());
  std::string out;
  ASSERT_TRUE(f.ingestor
                  ->decompressAdmitted(Transport::kHttp, common::Compression::kGzip, small_gzip,
                                       64 << 20, out, admitted)
                  .ok());
  EXPECT_EQ(out, small);
  EXPECT_GE(admitted->bytes(), small_gzip.size() + 2 * out.size());
  EXPECT_EQ(refused.value(), 0u);

  // 32 MiB of zeros in ~32 KiB of gzip: within max_request_body_size, beyond the whole 8 MiB
  // budget.
  const std::string bomb = *common::compress(common::Compression::kGzip, std::string(32 << 20, 0));
  std::optional<pipeline::MemoryBudget::Reservation> bomb_admitted =
      f.ingestor->admit(Transport::kHttp, Signal::kTraces, &refusal, bomb.size());
  ASSERT_TRUE(bomb_admitted.has_value());
  const size_t before = bomb_admitted->bytes();
  absl::Status status = f.ingestor->decompressAdmitted(Transport::kHttp, common::Compression::kGzip,
                                                       bomb, 64 << 20, out, bomb_admitted);
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_TRUE(status.GetPayload(Ingestor::kOverMemoryLimit).has_value()) << status;
  EXPECT_NE(status.message().find("over the memory limit of 8 MiB"), absl::string_view::npos)
      << status;
  EXPECT_TRUE(out.empty());
  EXPECT_LE(f.budget.inUse(), size_t{8 << 20});
  EXPECT_EQ(refused.value(), 0u) << "not a refusal for memory: retrying cannot help";
  bomb_admitted.reset();
  EXPECT_GE(before, bomb.size());

  // 2 MiB of zeros would fit the idle budget, not one that holds 6 MiB already: retry later.
  auto held = f.budget.forceReserve(6 << 20);
  const std::string fits_later =
      *common::compress(common::Compression::kGzip, std::string(2 << 20, 0));
  std::optional<pipeline::MemoryBudget::Reservation> later_admitted =
      f.ingestor->admit(Transport::kHttp, Signal::kTraces, &refusal, fits_later.size());
  ASSERT_TRUE(later_admitted.has_value());
  status = f.ingestor->decompressAdmitted(Transport::kHttp, common::Compression::kGzip, fits_later,
                                          64 << 20, out, later_admitted);
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_NE(status.message().find("memory limit reached"), absl::string_view::npos) << status;
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(refused.value(), 1u);
  later_admitted.reset();
  held.release();
  admitted.reset();
  EXPECT_EQ(f.budget.inUse(), 0u);
}

// A few huge requests (refused once read: they do not fit the budget) raise the running average
// of request sizes that admit() guesses from when no size is declared (gRPC). The guess must stay
// one an idle budget grants, or every later request is refused before it is read, for good.
TEST(Ingest, HugeRequestsDoNotLockAdmissionOut) {
  Fixture f;
  const std::string bytes = spans(1, 0).SerializeAsString();
  for (int i = 0; i < 20; ++i) {
    const ExportOutcome out = f.ingestor->exportRequest(
        Signal::kTraces, Transport::kGrpc, Encoding::kProtobuf, size_t{48} << 20,
        [&](google::protobuf::Message& m) {
          return m.ParseFromString(bytes) ? absl::OkStatus() : absl::InvalidArgumentError("bad");
        },
        std::nullopt, pipeline::WireBytes::fromString(bytes));
    EXPECT_EQ(out.kind, ExportOutcome::Kind::kRetryable) << "96 MB does not fit 64 MiB";
  }
  std::string refusal;
  auto admitted = f.ingestor->admit(Transport::kGrpc, Signal::kTraces, &refusal);
  ASSERT_TRUE(admitted.has_value()) << refusal;
  EXPECT_LE(admitted->bytes(), f.budget.limit() / 8);
  admitted.reset();
  EXPECT_EQ(f.send(bytes).kind, ExportOutcome::Kind::kOk);
}

TEST(Ingest, MalformedBytesAreABadRequest) {
  Fixture f;
  std::string bytes = spans(2, 0).SerializeAsString();
  bytes.resize(bytes.size() - 3);
  EXPECT_EQ(f.send(bytes).kind, ExportOutcome::Kind::kBadRequest);
  EXPECT_TRUE(f.consumer->batches.empty());
  EXPECT_EQ(f.budget.inUse(), 0u);
}

}  // namespace
}  // namespace otlpd::receivers::otlp

namespace otlpd::receivers::otlp {
namespace {

// admit() asks the signal's backpressure gate first: closed, the request is refused before it is
// read (counted under reason "backpressure"), and admitted again once the gate opens. Other
// signals and requests for no signal are not held back by it.
TEST(Ingest, AdmitRefusesWhileTheSignalsGateIsClosed) {
  common::MetricsRegistry metrics{common::MetricsRegistry::ProcessMetrics::kExclude};
  pipeline::BackpressureSource queue;
  pipeline::BackpressureSet set;
  set.add(&queue);
  pipeline::SignalConsumers next;
  next.traces = std::make_shared<RecordingConsumer>();
  next.logs = std::make_shared<RecordingConsumer>();
  next.backpressure[static_cast<size_t>(Signal::kTraces)] = set.makeGate();
  Ingestor ingestor("otlp", next, metrics, nullptr);
  const common::Labels labels = {
      {"receiver", "otlp"}, {"transport", "grpc"}, {"reason", "backpressure"}};
  common::Counter& refused = metrics.counter("otlpd_receiver_refused_requests_total", "", labels);

  std::string refusal;
  EXPECT_TRUE(ingestor.admit(Transport::kGrpc, Signal::kTraces, &refusal).has_value());
  queue.setFull(true);
  EXPECT_FALSE(ingestor.admit(Transport::kGrpc, Signal::kTraces, &refusal).has_value());
  EXPECT_NE(refusal.find("retry later"), std::string::npos) << refusal;
  EXPECT_EQ(refused.value(), 1u);
  EXPECT_TRUE(ingestor.admit(Transport::kGrpc, Signal::kLogs, &refusal).has_value())
      << "logs have no gate";
  EXPECT_TRUE(ingestor.admit(Transport::kGrpc, std::nullopt, &refusal).has_value())
      << "no signal: answered with an error once read";
  queue.setFull(false);
  EXPECT_TRUE(ingestor.admit(Transport::kGrpc, Signal::kTraces, &refusal).has_value());
  EXPECT_EQ(refused.value(), 1u);
}

}  // namespace
}  // namespace otlpd::receivers::otlp
