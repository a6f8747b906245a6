#include "pipeline/deferred_ack.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace otlpd::pipeline {
namespace {

// What a consumer does under a receiver's scope: takes one hold.
DeferredAck::Done holdOne(DeferredAck& ack) {
  DeferredAck::Scope scope(ack);
  return DeferredAck::current()->hold();
}

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
  DeferredAck::Done hold = holdOne(*ack);
  ack.reset();  // the hold keeps it alive
  hold(absl::OkStatus());
}

// A receiver that cannot wait any longer (shutdown) answers now; the hold released later finds
// nothing to answer, and the answer is given once.
TEST(DeferredAck, AnswerNowAnswersOnceAndLaterReleasesAnswerNothing) {
  auto ack = std::make_shared<DeferredAck>();
  DeferredAck::Done hold = holdOne(*ack);
  int answers = 0;
  std::optional<absl::Status> answer;
  ack->whenReleased([&](absl::Status s) {
    ++answers;
    answer = s;
  });
  ack->answerNow(absl::UnavailableError("shutting down"));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->code(), absl::StatusCode::kUnavailable);
  ack->answerNow(absl::UnavailableError("again"));
  hold(absl::OkStatus());
  EXPECT_EQ(answers, 1);
  EXPECT_EQ(answer->message(), "shutting down");
}

// Released first: the answer was given, and answerNow() gives none.
TEST(DeferredAck, AnswerNowAfterTheReleaseAnswersNothing) {
  auto ack = std::make_shared<DeferredAck>();
  DeferredAck::Done hold = holdOne(*ack);
  int answers = 0;
  ack->whenReleased([&](absl::Status s) {
    ++answers;
    EXPECT_TRUE(s.ok()) << s;
  });
  hold(absl::OkStatus());
  ack->answerNow(absl::UnavailableError("late"));
  EXPECT_EQ(answers, 1);
}

// A receiver's open acknowledgements: those still open when it stops are answered at once; one
// answered before (its callback removed it) is not answered again.
TEST(HeldAcks, AnswerAllNowAnswersOnlyTheOpenOnes) {
  HeldAcks open;
  auto answered = std::make_shared<DeferredAck>();
  auto waiting = std::make_shared<DeferredAck>();
  DeferredAck::Done answered_hold = holdOne(*answered);
  DeferredAck::Done waiting_hold = holdOne(*waiting);
  std::vector<absl::Status> answers;
  for (const auto& ack : {answered, waiting}) {
    open.add(ack);
    ack->whenReleased([&, raw = ack.get()](absl::Status s) {
      open.remove(raw);
      answers.push_back(s);
    });
  }
  answered_hold(absl::OkStatus());
  ASSERT_EQ(answers.size(), 1u);
  open.answerAllNow(absl::UnavailableError("stopping"));
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[1].code(), absl::StatusCode::kUnavailable);
  open.answerAllNow(absl::UnavailableError("again"));
  waiting_hold(absl::OkStatus());
  EXPECT_EQ(answers.size(), 2u);
}

}  // namespace
}  // namespace otlpd::pipeline
