#include "pipeline/deferred_ack.h"

#include <gtest/gtest.h>

#include <optional>

namespace otlpd::pipeline {
namespace {

TEST(DeferredAck, NoScopeMeansConsumersWaitInPlace) {
  EXPECT_EQ(DeferredAck::current(), nullptr);
  auto ack = std::make_shared<DeferredAck>();
  {
    DeferredAck::Scope scope(*ack);
    EXPECT_EQ(DeferredAck::current(), ack.get());
  }
  EXPECT_EQ(DeferredAck::current(), nullptr);
  EXPECT_FALSE(ack->held());
  std::optional<absl::Status> answer;
  ack->whenReleased([&](absl::Status s) { answer = s; });
  ASSERT_TRUE(answer.has_value()) << "nothing held: answered at once";
  EXPECT_TRUE(answer->ok());
}

TEST(DeferredAck, AnswersOnceEveryHoldIsReleasedWithTheFirstError) {
  auto ack = std::make_shared<DeferredAck>();
  DeferredAck::Done first, second;
  {
    DeferredAck::Scope scope(*ack);
    first = DeferredAck::current()->hold();
    second = DeferredAck::current()->hold();
  }
  EXPECT_TRUE(ack->held());
  std::optional<absl::Status> answer;
  ack->whenReleased([&](absl::Status s) { answer = s; });
  EXPECT_FALSE(answer.has_value());
  first(absl::UnavailableError("disk"));
  EXPECT_FALSE(answer.has_value());
  second(absl::OkStatus());
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->code(), absl::StatusCode::kUnavailable);
}

TEST(DeferredAck, AHoldKeepsItAliveAfterTheReceiverLetGo) {
  auto ack = std::make_shared<DeferredAck>();
  DeferredAck::Done hold;
  {
    DeferredAck::Scope scope(*ack);
    hold = ack->hold();
  }
  ack.reset();  // the hold keeps it alive
  hold(absl::OkStatus());
}

}  // namespace
}  // namespace otlpd::pipeline
