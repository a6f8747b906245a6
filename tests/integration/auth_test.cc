// Authentication with the real binary: bearertokenauth and basicauth on the otlp receiver (gRPC
// and HTTP), on the exporters (one otlpd forwarding to another that requires credentials), and on
// the query API; refusals and their counters; the client's identity stamped by the attributes
// processor from `auth.subject`.
#include <crypt.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "extensions/auth/credentials.h"
#include "otlp/proto.h"
#include "otlp_data_support.h"
#include "otlpd_process_support.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#pragma GCC diagnostic pop

namespace otlpd::integration {
namespace {

namespace fs = std::filesystem;
namespace pb_collector_trace = ::opentelemetry::proto::collector::trace::v1;
using namespace std::chrono_literals;

// A bcrypt hash as `htpasswd -B` writes one, made through the system's crypt (cost 5: fast).
std::string bcrypt(const std::string& password) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", 5, nullptr, 0, setting, sizeof setting) == nullptr) return "";
  auto data = std::make_unique<crypt_data>();
  const char* hashed = crypt_rn(password.c_str(), setting, data.get(), sizeof *data);
  return hashed == nullptr ? "" : hashed;
}

std::string basic(const std::string& user, const std::string& password) {
  return extensions::auth::basicAuthorization(user, password);
}

grpc::Status sendTraces(const std::string& endpoint, const otlp::TracesRequest& request,
                        const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
  auto channel = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
  auto stub = pb_collector_trace::TraceService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  for (const auto& [k, v] : metadata) ctx.AddMetadata(k, v);
  otlp::TracesResponse response;
  return stub->Export(&ctx, request, &response);
}

absl::StatusOr<HttpResult> postTraces(const std::string& endpoint,
                                      const otlp::TracesRequest& request, HeaderList headers = {}) {
  headers.emplace_back("Content-Type", "application/x-protobuf");
  return httpRequest(endpoint, "POST", "/v1/traces", headers, request.SerializeAsString());
}

// The exporter output lines that hold spans tagged `tag`.
std::vector<std::string> linesWith(const OtlpdProcess& p, std::string_view file,
                                   std::string_view tag) {
  std::vector<std::string> out;
  for (std::string& line : p.readJsonLines(file)) {
    if (contains(line, tag)) out.push_back(std::move(line));
  }
  return out;
}

// A directory for files that must exist before otlpd starts (token files, htpasswd files).
class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           strCat("otlpd-auth-", ::getpid(), "-",
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string file(const std::string& name, const std::string& contents) {
    const fs::path path = dir_ / name;
    // Written aside and renamed: a watcher never sees half a file.
    std::ofstream(path.string() + ".tmp", std::ios::trunc) << contents;
    fs::rename(path.string() + ".tmp", path);
    return path.string();
  }

  fs::path dir_;
};

constexpr std::string_view kBearerReceiver = R"(extensions:
  bearertokenauth:
    tokens:
      - { token: "token-of-tenant-a", name: tenant-a }
      - "token-without-name"
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0", include_metadata: true,
              auth: { authenticator: bearertokenauth } }
      http: { endpoint: "127.0.0.1:0", include_metadata: true,
              auth: { authenticator: bearertokenauth } }
processors:
  attributes:
    actions:
      - { key: tenant, from_context: auth.subject, action: upsert }
      - { key: credentials, from_context: metadata.authorization, action: upsert }
      - { key: agent, from_context: metadata.x-agent, action: upsert }
exporters:
  file: { path: "@DIR@/traces.jsonl" }
service:
  extensions: [bearertokenauth]
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], processors: [attributes], exporters: [file] }
)";

TEST_F(AuthTest, BearerTokensOnTheReceiverOverGrpcAndHttp) {
  auto p = OtlpdProcess::start(kBearerReceiver);
  ASSERT_TRUE(p.ok()) << p.status();
  OtlpdProcess& otlpd = **p;

  // gRPC: no token, a wrong one, a near miss, the wrong scheme: UNAUTHENTICATED, saying nothing.
  for (const auto& metadata : std::vector<std::vector<std::pair<std::string, std::string>>>{
           {},
           {{"authorization", "Bearer nope"}},
           {{"authorization", "Bearer token-of-tenant-"}},
           {{"authorization", "Basic token-of-tenant-a"}}}) {
    grpc::Status s = sendTraces(otlpd.grpcEndpoint(), makeTraces("grpc-refused", 2), metadata);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(s.error_message(), "unauthenticated");
  }
  grpc::Status ok = sendTraces(otlpd.grpcEndpoint(), makeTraces("grpc-tenant-a", 3),
                               {{"authorization", "Bearer token-of-tenant-a"}, {"x-agent", "g"}});
  EXPECT_TRUE(ok.ok()) << ok.error_message();
  ok = sendTraces(otlpd.grpcEndpoint(), makeTraces("grpc-unnamed", 1),
                  {{"authorization", "Bearer token-without-name"}});
  EXPECT_TRUE(ok.ok()) << ok.error_message();

  // HTTP: 401 with the challenge and no reason.
  for (const HeaderList& headers :
       std::vector<HeaderList>{{}, {{"Authorization", "Bearer nope"}}, {{"Authorization", ""}}}) {
    auto r = postTraces(otlpd.httpEndpoint(), makeTraces("http-refused", 2), headers);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(r->header("WWW-Authenticate"), "Bearer realm=\"otlpd\"");
    EXPECT_FALSE(contains(r->body, "token")) << r->body;
    EXPECT_FALSE(r->keep_alive);  // the body was not read: the connection ends
  }
  auto r = postTraces(otlpd.httpEndpoint(), makeTraces("http-tenant-a", 4),
                      {{"Authorization", "bearer token-of-tenant-a"}, {"X-Agent", "h"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200) << r->body;

  // Refused before the body is read: an announced 64 MiB that never comes is answered at once.
  const auto before = std::chrono::steady_clock::now();
  auto stalled = httpRequest(
      otlpd.httpEndpoint(), "POST", "/v1/traces",
      {{"Content-Type", "application/x-protobuf"}, {"Content-Length", std::to_string(64 << 20)}},
      "x");
  ASSERT_TRUE(stalled.ok()) << stalled.status();
  EXPECT_EQ(stalled->status, 401);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 3s);

  const LabelMap grpc_labels = {{"receiver", "otlp"}, {"transport", "grpc"}};
  const LabelMap http_labels = {{"receiver", "otlp"}, {"transport", "http"}};
  EXPECT_EQ(otlpd.waitForMetric("otlpd_receiver_unauthenticated_requests_total", grpc_labels, 4)
                .value_or(-1),
            4);
  EXPECT_EQ(otlpd.waitForMetric("otlpd_receiver_unauthenticated_requests_total", http_labels, 4)
                .value_or(-1),
            4);
  EXPECT_EQ(otlpd.scrapeMetric("otlpd_receiver_accepted_spans_total", grpc_labels).value_or(-1), 4);
  EXPECT_EQ(otlpd.scrapeMetric("otlpd_receiver_accepted_spans_total", http_labels).value_or(-1), 4);
  EXPECT_EQ(otlpd.scrapeMetric("otlpd_receiver_malformed_requests_total", http_labels).value_or(-1),
            0);

  // The token's name is the client's auth.subject; the token itself never reaches a processor.
  EXPECT_EQ(waitForTaggedItems(otlpd, SignalFile::kTraces, "grpc-tenant-a", 3), 3u);
  EXPECT_EQ(waitForTaggedItems(otlpd, SignalFile::kTraces, "http-tenant-a", 4), 4u);
  EXPECT_EQ(waitForTaggedItems(otlpd, SignalFile::kTraces, "grpc-unnamed", 1), 1u);
  for (std::string_view tag : {"grpc-tenant-a", "http-tenant-a"}) {
    auto lines = linesWith(otlpd, "traces.jsonl", tag);
    ASSERT_EQ(lines.size(), 1u) << tag;
    EXPECT_TRUE(contains(lines[0], R"("key":"tenant","value":{"stringValue":"tenant-a"})"))
        << lines[0];
    // Other metadata still comes through with include_metadata.
    EXPECT_TRUE(contains(lines[0], R"("key":"agent")")) << lines[0];
  }
  auto unnamed = linesWith(otlpd, "traces.jsonl", "grpc-unnamed");
  ASSERT_EQ(unnamed.size(), 1u);
  EXPECT_FALSE(contains(unnamed[0], R"("key":"tenant")")) << unnamed[0];
  for (const std::string& line : otlpd.readJsonLines("traces.jsonl")) {
    EXPECT_FALSE(contains(line, "token-")) << line;
    EXPECT_FALSE(contains(line, R"("key":"credentials")")) << line;
  }
  EXPECT_EQ(waitForTaggedItems(otlpd, SignalFile::kTraces, "refused", 1, nullptr, 200ms), 0u);
}

TEST_F(AuthTest, BasicAuthOnTheReceiverWithBcryptEntries) {
  const std::string htpasswd = file(
      "users.htpasswd", strCat("alice:", bcrypt("wonderland"), "\nbob:", bcrypt("builder"), "\n"));
  auto p = OtlpdProcess::start(strCat(R"(extensions:
  basicauth:
    htpasswd: { file: ")",
                                      htpasswd, R"(" }
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0", auth: { authenticator: basicauth } }
      http: { endpoint: "127.0.0.1:0", auth: { authenticator: basicauth } }
processors:
  attributes:
    actions:
      - { key: user, from_context: auth.username, action: upsert }
exporters:
  file: { path: "@DIR@/traces.jsonl" }
service:
  extensions: [basicauth]
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], processors: [attributes], exporters: [file] }
)"));
  ASSERT_TRUE(p.ok()) << p.status();
  OtlpdProcess& otlpd = **p;

  EXPECT_EQ(sendTraces(otlpd.grpcEndpoint(), makeTraces("b-refused", 1),
                       {{"authorization", basic("alice", "builder")}})
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(sendTraces(otlpd.grpcEndpoint(), makeTraces("b-refused", 1),
                       {{"authorization", basic("carol", "wonderland")}})
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(sendTraces(otlpd.grpcEndpoint(), makeTraces("b-refused", 1)).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  for (int i = 0; i < 3; ++i) {  // the first pays for bcrypt, the others are remembered
    grpc::Status s = sendTraces(otlpd.grpcEndpoint(), makeTraces(strCat("b-grpc-alice-", i), 1),
                                {{"authorization", basic("alice", "wonderland")}});
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  auto wrong = postTraces(otlpd.httpEndpoint(), makeTraces("b-refused", 1),
                          {{"Authorization", basic("bob", "wonderland")}});
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(wrong->header("WWW-Authenticate"), "Basic realm=\"otlpd\", charset=\"UTF-8\"");
  auto good = postTraces(otlpd.httpEndpoint(), makeTraces("b-http-bob", 2),
                         {{"Authorization", basic("bob", "builder")}});
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->status, 200) << good->body;

  EXPECT_EQ(otlpd
                .waitForMetric("otlpd_receiver_unauthenticated_requests_total",
                               {{"receiver", "otlp"}, {"transport", "grpc"}}, 3)
                .value_or(-1),
            3);
  EXPECT_EQ(otlpd
                .waitForMetric("otlpd_receiver_unauthenticated_requests_total",
                               {{"receiver", "otlp"}, {"transport", "http"}}, 1)
                .value_or(-1),
            1);
  EXPECT_EQ(waitForTaggedItems(otlpd, SignalFile::kTraces, "b-grpc-alice", 3), 3u);
  EXPECT_EQ(waitForTaggedItems(otlpd, SignalFile::kTraces, "b-http-bob", 2), 2u);
  auto bob = linesWith(otlpd, "traces.jsonl", "b-http-bob");
  ASSERT_EQ(bob.size(), 1u);
  EXPECT_TRUE(contains(bob[0], R"("key":"user","value":{"stringValue":"bob"})")) << bob[0];
  EXPECT_EQ(waitForTaggedItems(otlpd, SignalFile::kTraces, "b-refused", 1, nullptr, 200ms), 0u);
}

// A downstream that requires a bearer token on gRPC and a password on HTTP.
std::string downstreamConfig(const std::string& token_file, const std::string& htpasswd) {
  return strCat(R"(extensions:
  bearertokenauth: { filename: ")",
                token_file, R"(" }
  basicauth: { htpasswd: { inline: "forwarder:)",
                htpasswd, R"(" } }
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0", auth: { authenticator: bearertokenauth } }
      http: { endpoint: "127.0.0.1:0", auth: { authenticator: basicauth } }
exporters:
  file: { path: "@DIR@/traces.jsonl" }
service:
  extensions: [bearertokenauth, basicauth]
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [file] }
)");
}

// A forwarder whose otlp_grpc exporter sends a token from `token_file` and whose otlp_http
// exporter sends `password`, each fed by its own pipeline. Configured Authorization headers are
// replaced by the authenticators'.
std::string forwarderConfig(const OtlpdProcess& downstream, const std::string& token_file,
                            const std::string& password) {
  return strCat(R"(extensions:
  bearertokenauth/out: { filename: ")",
                token_file, R"(" }
  basicauth/out: { client_auth: { username: forwarder, password: ")",
                password, R"(" } }
receivers:
  otlp/grpc:
    protocols: { grpc: { endpoint: "127.0.0.1:0" } }
  otlp/http:
    protocols: { http: { endpoint: "127.0.0.1:0" } }
exporters:
  otlp_grpc:
    endpoint: ")",
                downstream.grpcEndpoint(), R"("
    tls: { insecure: true }
    headers: { authorization: "Bearer stale-configured-token" }
    auth: { authenticator: bearertokenauth/out }
    retry_on_failure: { initial_interval: 100ms, max_interval: 300ms, max_elapsed_time: 60s }
  otlp_http:
    endpoint: "http://)",
                downstream.httpEndpoint(), R"("
    headers: { Authorization: "Basic c3RhbGU6c3RhbGU=" }
    auth: { authenticator: basicauth/out }
    retry_on_failure: { initial_interval: 100ms, max_interval: 300ms, max_elapsed_time: 60s }
service:
  extensions: [bearertokenauth/out, basicauth/out]
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces/grpc: { receivers: [otlp/grpc], exporters: [otlp_grpc] }
    traces/http: { receivers: [otlp/http], exporters: [otlp_http] }
)");
}

TEST_F(AuthTest, ExportersSendCredentialsAndRetryWhenRefusedUntilTheyAreRight) {
  const std::string down_token = file("downstream.token", "right-token\n");
  auto down = OtlpdProcess::start(downstreamConfig(down_token, bcrypt("right-password")));
  ASSERT_TRUE(down.ok()) << down.status();

  // Good credentials: delivered over both transports.
  const std::string good_token = file("good.token", "right-token\n");
  auto fwd = OtlpdProcess::start(forwarderConfig(**down, good_token, "right-password"));
  ASSERT_TRUE(fwd.ok()) << fwd.status();
  ASSERT_TRUE(sendTraces((*fwd)->endpoint("otlp/grpc.grpc"), makeTraces("fwd-grpc", 5)).ok());
  auto posted = postTraces((*fwd)->endpoint("otlp/http.http"), makeTraces("fwd-http", 6));
  ASSERT_TRUE(posted.ok());
  EXPECT_EQ(posted->status, 200);
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kTraces, "fwd-grpc", 5, nullptr, 10s), 5u);
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kTraces, "fwd-http", 6, nullptr, 10s), 6u);
  EXPECT_EQ((*down)
                ->scrapeMetric("otlpd_receiver_unauthenticated_requests_total",
                               {{"receiver", "otlp"}, {"transport", "grpc"}})
                .value_or(-1),
            0);

  // Wrong credentials: refused, not delivered, retried (not dropped).
  const std::string bad_token = file("bad.token", "wrong-token\n");
  auto wrong = OtlpdProcess::start(forwarderConfig(**down, bad_token, "wrong-password"));
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  ASSERT_TRUE(sendTraces((*wrong)->endpoint("otlp/grpc.grpc"), makeTraces("late-grpc", 7)).ok());
  posted = postTraces((*wrong)->endpoint("otlp/http.http"), makeTraces("late-http", 8));
  ASSERT_TRUE(posted.ok());
  EXPECT_EQ(posted->status, 200);  // the forwarder holds it: the downstream refusal is its own
  for (const char* transport : {"grpc", "http"}) {
    // Several attempts arrive and are refused.
    EXPECT_GE((*down)
                  ->waitForMetric("otlpd_receiver_unauthenticated_requests_total",
                                  {{"receiver", "otlp"}, {"transport", transport}}, 3, 10s)
                  .value_or(-1),
              3)
        << transport;
  }
  EXPECT_GE((*wrong)
                ->scrapeMetric("otlpd_exporter_retries_total",
                               {{"exporter", "otlp_grpc"}, {"signal", "traces"}})
                .value_or(-1),
            2);
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kTraces, "late", 1, nullptr, 300ms), 0u);
  EXPECT_EQ((*wrong)
                ->scrapeMetric("otlpd_exporter_dropped_spans_total", {{"exporter", "otlp_grpc"}})
                .value_or(-1),
            0);

  // The forwarder's token file is fixed: the next retry carries the new token and gets through.
  file("bad.token", "right-token\n");
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kTraces, "late-grpc", 7, nullptr, 15s), 7u);
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kTraces, "late-http", 1, nullptr, 300ms), 0u);
  // And when the downstream rotates its token, the forwarder that still has the old one waits.
  file("downstream.token", "rotated-token\n");
  const double refused_before = (*down)
                                    ->scrapeMetric("otlpd_receiver_unauthenticated_requests_total",
                                                   {{"receiver", "otlp"}, {"transport", "grpc"}})
                                    .value_or(-1);
  std::this_thread::sleep_for(3s);  // the downstream re-reads its file (polled every second)
  ASSERT_TRUE(sendTraces((*fwd)->endpoint("otlp/grpc.grpc"), makeTraces("rotated", 2)).ok());
  EXPECT_GE(
      (*down)
          ->waitForMetric("otlpd_receiver_unauthenticated_requests_total",
                          {{"receiver", "otlp"}, {"transport", "grpc"}}, refused_before + 1, 10s)
          .value_or(-1),
      refused_before + 1);
  file("good.token", "rotated-token\n");
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kTraces, "rotated", 2, nullptr, 15s), 2u);
}

TEST_F(AuthTest, QueryApiAndUiRequireCredentials) {
  auto p = OtlpdProcess::start(strCat(R"(extensions:
  basicauth:
    htpasswd: { inline: "viewer:)",
                                      bcrypt("look-only"), R"(" }
  jaeger_query:
    endpoint: "127.0.0.1:0"
    store: { directory: "@DIR@/store" }
    auth: { authenticator: basicauth }
receivers:
  otlp:
    protocols: { grpc: { endpoint: "127.0.0.1:0" } }
exporters:
  store: { directory: "@DIR@/store" }
service:
  extensions: [jaeger_query, basicauth]
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [store] }
)"));
  ASSERT_TRUE(p.ok()) << p.status();
  const std::string query = (*p)->endpoint("jaeger_query");
  for (const std::string target : {"/api/services", "/api/v3/services", "/", "/search"}) {
    auto none = httpRequest(query, "GET", target);
    ASSERT_TRUE(none.ok()) << none.status();
    EXPECT_EQ(none->status, 401) << target;
    EXPECT_EQ(none->header("WWW-Authenticate"), "Basic realm=\"otlpd\", charset=\"UTF-8\"");
    auto wrong = httpRequest(query, "GET", target, {{"Authorization", basic("viewer", "guess")}});
    ASSERT_TRUE(wrong.ok());
    EXPECT_EQ(wrong->status, 401) << target;
    auto good =
        httpRequest(query, "GET", target, {{"Authorization", basic("viewer", "look-only")}});
    ASSERT_TRUE(good.ok());
    EXPECT_EQ(good->status, 200) << target << " " << good->body;
  }
  EXPECT_EQ((*p)->waitForMetric("otlpd_query_unauthenticated_requests_total",
                                {{"extension", "jaeger_query"}}, 8)
                .value_or(-1),
            8);
}

TEST_F(AuthTest, ValidateNamesAnAuthenticatorThatIsNotThere) {
  const std::string config = file("config.yaml", R"(extensions:
  health_check:
receivers:
  otlp:
    protocols:
      grpc: { auth: { authenticator: bearertokenauth } }
      http: { auth: { authenticator: health_check } }
exporters:
  nop:
service:
  extensions: [health_check]
  pipelines:
    traces: { receivers: [otlp], exporters: [nop] }
)");
  auto r = runOtlpd({"validate", "--config", config});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status.code, 2) << r->err;
  EXPECT_TRUE(contains(r->err,
                       "receivers.otlp.protocols.grpc.auth.authenticator (line 6:38): server "
                       "authenticator 'bearertokenauth' is not defined in extensions"))
      << r->err;
  EXPECT_TRUE(contains(r->err,
                       "receivers.otlp.protocols.http.auth.authenticator (line 7:38): extension "
                       "'health_check' (type health_check) is not a server authenticator"))
      << r->err;
}

}  // namespace
}  // namespace otlpd::integration
