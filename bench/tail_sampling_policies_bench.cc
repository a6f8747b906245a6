// The tail_sampling policies alone (issue #12): status_code + latency + probabilistic, the three
// the processor's speed target names, evaluated and combined over traces of 10 spans of ~800 bytes
// (payloads.h) held as the engine holds them — SpanPieces over the encoded bytes. Items/s are
// traces; the `spans/s` counter is spans. The whole processor must reach 600,000 spans per
// CPU-second with these three, so their share has to be a small part of it.
#include <benchmark/benchmark.h>

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "bench/payloads.h"
#include "config/config_node.h"
#include "config/loader.h"
#include "otlp/wire_split.h"
#include "processors/tail_sampling/policy.h"

namespace otlpd::bench {
namespace {

using processors::tail_sampling::Decision;
using processors::tail_sampling::SpanPiece;
using processors::tail_sampling::TraceView;

constexpr size_t kSpansPerTrace = 10;
constexpr size_t kTraces = 2000;

// kTraces traces of kSpansPerTrace spans, the bytes owned here.
struct Traces {
  std::deque<std::string> bytes;
  std::vector<std::string> ids;
  std::vector<std::vector<SpanPiece>> pieces;
  std::vector<TraceView> views;
};

const Traces& traces() {
  static const Traces* built = [] {
    auto* t = new Traces();
    otlp::TracesRequest request = makeTracesRequest800(kTraces * kSpansPerTrace, 12);
    // 10 consecutive spans per trace, each trace its own id; one in 40 lasts over 500 ms.
    auto* spans = request.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans();
    for (int i = 0; i < spans->size(); ++i) {
      const uint64_t trace = static_cast<uint64_t>(i) / kSpansPerTrace;
      std::string id(16, '\0');
      for (int b = 0; b < 8; ++b) {
        id[b] = static_cast<char>((trace * 0x9e3779b97f4a7c15ULL) >> (8 * b));
        id[8 + b] = static_cast<char>(trace >> (8 * b));
      }
      auto* span = spans->Mutable(i);
      span->set_trace_id(id);
      if (trace % 40 == 0 && i % kSpansPerTrace == 9) {
        span->set_end_time_unix_nano(span->start_time_unix_nano() + 600'000'000);
      }
    }
    const std::string encoded = request.SerializeAsString();
    otlp::ItemWalker walker;
    std::map<std::string, size_t> index;
    std::string_view resource, scope;
    absl::Status s = walker.walk(encoded, [&](const otlp::ItemSlice& slice) {
      if (resource != slice.resource_envelope)
        resource = t->bytes.emplace_back(slice.resource_envelope);
      if (scope != slice.scope_envelope) scope = t->bytes.emplace_back(slice.scope_envelope);
      const std::string_view span = t->bytes.emplace_back(slice.item);
      const std::string id(otlp::spanTraceId(span));
      auto [it, fresh] = index.emplace(id, t->ids.size());
      if (fresh) {
        t->ids.push_back(id);
        t->pieces.emplace_back();
      }
      t->pieces[it->second].push_back({resource, scope, span});
    });
    if (!s.ok()) std::abort();
    for (size_t i = 0; i < t->ids.size(); ++i) {
      uint64_t size = 0;
      for (const SpanPiece& p : t->pieces[i]) size += p.span.size();
      t->views.push_back({t->ids[i], t->pieces[i], size, 0});
    }
    return t;
  }();
  return *built;
}

std::vector<processors::tail_sampling::NamedPolicy> policies(const char* yaml) {
  config::ConfigErrors errors;
  config::ConfigNode cfg(*config::parseYaml(yaml, "bench"), "processors.tail_sampling", errors);
  auto p = processors::tail_sampling::readPolicies(cfg);
  if (!errors.empty() || p.empty()) std::abort();
  return p;
}

void run(benchmark::State& state, const char* yaml) {
  auto list = policies(yaml);
  const Traces& t = traces();
  std::vector<Decision> decisions(list.size());
  int64_t now = 1'704'067'200'000'000'000;
  size_t kept = 0;
  for (auto _ : state) {
    for (const TraceView& view : t.views) {
      for (size_t i = 0; i < list.size(); ++i) decisions[i] = list[i].policy->evaluate(view, now);
      kept += processors::tail_sampling::combine(decisions).sampled ? 1 : 0;
    }
    now += 1'000'000;
  }
  benchmark::DoNotOptimize(kept);
  const double traces =
      static_cast<double>(state.iterations()) * static_cast<double>(t.views.size());
  state.SetItemsProcessed(static_cast<int64_t>(traces));
  state.counters["spans/s"] =
      benchmark::Counter(traces * kSpansPerTrace, benchmark::Counter::kIsRate);
  state.counters["kept%"] = 100.0 * static_cast<double>(kept) / traces;
}

void BM_TailSamplingPolicies_StatusLatencyProbabilistic(benchmark::State& state) {
  run(state, R"(
policies:
  - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}
  - {name: slow, type: latency, latency: {threshold_ms: 500}}
  - {name: some, type: probabilistic, probabilistic: {sampling_percentage: 10}}
)");
}
BENCHMARK(BM_TailSamplingPolicies_StatusLatencyProbabilistic);

// Each of the three alone, to see where the time goes.
void BM_TailSamplingPolicies_StatusCode(benchmark::State& state) {
  run(state, "policies: [{name: e, type: status_code, status_code: {status_codes: [ERROR]}}]");
}
BENCHMARK(BM_TailSamplingPolicies_StatusCode);

void BM_TailSamplingPolicies_Latency(benchmark::State& state) {
  run(state, "policies: [{name: s, type: latency, latency: {threshold_ms: 500}}]");
}
BENCHMARK(BM_TailSamplingPolicies_Latency);

void BM_TailSamplingPolicies_Probabilistic(benchmark::State& state) {
  run(state,
      "policies: [{name: p, type: probabilistic, probabilistic: {sampling_percentage: 10}}]");
}
BENCHMARK(BM_TailSamplingPolicies_Probabilistic);

// An attribute policy (resource service.name, then each span's attributes) and an OTTL condition,
// for scale.
void BM_TailSamplingPolicies_StringAttribute(benchmark::State& state) {
  run(state,
      "policies: [{name: s, type: string_attribute, string_attribute: {key: "
      "http.request.method, values: [DELETE]}}]");
}
BENCHMARK(BM_TailSamplingPolicies_StringAttribute);

void BM_TailSamplingPolicies_OttlCondition(benchmark::State& state) {
  run(state,
      "policies: [{name: o, type: ottl_condition, ottl_condition: {span: "
      "['attributes[\"http.request.method\"] == \"DELETE\"']}}]");
}
BENCHMARK(BM_TailSamplingPolicies_OttlCondition);

}  // namespace
}  // namespace otlpd::bench
