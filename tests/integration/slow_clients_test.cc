// Hostile and slow HTTP clients against the real binary: 3,000 connections trickling their
// headers a byte at a time and 30 announcing 64 MiB bodies that never come, while a normal client
// keeps sending. The normal client's requests all succeed, the process stays within its memory
// budget (+10%), and the slow connections are closed by their deadlines and counted.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "common/compression.h"
#include "common/endpoint.h"
#include "common/strings.h"
#include "otlp_data_support.h"
#include "otlpd_process_support.h"

// Generated code is not held to our warning flags (see src/otlp/proto.h).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wshadow"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#pragma GCC diagnostic pop

namespace otlpd::integration {
namespace {

using namespace std::chrono_literals;

constexpr int kTricklers = 3000;
constexpr int kStallers = 30;
constexpr size_t kBudgetMib = 96;

// A field of /proc/<pid>/status in bytes (given in kB): VmRSS, the resident memory now, or VmHWM,
// its peak so far.
size_t statusBytesOf(pid_t pid, std::string_view field = "VmRSS:") {
  std::ifstream in(strCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stoul(line.substr(field.size())) * 1024;
  }
  return 0;
}

size_t residentBytesOf(pid_t pid) {
  return statusBytesOf(pid);
}

// Under ASan or TSan the binary's resident memory is its shadow memory and quarantine more than
// its own (`make test-asan` leaves out the tests that are only about memory): the bounds on it
// are checked in the ordinary build, the rest of a test everywhere.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define OTLPD_SANITIZED_MEMORY 1
#endif
#endif
#if defined(OTLPD_SANITIZED_MEMORY)
constexpr bool kResidentMemoryIsOurs = false;
#else
constexpr bool kResidentMemoryIsOurs = true;
#endif

int connectTo(const std::string& endpoint) {
  auto hp = common::HostPort::parse(endpoint);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(hp->port);
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Whether the server closed the connection (a read returns 0 or an error, without blocking).
bool closedByServer(int fd) {
  char c;
  const ssize_t n = ::recv(fd, &c, 1, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

TEST(SlowClients, DeadlinesAndTheBudgetKeepTheServiceServingNormalClients) {
  // This process holds 3,000+ sockets too.
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_max < kTricklers + kStallers + 200) GTEST_SKIP() << "open-file limit too low";
  limit.rlim_cur = limit.rlim_max;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);

  auto otlpd = OtlpdProcess::start(strCat(R"(receivers:
  otlp:
    protocols:
      http:
        endpoint: "127.0.0.1:0"
        read_header_timeout: 2s
        min_request_body_rate: 65536
exporters:
  nop:
extensions:
  health_check: { endpoint: "127.0.0.1:0" }
service:
  extensions: [health_check]
  memory_budget: { limit_mib: )",
                                          kBudgetMib, R"( }
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [nop] }
)"));
  ASSERT_TRUE(otlpd.ok()) << otlpd.status();
  const std::string endpoint = (*otlpd)->httpEndpoint();
  const size_t baseline = residentBytesOf((*otlpd)->pid());

  std::vector<int> tricklers, stallers;
  for (int i = 0; i < kStallers; ++i) {
    const int fd = connectTo(endpoint);
    ASSERT_GE(fd, 0);
    const std::string head = strCat(
        "POST /v1/traces HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-protobuf\r\n"
        "Content-Length: ",
        64u << 20, "\r\n\r\n", std::string(1024, 'x'));
    ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(head.size()));
    stallers.push_back(fd);
  }
  for (int i = 0; i < kTricklers; ++i) {
    const int fd = connectTo(endpoint);
    ASSERT_GE(fd, 0) << "connection " << i;
    ::send(fd, "POST /v1/traces HTTP/1.1\r\nHost: a\r\nX-Slow: ", 43, MSG_NOSIGNAL);
    tricklers.push_back(fd);
  }

  // The normal client, meanwhile: every request accepted.
  const std::string body = makeTraces("normal", 50).SerializeAsString();
  size_t peak = 0;
  int accepted = 0;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 4s) {
    for (size_t i = 0; i < tricklers.size(); i += 7) {
      ::send(tricklers[i], "y", 1, MSG_NOSIGNAL | MSG_DONTWAIT);  // a byte now and then
    }
    auto r = httpRequest(endpoint, "POST", "/v1/traces",
                         {{"Content-Type", "application/x-protobuf"}}, body);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 200) << r->body;
    ++accepted;
    peak = std::max(peak, residentBytesOf((*otlpd)->pid()));
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GT(accepted, 20);
  EXPECT_LT(peak, baseline + (kBudgetMib << 20) * 11 / 10)
      << "baseline " << baseline << ", peak " << peak;

  // Every slow connection was closed by its deadline (headers: 2 s; bodies: 2 s + 1 KiB at
  // 64 KiB/s), and counted.
  int open_tricklers = 0, open_stallers = 0;
  for (int fd : tricklers) open_tricklers += closedByServer(fd) ? 0 : 1;
  for (int fd : stallers) open_stallers += closedByServer(fd) ? 0 : 1;
  EXPECT_EQ(open_tricklers, 0);
  EXPECT_EQ(open_stallers, 0);
  for (int fd : tricklers) ::close(fd);
  for (int fd : stallers) ::close(fd);
  const LabelMap header = {{"listener", "otlp.http"}, {"reason", "header_timeout"}};
  const LabelMap body_rate = {{"listener", "otlp.http"}, {"reason", "body_timeout"}};
  auto headers_cut = (*otlpd)->scrapeMetric("otlpd_http_server_closed_connections_total", header);
  auto bodies_cut = (*otlpd)->scrapeMetric("otlpd_http_server_closed_connections_total", body_rate);
  ASSERT_TRUE(headers_cut.ok() && bodies_cut.ok());
  EXPECT_GE(*headers_cut, kTricklers);
  EXPECT_GE(*bodies_cut, kStallers);
  EXPECT_TRUE((*otlpd)->stop().cleanExit());
}

// OTLP over `protocol` (http or grpc) into nop under a memory budget of `limit_mib` (at least
// 32 MiB, the least it can be).
absl::StatusOr<std::unique_ptr<OtlpdProcess>> startToNopWithBudget(std::string_view protocol,
                                                                   int limit_mib) {
  return OtlpdProcess::start(strCat(R"(receivers:
  otlp:
    protocols:
      )",
                                    protocol, R"(: { endpoint: "127.0.0.1:0" }
exporters:
  nop:
service:
  memory_budget: { limit_mib: )",
                                    limit_mib, R"( }
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [nop] }
)"));
}

// A body the budget can never hold (it takes twice its size) is answered 413 once it grows past
// half the budget, not 503: a retry could never succeed. Smaller bodies are served.
TEST(SlowClients, ABodyTheBudgetCanNeverHoldIsTooLargeNotRetryable) {
  auto otlpd = startToNopWithBudget("http", 32);
  ASSERT_TRUE(otlpd.ok()) << otlpd.status();
  const std::string endpoint = (*otlpd)->httpEndpoint();
  auto huge =
      httpRequest(endpoint, "POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}},
                  makeLargeTraces("huge", 20u << 20).SerializeAsString());
  ASSERT_TRUE(huge.ok()) << huge.status();
  EXPECT_EQ(huge->status, 413) << huge->body;
  EXPECT_EQ(huge->header("retry-after"), "");
  auto fits =
      httpRequest(endpoint, "POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}},
                  makeLargeTraces("fits", 2u << 20).SerializeAsString());
  ASSERT_TRUE(fits.ok()) << fits.status();
  EXPECT_EQ(fits->status, 200) << fits->body;
  auto in_use = (*otlpd)->scrapeMetric("otlpd_memory_budget_in_use_bytes", {});
  ASSERT_TRUE(in_use.ok()) << in_use.status();
  EXPECT_EQ(*in_use, 0);
  EXPECT_TRUE((*otlpd)->stop().cleanExit());
}

// A body small on the wire may inflate to up to max_request_body_size: what it decompresses to is
// admitted from the memory budget as it grows, so that several at once cannot hold more than the
// budget. These need more than the whole budget once inflated (twice 48 MiB against 32 MiB), so
// each is refused as too large (413, no Retry-After: a retry could never be admitted; before,
// 503 had clients resend them forever), and a normal client is served meanwhile and after. A
// body the budget cannot hold only for now gets 503 (tests/receivers/ingest_test.cc).
TEST(SlowClients, CompressedBodiesAreAdmittedFromTheBudgetAsTheyInflate) {
  auto otlpd = startToNopWithBudget("http", 32);
  ASSERT_TRUE(otlpd.ok()) << otlpd.status();
  const std::string endpoint = (*otlpd)->httpEndpoint();
  // 48 MiB once inflated (under the 64 MiB body limit), ~48 KiB on the wire.
  const std::string inflating = *common::compress(
      common::Compression::kGzip, makeLargeTraces("inflating", 48u << 20).SerializeAsString());
  ASSERT_LT(inflating.size(), size_t{4} << 20);
  const size_t baseline = statusBytesOf((*otlpd)->pid());
  constexpr int kSenders = 6;
  std::vector<std::thread> senders;
  std::vector<int> statuses(kSenders, 0);
  std::vector<std::string> retry_after(kSenders);
  for (int i = 0; i < kSenders; ++i) {
    senders.emplace_back([&, i] {
      auto r = httpRequest(
          endpoint, "POST", "/v1/traces",
          {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "gzip"}}, inflating);
      if (!r.ok()) return;
      statuses[static_cast<size_t>(i)] = r->status;
      retry_after[static_cast<size_t>(i)] = r->header("retry-after");
    });
  }
  auto normal =
      httpRequest(endpoint, "POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}},
                  makeTraces("normal", 10).SerializeAsString());
  for (auto& t : senders) t.join();
  for (int i = 0; i < kSenders; ++i) {
    EXPECT_EQ(statuses[static_cast<size_t>(i)], 413) << i;
    EXPECT_EQ(retry_after[static_cast<size_t>(i)], "") << i;
  }
  ASSERT_TRUE(normal.ok()) << normal.status();
  EXPECT_TRUE(normal->status == 200 || normal->status == 503) << normal->status;
  auto after =
      httpRequest(endpoint, "POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}},
                  makeTraces("normal-after", 10).SerializeAsString());
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->status, 200) << after->body;
  // Six bodies inflated at once would be 288 MiB; admitted as they grow, they share the 32 MiB.
  const size_t peak = statusBytesOf((*otlpd)->pid(), "VmHWM:");
  std::cout << "inflating bodies: resident " << baseline / (1 << 20) << " MiB before, peak "
            << peak / (1 << 20) << " MiB\n";
  if (kResidentMemoryIsOurs) {
    EXPECT_LT(peak, baseline + (64u << 20)) << "before " << baseline << ", peak " << peak;
  }
  auto malformed = (*otlpd)->scrapeMetric("otlpd_receiver_malformed_requests_total",
                                          {{"receiver", "otlp"}, {"transport", "http"}});
  ASSERT_TRUE(malformed.ok()) << malformed.status();
  EXPECT_GE(*malformed, kSenders);
  auto in_use = (*otlpd)->scrapeMetric("otlpd_memory_budget_in_use_bytes", {});
  ASSERT_TRUE(in_use.ok()) << in_use.status();
  EXPECT_EQ(*in_use, 0);
  EXPECT_TRUE((*otlpd)->stop().cleanExit());
}

// The same over gRPC: a gzip message that inflates past the whole budget is RESOURCE_EXHAUSTED,
// naming the memory limit (UNAVAILABLE had clients resend it forever), and holds nothing after.
TEST(SlowClients, AGrpcMessageInflatingPastTheWholeBudgetIsResourceExhausted) {
  // Dropping the last channel may block ~10 s in gRPC 1.51's shutdown (otlp_grpc_test.cc).
  [[maybe_unused]] static const bool grpc_kept_up = (grpc_init(), true);
  auto otlpd = startToNopWithBudget("grpc", 32);
  ASSERT_TRUE(otlpd.ok()) << otlpd.status();
  auto channel = grpc::CreateChannel((*otlpd)->grpcEndpoint(), grpc::InsecureChannelCredentials());
  auto stub = ::opentelemetry::proto::collector::trace::v1::TraceService::NewStub(channel);
  const auto send = [&](const otlp::TracesRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    context.set_compression_algorithm(GRPC_COMPRESS_GZIP);
    ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse response;
    return stub->Export(&context, request, &response);
  };
  // 24 MiB once inflated, under max_recv_msg_size_mib (64); held at twice that, over 32 MiB.
  const grpc::Status huge = send(makeLargeTraces("grpc-huge", 24u << 20));
  EXPECT_EQ(huge.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << huge.error_message();
  EXPECT_NE(huge.error_message().find("over the memory limit of 32 MiB"), std::string::npos)
      << huge.error_message();
  const grpc::Status fits = send(makeTraces("grpc-fits", 10));
  EXPECT_TRUE(fits.ok()) << fits.error_message();
  auto in_use = (*otlpd)->scrapeMetric("otlpd_memory_budget_in_use_bytes", {});
  ASSERT_TRUE(in_use.ok()) << in_use.status();
  EXPECT_EQ(*in_use, 0);
  EXPECT_TRUE((*otlpd)->stop().cleanExit());
}

// gRPC reads a stream's whole message once its handler asks for it, whatever admission reserved:
// 30 streams of 48 MB at once against a 64 MiB budget held 1.5 GB before gRPC's own memory was
// bounded by a resource quota (4 × the budget: common/grpc_server_config.h says why not 1 ×).
// The quota is soft, so the bound tested is loose (~430 MiB seen); normal clients are served
// afterwards.
TEST(SlowClients, LargeGrpcMessagesAtOnceStayNearTheBudget) {
  auto otlpd = startToNopWithBudget("grpc", 64);
  ASSERT_TRUE(otlpd.ok()) << otlpd.status();
  const std::string endpoint = (*otlpd)->grpcEndpoint();
  const size_t baseline = statusBytesOf((*otlpd)->pid());
  // ~48 MB requests (60,000 spans of ~800 B), 30 in flight.
  auto flood = runOtlpd({"loadgen", "--endpoint", endpoint, "--batch", "60000", "--concurrency",
                         "30", "--duration", "4s", "--variants", "1", "--quiet"});
  ASSERT_TRUE(flood.ok()) << flood.status();
  const size_t peak = statusBytesOf((*otlpd)->pid(), "VmHWM:");
  std::cout << "large gRPC messages: resident " << baseline / (1 << 20) << " MiB before, peak "
            << peak / (1 << 20) << " MiB\n";
  if (kResidentMemoryIsOurs) {
    EXPECT_LT(peak, baseline + (768u << 20)) << "before " << baseline << ", peak " << peak;
  }
  auto normal =
      runOtlpd({"loadgen", "--endpoint", endpoint, "--count", "20000", "--json", "--quiet"});
  ASSERT_TRUE(normal.ok()) << normal.status();
  EXPECT_NE(normal->out.find("\"acknowledged\":20000"), std::string::npos) << normal->out;
  EXPECT_TRUE((*otlpd)->stop().cleanExit());
}

// The embedded default config (`otlpd config default`, listeners moved to free loopback ports),
// as someone runs it with no configuration at all: 20 clients announcing 60 MB bodies and sending
// one byte hold next to no memory, and a normal client is still served.
TEST(SlowClients, TheEmbeddedDefaultKeepsItsMemoryAgainstAnnouncedLengths) {
  auto config = runOtlpd({"config", "default"});
  ASSERT_TRUE(config.ok()) << config.status();
  std::string yaml = config->out;
  for (const char* address : {"localhost:4317", "localhost:4318", "localhost:13133",
                              "localhost:16686", "localhost:8888"}) {
    const size_t at = yaml.find(address);
    ASSERT_NE(at, std::string::npos) << address;
    yaml.replace(at, std::string_view(address).size(), "127.0.0.1:0");
  }
  for (size_t at; (at = yaml.find("./otlpd-data")) != std::string::npos;) {
    yaml.replace(at, 12, "@DIR@/otlpd-data");
  }
  auto otlpd = OtlpdProcess::start(yaml);
  ASSERT_TRUE(otlpd.ok()) << otlpd.status();
  const std::string endpoint = (*otlpd)->httpEndpoint();
  const size_t baseline = residentBytesOf((*otlpd)->pid());
  std::vector<int> clients;
  for (int i = 0; i < 20; ++i) {
    const int fd = connectTo(endpoint);
    ASSERT_GE(fd, 0);
    const std::string head =
        "POST /v1/traces HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-protobuf\r\n"
        "Content-Length: 60000000\r\n\r\nx";
    ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
    clients.push_back(fd);
  }
  std::this_thread::sleep_for(1s);
  const size_t held = residentBytesOf((*otlpd)->pid());
  // Committing the announced lengths would be 1.2 GB; what arrived is 20 bytes. The reads' first
  // buffers (1 MiB each at most) are all that may show.
  EXPECT_LT(held, baseline + (40u << 20))
      << "baseline " << baseline << ", with the clients " << held;
  auto r = httpRequest(endpoint, "POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}},
                       makeTraces("normal", 10).SerializeAsString());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200) << r->body;
  for (int fd : clients) ::close(fd);
  EXPECT_TRUE((*otlpd)->stop().cleanExit());
}

}  // namespace
}  // namespace otlpd::integration
