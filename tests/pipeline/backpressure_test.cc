#include "pipeline/backpressure.h"

#include <gtest/gtest.h>

namespace otlpd::pipeline {
namespace {

TEST(BackpressureTest, AGateIsClosedWhileAnyOfItsSourcesIsFull) {
  BackpressureSource a, b;
  BackpressureSet set;
  set.add(&a);
  set.add(&b);
  auto gate = set.makeGate();
  ASSERT_NE(gate, nullptr);
  EXPECT_FALSE(gate->closed());
  a.setFull(true);
  EXPECT_TRUE(gate->closed());
  b.setFull(true);
  a.setFull(false);
  EXPECT_TRUE(gate->closed()) << "b is still full";
  b.setFull(false);
  EXPECT_FALSE(gate->closed());
}

TEST(BackpressureTest, RepeatedFlagsCountOnce) {
  BackpressureSource a;
  BackpressureSet set;
  set.add(&a);
  auto gate = set.makeGate();
  a.setFull(true);
  a.setFull(true);  // no change: must not count twice
  a.setFull(false);
  EXPECT_FALSE(gate->closed());
  a.setFull(false);  // no change: must not go below zero and mask the next raise
  a.setFull(true);
  EXPECT_TRUE(gate->closed());
}

TEST(BackpressureTest, ASourceReachedTwiceIsOneSourceOfTheGate) {
  // Two pipelines of one receiver share an exporter: one source, counted once.
  BackpressureSource shared, other;
  BackpressureSet first, second, receiver;
  first.add(&shared);
  second.add(&shared);
  second.add(&other);
  receiver.addAll(first);
  receiver.addAll(second);
  EXPECT_EQ(receiver.size(), 2u);
  auto gate = receiver.makeGate();
  shared.setFull(true);
  EXPECT_TRUE(gate->closed());
  shared.setFull(false);
  EXPECT_FALSE(gate->closed());
}

TEST(BackpressureTest, AGateConnectedToAFullSourceStartsClosed) {
  BackpressureSource a;
  a.setFull(true);
  BackpressureSet set;
  set.add(&a);
  auto gate = set.makeGate();
  EXPECT_TRUE(gate->closed());
  a.setFull(false);
  EXPECT_FALSE(gate->closed());
}

TEST(BackpressureTest, OneSourceClosesEveryGateItFeeds) {
  // Two receivers feeding the same exporter each have their own gate.
  BackpressureSource queue, only_b;
  BackpressureSet for_a, for_b;
  for_a.add(&queue);
  for_b.add(&queue);
  for_b.add(&only_b);
  auto a = for_a.makeGate();
  auto b = for_b.makeGate();
  queue.setFull(true);
  EXPECT_TRUE(a->closed());
  EXPECT_TRUE(b->closed());
  queue.setFull(false);
  only_b.setFull(true);
  EXPECT_FALSE(a->closed());
  EXPECT_TRUE(b->closed());
}

TEST(BackpressureTest, NoSourcesNoGate) {
  BackpressureSet set;
  set.add(nullptr);
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.makeGate(), nullptr);
}

TEST(BackpressureTest, RecentMinimumIsTheSmallestOfTheLastWindow) {
  RecentMinimum m;
  EXPECT_EQ(m.value(), 1u) << "nothing seen: only an exhausted queue is full";
  m.add(500);
  EXPECT_EQ(m.value(), 500u);
  m.add(300);
  m.add(900);
  EXPECT_EQ(m.value(), 300u);
  // 300 leaves the window after kWindow more sizes.
  for (size_t i = 0; i < RecentMinimum::kWindow - 1; ++i) m.add(700);
  EXPECT_EQ(m.value(), 700u);
  m.add(0);  // an empty request still takes room
  EXPECT_EQ(m.value(), 1u);
}

}  // namespace
}  // namespace otlpd::pipeline
