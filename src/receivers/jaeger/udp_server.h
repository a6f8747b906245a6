// The Jaeger agent's UDP ports (thrift_compact 6831, thrift_binary 6832): one thread reads
// packets into a bounded queue, `workers` threads decode and ingest them. UDP has no back
// channel: a packet that cannot be queued, is too large, or does not decode is dropped and
// counted (otlpd_receiver_udp_dropped_packets_total{receiver,protocol,reason}).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/metrics_registry.h"
#include "receivers/jaeger/ingest.h"

namespace otlpd::receivers::jaeger {

struct UdpOptions {
  std::string endpoint;
  bool compact = true;  // else binary
  int64_t queue_size = 1000;
  int64_t max_packet_size = 65000;
  int64_t workers = 10;
  int64_t socket_buffer_size = 0;  // SO_RCVBUF; 0: the system's default
};

class UdpServer {
 public:
  static absl::StatusOr<std::unique_ptr<UdpServer>> start(const UdpOptions& options,
                                                          std::shared_ptr<Ingestor> ingestor,
                                                          common::MetricsRegistry& metrics,
                                                          const std::string& receiver_id);
  ~UdpServer();
  UdpServer(const UdpServer&) = delete;
  UdpServer& operator=(const UdpServer&) = delete;

  const std::string& boundEndpoint() const { return bound_; }
  // Stops reading, lets the workers finish the queued packets, joins. Idempotent.
  void stop();

 private:
  UdpServer(UdpOptions options, std::shared_ptr<Ingestor> ingestor, int fd, int wake_fd);
  void readLoop();
  void workLoop();
  void handlePacket(const std::string& packet);

  UdpOptions options_;
  std::shared_ptr<Ingestor> ingestor_;
  std::string receiver_id_;
  int fd_;
  int wake_fd_;  // an eventfd that interrupts the reader's poll at stop
  std::string bound_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool closed_ = false;  // no more packets will be queued
  std::thread reader_;
  std::vector<std::thread> workers_;
  common::Counter* dropped_queue_full_ = nullptr;
  common::Counter* dropped_too_large_ = nullptr;
  common::Counter* dropped_malformed_ = nullptr;
  common::Counter* dropped_refused_ = nullptr;
  std::atomic<int64_t> last_warning_ns_{0};
};

}  // namespace otlpd::receivers::jaeger
