// OTLP/JSON in and out (issue #18): the direct codec (otlp/json_wire.h) beside the reflection
// codec it replaces (otlp/json_codec.h) and the protobuf ceiling (BM_CeilingDecodeLoadgen*, run
// in the same filter). Requests are loadgen's (realistic shape, 1000 items each), eight of them
// from different seeds (unique trace ids and values), served in turn. Items/s are spans, metric
// data points or log records; bytes/s are JSON bytes.
//
//   BM_OtlpJsonIn*: what the OTLP/HTTP receiver does with a JSON body before a nop exporter takes
//     the batch: the direct decoder writes wire bytes and the wire view walks them (the protobuf
//     path's work from there on), unless the decoder vouched for a traces request; the reference
//     parses into protobuf objects on an arena and validates them.
//   BM_OtlpJsonEncode*: what the file and otlp_http (json) exporters do with a wire batch
//     (BM_OtlpJsonEncodeSpanFlags: spans whose canonical field order differs from the JSON's).
#include <benchmark/benchmark.h>
#include <google/protobuf/arena.h>

#include <optional>
#include <string>
#include <vector>

#include "loadgen/payloads.h"
#include "otlp/json_codec.h"
#include "otlp/json_wire.h"
#include "otlp/proto.h"
#include "otlp/validation.h"
#include "otlp/wire_view.h"

namespace otlpd::bench {
namespace {

using pipeline::Signal;

constexpr size_t kItems = 1000;  // loadgen's request size
constexpr int kRequests = 8;

Signal signalOf(const benchmark::State& state) {
  return static_cast<Signal>(state.range(0));
}

struct Requests {
  std::vector<std::string> wire;
  std::vector<std::string> json;
  size_t json_bytes = 0;
};

const Requests& requests(Signal signal) {
  static Requests cache[3];
  Requests& r = cache[static_cast<int>(signal)];
  if (r.wire.empty()) {
    for (int i = 0; i < kRequests; ++i) {
      auto m = loadgen::makeRequest(signal, loadgen::Shape::kRealistic, kItems,
                                    static_cast<uint64_t>(i + 1), 1'700'000'000'000'000'000);
      r.wire.push_back(m->SerializeAsString());
      r.json.push_back(otlp::toOtlpJson(*m));
      r.json_bytes += r.json.back().size();
    }
  }
  return r;
}

const google::protobuf::Descriptor& descriptorOf(Signal signal) {
  switch (signal) {
    case Signal::kTraces:
      return *otlp::TracesRequest::descriptor();
    case Signal::kMetrics:
      return *otlp::MetricsRequest::descriptor();
    case Signal::kLogs:
      break;
  }
  return *otlp::LogsRequest::descriptor();
}

void setCounters(benchmark::State& state, const Requests& r) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kItems));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * r.json_bytes / kRequests));
}

otlp::WireSummary inspect(Signal signal, std::string_view bytes) {
  switch (signal) {
    case Signal::kTraces:
      return otlp::inspectTracesWire(bytes);
    case Signal::kMetrics:
      return otlp::inspectMetricsWire(bytes);
    case Signal::kLogs:
      break;
  }
  return otlp::inspectLogsWire(bytes);
}

void BM_OtlpJsonIn(benchmark::State& state) {
  const Signal signal = signalOf(state);
  const Requests& r = requests(signal);
  const google::protobuf::Descriptor& type = descriptorOf(signal);
  size_t i = 0;
  for (auto _ : state) {
    std::string wire;
    std::optional<size_t> vouched;
    const std::string& json = r.json[i++ % kRequests];
    const absl::Status s = otlp::otlpJsonToWire(type, json, json.size(), wire, &vouched);
    if (!s.ok()) state.SkipWithError("decode failed");
    // As the receiver: the wire view walks what the decoder does not vouch for.
    if (!vouched && !inspect(signal, wire).valid()) state.SkipWithError("wire view refused");
    benchmark::DoNotOptimize(wire.data());
  }
  setCounters(state, r);
}
BENCHMARK(BM_OtlpJsonIn)->ArgName("signal")->DenseRange(0, 2);

// The same spans in requests of 50 (a browser SDK's batch): the text stays in the nearer caches
// between simdjson's indexing pass and the decoder's walk.
void BM_OtlpJsonInSmallRequests(benchmark::State& state) {
  static const std::vector<std::string> json = [] {
    std::vector<std::string> out;
    for (int i = 0; i < 20; ++i) {
      out.push_back(otlp::toOtlpJson(
          *loadgen::makeRequest(Signal::kTraces, loadgen::Shape::kRealistic, 50,
                                static_cast<uint64_t>(i + 1), 1'700'000'000'000'000'000)));
    }
    return out;
  }();
  size_t i = 0;
  for (auto _ : state) {
    std::string wire;
    std::optional<size_t> vouched;
    const std::string& text = json[i++ % json.size()];
    if (!otlp::otlpJsonToWire(*otlp::TracesRequest::descriptor(), text, text.size(), wire, &vouched)
             .ok() ||
        !vouched) {
      state.SkipWithError("decode failed");
    }
    benchmark::DoNotOptimize(wire.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 50));
}
BENCHMARK(BM_OtlpJsonInSmallRequests);

void BM_OtlpJsonInReference(benchmark::State& state) {
  const Signal signal = signalOf(state);
  const Requests& r = requests(signal);
  size_t i = 0;
  for (auto _ : state) {
    google::protobuf::Arena arena;
    google::protobuf::Message* m = nullptr;
    switch (signal) {
      case Signal::kTraces:
        m = google::protobuf::Arena::CreateMessage<otlp::TracesRequest>(&arena);
        break;
      case Signal::kMetrics:
        m = google::protobuf::Arena::CreateMessage<otlp::MetricsRequest>(&arena);
        break;
      case Signal::kLogs:
        m = google::protobuf::Arena::CreateMessage<otlp::LogsRequest>(&arena);
        break;
    }
    if (!otlp::parseOtlpJson(r.json[i++ % kRequests], *m).ok()) state.SkipWithError("decode");
    switch (signal) {
      case Signal::kTraces:
        benchmark::DoNotOptimize(otlp::validateTraces(*static_cast<otlp::TracesRequest*>(m)));
        break;
      case Signal::kMetrics:
        benchmark::DoNotOptimize(otlp::validateMetrics(*static_cast<otlp::MetricsRequest*>(m)));
        break;
      case Signal::kLogs:
        benchmark::DoNotOptimize(otlp::validateLogs(*static_cast<otlp::LogsRequest*>(m)));
        break;
    }
  }
  setCounters(state, r);
}
BENCHMARK(BM_OtlpJsonInReference)->ArgName("signal")->DenseRange(0, 2);

void BM_OtlpJsonEncode(benchmark::State& state) {
  const Signal signal = signalOf(state);
  const Requests& r = requests(signal);
  const google::protobuf::Descriptor& type = descriptorOf(signal);
  std::string out;
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    if (!otlp::appendOtlpJsonFromWire(type, r.wire[i++ % kRequests], out)) {
      state.SkipWithError("encoder declined");
    }
    benchmark::DoNotOptimize(out.data());
  }
  setCounters(state, r);
}
BENCHMARK(BM_OtlpJsonEncode)->ArgName("signal")->DenseRange(0, 2);

// Loadgen's spans with `flags` set, as SDKs that follow OTLP 1.1 write them (sampled, parent
// remote known): in canonical bytes flags (field 16) comes last but is declared after
// parentSpanId, so the encoder moves its text into place in every span.
void BM_OtlpJsonEncodeSpanFlags(benchmark::State& state) {
  static const std::vector<std::string> wire = [] {
    std::vector<std::string> out;
    for (int i = 0; i < kRequests; ++i) {
      auto m = loadgen::makeRequest(Signal::kTraces, loadgen::Shape::kRealistic, kItems,
                                    static_cast<uint64_t>(i + 1), 1'700'000'000'000'000'000);
      auto& request = static_cast<otlp::TracesRequest&>(*m);
      for (auto& rs : *request.mutable_resource_spans()) {
        for (auto& ss : *rs.mutable_scope_spans()) {
          for (auto& span : *ss.mutable_spans()) span.set_flags(0x101);
        }
      }
      out.push_back(request.SerializeAsString());
    }
    return out;
  }();
  std::string out;
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    if (!otlp::appendOtlpJsonFromWire(*otlp::TracesRequest::descriptor(), wire[i++ % kRequests],
                                      out)) {
      state.SkipWithError("encoder declined");
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kItems));
}
BENCHMARK(BM_OtlpJsonEncodeSpanFlags);

void BM_OtlpJsonEncodeReference(benchmark::State& state) {
  const Signal signal = signalOf(state);
  const Requests& r = requests(signal);
  std::vector<std::unique_ptr<google::protobuf::Message>> messages;
  for (const std::string& wire : r.wire) {
    auto m = loadgen::makeRequest(signal, loadgen::Shape::kMinimal, 0, 0, 0);
    m->ParseFromString(wire);
    messages.push_back(std::move(m));
  }
  std::string out;
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    otlp::appendOtlpJson(*messages[i++ % kRequests], out);
    benchmark::DoNotOptimize(out.data());
  }
  setCounters(state, r);
}
BENCHMARK(BM_OtlpJsonEncodeReference)->ArgName("signal")->DenseRange(0, 2);

}  // namespace
}  // namespace otlpd::bench
