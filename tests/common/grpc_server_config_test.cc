#include "common/grpc_server_config.h"

#include <gtest/gtest.h>

namespace otlpd::common {
namespace {

TEST(GrpcServerConfig, DefaultStreamsFollowTheBudgetWithAFloor) {
  EXPECT_EQ(defaultMaxConcurrentStreams(0), 0) << "no budget: gRPC's unlimited";
  EXPECT_EQ(defaultMaxConcurrentStreams(1 << 20), 8);
  EXPECT_EQ(defaultMaxConcurrentStreams(32u << 20), 8);
  EXPECT_EQ(defaultMaxConcurrentStreams(64u << 20), 16);
  EXPECT_EQ(defaultMaxConcurrentStreams(size_t{4} << 30), 1024);
}

}  // namespace
}  // namespace otlpd::common
