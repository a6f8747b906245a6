#include "processors/lookup/lookup_processor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "../enrich_test_support.h"

namespace otlpd::processors::lookup {
namespace {

using pipeline::Signal;
using testing::flat;
using testing::Harness;
using testing::putInt;
using testing::putString;
using Lines = std::vector<std::string>;

class LookupProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("lookup-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes the file as a careful writer does: a temporary file renamed over the old one.
  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    const auto tmp = dir_ / (name + ".tmp");
    std::ofstream(tmp, std::ios::binary) << text;
    std::filesystem::rename(tmp, path);
    return path.string();
  }

  std::filesystem::path dir_;
};

otlp::TracesRequest tracesFor(const std::vector<std::string>& services) {
  otlp::TracesRequest r;
  for (const std::string& service : services) {
    auto* rs = r.add_resource_spans();
    if (!service.empty()) {
      putString(rs->mutable_resource()->mutable_attributes(), "service.name", service);
    }
    rs->add_scope_spans()->add_spans()->set_name("op");
  }
  return r;
}

TEST_F(LookupProcessorTest, EnrichesTracesFromACsvTable) {
  const std::string file =
      write("services.csv", "service.name,team,tier\ncheckout,payments,gold\ncart,shop,\n");
  Harness h(makeLookupFactory());
  ASSERT_EQ(h.create("file: " + file, Signal::kTraces), "");
  otlp::TracesRequest in = tracesFor({"checkout", "cart", "unknown", ""});
  putString(in.mutable_resource_spans(0)->mutable_resource()->mutable_attributes(), "team",
            "sdk-team");
  otlp::TracesRequest out = h.run(Signal::kTraces, in);
  ASSERT_EQ(out.resource_spans_size(), 4);
  // on_conflict: keep (the default) leaves what the resource had.
  EXPECT_EQ(flat(out.resource_spans(0).resource().attributes()),
            (Lines{"service.name=checkout", "team=sdk-team", "tier=gold"}));
  EXPECT_EQ(flat(out.resource_spans(1).resource().attributes()),
            (Lines{"service.name=cart", "team=shop"}));
  EXPECT_EQ(flat(out.resource_spans(2).resource().attributes()), (Lines{"service.name=unknown"}));
  EXPECT_TRUE(out.resource_spans(3).resource().attributes().empty());
  EXPECT_EQ(out.resource_spans(0).scope_spans(0).spans(0).name(), "op");
  EXPECT_EQ(h.counter("otlpd_lookup_hits_total"), 2u);
  EXPECT_EQ(h.counter("otlpd_lookup_misses_total"), 2u);
}

TEST_F(LookupProcessorTest, OverwriteDefaultRowAndPrefixOnLogs) {
  const std::string file = write("owners.json", R"([
    {"service.name": "api", "team": "core", "tier": 1},
    {"service.name": "*", "team": "unowned"}
  ])");
  Harness h(makeLookupFactory());
  ASSERT_EQ(h.create("file: " + file + "\non_conflict: overwrite\nattribute_prefix: owner.\n",
                     Signal::kLogs),
            "");
  otlp::LogsRequest in;
  for (const char* service : {"api", "worker"}) {
    auto* rl = in.add_resource_logs();
    putString(rl->mutable_resource()->mutable_attributes(), "service.name", service);
    putString(rl->mutable_resource()->mutable_attributes(), "owner.team", "stale");
    rl->add_scope_logs()->add_log_records()->mutable_body()->set_string_value("x");
  }
  otlp::LogsRequest out = h.run(Signal::kLogs, in);
  EXPECT_EQ(flat(out.resource_logs(0).resource().attributes()),
            (Lines{"owner.team=core", "owner.tier=1", "service.name=api"}));
  EXPECT_EQ(flat(out.resource_logs(1).resource().attributes()),
            (Lines{"owner.team=unowned", "service.name=worker"}));
  EXPECT_EQ(h.counter("otlpd_lookup_hits_total"), 1u);
  EXPECT_EQ(h.counter("otlpd_lookup_misses_total"), 1u);
}

TEST_F(LookupProcessorTest, CompositeKeysConfigDefaultAndMetrics) {
  const std::string file = write("t.yaml",
                                 "- {k8s.namespace.name: shop, service.name: api, sla: gold}\n"
                                 "- {k8s.namespace.name: shop, service.name: 7, sla: silver}\n");
  Harness h(makeLookupFactory());
  ASSERT_EQ(h.create("file: " + file +
                         "\nkeys: [k8s.namespace.name, service.name]\n"
                         "default: {sla: none, reviewed: false}\n",
                     Signal::kMetrics),
            "");
  otlp::MetricsRequest in;
  auto add = [&](const char* ns, std::optional<int64_t> int_service, const char* service) {
    auto* rm = in.add_resource_metrics();
    putString(rm->mutable_resource()->mutable_attributes(), "k8s.namespace.name", ns);
    if (int_service) {
      putInt(rm->mutable_resource()->mutable_attributes(), "service.name", *int_service);
    } else {
      putString(rm->mutable_resource()->mutable_attributes(), "service.name", service);
    }
    auto* m = rm->add_scope_metrics()->add_metrics();
    m->set_name("up");
    m->mutable_gauge()->add_data_points()->set_as_int(1);
  };
  add("shop", std::nullopt, "api");
  add("shop", 7, nullptr);  // a non-string key matches the cell that reads the same
  add("other", std::nullopt, "api");
  otlp::MetricsRequest out = h.run(Signal::kMetrics, in);
  EXPECT_EQ(flat(out.resource_metrics(0).resource().attributes()),
            (Lines{"k8s.namespace.name=shop", "service.name=api", "sla=gold"}));
  EXPECT_EQ(flat(out.resource_metrics(1).resource().attributes()),
            (Lines{"k8s.namespace.name=shop", "service.name=7", "sla=silver"}));
  EXPECT_EQ(flat(out.resource_metrics(2).resource().attributes()),
            (Lines{"k8s.namespace.name=other", "reviewed=false", "service.name=api", "sla=none"}));
  EXPECT_EQ(out.resource_metrics(0).scope_metrics(0).metrics(0).gauge().data_points(0).as_int(), 1);
}

TEST_F(LookupProcessorTest, ConfigErrors) {
  Harness h(makeLookupFactory());
  std::string errors = h.create("format: toml\non_conflict: replace\nkeys: []\nreload: 1s\n",
                                Signal::kTraces, false);
  EXPECT_NE(errors.find("processors.x.file"), std::string::npos) << errors;
  EXPECT_NE(errors.find("'toml' is not csv, json or yaml"), std::string::npos) << errors;
  EXPECT_NE(errors.find("'replace' is not keep or overwrite"), std::string::npos) << errors;
  EXPECT_NE(errors.find("processors.x.keys"), std::string::npos) << errors;
  EXPECT_NE(errors.find("processors.x.reload"), std::string::npos) << errors;
  errors = h.create("file: /x/table.txt\n", Signal::kTraces, false);
  EXPECT_NE(errors.find("set `format`"), std::string::npos) << errors;
}

TEST_F(LookupProcessorTest, StartFailsOnAMissingOrBadFile) {
  Harness h(makeLookupFactory());
  EXPECT_NE(
      h.create("file: " + (dir_ / "absent.csv").string(), Signal::kTraces).find("cannot open"),
      std::string::npos);
  const std::string bad = write("bad.csv", "service.name,team\na,b,c\n");
  EXPECT_NE(h.create("file: " + bad, Signal::kTraces).find("line 2"), std::string::npos);
}

// The table is rewritten (temp file + rename) while batches flow: every resource gets the old
// or the new row entirely, every batch one table, no batch fails; a broken file keeps the table.
TEST_F(LookupProcessorTest, ReloadUnderLoadIsAtomicAndABadFileKeepsTheOldTable) {
  auto table = [](const std::string& version) {
    std::string text = "service.name,team,tier\n";
    for (int i = 0; i < 50; ++i) {
      text += "svc-" + std::to_string(i) + ",team-" + version + ",tier-" + version + "\n";
    }
    return text;
  };
  const std::string file = write("live.csv", table("old"));
  Harness h(makeLookupFactory());
  ASSERT_EQ(h.create("file: " + file + "\nreload_interval: 2ms\n", Signal::kTraces), "");

  std::vector<std::string> services;
  for (int i = 0; i < 50; ++i) services.push_back("svc-" + std::to_string(i));
  const otlp::TracesRequest request = tracesFor(services);

  std::atomic<bool> stop{false};
  std::atomic<bool> saw_new{false};
  std::atomic<int> failures{0}, mixed{0}, batches{0};
  auto push = [&] {
    std::lock_guard lock(h.next->mutex);
    h.next->batches.clear();
  };
  push();
  std::thread pusher([&] {
    while (!stop.load()) {
      if (!h.processor().consume(testing::wireBatch(Signal::kTraces, request)).ok()) ++failures;
      pipeline::Batch batch = [&] {
        std::lock_guard lock(h.next->mutex);
        pipeline::Batch b = std::move(h.next->batches.back());
        h.next->batches.clear();
        return b;
      }();
      const auto& out = batch.traces();
      std::string batch_version;
      for (const auto& rs : out.resource_spans()) {
        const auto* team = testing::find(rs.resource().attributes(), "team");
        const auto* tier = testing::find(rs.resource().attributes(), "tier");
        if (team == nullptr || tier == nullptr) {
          ++mixed;
          continue;
        }
        const std::string version = team->string_value().substr(5);
        if (tier->string_value() != "tier-" + version) ++mixed;
        if (batch_version.empty()) batch_version = version;
        if (version != batch_version) ++mixed;
      }
      if (batch_version == "new") saw_new = true;
      ++batches;
    }
  });

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (batches.load() < 20 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  write("live.csv", table("new"));
  while (!saw_new.load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(saw_new.load()) << "the new table was never seen";

  write("live.csv", "service.name,team,tier\n\"unterminated\n");
  while (h.counter("otlpd_lookup_reload_errors_total") == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const int after_error = batches.load();
  while (batches.load() < after_error + 20 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  stop = true;
  pusher.join();
  EXPECT_EQ(h.counter("otlpd_lookup_reload_errors_total"), 1u);  // once, however many polls
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mixed.load(), 0);
  // The broken file kept the new table.
  otlp::TracesRequest out = h.run(Signal::kTraces, request);
  EXPECT_EQ(testing::find(out.resource_spans(7).resource().attributes(), "team")->string_value(),
            "team-new");
}

}  // namespace
}  // namespace otlpd::processors::lookup
