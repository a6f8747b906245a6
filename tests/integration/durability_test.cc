// Durability on request, against the real binary killed with SIGKILL under load, 20 times per
// mode, on one store directory: clients send traces over OTLP/HTTP and gRPC from 4 threads and
// record every trace the server acknowledged (HTTP 200, gRPC OK) and when. After the last restart
// every store file must read to its end, and
//   - `durability: sync`: every acknowledged trace is in the store, with all its spans (clients
//     send as fast as they are answered);
//   - `durability: interval`: only traces acknowledged within the documented window before a
//     kill (write_interval, plus the time one write takes, bounded here by kIntervalSlack) may be
//     missing. Clients pause between requests so that the store keeps up: under overload what
//     waits in the exporter's in-memory queue is lost too (docs/STORAGE.md).
// A sync cycle is ~0.3-0.6 s (start, load, kill), an interval cycle ~1-1.3 s; ~35 s in all.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "otlp/proto.h"
#include "otlp_data_support.h"
#include "otlpd/store/reader.h"
#include "otlpd_process_support.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#pragma GCC diagnostic pop

namespace otlpd::integration {
namespace {

namespace pb_collector_trace = ::opentelemetry::proto::collector::trace::v1;

using Clock = std::chrono::steady_clock;
constexpr int kKills = 20;
constexpr int kClients = 4;
constexpr int kSpansPerRequest = 50;
constexpr auto kWriteInterval = std::chrono::milliseconds(100);
// How much later than write_interval a write may end under this test's load on a shared machine.
constexpr auto kIntervalSlack = std::chrono::milliseconds(500);

std::string configFor(const std::string& store_dir, std::string_view durability) {
  return "receivers:\n"
         "  otlp:\n"
         "    protocols:\n"
         "      grpc: { endpoint: \"127.0.0.1:0\" }\n"
         "      http: { endpoint: \"127.0.0.1:0\" }\n"
         "exporters:\n"
         "  store:\n"
         "    directory: \"" +
         store_dir +
         "\"\n"
         "    write_interval: 100ms\n"
         "    durability: " +
         std::string(durability) +
         "\n"
         "    rollups: { enabled: false }\n"
         "service:\n"
         "  telemetry: { metrics: { address: \"127.0.0.1:0\" }, logs: { level: error } }\n"
         "  pipelines:\n"
         "    traces: { receivers: [otlp], exporters: [store] }\n";
}

// Trace id: cycle, client, sequence: unique over the whole test, and never all zero (an invalid
// trace id, which the receiver rejects in a partial success).
std::string traceId(uint32_t cycle, uint32_t client, uint64_t seq) {
  ++seq;
  std::string id(16, '\0');
  std::memcpy(id.data(), &cycle, 4);
  std::memcpy(id.data() + 4, &client, 4);
  std::memcpy(id.data() + 8, &seq, 8);
  return id;
}

std::string requestFor(const std::string& trace_id) {
  otlp::TracesRequest req;
  auto* rs = req.add_resource_spans();
  auto* attr = rs->mutable_resource()->add_attributes();
  attr->set_key("service.name");
  attr->mutable_value()->set_string_value("durability-test");
  auto* ss = rs->add_scope_spans();
  const uint64_t now =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  for (int i = 0; i < kSpansPerRequest; ++i) {
    auto* span = ss->add_spans();
    span->set_trace_id(trace_id);
    std::string span_id(8, '\0');
    span_id[0] = static_cast<char>(i + 1);
    span->set_span_id(span_id);
    span->set_name("op");
    span->set_start_time_unix_nano(now);
    span->set_end_time_unix_nano(now + 1000);
  }
  return req.SerializeAsString();
}

struct Acked {
  int cycle;
  Clock::time_point at;
};

struct LoopResult {
  std::map<std::string, Acked> acked;  // trace id → when it was acknowledged
  std::vector<Clock::time_point> kill_times;
  std::map<std::string, int> stored_spans;  // trace id → spans found
  std::vector<std::string> unreadable;      // files that did not read to their end
  size_t files = 0;
};

struct Load {
  int min_ms, max_ms;                 // load before each kill
  std::chrono::milliseconds pause{};  // per client between requests
};

LoopResult killLoop(std::string_view durability, Load load) {
  LoopResult result;
  char tmpl[] = "/tmp/otlpd-durability-XXXXXX";
  const char* root = ::mkdtemp(tmpl);
  EXPECT_NE(root, nullptr);
  if (root == nullptr) return result;
  const std::string store_dir = std::string(root) + "/store";
  const std::string config = configFor(store_dir, durability);
  std::mt19937 rng(18);  // the same kill points every run
  std::uniform_int_distribution<int> load_ms(load.min_ms, load.max_ms);
  std::mutex mu;

  for (int cycle = 0; cycle < kKills; ++cycle) {
    auto process = OtlpdProcess::start(config);
    EXPECT_TRUE(process.ok()) << "cycle " << cycle << ": " << process.status();
    if (!process.ok()) break;
    const std::string endpoint = (*process)->httpEndpoint();
    const std::string grpc_endpoint = (*process)->grpcEndpoint();
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      // Half the clients over OTLP/HTTP (whose handler waits for the sync in place), half over
      // gRPC (whose answer waits for the sync without holding a thread).
      clients.emplace_back([&, c] {
        const bool use_grpc = c % 2 == 1;
        auto conn = HttpConnection::open(endpoint, std::chrono::milliseconds(3000));
        auto stub = pb_collector_trace::TraceService::NewStub(
            grpc::CreateChannel(grpc_endpoint, grpc::InsecureChannelCredentials()));
        for (uint64_t seq = 0; conn.ok() && !stop.load(); ++seq) {
          const std::string id =
              traceId(static_cast<uint32_t>(cycle), static_cast<uint32_t>(c), seq);
          bool ok = false;
          if (use_grpc) {
            otlp::TracesRequest req;
            req.ParseFromString(requestFor(id));
            pb_collector_trace::ExportTraceServiceResponse response;
            grpc::ClientContext ctx;
            ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
            const grpc::Status st = stub->Export(&ctx, req, &response);
            if (st.error_code() == grpc::StatusCode::UNAVAILABLE ||
                st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
              break;  // killed: this one was not acknowledged
            }
            ok = st.ok() && !response.has_partial_success();
          } else {
            auto res = (*conn)->request(
                "POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}}, requestFor(id));
            if (!res.ok()) break;  // killed: this one was not acknowledged
            ok = res->status == 200;
          }
          if (ok) {
            std::lock_guard lock(mu);
            result.acked[id] = Acked{cycle, Clock::now()};
          }
          if (load.pause.count() > 0) std::this_thread::sleep_for(load.pause);
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(load_ms(rng)));
    const Clock::time_point killed = Clock::now();
    EXPECT_EQ(::kill((*process)->pid(), SIGKILL), 0);
    const ExitStatus exit = (*process)->stop(std::chrono::seconds(5));
    EXPECT_EQ(exit.signal, SIGKILL) << exit.toString();
    stop = true;
    for (std::thread& t : clients) t.join();
    result.kill_times.push_back(killed);
  }

  // The last start repairs what the last kill left; a clean stop writes what it holds.
  {
    auto process = OtlpdProcess::start(config);
    EXPECT_TRUE(process.ok()) << process.status();
    if (process.ok()) {
      EXPECT_TRUE((*process)->stop().cleanExit());
    }
  }
  store::StoreReader reader(store_dir);
  for (const std::string& file : reader.files(store::StoredSignal::kTraces)) {
    ++result.files;
    const std::string error =
        store::StoreReader::scanFile(file, {}, [&](std::string_view request_bytes) {
          otlp::TracesRequest req;
          EXPECT_TRUE(
              req.ParseFromArray(request_bytes.data(), static_cast<int>(request_bytes.size())));
          for (const auto& rs : req.resource_spans()) {
            for (const auto& ss : rs.scope_spans()) {
              for (const auto& span : ss.spans()) ++result.stored_spans[span.trace_id()];
            }
          }
          return true;
        });
    if (!error.empty()) result.unreadable.push_back(file + ": " + error);
  }
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  return result;
}

TEST(DurabilityTest, SyncKeepsEveryAcknowledgedSpanAcrossTwentyKills) {
  const LoopResult r = killLoop("sync", {150, 400});
  ASSERT_EQ(r.kill_times.size(), static_cast<size_t>(kKills));
  EXPECT_GT(r.acked.size(), static_cast<size_t>(kKills)) << "the load should get requests in";
  EXPECT_TRUE(r.unreadable.empty()) << r.unreadable.front();
  size_t missing = 0, partial = 0;
  for (const auto& [id, acked] : r.acked) {
    auto it = r.stored_spans.find(id);
    if (it == r.stored_spans.end()) {
      ++missing;
      uint32_t client;
      uint64_t seq;
      std::memcpy(&client, id.data() + 4, 4);
      std::memcpy(&seq, id.data() + 8, 8);
      --seq;
      ADD_FAILURE() << "missing: cycle " << acked.cycle << " client " << client << " request "
                    << seq << ", acknowledged "
                    << std::chrono::duration_cast<std::chrono::milliseconds>(
                           r.kill_times[static_cast<size_t>(acked.cycle)] - acked.at)
                           .count()
                    << " ms before the kill";
    } else if (it->second < kSpansPerRequest) {
      ++partial;
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << r.acked.size() << " acknowledged traces";
  EXPECT_EQ(partial, 0u);
}

TEST(DurabilityTest, IntervalLosesOnlyTheWindowBeforeEachKill) {
  const LoopResult r = killLoop("interval", {800, 1000, std::chrono::milliseconds(10)});
  ASSERT_EQ(r.kill_times.size(), static_cast<size_t>(kKills));
  EXPECT_GT(r.acked.size(), static_cast<size_t>(kKills));
  EXPECT_TRUE(r.unreadable.empty()) << r.unreadable.front();
  size_t lost = 0, lost_outside_window = 0, partial = 0, outside_window = 0;
  for (const auto& [id, acked] : r.acked) {
    const Clock::time_point window_start =
        r.kill_times[static_cast<size_t>(acked.cycle)] - kWriteInterval - kIntervalSlack;
    if (acked.at < window_start) ++outside_window;
    auto it = r.stored_spans.find(id);
    if (it != r.stored_spans.end()) {
      // A request's rows are written in one record batch: all or nothing.
      if (it->second < kSpansPerRequest) ++partial;
      continue;
    }
    ++lost;
    if (acked.at < window_start) ++lost_outside_window;
  }
  EXPECT_GT(outside_window, 0u) << "no acknowledgement early enough to check";
  EXPECT_EQ(lost_outside_window, 0u) << lost << " of " << r.acked.size() << " lost in all";
  EXPECT_EQ(partial, 0u);
  std::printf(
      "interval: %zu of %zu acknowledged traces lost over %d kills (%zu acknowledged before the "
      "window, all kept; %zu files)\n",
      lost, r.acked.size(), kKills, outside_window, r.files);
}

// A Collector config with the file_storage extension serves: two exporters naming one extension
// keep separate queues (a client directory each, named as the Collector names them), which hold
// what the destination could not take, across a restart, until it can.
TEST(FileStorageTest, TwoExportersKeepSeparateQueuesThatSurviveARestart) {
  char tmpl[] = "/tmp/otlpd-file-storage-it-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string storage_dir = std::string(tmpl) + "/queues";
  const int port = freeLoopbackPort();
  const std::string target = "127.0.0.1:" + std::to_string(port);
  std::string exporter = "    endpoint: \"http://" + target +
                         "\"\n"
                         "    sending_queue: { storage: file_storage/queues }\n"
                         "    retry_on_failure: { initial_interval: 100ms, max_interval: 400ms, "
                         "max_elapsed_time: 60s }\n";
  const std::string config =
      "extensions:\n"
      "  file_storage/queues:\n"
      "    directory: \"" +
      storage_dir +
      "\"\n"
      "    create_directory: true\n"
      "receivers:\n"
      "  otlp:\n"
      "    protocols:\n"
      "      http: { endpoint: \"127.0.0.1:0\" }\n"
      "exporters:\n"
      "  otlp_http/a:\n" +
      exporter + "  otlp_http/b:\n" + exporter +
      "service:\n"
      "  extensions: [file_storage/queues]\n"
      "  telemetry: { metrics: { address: \"127.0.0.1:0\" } }\n"
      "  pipelines:\n"
      "    traces: { receivers: [otlp], exporters: [otlp_http/a, otlp_http/b] }\n";
  {
    auto fwd = OtlpdProcess::start(config);
    ASSERT_TRUE(fwd.ok()) << fwd.status();
    for (int i = 0; i < 5; ++i) {
      auto res = httpRequest((*fwd)->httpEndpoint(), "POST", "/v1/traces",
                             {{"Content-Type", "application/x-protobuf"}},
                             makeTraces("fs-" + std::to_string(i), 10).SerializeAsString());
      ASSERT_TRUE(res.ok()) << res.status();
      ASSERT_EQ(res->status, 200) << res->body;
    }
    for (const char* client : {"exporter_otlp_http_a_traces", "exporter_otlp_http_b_traces"}) {
      uint64_t wal_bytes = 0;
      std::error_code ec;
      for (const auto& e : std::filesystem::directory_iterator(storage_dir + "/" + client, ec)) {
        if (e.path().extension() == ".wal") wal_bytes += e.file_size();
      }
      EXPECT_GT(wal_bytes, 0u) << client << (ec ? ": " + ec.message() : "");
    }
    EXPECT_TRUE((*fwd)->stop().cleanExit());
  }
  auto down = OtlpdProcess::start(OtlpdProcess::standardConfigListeningOn("http", target));
  ASSERT_TRUE(down.ok()) << down.status();
  auto fwd = OtlpdProcess::start(config);
  ASSERT_TRUE(fwd.ok()) << fwd.status();
  // Each exporter delivers its own copy of the 50 spans.
  EXPECT_EQ(
      waitForTaggedItems(**down, SignalFile::kTraces, "fs", 100, nullptr, std::chrono::seconds(15)),
      100u)
      << (*fwd)->stderrContents();
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
}

// The persistent queue with `durability: sync` in a file_storage extension, its otlpd killed with
// SIGKILL under load 10 times while the downstream stays up: every request the forwarder
// acknowledged reaches the downstream (at least once) after the restarts.
TEST(DurabilityTest, PersistentQueueDeliversEveryAcknowledgedRequestAcrossKills) {
  char tmpl[] = "/tmp/otlpd-queue-kill-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  auto down = OtlpdProcess::start(OtlpdProcess::standardConfig());
  ASSERT_TRUE(down.ok()) << down.status();
  const std::string config =
      "extensions:\n"
      "  file_storage:\n"
      "    directory: \"" +
      std::string(tmpl) +
      "\"\n"
      "    fsync: true\n"
      "receivers:\n"
      "  otlp:\n"
      "    protocols:\n"
      "      grpc: { endpoint: \"127.0.0.1:0\" }\n"
      "      http: { endpoint: \"127.0.0.1:0\" }\n"
      "exporters:\n"
      "  otlp_http:\n"
      "    endpoint: \"http://" +
      (*down)->httpEndpoint() +
      "\"\n"
      "    sending_queue: { storage: file_storage, durability: sync }\n"
      "    retry_on_failure: { initial_interval: 50ms, max_interval: 200ms }\n"
      "service:\n"
      "  extensions: [file_storage]\n"
      "  telemetry: { metrics: { address: \"127.0.0.1:0\" }, logs: { level: error } }\n"
      "  pipelines:\n"
      "    traces: { receivers: [otlp], exporters: [otlp_http] }\n";
  constexpr int kQueueKills = 10;
  std::mt19937 rng(18);
  std::uniform_int_distribution<int> load_ms(100, 300);
  std::mutex mu;
  std::vector<std::string> acked;  // the first span's name of each acknowledged request
  for (int cycle = 0; cycle < kQueueKills; ++cycle) {
    auto fwd = OtlpdProcess::start(config);
    ASSERT_TRUE(fwd.ok()) << "cycle " << cycle << ": " << fwd.status();
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < 2; ++c) {
      // One client over OTLP/HTTP (waits for the log's sync in place), one over gRPC (answered
      // from the log's syncer thread).
      clients.emplace_back([&, c] {
        auto conn = HttpConnection::open((*fwd)->httpEndpoint(), std::chrono::milliseconds(3000));
        auto stub = pb_collector_trace::TraceService::NewStub(
            grpc::CreateChannel((*fwd)->grpcEndpoint(), grpc::InsecureChannelCredentials()));
        for (int seq = 0; conn.ok() && !stop.load(); ++seq) {
          const std::string tag =
              "pq-" + std::to_string(cycle) + "-" + std::to_string(c) + "-" + std::to_string(seq);
          bool ok = false;
          if (c == 1) {
            pb_collector_trace::ExportTraceServiceResponse response;
            grpc::ClientContext ctx;
            ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
            const grpc::Status st = stub->Export(&ctx, makeTraces(tag, 5), &response);
            if (st.error_code() == grpc::StatusCode::UNAVAILABLE ||
                st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
              break;
            }
            ok = st.ok();
          } else {
            auto res =
                (*conn)->request("POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}},
                                 makeTraces(tag, 5).SerializeAsString());
            if (!res.ok()) break;
            ok = res->status == 200;
          }
          if (ok) {
            std::lock_guard lock(mu);
            acked.push_back(tag + "-0");
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(load_ms(rng)));
    EXPECT_EQ(::kill((*fwd)->pid(), SIGKILL), 0);
    EXPECT_EQ((*fwd)->stop(std::chrono::seconds(5)).signal, SIGKILL);
    stop = true;
    for (std::thread& t : clients) t.join();
  }
  // The last start replays what the last kill left in the queue.
  auto fwd = OtlpdProcess::start(config);
  ASSERT_TRUE(fwd.ok()) << fwd.status();
  ASSERT_GT(acked.size(), static_cast<size_t>(kQueueKills));
  std::set<std::string> delivered;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  size_t missing = acked.size();
  while (Clock::now() < deadline && missing > 0) {
    for (const std::string& name : taggedSpanNames((*down)->readJsonLines("traces.jsonl"), "pq")) {
      delivered.insert(name);
    }
    missing = 0;
    for (const std::string& name : acked) missing += delivered.count(name) == 0 ? 1 : 0;
    if (missing > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged requests";
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
}

}  // namespace
}  // namespace otlpd::integration
