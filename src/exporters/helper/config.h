// The exporter helper's part of an exporter config, with the OpenTelemetry Collector's keys
// (timeout, retry_on_failure, sending_queue with batch) plus otlpd's circuit_breaker and
// dead_letter_queue.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "config/config_node.h"
#include "exporters/helper/policy.h"
#include "pipeline/storage.h"

namespace otlpd::exporters::helper {

enum class Sizer { kRequests, kItems, kBytes };
// When the persistent queue's records reach the disk. kAlways (`durability: sync`): fdatasync'ed
// before the request is acknowledged, one fdatasync covering every request waiting meanwhile
// (group commit). kInterval (`durability: interval`): written before the acknowledgement (a crash
// of the process loses nothing) and fdatasync'ed within kQueueSyncInterval (what a power loss
// can take). kNever (`fsync: never`): written, never synced.
enum class FsyncPolicy { kAlways, kNever, kInterval };
inline constexpr absl::Duration kQueueSyncInterval = absl::Seconds(1);

struct QueueConfig {
  bool enabled = true;
  int num_consumers = 10;
  int64_t queue_size = 1000;
  Sizer sizer = Sizer::kRequests;
  bool block_on_overflow = false;
  // Persistent queue: a write-ahead log in this directory (otlpd's shorthand), or in the client
  // directory of the storage extension named by `storage: file_storage[/name]` (the Collector's
  // form; bound by the graph). Neither keeps the queue in memory.
  std::string storage;
  std::shared_ptr<pipeline::StorageRef> storage_extension;
  // The sending_queue node, kept until makeQueuedExporter() asks the graph for the extension
  // (reference errors are reported at its `storage` key).
  std::optional<config::ConfigNode> storage_node;
  // `fsync` (shorthand form: always, never), or `durability: sync | interval`; with an extension
  // and no `durability`, its `fsync` decides (true: sync, false: interval). Settled in start().
  FsyncPolicy fsync = FsyncPolicy::kAlways;
  std::optional<FsyncPolicy> durability;
  // Batching inside the queue: a consumer merges queued requests until min_size (in the
  // sizer's unit) or flush_timeout, and never beyond max_size (0: no limit). min_size 0 is off.
  int64_t batch_min_size = 0;
  int64_t batch_max_size = 0;
  absl::Duration flush_timeout = absl::Milliseconds(200);
};

struct DeadLetterConfig {
  std::string directory;  // empty: no dead-letter queue
  int64_t max_bytes = int64_t{256} << 20;
};

struct HelperConfig {
  absl::Duration timeout = absl::Seconds(5);
  RetryConfig retry;
  QueueConfig queue;
  CircuitBreakerConfig breaker;
  DeadLetterConfig dead_letter;
};

// Reads the helper keys of `node` (errors go to the node's error list with their paths).
HelperConfig parseHelperConfig(config::ConfigNode& node);

}  // namespace otlpd::exporters::helper
