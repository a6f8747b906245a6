// `otlpd loadgen` against a real otlpd: what loadgen reports as acknowledged is exactly what the
// receiver counted as accepted, over every protocol and signal; and a dead endpoint is reported
// as failures with a non-zero exit.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/simdjson.h"
#include "common/strings.h"
#include "otlpd_process_support.h"

namespace otlpd::integration {
namespace {

constexpr std::string_view kNopConfig = R"(receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
      http: { endpoint: "127.0.0.1:0" }
exporters:
  nop:
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [nop] }
    metrics: { receivers: [otlp], exporters: [nop] }
    logs: { receivers: [otlp], exporters: [nop] }
)";

struct LoadgenItems {
  int64_t sent = 0, acknowledged = 0, rejected = 0, refused = 0, failed = 0;
  int64_t requests_sent = 0;
};

// Runs loadgen with --json and reads the item counts of its report.
absl::StatusOr<LoadgenItems> runLoadgen(const std::vector<std::string>& extra, int* exit_code,
                                        std::string* output) {
  std::vector<std::string> args = {"loadgen", "--json", "--quiet"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = runOtlpd(args, std::chrono::seconds(30));
  if (!r.ok()) return r.status();
  *exit_code = r->status.exited ? r->status.code : -1;
  *output = strCat("stdout: ", r->out, "\nstderr: ", r->err);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(r->out).get(doc) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(strCat("report is not JSON: ", *output));
  }
  LoadgenItems items;
  auto field = [&](std::string_view object, std::string_view key, int64_t* out) {
    return doc[object][key].get_int64().get(*out) == simdjson::SUCCESS;
  };
  if (!field("items", "sent", &items.sent) ||
      !field("items", "acknowledged", &items.acknowledged) ||
      !field("items", "rejected", &items.rejected) || !field("items", "refused", &items.refused) ||
      !field("items", "failed", &items.failed) ||
      !field("requests", "sent", &items.requests_sent)) {
    return absl::InvalidArgumentError(strCat("report lacks item counts: ", *output));
  }
  return items;
}

TEST(LoadgenTest, AcknowledgedItemsEqualReceiverAcceptedForEveryProtocolAndSignal) {
  auto otlpd = OtlpdProcess::start(kNopConfig);
  ASSERT_TRUE(otlpd.ok()) << otlpd.status();
  ReceiverCounters expected_grpc, expected_http;
  for (std::string_view protocol : {"grpc", "http/protobuf", "http/json"}) {
    const bool grpc = protocol == "grpc";
    const std::string endpoint =
        grpc ? (*otlpd)->grpcEndpoint() : strCat("http://", (*otlpd)->httpEndpoint());
    for (std::string_view signal : {"traces", "metrics", "logs"}) {
      SCOPED_TRACE(strCat(protocol, " ", signal));
      // 20 requests of 100 items, and a count that is no multiple of the batch to check the
      // smaller last request.
      for (int64_t count : {2000, 250}) {
        int code = 0;
        std::string output;
        auto items = runLoadgen(
            {"--protocol", std::string(protocol), "--signal", std::string(signal), "--endpoint",
             endpoint, "--count", std::to_string(count), "--batch", "100", "--concurrency", "4"},
            &code, &output);
        ASSERT_TRUE(items.ok()) << items.status();
        EXPECT_EQ(code, 0) << output;
        EXPECT_EQ(items->sent, count) << output;
        EXPECT_EQ(items->acknowledged, count) << output;
        EXPECT_EQ(items->failed + items->refused + items->rejected, 0) << output;
        EXPECT_EQ(items->requests_sent, (count + 99) / 100) << output;

        ReceiverCounters& expected = grpc ? expected_grpc : expected_http;
        const double acked = static_cast<double>(items->acknowledged);
        if (signal == "traces") expected.accepted_spans += acked;
        if (signal == "metrics") expected.accepted_points += acked;
        if (signal == "logs") expected.accepted_logs += acked;
        auto counters = waitForReceiverCounters(**otlpd, grpc ? "grpc" : "http", expected);
        ASSERT_TRUE(counters.ok()) << counters.status();
        EXPECT_EQ(*counters, expected);
      }
    }
  }
  EXPECT_TRUE((*otlpd)->stop().cleanExit());
}

// A port that was free a moment ago; nothing listens there.
int unusedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

TEST(LoadgenTest, NothingListeningIsReportedAsFailuresWithNonZeroExit) {
  const int port = unusedPort();
  ASSERT_NE(port, 0);
  for (std::string_view protocol : {"grpc", "http/protobuf"}) {
    SCOPED_TRACE(protocol);
    const std::string endpoint =
        protocol == "grpc" ? strCat("127.0.0.1:", port) : strCat("http://127.0.0.1:", port);
    int code = 0;
    std::string output;
    auto items = runLoadgen({"--protocol", std::string(protocol), "--endpoint", endpoint, "--count",
                             "300", "--batch", "100", "--timeout", "3s"},
                            &code, &output);
    ASSERT_TRUE(items.ok()) << items.status();
    EXPECT_EQ(code, 1) << output;
    EXPECT_EQ(items->sent, 300) << output;
    EXPECT_EQ(items->failed, 300) << output;
    EXPECT_EQ(items->acknowledged, 0) << output;
    EXPECT_EQ(items->refused, 0) << output;
  }
}

// Every value of `field` ("spanId") in OTLP/JSON lines, with repeats.
std::vector<std::string> jsonStringsOf(const std::string& text, std::string_view field) {
  std::vector<std::string> values;
  const std::string needle = strCat("\"", field, "\":\"");
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at)) {
    at += needle.size();
    const size_t end = text.find('"', at);
    if (end == std::string::npos) break;
    values.push_back(text.substr(at, end - at));
  }
  return values;
}

// --unique-ids as the receiver sees it: one variant sent ten times over each transport carries
// ids (and URL order ids) no other send carried. The gRPC sender once kept a slice per request
// body's address, so the reused, renewed copies sent stale ids while loadgen's own tests passed.
TEST(LoadgenTest, UniqueIdsReachTheReceiverNeverRepeated) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / strCat("otlpd-loadgen-unique-", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string config = strCat(R"(receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
      http: { endpoint: "127.0.0.1:0" }
exporters:
  file: { path: ")",
                                    (dir / "traces.jsonl").string(), R"(" }
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [file] }
)");
  auto otlpd = OtlpdProcess::start(config);
  ASSERT_TRUE(otlpd.ok()) << otlpd.status();
  for (std::string_view protocol : {"grpc", "http/protobuf"}) {
    SCOPED_TRACE(protocol);
    const std::string endpoint =
        protocol == "grpc" ? (*otlpd)->grpcEndpoint() : strCat("http://", (*otlpd)->httpEndpoint());
    int code = 0;
    std::string output;
    auto items =
        runLoadgen({"--protocol", std::string(protocol), "--endpoint", endpoint, "--count", "1000",
                    "--batch", "100", "--variants", "1", "--concurrency", "3", "--unique-ids"},
                   &code, &output);
    ASSERT_TRUE(items.ok()) << items.status();
    EXPECT_EQ(code, 0) << output;
    EXPECT_EQ(items->acknowledged, 1000) << output;
  }
  EXPECT_TRUE((*otlpd)->stop().cleanExit());  // the file exporter has written everything
  std::ifstream in(dir / "traces.jsonl");
  std::stringstream text;
  text << in.rdbuf();
  fs::remove_all(dir);

  const std::vector<std::string> span_ids = jsonStringsOf(text.str(), "spanId");
  EXPECT_EQ(span_ids.size(), 2000u);
  EXPECT_EQ(std::set<std::string>(span_ids.begin(), span_ids.end()).size(), span_ids.size());
  std::vector<std::string> urls;
  for (const std::string& v : jsonStringsOf(text.str(), "stringValue")) {
    if (v.starts_with("https://shop.example.com/api/v1/orders/")) urls.push_back(v);
  }
  EXPECT_GE(urls.size(), 100u);  // the server spans' url.full
  EXPECT_EQ(std::set<std::string>(urls.begin(), urls.end()).size(), urls.size());
}

TEST(LoadgenTest, BadOptionsExitWithUsageError) {
  auto r = runOtlpd({"loadgen", "--rate", "fast"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->status.exited) << r->status.toString();
  EXPECT_EQ(r->status.code, 2) << r->err;
  EXPECT_TRUE(contains(r->err, "--rate")) << r->err;
}

}  // namespace
}  // namespace otlpd::integration
