#include "exporters/helper/config.h"

namespace otlpd::exporters::helper {

HelperConfig parseHelperConfig(config::ConfigNode& node) {
  HelperConfig c;
  c.timeout = node.getDuration("timeout", c.timeout);

  config::ConfigNode r = node.child("retry_on_failure");
  c.retry.enabled = r.getBool("enabled", c.retry.enabled);
  c.retry.initial_interval = r.getDuration("initial_interval", c.retry.initial_interval);
  c.retry.max_interval = r.getDuration("max_interval", c.retry.max_interval);
  c.retry.max_elapsed_time = r.getDuration("max_elapsed_time", c.retry.max_elapsed_time);
  c.retry.multiplier = r.getDouble("multiplier", c.retry.multiplier);
  c.retry.randomization_factor = r.getDouble("randomization_factor", c.retry.randomization_factor);
  if (c.retry.multiplier < 1) r.addError("multiplier", "must be at least 1");
  if (c.retry.randomization_factor < 0 || c.retry.randomization_factor > 1) {
    r.addError("randomization_factor", "must be between 0 and 1");
  }
  r.rejectUnknownKeys();

  config::ConfigNode q = node.child("sending_queue");
  c.queue.enabled = q.getBool("enabled", c.queue.enabled);
  c.queue.num_consumers =
      static_cast<int>(q.getInt("num_consumers", c.queue.num_consumers, 1, 1024));
  c.queue.queue_size = q.getInt("queue_size", c.queue.queue_size, 1);
  const std::string sizer = q.getString("sizer", "requests");
  if (sizer == "requests") {
    c.queue.sizer = Sizer::kRequests;
  } else if (sizer == "items") {
    c.queue.sizer = Sizer::kItems;
  } else if (sizer == "bytes") {
    c.queue.sizer = Sizer::kBytes;
  } else {
    q.addError("sizer", "must be requests, items or bytes");
  }
  // `blocking` is the Collector's older spelling.
  c.queue.block_on_overflow = q.getBool("blocking", c.queue.block_on_overflow);
  c.queue.block_on_overflow = q.getBool("block_on_overflow", c.queue.block_on_overflow);
  c.queue.storage = q.getString("storage", "");
  // The Collector names a storage extension (`file_storage`, `file_storage/queue`); anything
  // else is a directory, otlpd's shorthand.
  if (c.queue.storage == "file_storage" || c.queue.storage.starts_with("file_storage/")) {
    auto id = pipeline::ComponentId::parse(c.queue.storage);
    if (!id.ok()) {
      q.addError("storage", std::string(id.status().message()));
    } else {
      c.queue.storage_extension = std::make_shared<pipeline::StorageRef>();
      c.queue.storage_extension->id = *id;
      c.queue.storage_node = q;
      c.queue.storage.clear();
    }
  }
  const std::string fsync = q.getString("fsync", "always");
  if (fsync == "always") {
    c.queue.fsync = FsyncPolicy::kAlways;
  } else if (fsync == "never") {
    c.queue.fsync = FsyncPolicy::kNever;
  } else {
    q.addError("fsync", "must be always or never");
  }
  if (c.queue.storage_extension && q.has("fsync")) {
    q.addError("fsync",
               "is set by the storage extension's fsync (or durability) when storage names one");
  }
  if (q.has("durability")) {
    const std::string durability = q.getString("durability", "");
    if (durability == "sync") {
      c.queue.durability = FsyncPolicy::kAlways;
      if (c.queue.fsync == FsyncPolicy::kNever) {
        q.addError("durability", "sync needs fsync (fsync: never is set)");
      }
    } else if (durability == "interval") {
      c.queue.durability = FsyncPolicy::kInterval;
    } else {
      q.addError("durability", "must be sync or interval");
    }
  }
  config::ConfigNode b = q.child("batch");
  c.queue.batch_min_size = b.getInt("min_size", c.queue.batch_min_size, 0);
  c.queue.batch_max_size = b.getInt("max_size", c.queue.batch_max_size, 0);
  c.queue.flush_timeout = b.getDuration("flush_timeout", c.queue.flush_timeout);
  if (c.queue.batch_max_size > 0 && c.queue.batch_max_size < c.queue.batch_min_size) {
    b.addError("max_size", "must not be below min_size");
  }
  b.rejectUnknownKeys();
  if (!c.queue.enabled && (!c.queue.storage.empty() || c.queue.storage_extension)) {
    q.addError("storage", "needs the queue enabled");
  }
  q.rejectUnknownKeys();

  config::ConfigNode cb = node.child("circuit_breaker");
  c.breaker.enabled = cb.getBool("enabled", cb.yaml().IsMap() && cb.yaml().size() > 0);
  c.breaker.consecutive_failures = static_cast<int>(
      cb.getInt("consecutive_failures", c.breaker.consecutive_failures, 0, 1 << 20));
  c.breaker.failure_ratio = cb.getDouble("failure_ratio", c.breaker.failure_ratio);
  c.breaker.window = static_cast<int>(cb.getInt("window", c.breaker.window, 1, 1 << 16));
  c.breaker.open_duration = cb.getDuration("open_duration", c.breaker.open_duration);
  if (c.breaker.failure_ratio < 0 || c.breaker.failure_ratio > 1) {
    cb.addError("failure_ratio", "must be between 0 and 1");
  }
  cb.rejectUnknownKeys();

  config::ConfigNode d = node.child("dead_letter_queue");
  c.dead_letter.directory = d.getString("directory", "");
  c.dead_letter.max_bytes = d.getInt("max_size_mib", c.dead_letter.max_bytes >> 20, 1) << 20;
  d.rejectUnknownKeys();
  return c;
}

}  // namespace otlpd::exporters::helper
