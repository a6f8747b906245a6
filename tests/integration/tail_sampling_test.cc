// tail_sampling in the real binary: traces whose spans come in separate requests are decided
// root_grace after their root, kept ones reach the exporter, late spans follow the decision,
// /metrics counts it all, and a reload (SIGHUP) or a stop (SIGTERM) decides what is held.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "otlp/proto.h"
#include "otlp_data_support.h"
#include "otlpd_process_support.h"

namespace otlpd::integration {
namespace {

namespace pbt = otlp::pb_trace;

std::string config(int http_port, int metrics_port) {
  return strCat(R"(receivers:
  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:)",
                http_port, R"(" }
processors:
  tail_sampling:
    root_grace: 200ms
    decision_wait: 30s
    policies:
      - { name: errors, type: status_code, status_code: { status_codes: [ERROR] } }
exporters:
  file/traces: { path: "@DIR@/traces.jsonl" }
service:
  telemetry: { metrics: { address: "127.0.0.1:)",
                metrics_port, R"(" } }
  pipelines:
    traces: { receivers: [otlp], processors: [tail_sampling], exporters: [file/traces] }
)");
}

// One span of trace `trace` named "tail-<trace>-<name>"; a root when `root`.
void addSpan(otlp::TracesRequest& req, int trace, const std::string& name, bool root,
             bool error = false) {
  if (req.resource_spans_size() == 0) {
    auto* kv = req.add_resource_spans()->mutable_resource()->add_attributes();
    kv->set_key("service.name");
    kv->mutable_value()->set_string_value("shop");
    req.mutable_resource_spans(0)->add_scope_spans()->mutable_scope()->set_name("lib");
  }
  pbt::Span* span = req.mutable_resource_spans(0)->mutable_scope_spans(0)->add_spans();
  std::string id(16, '\x11');
  id[15] = static_cast<char>(trace);
  span->set_trace_id(id);
  static int next_span = 1;
  std::string span_id(8, '\x22');
  span_id[7] = static_cast<char>(next_span++);
  span->set_span_id(span_id);
  if (!root) span->set_parent_span_id(std::string(8, '\x33'));
  span->set_name(strCat("tail-", trace, "-", name));
  const uint64_t now =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  span->set_start_time_unix_nano(now - 1'000'000);
  span->set_end_time_unix_nano(now);
  if (error) span->mutable_status()->set_code(pbt::Status::STATUS_CODE_ERROR);
}

class TailSamplingIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http_port_ = freeLoopbackPort();
    metrics_port_ = freeLoopbackPort();
    auto p = OtlpdProcess::start(config(http_port_, metrics_port_));
    ASSERT_TRUE(p.ok()) << p.status();
    process_ = *std::move(p);
  }

  void send(const otlp::TracesRequest& req) {
    auto r = httpRequest(strCat("127.0.0.1:", http_port_), "POST", "/v1/traces",
                         {{"Content-Type", "application/x-protobuf"}}, req.SerializeAsString());
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->status, 200) << r->body;
  }
  std::vector<std::string> exported() {
    std::vector<std::string> names =
        taggedSpanNames(process_->readJsonLines("traces.jsonl"), "tail");
    std::sort(names.begin(), names.end());
    return names;
  }
  // Polls the exporter's file until `count` tagged spans are there (at most 10 s).
  std::vector<std::string> waitForExported(size_t count) {
    std::vector<std::string> names = exported();
    for (int i = 0; i < 200 && names.size() < count; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      names = exported();
    }
    return names;
  }
  double metric(const std::string& name, LabelMap labels) {
    labels["processor"] = "tail_sampling";
    auto v = process_->scrapeMetric("otlpd_processor_tail_sampling_" + name, labels);
    return v.ok() ? *v : -1;
  }
  double waitForMetric(const std::string& name, LabelMap labels, double expected) {
    labels["processor"] = "tail_sampling";
    auto v = process_->waitForMetric("otlpd_processor_tail_sampling_" + name, labels, expected,
                                     std::chrono::seconds(10));
    return v.ok() ? *v : -1;
  }

  int http_port_ = 0;
  int metrics_port_ = 0;
  std::unique_ptr<OtlpdProcess> process_;
};

TEST_F(TailSamplingIntegrationTest, DecidesSoonAfterTheRootAndLateSpansFollow) {
  // Trace 1 has an error in a child, trace 2 has none; children and roots in separate requests.
  otlp::TracesRequest children, roots;
  addSpan(children, 1, "child", false, true);
  addSpan(children, 2, "child", false);
  addSpan(roots, 1, "root", true);
  addSpan(roots, 2, "root", true);
  const auto sent = std::chrono::steady_clock::now();
  send(children);
  send(roots);
  EXPECT_EQ(waitForExported(2), (std::vector<std::string>{"tail-1-child", "tail-1-root"}));
  // Well before decision_wait (30 s): root_grace (200 ms) after the root.
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::seconds(10));
  EXPECT_EQ(waitForMetric("traces_total", {{"policy", "errors"}, {"decision", "kept"}}, 1), 1);
  EXPECT_EQ(waitForMetric("traces_total", {{"policy", ""}, {"decision", "dropped"}}, 1), 1);
  EXPECT_EQ(metric("decision_latency_seconds_count", {{"trigger", "root"}}), 2);

  otlp::TracesRequest late;
  addSpan(late, 1, "late", false);
  addSpan(late, 2, "late", false);
  send(late);
  EXPECT_EQ(waitForExported(3),
            (std::vector<std::string>{"tail-1-child", "tail-1-late", "tail-1-root"}));
  EXPECT_EQ(waitForMetric("late_spans_total", {{"decision", "kept"}}, 1), 1);
  EXPECT_EQ(metric("late_spans_total", {{"decision", "dropped"}}), 1);
  EXPECT_EQ(metric("traces_held", {}), 0);
}

TEST_F(TailSamplingIntegrationTest, ReloadAndStopDecideWhatIsHeld) {
  // No root: held for decision_wait (30 s) unless something decides it sooner.
  otlp::TracesRequest first;
  addSpan(first, 3, "held-over-reload", false, true);
  send(first);
  ASSERT_EQ(waitForMetric("traces_held", {}, 1), 1);
  ASSERT_EQ(::kill(process_->pid(), SIGHUP), 0);
  EXPECT_EQ(waitForExported(1), (std::vector<std::string>{"tail-3-held-over-reload"}));

  otlp::TracesRequest second;
  addSpan(second, 4, "held-at-stop", false, true);
  // The reloaded receiver may take a moment to listen again.
  for (int i = 0; i < 100; ++i) {
    auto r = httpRequest(strCat("127.0.0.1:", http_port_), "POST", "/v1/traces",
                         {{"Content-Type", "application/x-protobuf"}}, second.SerializeAsString());
    if (r.ok() && r->status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(waitForMetric("traces_held", {}, 1), 1);
  EXPECT_TRUE(process_->stop().cleanExit()) << process_->stderrContents();
  EXPECT_EQ(exported(),
            (std::vector<std::string>{"tail-3-held-over-reload", "tail-4-held-at-stop"}));
}

}  // namespace
}  // namespace otlpd::integration
