// Per-minute rollups of spans, computed while the store writes them (docs/STORAGE.md, "Rollups"):
// for every (service, operation, span kind, status code, root or not) of a minute the calls,
// errors and a mergeable latency histogram, and for every (parent service, child service) edge
// the calls and errors. Pure: fed column tables, it answers merged numbers and their encoding;
// rollup_store.h writes and reads them.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "absl/status/statusor.h"
#include "common/huge_page_allocator.h"
#include "store/columns.h"

namespace otlpd::store {

inline constexpr int64_t kNanosPerMinute = int64_t{60} * 1'000'000'000;

// The minute (since the Unix epoch, rounded down) of a time in ns.
inline int64_t minuteOf(int64_t unix_nano) {
  const int64_t q = unix_nano / kNanosPerMinute;
  return unix_nano % kNanosPerMinute < 0 ? q - 1 : q;  // floor, for any int64 (no negation)
}

// Span durations in logarithmic buckets (DDSketch's mapping): bucket i holds the durations d with
// γ^(i-1) < d ≤ γ^i ns, so any quantile is answered within kRelativeAccuracy of the exact value
// at the same rank, and two histograms merge by adding their buckets. ~460 buckets cover 1 µs to
// 10 s; only the range between the smallest and largest duration seen is held.
class LatencyHistogram {
 public:
  // The promise (1%); the buckets are a little finer so that rounding never breaks it.
  static constexpr double kRelativeAccuracy = 0.01;

  void add(int64_t duration_nanos, uint64_t count = 1);
  void merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  // Sum of the durations (saturating), for means and spanmetrics-style exports.
  int64_t sumNanos() const { return sum_; }
  int64_t minNanos() const { return count_ > 0 ? min_ : 0; }
  int64_t maxNanos() const { return count_ > 0 ? max_ : 0; }
  // The nearest-rank quantile (0 < q ≤ 1): the duration of rank ceil(q · count) in sorted order,
  // within kRelativeAccuracy; 0 when empty.
  int64_t quantile(double q) const;
  // Calls fn(representative, count) for every non-empty bucket, smallest first: durations ≤ 0
  // as 0, then each bucket's relative middle (every duration in it lies within
  // kRelativeAccuracy of that value). The value depends on the bucket only, never on what else
  // the histogram holds, so re-bucketing by it is additive: merged histograms re-bucket to the
  // sum of their parts (spanmetrics-style exports rely on that, rollup_metrics.h).
  template <typename Fn>
  void forEachBucket(Fn&& fn) const {
    if (zeros_ > 0) fn(int64_t{0}, zeros_);
    for (size_t i = 0; i < counts_.size(); ++i) {
      if (counts_[i] != 0) fn(valueOf(first_ + static_cast<int32_t>(i)), counts_[i]);
    }
  }

  void encode(std::string& out) const;
  // Reads what encode() wrote from the front of `in` and advances it; false when malformed.
  bool decode(std::string_view& in);

  bool operator==(const LatencyHistogram&) const = default;

 private:
  static int32_t bucketOf(int64_t nanos);
  static int64_t valueOf(int32_t bucket);

  uint64_t count_ = 0;
  uint64_t zeros_ = 0;  // durations ≤ 0 (end before start counts as 0)
  int64_t sum_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  int32_t first_ = 0;             // bucket index of counts_[0]
  std::vector<uint64_t> counts_;  // buckets first_ .. first_ + size - 1
};

// What one (minute, key) of spans adds up to.
struct SpanRollup {
  int64_t minute = 0;
  uint32_t service = 0;    // index into the segment's strings
  uint32_t operation = 0;  // span name, index into the segment's strings
  int32_t kind = 0;        // OTLP SpanKind
  int32_t status = 0;      // OTLP StatusCode (0 unset, 1 ok, 2 error)
  bool root = false;       // no parent span id
  uint64_t calls = 0;
  uint64_t errors = 0;  // status ERROR
  LatencyHistogram latency;
};

// Calls from spans of `parent` to child spans of another service `child`, by the child's minute.
struct EdgeRollup {
  int64_t minute = 0;
  uint32_t parent = 0;
  uint32_t child = 0;
  uint64_t calls = 0;
  uint64_t errors = 0;  // the child span's status is ERROR
};

// A set of rollups as written to and read from a rollup file: strings once, rows by index.
struct RollupSegment {
  std::vector<std::string> strings;
  std::vector<SpanRollup> spans;
  std::vector<EdgeRollup> edges;

  bool empty() const { return spans.empty() && edges.empty(); }
  // [min, max] minute of its rows; {0, -1} when empty.
  std::pair<int64_t, int64_t> minuteRange() const;
};

std::string encodeRollupSegment(const RollupSegment& segment);
absl::StatusOr<RollupSegment> decodeRollupSegment(std::string_view bytes);

// A rollup file is a sequence of frames, each one segment plus where the store's span files were
// when it was written (the watermark: every record batch up to it is in this or an earlier frame,
// none after it). The header can be read alone to skip a frame by its minutes.
struct RollupFrameHeader {
  uint64_t seq = 0;  // frames of a store are numbered 1, 2, ... in write order
  int64_t min_minute = 0, max_minute = -1;
  std::string watermark_file;      // base name of the span file
  uint64_t watermark_batches = 0;  // record batches of that file covered
};
inline constexpr size_t kRollupFrameFixedBytes = 4 + 4 + 8 + 8 + 8 + 8 + 2;
std::string encodeRollupFrame(const RollupFrameHeader& header, const RollupSegment& segment);
// The header of the frame at the front of `bytes` (at least kRollupFrameFixedBytes plus the
// watermark name), and the frame's total size; nullopt when it is not a frame.
std::optional<std::pair<RollupFrameHeader, size_t>> peekRollupFrame(std::string_view bytes);
// A whole frame: checks its checksum and decodes the segment.
absl::StatusOr<std::pair<RollupFrameHeader, RollupSegment>> decodeRollupFrame(
    std::string_view frame);

// Adds rollups up: rows of the same (minute, key) merge. Strings are interned.
class RollupAccumulator {
 public:
  // Between two clear()s, what the store's builder adds through service() and operation() is
  // bounded, so that names with ids in them (a URL as a span name, a service per pod) cannot grow
  // the rollups' memory, frames and answers with every span: at most kMaxServices services, and
  // kMaxOperationsPerService operations per service, kMaxOperations in all. Spans beyond count
  // under kOtherServices / kOtherOperations; the span files keep their real names.
  static constexpr size_t kMaxServices = 2000;
  static constexpr size_t kMaxOperationsPerService = 2000;
  static constexpr size_t kMaxOperations = 50'000;
  static constexpr std::string_view kOtherServices = "(other services)";
  static constexpr std::string_view kOtherOperations = "(other operations)";

  uint32_t intern(std::string_view s);
  uint32_t service(std::string_view name);
  uint32_t operation(uint32_t service, std::string_view name);
  // Names service() and operation() folded into the "other" rows so far (never reset).
  uint64_t foldedNames() const { return folded_names_; }
  size_t stringCount() const { return strings_.size(); }
  // clear(), and the strings too: nothing (no joiner) may refer to them any more.
  void clearStrings();
  void addSpans(int64_t minute, uint32_t service, uint32_t operation, int32_t kind, int32_t status,
                bool root, uint64_t calls, uint64_t errors, const LatencyHistogram& latency);
  void addEdge(int64_t minute, uint32_t parent, uint32_t child, uint64_t calls, uint64_t errors);
  // Adds every row of `segment` (its strings interned here).
  void merge(const RollupSegment& segment);
  // The rows so far, sorted by minute then key.
  RollupSegment segment() const;
  void clear();
  bool empty() const { return spans_.empty() && edges_.empty(); }
  size_t rows() const { return spans_.size() + edges_.size(); }
  const std::string& string(uint32_t i) const { return strings_[i]; }

 private:
  using SpanKey = std::tuple<int64_t, uint32_t, uint32_t, int32_t, int32_t, bool>;
  using EdgeKey = std::tuple<int64_t, uint32_t, uint32_t>;
  struct SpanValue {
    uint64_t calls = 0, errors = 0;
    LatencyHistogram latency;
  };
  struct EdgeValue {
    uint64_t calls = 0, errors = 0;
  };
  std::vector<std::string> strings_;
  std::unordered_map<std::string, uint32_t> string_ids_;
  std::map<SpanKey, SpanValue> spans_;
  std::map<EdgeKey, EdgeValue> edges_;
  // Since the last clear(): what service() and operation() let in.
  absl::flat_hash_set<uint32_t> services_;
  absl::flat_hash_set<uint64_t> operations_;  // service << 32 | operation
  absl::flat_hash_map<uint32_t, uint32_t> operations_per_service_;
  uint64_t folded_names_ = 0;
};

// Finds dependency edges as spans arrive: a span whose parent (same trace) is already known counts
// an edge at once; one whose parent has not arrived waits for it up to `window` of arrival time
// (children usually end, and are sent, before their parents). Children still waiting at the end of
// the window are counted as late and dropped; so are the oldest entries past the size limits.
class EdgeJoiner {
 public:
  struct Options {
    int64_t window_nanos = int64_t{5} * kNanosPerMinute;
    size_t max_spans = 1'000'000;    // known spans (span id → service), 16 bytes each
    size_t max_waiting = 1'000'000;  // children waiting for their parent
  };
  struct Stats {
    uint64_t joined = 0;          // child spans whose parent was found (same service or not)
    uint64_t joined_waiting = 0;  // ...of them, after waiting for a parent that came later
    uint64_t late = 0;            // children dropped: no parent within the window or the limits
  };
  explicit EdgeJoiner(Options options)
      : options_(options), known_(options.max_spans, options.window_nanos) {}

  // One span: trace id (16 bytes), span id (8), parent span id (8, or empty for a root), its
  // service (an accumulator string index), the minute its edge counts in and whether it failed.
  // Edges found are added to `out`.
  void add(std::string_view trace_id, std::string_view span_id, std::string_view parent_span_id,
           uint32_t service, int64_t minute, bool error, int64_t now_nanos, RollupAccumulator& out);
  // Starts loading what add() will read for this span (the known-span sets of the span and of its
  // parent). A caller that knows the spans ahead calls it a few spans early, so that the table's
  // cache misses overlap instead of adding up.
  void prefetch(std::string_view trace_id, std::string_view span_id,
                std::string_view parent_span_id) const;
  // One span of addBatch(), with add()'s arguments.
  struct BatchSpan {
    std::string_view trace_id, span_id, parent_span_id;
    uint32_t service;
    bool error;
    int64_t minute;
  };
  // add() for each span in order: the same edges and counts (a child before its parent in the
  // batch counts as joined after waiting). A parent in the same batch is found in a table of the
  // batch's own spans, without a lookup in the known spans, whose random accesses were most of
  // the rollups' cost in the store's writer (issue #18); each key is hashed once.
  void addBatch(const std::vector<BatchSpan>& spans, int64_t now_nanos, RollupAccumulator& out);
  // Forgets spans and drops waiting children older than the window.
  void expire(int64_t now_nanos);
  // Forgets every span and waiting child (counted as late): their service ids are about to lose
  // their meaning (RollupAccumulator::clearStrings).
  void clear();
  const Stats& stats() const { return stats_; }
  size_t waiting() const { return waiting_count_; }

 private:
  using Key = std::array<uint64_t, 3>;  // trace id (16 bytes) + span id (8)
  static Key keyOf(std::string_view trace_id, std::string_view span_id);
  static uint64_t hashOf(const Key& k) { return KeyHash{}(k) | 1; }
  // A key with its KeyHash, for a lookup in waiting_ that does not hash the key again.
  struct HashedKey {
    Key key;
    size_t hash;
  };
  // absl's hash of the three words: hashing the key as 24 bytes (what absl::Hash<Key> does, an
  // array of integers being contiguous bytes) took a quarter of the joiner's time.
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const Key& k) const { return absl::HashOf(k[0], k[1], k[2]); }
    size_t operator()(const HashedKey& k) const { return k.hash; }
  };
  struct KeyEq {
    using is_transparent = void;
    bool operator()(const Key& a, const Key& b) const { return a == b; }
    bool operator()(const Key& a, const HashedKey& b) const { return a == b.key; }
    bool operator()(const HashedKey& a, const Key& b) const { return a.key == b; }
  };
  // A child's parent was not found (neither known nor in its batch): it waits for it.
  void waitForParent(const Key& parent, uint32_t service, int64_t minute, bool error,
                     int64_t now_nanos);
  // The children waiting for `self`, which has just arrived with `service`.
  template <typename K>
  void joinWaitingChildren(const K& self, uint32_t service, RollupAccumulator& out);
  // The spans seen within the window (trace id + span id → service): a set-associative table of
  // 16-byte slots, 4 to a 64-byte set chosen by a seeded hash of the key; a slot holds the key's
  // 64-bit hash, the service and the arrival time in ticks of window / 2^20. Finding or adding a
  // span reads one cache line. A span is forgotten once its window has passed, or when a newer one
  // needs the slot (the oldest of a full set). A flat hash map of the keys plus a FIFO of arrivals
  // cost ~3 cache misses, ~600 ns per span at the million-span limit, which trace ids that never
  // repeat keep it at (bench/rollup_bench.cc, issue #18).
  class KnownSpans {
   public:
    KnownSpans(size_t max_spans, int64_t window_nanos);
    // The service of the span whose key hashes to `hash`, if it arrived within the window.
    std::optional<uint32_t> find(uint64_t hash, int64_t now_nanos) const;
    void put(uint64_t hash, uint32_t service, int64_t now_nanos);
    void prefetch(uint64_t hash) const {
      if (!slots_.empty()) __builtin_prefetch(&slots_[(hash & set_mask_) * kWays], 1);
    }
    // The 4 KiB page of the table that holds the set of `hash` (64 sets to a page), and how many
    // pages the table has: put() in pages' order reads the table nearly in sequence.
    size_t pageOf(uint64_t hash) const { return (hash & set_mask_) / kSetsPerPage; }
    size_t pages() const { return set_mask_ / kSetsPerPage + 1; }
    void clear();

   private:
    static constexpr size_t kWays = 4;
    struct Slot {
      uint64_t hash = 0;  // 0: empty (hashes are made odd)
      uint32_t service = 0;
      uint32_t arrived = 0;  // ticks since base_, modulo 2^32
    };
    static constexpr size_t kSetsPerPage = 4096 / (kWays * sizeof(Slot));
    uint32_t ticksOf(int64_t now_nanos) const;
    bool live(const Slot& slot, uint32_t now_ticks) const {
      return slot.hash != 0 && now_ticks - slot.arrived <= window_ticks_;
    }

    size_t set_mask_;
    int64_t tick_nanos_;
    uint32_t window_ticks_;
    std::optional<int64_t> base_;
    std::vector<Slot, common::HugePageAllocator<Slot>> slots_;  // allocated by the first put()
  };
  struct Waiting {
    int64_t minute;
    uint32_t service;
    bool error;
  };
  struct WaitingList {
    int64_t arrived = 0;
    // Inline: most parents have a few children, and a heap vector per waiting parent made
    // malloc and free a sixth of the joiner's time.
    absl::InlinedVector<Waiting, 3> children;
  };
  void dropOldestWaiting();

  Options options_;
  Stats stats_;
  KnownSpans known_;
  absl::flat_hash_map<Key, WaitingList, KeyHash, KeyEq> waiting_;  // by the parent's key
  // addBatch()'s scratch, kept for its capacity: per span, KeyHash of its key and of its parent's
  // (0: none) and the row of its parent in the batch (-1: none); and the batch's table of its
  // spans (the high half of a key's hash, the row + 1; 0: empty).
  std::vector<uint64_t> self_hashes_, parent_hashes_;
  std::vector<int32_t> parent_rows_;
  std::vector<uint64_t> batch_table_;
  std::vector<uint32_t> page_starts_, put_order_;  // the batch's rows in the order of put()
  std::deque<std::pair<int64_t, Key>> waiting_order_;
  size_t waiting_count_ = 0;
};

// Feeds the spans of a traces column table (the store's layout, docs/STORAGE.md) to an
// accumulator and an edge joiner: what one record batch adds to the rollups.
class SpanRollupBuilder {
 public:
  // Interned names kept across takes (for the joiner) before take() forgets them all.
  static constexpr size_t kMaxStringsKept = 200'000;
  explicit SpanRollupBuilder(EdgeJoiner::Options options) : joiner_(options) {}
  void addBatch(const ColumnTable& spans, int64_t now_nanos);
  // Spans whose rollups a frame already holds (batches before its watermark, read again after a
  // restart): only the joiner learns them, so that a child in a batch replayed after the frame
  // still finds its parent there, and a child that was waiting for its parent waits again. Their
  // rows and the edges among them are not counted again.
  void primeJoiner(const ColumnTable& spans, int64_t now_nanos);
  // The rows added since the last take, which are then forgotten (the joiner keeps its spans).
  RollupSegment take();
  // The rows added since the last take, kept.
  RollupSegment peek() const { return acc_.segment(); }
  bool empty() const { return acc_.empty(); }
  size_t rows() const { return acc_.rows(); }
  const EdgeJoiner::Stats& joinStats() const { return joiner_.stats(); }
  uint64_t foldedNames() const { return acc_.foldedNames(); }

 private:
  // `count_rows` false: primeJoiner.
  void addRows(const ColumnTable& spans, int64_t now_nanos, bool count_rows);

  RollupAccumulator acc_;
  EdgeJoiner joiner_;
  std::vector<uint32_t> service_ids_;  // per dictionary index of the batch's service column
  std::vector<EdgeJoiner::BatchSpan> join_rows_;  // addRows()'s scratch, kept for its capacity
};

}  // namespace otlpd::store
