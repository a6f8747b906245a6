#include "store/rollup.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "rollup_test_data.h"
#include "store/otlp_columns.h"

namespace otlpd::store {
namespace {

using testing::distributedTraces;
using testing::ReferenceRollups;

constexpr int64_t kBase = 1'700'000'000'000'000'000;

// Rows of `segment` summed per key (a segment read from several frames repeats keys).
RollupSegment merged(const RollupSegment& segment) {
  RollupAccumulator acc;
  acc.merge(segment);
  return acc.segment();
}

void expectEqualsReference(const RollupSegment& got_unmerged, const ReferenceRollups& ref) {
  const RollupSegment got = merged(got_unmerged);
  ASSERT_EQ(got.spans.size(), ref.spans.size());
  for (const SpanRollup& r : got.spans) {
    const ReferenceRollups::Key key{
        r.minute, got.strings[r.service], got.strings[r.operation], r.kind, r.status, r.root};
    auto it = ref.spans.find(key);
    ASSERT_NE(it, ref.spans.end()) << got.strings[r.service] << " " << got.strings[r.operation];
    EXPECT_EQ(r.calls, it->second.calls);
    EXPECT_EQ(r.errors, it->second.errors);
    for (double q : {0.5, 0.95, 0.99}) {
      const auto exact =
          static_cast<double>(ReferenceRollups::exactQuantile(it->second.durations, q));
      EXPECT_LE(std::abs(static_cast<double>(r.latency.quantile(q)) - exact), exact * 0.01 + 0.5)
          << q;
    }
  }
  std::map<std::tuple<int64_t, std::string, std::string>, std::pair<uint64_t, uint64_t>> edges;
  for (const EdgeRollup& e : got.edges) {
    edges[{e.minute, got.strings[e.parent], got.strings[e.child]}] = {e.calls, e.errors};
  }
  EXPECT_EQ(edges, ref.edges);
}

TEST(RollupLatencyHistogram, QuantilesWithinOnePercentOfExact) {
  std::mt19937_64 rng(7);
  for (double sigma : {0.1, 1.0, 3.0}) {
    std::lognormal_distribution<double> d(std::log(5e6), sigma);
    LatencyHistogram h;
    std::vector<int64_t> all;
    for (int i = 0; i < 20000; ++i) {
      const auto v = static_cast<int64_t>(d(rng));
      h.add(v);
      all.push_back(v);
    }
    for (double q : {0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0}) {
      const auto exact = static_cast<double>(ReferenceRollups::exactQuantile(all, q));
      EXPECT_LE(std::abs(static_cast<double>(h.quantile(q)) - exact), exact * 0.01 + 0.5)
          << "sigma " << sigma << " q " << q;
    }
    EXPECT_EQ(h.count(), all.size());
  }
}

TEST(RollupLatencyHistogram, ZerosNegativesSmallAndHugeValues) {
  LatencyHistogram h;
  h.add(-5);  // end before start
  h.add(0);
  h.add(1);
  h.add(int64_t{1} << 62);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.quantile(0.25), 0);
  EXPECT_EQ(h.quantile(0.5), 0);
  EXPECT_EQ(h.quantile(0.75), 1);
  EXPECT_NEAR(static_cast<double>(h.quantile(1.0)), std::ldexp(1.0, 62),
              std::ldexp(1.0, 62) * 0.01);
  EXPECT_EQ(h.minNanos(), 0);
  EXPECT_EQ(h.maxNanos(), int64_t{1} << 62);
  EXPECT_EQ(LatencyHistogram{}.quantile(0.5), 0);
}

TEST(RollupLatencyHistogram, MergeEqualsAddingEverythingToOne) {
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int64_t> d(1, 10'000'000'000);
  LatencyHistogram a, b, all;
  for (int i = 0; i < 5000; ++i) {
    const int64_t v = d(rng) >> (i % 20);
    (i % 3 == 0 ? a : b).add(v);
    all.add(v);
  }
  LatencyHistogram m = a;
  m.merge(b);
  EXPECT_EQ(m, all);
  LatencyHistogram m2 = b;
  m2.merge(a);
  EXPECT_EQ(m2, all);
}

TEST(RollupLatencyHistogram, EncodeDecodeRoundTripAndRejectsGarbage) {
  LatencyHistogram h;
  for (int64_t v : {int64_t{0}, int64_t{3}, int64_t{1000}, int64_t{1000}, int64_t{2'000'000},
                    int64_t{9'999'999'999}}) {
    h.add(v);
  }
  std::string bytes;
  h.encode(bytes);
  std::string_view in = bytes;
  LatencyHistogram back;
  ASSERT_TRUE(back.decode(in));
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(back, h);
  for (size_t cut = 1; cut < bytes.size(); ++cut) {
    std::string_view part(bytes.data(), cut);
    LatencyHistogram x;
    EXPECT_FALSE(x.decode(part)) << cut;
  }
}

TEST(RollupSegment, FrameRoundTripAndChecksum) {
  SpanRollupBuilder builder({});
  ColumnTable table(&fieldsFor(pipeline::Signal::kTraces));
  TimeRange range;
  for (const auto& req : distributedTraces(50, 1, kBase, 3)) appendTraces(req, table, range);
  builder.addBatch(table, 0);
  const RollupSegment s = builder.take();
  ASSERT_FALSE(s.spans.empty());
  ASSERT_FALSE(s.edges.empty());
  RollupFrameHeader h;
  h.seq = 7;
  std::tie(h.min_minute, h.max_minute) = s.minuteRange();
  h.watermark_file = "20240101T000000Z-000001.arrow";
  h.watermark_batches = 3;
  const std::string frame = encodeRollupFrame(h, s);
  auto peek = peekRollupFrame(frame);
  ASSERT_TRUE(peek.has_value());
  EXPECT_EQ(peek->second, frame.size());
  EXPECT_EQ(peek->first.seq, 7u);
  EXPECT_EQ(peek->first.watermark_file, h.watermark_file);
  auto back = decodeRollupFrame(frame);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->first.min_minute, h.min_minute);
  EXPECT_EQ(back->first.watermark_batches, 3u);
  EXPECT_EQ(encodeRollupSegment(back->second), encodeRollupSegment(s));
  for (size_t at : {size_t{50}, frame.size() / 2, frame.size() - 3}) {
    std::string bad = frame;
    bad[at] = static_cast<char>(bad[at] ^ 0x40);
    EXPECT_FALSE(decodeRollupFrame(bad).ok()) << at;
  }
  EXPECT_FALSE(decodeRollupFrame(frame.substr(0, frame.size() - 1)).ok());
}

TEST(SpanRollupBuilder, EqualsAFullScanWhateverTheBatching) {
  const auto requests = distributedTraces(400, 11, kBase, 5);
  ReferenceRollups ref;
  ref.add(requests);
  for (size_t per_batch : {size_t{1}, size_t{3}, size_t{64}, requests.size()}) {
    SpanRollupBuilder builder({});
    RollupAccumulator all;
    for (size_t i = 0; i < requests.size(); i += per_batch) {
      ColumnTable table(&fieldsFor(pipeline::Signal::kTraces));
      TimeRange range;
      for (size_t j = i; j < std::min(requests.size(), i + per_batch); ++j) {
        appendTraces(requests[j], table, range);
      }
      builder.addBatch(table, static_cast<int64_t>(i));
      if (i % 5 == 0) all.merge(builder.take());  // frames cut anywhere
    }
    all.merge(builder.take());
    SCOPED_TRACE(per_batch);
    expectEqualsReference(all.segment(), ref);
    EXPECT_EQ(builder.joinStats().late, 0u);
  }
}

// Names with ids in them (a URL as a span name, a service per pod) must not grow the rollups with
// every span: per take, 2,000 services, 2,000 operations per service and 50,000 in all; spans
// beyond count under "(other ...)", and names refused are not kept as strings either.
TEST(RollupAccumulator, ServicesAndOperationsAreBoundedPerTake) {
  RollupAccumulator acc;
  const uint32_t svc = acc.service("checkout");
  std::set<uint32_t> ids;
  for (int i = 0; i < 2500; ++i) ids.insert(acc.operation(svc, "GET /orders/" + std::to_string(i)));
  EXPECT_EQ(ids.size(), RollupAccumulator::kMaxOperationsPerService + 1);
  const uint32_t other = acc.intern(RollupAccumulator::kOtherOperations);
  EXPECT_TRUE(ids.contains(other));
  EXPECT_EQ(acc.foldedNames(), 500u);
  EXPECT_LE(acc.stringCount(), RollupAccumulator::kMaxOperationsPerService + 3);
  // Known ones stay themselves; another service has a budget of its own.
  EXPECT_NE(acc.operation(svc, "GET /orders/7"), other);
  EXPECT_NE(acc.operation(acc.service("payments"), "GET /orders/2400"), other);

  // In all: 25 more services of 2,000 each pass 50,000.
  for (int s = 0; s < 25; ++s) {
    const uint32_t id = acc.service("svc-" + std::to_string(s));
    for (int i = 0; i < 2000; ++i) acc.operation(id, "op-" + std::to_string(i));
  }
  EXPECT_EQ(acc.operation(acc.service("svc-0"), "one more"), other);
  // Services.
  std::set<uint32_t> services;
  for (int s = 0; s < 2100; ++s) services.insert(acc.service("pod-" + std::to_string(s)));
  EXPECT_TRUE(services.contains(acc.intern(RollupAccumulator::kOtherServices)));
  EXPECT_LT(services.size(), size_t{2000});

  // A take starts afresh; clearStrings() forgets the strings too.
  acc.clear();
  EXPECT_NE(acc.operation(svc, "GET /orders/2499"), other);
  acc.clearStrings();
  EXPECT_EQ(acc.stringCount(), 0u);
}

// End to end through a batch of the store's columns: 3,000 distinct span names of one service
// make 2,001 operations, and every span is still counted.
TEST(SpanRollupBuilder, FoldsOperationsPastTheBoundAndCountsEverySpan) {
  otlp::TracesRequest req;
  auto* rs = req.add_resource_spans();
  auto* attr = rs->mutable_resource()->add_attributes();
  attr->set_key("service.name");
  attr->mutable_value()->set_string_value("sloppy");
  auto* scope = rs->add_scope_spans();
  for (int i = 0; i < 3000; ++i) {
    auto* span = scope->add_spans();
    span->set_trace_id(std::string(15, '\x01') + static_cast<char>(i % 251 + 1));
    span->set_span_id(std::string(7, '\x02') + static_cast<char>(i % 253 + 1));
    span->set_name("GET /users/" + std::to_string(i));
    span->set_start_time_unix_nano(kBase);
    span->set_end_time_unix_nano(kBase + 1000);
  }
  ColumnTable table(&fieldsFor(pipeline::Signal::kTraces));
  TimeRange range;
  appendTraces(req, table, range);
  SpanRollupBuilder builder({});
  builder.addBatch(table, 0);
  const RollupSegment s = builder.take();
  std::set<std::string> operations;
  uint64_t calls = 0;
  for (const SpanRollup& r : s.spans) {
    operations.insert(s.strings[r.operation]);
    calls += r.calls;
  }
  EXPECT_EQ(operations.size(), RollupAccumulator::kMaxOperationsPerService + 1);
  EXPECT_TRUE(operations.contains(std::string(RollupAccumulator::kOtherOperations)));
  EXPECT_EQ(calls, 3000u);
  EXPECT_EQ(builder.foldedNames(), 1000u);
}

TEST(EdgeJoiner, ParentsBeforeOrAfterChildrenWithinTheWindowAndLateOnesCounted) {
  EdgeJoiner::Options o;
  o.window_nanos = 100;
  EdgeJoiner j(o);
  RollupAccumulator acc;
  const uint32_t a = acc.intern("a"), b = acc.intern("b");
  const std::string trace(16, '\1');
  auto sid = [](char c) { return std::string(8, c); };
  // Parent first.
  j.add(trace, sid('p'), "", a, 1, false, 0, acc);
  j.add(trace, sid('c'), sid('p'), b, 1, true, 10, acc);
  // Child first, parent within the window.
  j.add(trace, sid('d'), sid('q'), b, 2, false, 20, acc);
  EXPECT_EQ(j.waiting(), 1u);
  j.expire(110);
  j.add(trace, sid('q'), "", a, 2, false, 110, acc);
  // Same service: joined, no edge.
  j.add(trace, sid('e'), sid('q'), a, 2, false, 111, acc);
  // Child whose parent comes too late.
  j.add(trace, sid('f'), sid('r'), b, 3, false, 120, acc);
  j.expire(221);
  j.add(trace, sid('r'), "", a, 3, false, 221, acc);
  const RollupSegment s = acc.segment();
  ASSERT_EQ(s.edges.size(), 2u);
  EXPECT_EQ(s.edges[0].minute, 1);
  EXPECT_EQ(s.edges[0].errors, 1u);
  EXPECT_EQ(s.strings[s.edges[0].parent], "a");
  EXPECT_EQ(s.strings[s.edges[0].child], "b");
  EXPECT_EQ(s.edges[1].minute, 2);
  EXPECT_EQ(s.edges[1].calls, 1u);
  EXPECT_EQ(j.stats().joined, 3u);
  EXPECT_EQ(j.stats().joined_waiting, 1u);
  EXPECT_EQ(j.stats().late, 1u);
}

// Known spans live in sets of four slots: with room for four, a fifth span (children included)
// takes the oldest's slot, and a span sent again takes its own slot (its newer service counts).
TEST(EdgeJoiner, AFullTableForgetsItsOldestSpanFirst) {
  EdgeJoiner::Options o;
  o.max_spans = 4;
  o.window_nanos = 1000;  // arrival ticks of 1 ns: every span below is older than the next
  EdgeJoiner j(o);
  RollupAccumulator acc;
  const uint32_t a = acc.intern("a"), b = acc.intern("b"), c = acc.intern("c");
  const std::string trace(16, '\3');
  auto sid = [](int i) { return std::string(7, 'p') + static_cast<char>('0' + i); };
  for (int i = 0; i < 5; ++i) j.add(trace, sid(i), "", a, 1, false, i, acc);  // p0 forgotten
  j.add(trace, sid(4), "", c, 1, false, 5, acc);                   // again, now in service c
  j.add(trace, std::string(8, 'x'), sid(0), b, 1, false, 6, acc);  // waits; p1 forgotten
  EXPECT_EQ(j.waiting(), 1u);
  j.add(trace, std::string(8, 'z'), sid(4), b, 1, false, 7, acc);  // c -> b; p2 forgotten
  j.add(trace, std::string(8, 'y'), sid(3), b, 1, false, 8, acc);  // a -> b, before p3 goes
  j.add(trace, std::string(8, 'w'), sid(2), b, 1, false, 9, acc);  // waits
  EXPECT_EQ(j.stats().joined, 2u);
  EXPECT_EQ(j.waiting(), 2u);
  const RollupSegment s = acc.segment();
  std::set<std::pair<std::string, std::string>> edges;
  for (const auto& e : s.edges) edges.emplace(s.strings[e.parent], s.strings[e.child]);
  EXPECT_EQ(edges, (std::set<std::pair<std::string, std::string>>{{"a", "b"}, {"c", "b"}}));
  EXPECT_EQ(s.edges.size(), 2u);
}

// addBatch() against add() span by span, on batches as SDKs and gateways send them: children
// before and after their parents, parents in an earlier or a later batch or never, spans sent
// twice, roots, spans without ids and a span that names itself as its parent. The same edges and
// the same counts (a child before its parent in the batch counts as joined after waiting).
TEST(EdgeJoiner, ABatchJoinsAsItsSpansOneByOne) {
  std::mt19937_64 rng(18);
  RollupAccumulator one_by_one, batched;
  std::vector<uint32_t> services;
  for (const char* name : {"frontend", "checkout", "payments", "db"}) {
    services.push_back(one_by_one.intern(name));
    EXPECT_EQ(batched.intern(name), services.back());
  }
  EdgeJoiner a(EdgeJoiner::Options{}), b(EdgeJoiner::Options{});
  const auto id = [&](size_t bytes) {
    std::string s(bytes, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    return s;
  };
  // Spans of traces not yet sent: part of a trace goes into a later batch.
  std::vector<EdgeJoiner::BatchSpan> pending;
  std::deque<std::string> ids;  // owns the ids the spans view (a deque keeps them in place)
  const auto keep = [&](std::string s) -> std::string_view {
    return ids.emplace_back(std::move(s));
  };
  int64_t now = 1'000'000'000;
  for (int batch = 0; batch < 40; ++batch) {
    std::vector<EdgeJoiner::BatchSpan> spans = std::move(pending);
    pending.clear();
    for (int t = 0; t < 30; ++t) {
      const std::string_view trace = keep(id(16));
      std::vector<EdgeJoiner::BatchSpan> trace_spans;
      const size_t n = 1 + rng() % 6;
      for (size_t i = 0; i < n; ++i) {
        EdgeJoiner::BatchSpan s;
        s.trace_id = trace;
        s.span_id = keep(id(8));
        if (i > 0) s.parent_span_id = trace_spans[rng() % i].span_id;
        s.service = services[rng() % services.size()];
        s.error = rng() % 4 == 0;
        s.minute = batch / 10;
        trace_spans.push_back(s);
      }
      if (rng() % 5 == 0) trace_spans[rng() % n].parent_span_id = keep(id(8));      // never sent
      if (rng() % 20 == 0) trace_spans[0].span_id = "";                             // no id
      if (rng() % 20 == 0) trace_spans[0].parent_span_id = trace_spans[0].span_id;  // itself
      std::shuffle(trace_spans.begin(), trace_spans.end(), rng);
      for (const auto& s : trace_spans) {
        auto& into = rng() % 6 == 0 ? pending : spans;
        into.push_back(s);
        // Sent twice, in the same batch: a span sent again in a later batch would be known
        // already, and a child before it in that batch found at once by add() only.
        if (rng() % 10 == 0) into.push_back(s);
      }
    }
    std::shuffle(spans.begin(), spans.end(), rng);
    for (const auto& s : spans) {
      a.add(s.trace_id, s.span_id, s.parent_span_id, s.service, s.minute, s.error, now, one_by_one);
    }
    b.addBatch(spans, now, batched);
    EXPECT_EQ(a.waiting(), b.waiting()) << "batch " << batch;
    now += 1'000'000;
  }
  EXPECT_GT(a.stats().joined, 2000u);
  EXPECT_GT(a.stats().joined_waiting, 1000u);
  EXPECT_GT(a.waiting(), 0u);
  EXPECT_EQ(a.stats().joined, b.stats().joined);
  EXPECT_EQ(a.stats().joined_waiting, b.stats().joined_waiting);
  a.clear();
  b.clear();
  EXPECT_EQ(a.stats().late, b.stats().late);
  const RollupSegment sa = one_by_one.segment(), sb = batched.segment();
  using EdgeKey = std::tuple<int64_t, uint32_t, uint32_t>;
  const auto edgesOf = [](const RollupSegment& s) {
    std::map<EdgeKey, std::pair<uint64_t, uint64_t>> edges;
    for (const auto& e : s.edges) {
      auto& [calls, errors] = edges[{e.minute, e.parent, e.child}];
      calls += e.calls;
      errors += e.errors;
    }
    return edges;
  };
  EXPECT_GT(sa.edges.size(), 20u);
  EXPECT_EQ(edgesOf(sa), edgesOf(sb));
}

TEST(EdgeJoiner, BoundedByItsLimits) {
  EdgeJoiner::Options o;
  o.max_spans = 10;
  o.max_waiting = 5;
  EdgeJoiner j(o);
  RollupAccumulator acc;
  const std::string trace(16, '\2');
  for (int i = 0; i < 100; ++i) {
    std::string span(8, '\0'), parent(8, '\0');
    span[0] = static_cast<char>(i);
    parent[0] = static_cast<char>(i);
    parent[1] = 'x';  // never arrives
    j.add(trace, span, parent, 0, 0, false, i, acc);
  }
  EXPECT_LE(j.waiting(), 5u);
  EXPECT_EQ(j.stats().late, 95u);
}

}  // namespace
}  // namespace otlpd::store
