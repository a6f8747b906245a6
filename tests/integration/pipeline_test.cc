// Pipelines under stress, against the real binary: overload with a stalled exporter (memory
// stays bounded, clients are told to retry, nothing acknowledged is lost), config reload under
// load (valid and invalid), and SIGTERM under load.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "otlp/proto.h"
#include "otlp_data_support.h"
#include "otlpd_process_support.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wshadow"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#pragma GCC diagnostic pop

namespace otlpd::integration {
namespace {

namespace fs = std::filesystem;
namespace collector_trace = ::opentelemetry::proto::collector::trace::v1;
using Clock = std::chrono::steady_clock;

// What a sender saw; "acknowledged" is what otlpd answered OK, which must all arrive.
struct SendTotals {
  std::atomic<size_t> acknowledged_spans{0};
  std::atomic<size_t> unanswered_requests{0};  // any answer but OK: maybe processed, never acked
  std::atomic<size_t> retryable_refusals{0};
  std::atomic<size_t> refusals_with_retry_info{0};
  std::atomic<size_t> cancelled{0};
  std::atomic<size_t> other_failures{0};
  std::mutex mutex;
  std::map<int, std::string> failure_codes;  // code -> last message, for diagnosis
};

std::string describeFailures(SendTotals& totals) {
  std::lock_guard lock(totals.mutex);
  std::string out;
  for (const auto& [code, message] : totals.failure_codes) {
    out += strCat("code ", code, ": ", message, "; ");
  }
  return out;
}

bool hasRetryInfo(const grpc::Status& status) {
  google::rpc::Status rich;
  if (status.error_details().empty() || !rich.ParseFromString(status.error_details())) {
    return false;
  }
  for (const auto& detail : rich.details()) {
    if (detail.Is<google::rpc::RetryInfo>()) return true;
  }
  return false;
}

// Sends `request` over and over until `stop`, from one thread. Each call has a long deadline so
// that a call otlpd acknowledges late (stalled exporter) still counts as acknowledged.
void sendUntil(const std::string& endpoint, const otlp::TracesRequest& request,
               const std::atomic<bool>& stop, SendTotals& totals) {
  auto channel = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
  auto stub = collector_trace::TraceService::NewStub(channel);
  const size_t spans = static_cast<size_t>(request.resource_spans(0).scope_spans(0).spans_size());
  while (!stop.load()) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    collector_trace::ExportTraceServiceResponse response;
    grpc::Status status = stub->Export(&ctx, request, &response);
    if (status.ok()) {
      totals.acknowledged_spans += spans;
      continue;
    }
    ++totals.unanswered_requests;
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
      ++totals.retryable_refusals;
      if (hasRetryInfo(status)) ++totals.refusals_with_retry_info;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } else if (status.error_code() == grpc::StatusCode::CANCELLED) {
      // A server shutting down (reload, SIGTERM) cancels calls it has not started; the OTLP
      // spec makes CANCELLED retryable, and it is never an acknowledgement.
      ++totals.cancelled;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } else {
      ++totals.other_failures;
      std::lock_guard lock(totals.mutex);
      totals.failure_codes[static_cast<int>(status.error_code())] = status.error_message();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

// The same over OTLP/HTTP: a 503 must carry Retry-After; a refused body is not read, so the
// server closes the connection and the sender opens a new one.
void sendHttpUntil(const std::string& endpoint, const otlp::TracesRequest& request,
                   const std::atomic<bool>& stop, SendTotals& totals) {
  const std::string body = request.SerializeAsString();
  const size_t spans = static_cast<size_t>(request.resource_spans(0).scope_spans(0).spans_size());
  std::unique_ptr<HttpConnection> connection;
  while (!stop.load()) {
    if (!connection) {
      auto opened = HttpConnection::open(endpoint, std::chrono::seconds(60));
      if (!opened.ok()) {
        ++totals.other_failures;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      connection = *std::move(opened);
    }
    auto result = connection->request("POST", "/v1/traces",
                                      {{"Content-Type", "application/x-protobuf"}}, body);
    if (!result.ok()) {
      // A connection the server closed after a refusal: not an answer, try again.
      connection.reset();
      continue;
    }
    if (!result->keep_alive) connection.reset();
    if (result->status == 200) {
      totals.acknowledged_spans += spans;
    } else if (result->status == 503) {
      ++totals.retryable_refusals;
      if (result->hasHeader("retry-after")) ++totals.refusals_with_retry_info;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } else {
      ++totals.other_failures;
      std::lock_guard lock(totals.mutex);
      totals.failure_codes[result->status] = result->body;
    }
  }
}

size_t countSpansInLines(const std::vector<std::string>& lines, std::string_view tag) {
  size_t unparsed = 0;
  ItemCounts counts = countTraceLines(lines, tag, &unparsed);
  EXPECT_EQ(unparsed, 0u);
  return counts.tagged;
}

// At least once: every acknowledged span was exported, and any extra ones come from requests
// that were processed but whose answer the client never got (at most one request's spans each).
void expectAtLeastOnce(size_t exported, const SendTotals& totals, size_t spans_per_request) {
  const size_t acked = totals.acknowledged_spans.load();
  EXPECT_GE(exported, acked) << "acknowledged spans were lost";
  EXPECT_LE(exported, acked + spans_per_request * totals.unanswered_requests.load())
      << "more spans exported than could have been sent";
}

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

class PipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // See otlp_grpc_test.cc: keeps gRPC's library alive so channel teardown never stalls.
    [[maybe_unused]] static const bool grpc_kept_up = (grpc_init(), true);
  }
  void SetUp() override {
    char tmpl[] = "/tmp/otlpd-pipeline-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  std::string dir_;
};

// The only exporter writes into a FIFO nobody reads, so it blocks: a real stall. A flood of
// large requests meets memory_limiter's budget: otlpd refuses with UNAVAILABLE + RetryInfo and
// its RSS stays within the limit + 10%. Once the FIFO is read, every acknowledged span arrives.
void runOverload(const std::string& dir, bool over_http) {
  const std::string fifo = dir + "/stalled.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Opened first, without blocking, so otlpd's writer can open it; not read until later.
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  constexpr int kLimitMib = 96;
  auto process = OtlpdProcess::start(strCat(R"(
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0", max_recv_msg_size_mib: 16 }
      http: { endpoint: "127.0.0.1:0" }
processors:
  memory_limiter: { check_interval: 50ms, limit_mib: )",
                                            kLimitMib, R"(, spike_limit_mib: 32 }
exporters:
  file: { path: ")",
                                            fifo, R"(" }
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], processors: [memory_limiter], exporters: [file] }
)"));
  ASSERT_TRUE(process.ok()) << process.status();

  const otlp::TracesRequest request = makeLargeTraces("overload", 2 << 20);
  SendTotals totals;
  std::atomic<bool> stop{false};
  std::vector<std::thread> senders;
  for (int i = 0; i < 48; ++i) {
    senders.emplace_back([&] {
      if (over_http) {
        sendHttpUntil((*process)->httpEndpoint(), request, stop, totals);
      } else {
        sendUntil((*process)->grpcEndpoint(), request, stop, totals);
      }
    });
  }
  double peak_rss = 0;
  double peak_budget = 0;
  double peak_threads = 0;
  const auto flood_end = Clock::now() + std::chrono::seconds(4);
  while (Clock::now() < flood_end) {
    auto rss = (*process)->scrapeMetric("process_resident_memory_bytes", {});
    if (rss.ok()) peak_rss = std::max(peak_rss, *rss);
    auto threads = (*process)->scrapeMetric("process_threads", {});
    if (threads.ok()) peak_threads = std::max(peak_threads, *threads);
    auto in_use = (*process)->scrapeMetric("otlpd_memory_budget_in_use_bytes", {});
    if (in_use.ok()) peak_budget = std::max(peak_budget, *in_use);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop = true;
  auto budget = (*process)->scrapeMetric("otlpd_memory_budget_limit_bytes", {});
  // Not ASSERT: the senders must still be joined below.
  EXPECT_TRUE(budget.ok()) << budget.status();
  if (budget.ok()) {
    // The soft limit (limit - spike) less otlpd's own footprint and half the spike.
    EXPECT_LT(*budget, double{kLimitMib - 32 - 16} * (1 << 20));
    EXPECT_GE(*budget, double{kLimitMib - 32} / 4 * (1 << 20));
  }

  // The exporter resumes: drain the FIFO while the blocked calls complete.
  std::string drained;
  std::atomic<bool> drain_done{false};
  std::thread drainer([&] {
    ::fcntl(reader, F_SETFL, 0);  // blocking reads from here on
    char buf[1 << 16];
    for (;;) {
      const ssize_t n = ::read(reader, buf, sizeof buf);
      if (n <= 0) break;  // EOF once otlpd closes its end at shutdown
      drained.append(buf, static_cast<size_t>(n));
    }
    drain_done = true;
  });
  for (auto& t : senders) t.join();
  const ExitStatus exit = (*process)->stop(std::chrono::seconds(20));
  drainer.join();
  ::close(reader);

  std::cout << (over_http ? "http " : "grpc ") << "overload: acknowledged "
            << totals.acknowledged_spans << " spans, " << totals.retryable_refusals
            << " retryable refusals, peak RSS " << peak_rss / (1 << 20) << " MiB (limit "
            << kLimitMib << " MiB), peak budget use " << peak_budget / (1 << 20)
            << " MiB, peak threads " << peak_threads << "\n";
  EXPECT_TRUE(exit.cleanExit()) << exit.toString();
  EXPECT_GT(totals.retryable_refusals.load(), 0u) << "the flood should have met the limit";
  EXPECT_EQ(totals.refusals_with_retry_info.load(), totals.retryable_refusals.load());
  EXPECT_EQ(totals.other_failures.load(), 0u) << describeFailures(totals);
  EXPECT_GT(totals.acknowledged_spans.load(), 0u);
  EXPECT_LE(peak_rss, kLimitMib * 1.1 * (1 << 20)) << "peak RSS " << peak_rss / (1 << 20) << " MiB";
  EXPECT_EQ(countSpansInLines(splitLines(drained), "overload"), totals.acknowledged_spans.load());
}

TEST_F(PipelineTest, OverloadWithStalledExporterStaysBoundedAndLosesNothingAcknowledged) {
  runOverload(dir_, /*over_http=*/false);
}

TEST_F(PipelineTest, HttpOverloadWithStalledExporterStaysBoundedAndLosesNothingAcknowledged) {
  runOverload(dir_, /*over_http=*/true);
}

// Writes `yaml` to `path` atomically, so a SIGHUP never reads half a file.
void writeConfig(const std::string& path, const std::string& yaml) {
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << yaml;
  fs::rename(tmp, path);
}

std::string reloadConfig(int port, const std::string& out_file, const std::string& metrics) {
  return strCat(R"(
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:)",
                port, R"(" }
processors:
  batch: { send_batch_size: 500, timeout: 20ms }
exporters:
  file: { path: ")",
                out_file, R"(" }
service:
  telemetry: { metrics: { address: ")",
                metrics, R"(" } }
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [file] }
)");
}

std::vector<std::string> fileLines(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return splitLines(text.str());
}

// Under load: a valid reload switches the exporter's file; an invalid one is rejected and the
// running config keeps serving. Every acknowledged span is in one of the two files.
TEST_F(PipelineTest, ReloadUnderLoadKeepsEverythingAcknowledged) {
  const int port = freeLoopbackPort();
  const std::string config = dir_ + "/otlpd.yaml";
  const std::string first = dir_ + "/first.jsonl", second = dir_ + "/second.jsonl";
  const std::string metrics = strCat("127.0.0.1:", freeLoopbackPort());
  writeConfig(config, reloadConfig(port, first, metrics));
  // Started by hand rather than with OtlpdProcess: SIGHUP re-reads this very file.
  const std::string ready = dir_ + "/ready.json";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDOUT_FILENO);
    const int err = ::open((dir_ + "/stderr.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(err, STDERR_FILENO);
    ::execl(OTLPD_BINARY, OTLPD_BINARY, "serve", "--config", config.c_str(), "--ready-file",
            ready.c_str(), nullptr);
    ::_exit(127);
  }
  ASSERT_GT(pid, 0);
  for (int i = 0; i < 200 && !fs::exists(ready); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(fs::exists(ready)) << "otlpd did not become ready";

  const otlp::TracesRequest request = makeTraces("reload", 50);
  SendTotals totals;
  std::atomic<bool> stop{false};
  std::vector<std::thread> senders;
  for (int i = 0; i < 4; ++i) {
    senders.emplace_back([&] { sendUntil(strCat("127.0.0.1:", port), request, stop, totals); });
  }
  // Bounded waits on what otlpd reports, not fixed sleeps: on a loaded machine a reload can take
  // longer than any sleep chosen here.
  const auto wait_for = [](const std::function<bool()>& done) {
    for (int i = 0; i < 300 && !done(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  };
  const auto stderr_has = [&](std::string_view text) {
    std::ifstream log(dir_ + "/stderr.log");
    std::stringstream content;
    content << log.rdbuf();
    return content.str().find(text) != std::string::npos;
  };
  const auto acked_beyond = [&](size_t n) {
    return [&totals, n] { return totals.acknowledged_spans.load() > n; };
  };
  wait_for(acked_beyond(0));
  const size_t before_reload = totals.acknowledged_spans.load();
  writeConfig(config, reloadConfig(port, second, metrics));
  ASSERT_EQ(::kill(pid, SIGHUP), 0);
  wait_for([&] { return stderr_has("config reloaded"); });
  wait_for(acked_beyond(totals.acknowledged_spans.load()));
  // Invalid: an exporter that does not exist. The running config must stay.
  writeConfig(config, reloadConfig(port, second, metrics) +
                          "    logs: { receivers: [otlp], exporters: [missing] }\n");
  ASSERT_EQ(::kill(pid, SIGHUP), 0);
  wait_for([&] { return stderr_has("config reload rejected"); });
  const size_t after_invalid = totals.acknowledged_spans.load();
  wait_for(acked_beyond(after_invalid));
  stop = true;
  for (auto& t : senders) t.join();
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);

  std::ifstream err_log(dir_ + "/stderr.log");
  std::stringstream err;
  err << err_log.rdbuf();
  SCOPED_TRACE("otlpd stderr:\n" + err.str() + "\nclient failures: " + describeFailures(totals));
  EXPECT_NE(err.str().find("config reloaded"), std::string::npos);
  EXPECT_NE(err.str().find("config reload rejected"), std::string::npos) << err.str();
  EXPECT_GT(before_reload, 0u);
  EXPECT_GT(totals.acknowledged_spans.load(), after_invalid) << "serving stopped after the "
                                                                "invalid reload";
  const size_t in_first = countSpansInLines(fileLines(first), "reload");
  const size_t in_second = countSpansInLines(fileLines(second), "reload");
  EXPECT_GT(in_first, 0u);
  EXPECT_GT(in_second, 0u) << "the valid reload did not take effect";
  std::cout << "reload: " << in_first << " spans before, " << in_second << " after, "
            << totals.unanswered_requests << " requests without OK\n";
  expectAtLeastOnce(in_first + in_second, totals, 50);
}

// SIGTERM while clients send: otlpd stops taking new work, drains, exits 0, and everything it
// acknowledged is exported.
TEST_F(PipelineTest, GracefulShutdownUnderLoadExportsEverythingAcknowledged) {
  auto process = OtlpdProcess::start(R"(
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
      http: { endpoint: "127.0.0.1:0" }
processors:
  batch: { send_batch_size: 1000, timeout: 500ms }
exporters:
  file: { path: "@DIR@/out.jsonl" }
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [file] }
)");
  ASSERT_TRUE(process.ok()) << process.status();
  const otlp::TracesRequest request = makeTraces("shutdown", 40);
  SendTotals totals;
  std::atomic<bool> stop{false};
  std::vector<std::thread> senders;
  for (int i = 0; i < 6; ++i) {
    senders.emplace_back([&] { sendUntil((*process)->grpcEndpoint(), request, stop, totals); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const ExitStatus exit = (*process)->stop(std::chrono::seconds(20));
  stop = true;
  for (auto& t : senders) t.join();
  EXPECT_TRUE(exit.cleanExit()) << exit.toString();
  EXPECT_GT(totals.acknowledged_spans.load(), 0u);
  // After the process is gone, senders see connection failures: those were never acknowledged.
  expectAtLeastOnce(countSpansInLines((*process)->readJsonLines("out.jsonl"), "shutdown"), totals,
                    40);
}

}  // namespace
}  // namespace otlpd::integration
