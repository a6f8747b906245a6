#include "receivers/jaeger/udp_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/time/clock.h"
#include "common/endpoint.h"
#include "common/logging.h"
#include "common/strings.h"

namespace otlpd::receivers::jaeger {

absl::StatusOr<std::unique_ptr<UdpServer>> UdpServer::start(const UdpOptions& options,
                                                            std::shared_ptr<Ingestor> ingestor,
                                                            common::MetricsRegistry& metrics,
                                                            const std::string& receiver_id) {
  auto hp = common::HostPort::parse(options.endpoint);
  if (!hp.ok()) return hp.status();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(hp->port);
  if (int rc =
          getaddrinfo(hp->host.empty() ? nullptr : hp->host.c_str(), port.c_str(), &hints, &found);
      rc != 0) {
    return absl::InvalidArgumentError(
        strCat("cannot resolve UDP endpoint ", options.endpoint, ": ", gai_strerror(rc)));
  }
  // The first address that binds (for "localhost", the IPv4 loopback comes first here).
  int fd = -1;
  std::string error;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    error = std::strerror(errno);
    close(fd);
    fd = -1;
  }
  freeaddrinfo(found);
  if (fd < 0) {
    return absl::UnavailableError(strCat("cannot listen for Jaeger UDP on ", options.endpoint,
                                         error.empty() ? "" : ": ", error));
  }
  if (options.socket_buffer_size > 0) {
    const int size = static_cast<int>(std::min<int64_t>(options.socket_buffer_size, INT32_MAX));
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  common::HostPort bound = *hp;
  if (addr.ss_family == AF_INET) {
    bound.port = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    bound.port = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  }
  if (bound.host.empty()) bound.host = "0.0.0.0";
  const int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    close(fd);
    return absl::InternalError("eventfd failed");
  }
  std::unique_ptr<UdpServer> server(new UdpServer(options, std::move(ingestor), fd, wake));
  server->receiver_id_ = receiver_id;
  server->bound_ = bound.toString();
  const std::string protocol = options.compact ? "thrift_compact" : "thrift_binary";
  auto dropped = [&](const char* reason) {
    return &metrics.counter(
        "otlpd_receiver_udp_dropped_packets_total",
        "UDP packets dropped by a receiver: queue full, larger than max_packet_size, not "
        "decodable, or refused by the pipeline (UDP cannot tell the sender).",
        {{"receiver", receiver_id}, {"protocol", protocol}, {"reason", reason}});
  };
  server->dropped_queue_full_ = dropped("queue_full");
  server->dropped_too_large_ = dropped("too_large");
  server->dropped_malformed_ = dropped("malformed");
  server->dropped_refused_ = dropped("refused");
  server->reader_ = std::thread([s = server.get()] { s->readLoop(); });
  for (int64_t i = 0; i < std::max<int64_t>(1, options.workers); ++i) {
    server->workers_.emplace_back([s = server.get()] { s->workLoop(); });
  }
  return server;
}

UdpServer::UdpServer(UdpOptions options, std::shared_ptr<Ingestor> ingestor, int fd, int wake_fd)
    : options_(std::move(options)), ingestor_(std::move(ingestor)), fd_(fd), wake_fd_(wake_fd) {}

UdpServer::~UdpServer() {
  stop();
  close(fd_);
  close(wake_fd_);
}

void UdpServer::stop() {
  if (stopping_.exchange(true)) return;
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  if (reader_.joinable()) reader_.join();
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
}

void UdpServer::readLoop() {
  // One byte more than allowed, so that a packet over the limit is seen as such.
  const size_t limit = static_cast<size_t>(options_.max_packet_size);
  std::string buffer(limit + 1, '\0');
  pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (!stopping_.load(std::memory_order_relaxed)) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if ((fds[1].revents & POLLIN) != 0) break;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const ssize_t n = recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) continue;
    if (static_cast<size_t>(n) > limit) {
      dropped_too_large_->add();
      continue;
    }
    {
      std::lock_guard lock(mu_);
      if (queue_.size() >= static_cast<size_t>(options_.queue_size)) {
        dropped_queue_full_->add();
        continue;
      }
      queue_.emplace_back(buffer.data(), static_cast<size_t>(n));
    }
    cv_.notify_one();
  }
}

void UdpServer::workLoop() {
  for (;;) {
    std::string packet;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !queue_.empty() || closed_; });
      if (queue_.empty()) return;
      packet = std::move(queue_.front());
      queue_.pop_front();
    }
    handlePacket(packet);
  }
}

void UdpServer::handlePacket(const std::string& packet) {
  ::otlpd::jaeger::Batch& batch = threadBatch();
  absl::Status status = ::otlpd::jaeger::decodeAgentPacket(packet, options_.compact, batch);
  ExportOutcome outcome;
  if (status.ok()) {
    std::string refusal;
    auto admitted =
        ingestor_->admit(Transport::kUdp, pipeline::Signal::kTraces, &refusal, packet.size());
    if (!admitted) {
      outcome.kind = ExportOutcome::Kind::kRetryable;
      outcome.message = refusal;
    } else {
      outcome = ingestBatch(*ingestor_, Transport::kUdp, batch, std::move(admitted), nullptr);
    }
  } else {
    ingestor_->countMalformed(Transport::kUdp);
    dropped_malformed_->add();
    outcome.kind = ExportOutcome::Kind::kBadRequest;
    outcome.message = std::string(status.message());
  }
  if (outcome.kind == ExportOutcome::Kind::kOk) return;
  if (status.ok()) dropped_refused_->add();
  // One line a second at most: a flood of bad packets must not flood the log.
  const int64_t now = absl::GetCurrentTimeNanos();
  int64_t last = last_warning_ns_.load(std::memory_order_relaxed);
  if (now - last >= 1'000'000'000 &&
      last_warning_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    logging::warn("UDP packet dropped",
                  {{"receiver", receiver_id_},
                   {"protocol", options_.compact ? "thrift_compact" : "thrift_binary"},
                   {"error", outcome.message}});
  }
}

}  // namespace otlpd::receivers::jaeger
