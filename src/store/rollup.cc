#include "store/rollup.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "common/compression.h"
#include "common/fnv1a.h"
#include "common/strings.h"
#include "store/otlp_columns.h"

namespace otlpd::store {
namespace {

// γ = (1 + α) / (1 − α) with α a little under the promised 1%, so that the float rounding of
// the bucket boundaries never takes an estimate past it.
constexpr double kAlpha = 0.0098;
const double kGamma = (1 + kAlpha) / (1 - kAlpha);
const double kLogGamma = std::log(kGamma);
// No bucket past this: 2^62 ns is ~146 years.
constexpr int32_t kMaxBucket = 2200;

constexpr uint32_t kSegmentVersion = 1;
constexpr uint32_t kFrameMagic = 0x3153524fu;  // "ORS1"
// Bounds that a decoder holds a corrupt or hostile file to.
constexpr uint64_t kMaxStrings = 1u << 22;
constexpr uint64_t kMaxRows = 1u << 26;
constexpr size_t kMaxSegmentBytes = size_t{1} << 31;

// Span columns the rollups read (docs/STORAGE.md); the positions are checked by the tests.
constexpr size_t kParentSpanIdColumn = span_col::kSpanId + 1;
constexpr size_t kKindColumn = span_col::kName + 1;
constexpr size_t kStatusCodeColumn = span_col::kServiceName + 1;

void putVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t unzigzag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}
bool getVarint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    const auto b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}
void putFixed(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t getFixed(std::string_view in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= static_cast<uint64_t>(static_cast<uint8_t>(in[at + static_cast<size_t>(i)])) << (8 * i);
  }
  return v;
}
int64_t saturatingAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? std::numeric_limits<int64_t>::max() : 0;
  return r;
}

}  // namespace

// --- LatencyHistogram

int32_t LatencyHistogram::bucketOf(int64_t nanos) {
  const double b = std::ceil(std::log(static_cast<double>(nanos)) / kLogGamma);
  return static_cast<int32_t>(std::clamp(b, 0.0, static_cast<double>(kMaxBucket)));
}

int64_t LatencyHistogram::valueOf(int32_t bucket) {
  // The middle of (γ^(i-1), γ^i] in relative terms: at most α from either end.
  return std::llround(2 * std::pow(kGamma, bucket) / (kGamma + 1));
}

void LatencyHistogram::add(int64_t nanos, uint64_t count) {
  if (count == 0) return;
  if (nanos < 0) nanos = 0;
  if (count_ == 0) {
    min_ = max_ = nanos;
  } else {
    min_ = std::min(min_, nanos);
    max_ = std::max(max_, nanos);
  }
  count_ += count;
  int64_t total;
  if (__builtin_mul_overflow(nanos, static_cast<int64_t>(std::min<uint64_t>(count, INT64_MAX)),
                             &total)) {
    total = std::numeric_limits<int64_t>::max();
  }
  sum_ = saturatingAdd(sum_, total);
  if (nanos == 0) {
    zeros_ += count;
    return;
  }
  const int32_t b = bucketOf(nanos);
  if (counts_.empty()) {
    first_ = b;
    counts_.assign(1, 0);
  } else if (b < first_) {
    counts_.insert(counts_.begin(), static_cast<size_t>(first_ - b), 0);
    first_ = b;
  } else if (static_cast<size_t>(b - first_) >= counts_.size()) {
    counts_.resize(static_cast<size_t>(b - first_) + 1, 0);
  }
  counts_[static_cast<size_t>(b - first_)] += count;
}

void LatencyHistogram::merge(const LatencyHistogram& o) {
  if (o.count_ == 0) return;
  if (count_ == 0) {
    *this = o;
    return;
  }
  count_ += o.count_;
  zeros_ += o.zeros_;
  sum_ = saturatingAdd(sum_, o.sum_);
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
  if (o.counts_.empty()) return;
  if (counts_.empty()) {
    first_ = o.first_;
    counts_ = o.counts_;
    return;
  }
  const int32_t first = std::min(first_, o.first_);
  const int32_t last = std::max(first_ + static_cast<int32_t>(counts_.size()),
                                o.first_ + static_cast<int32_t>(o.counts_.size()));
  if (first < first_) {
    counts_.insert(counts_.begin(), static_cast<size_t>(first_ - first), 0);
    first_ = first;
  }
  if (static_cast<size_t>(last - first_) > counts_.size()) {
    counts_.resize(static_cast<size_t>(last - first_), 0);
  }
  const size_t at = static_cast<size_t>(o.first_ - first_);
  for (size_t i = 0; i < o.counts_.size(); ++i) counts_[at + i] += o.counts_[i];
}

int64_t LatencyHistogram::quantile(double q) const {
  if (count_ == 0) return 0;
  // In double: a count near 2^64 (from a file) must not overflow the conversion back.
  const double wanted = std::ceil(q * static_cast<double>(count_));
  uint64_t rank = !(wanted >= 1)                          ? 1
                  : wanted >= static_cast<double>(count_) ? count_
                                                          : static_cast<uint64_t>(wanted);
  rank = std::clamp<uint64_t>(rank, 1, count_);
  if (rank <= zeros_) return 0;
  // The extremes are known exactly.
  if (rank == count_) return max_;
  if (rank == 1) return min_;
  uint64_t seen = zeros_;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      // The exact value lies within [min, max] too, which only brings the estimate closer.
      return std::clamp(valueOf(first_ + static_cast<int32_t>(i)), min_, max_);
    }
  }
  return max_;
}

void LatencyHistogram::encode(std::string& out) const {
  putVarint(out, count_);
  if (count_ == 0) return;
  putVarint(out, zeros_);
  putVarint(out, static_cast<uint64_t>(sum_));
  putVarint(out, static_cast<uint64_t>(min_));
  putVarint(out, static_cast<uint64_t>(max_));
  // Non-empty buckets as (gap since the previous one, count).
  size_t nonzero = 0;
  for (uint64_t c : counts_) nonzero += c != 0;
  putVarint(out, nonzero);
  int64_t prev = -1;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    const int64_t b = first_ + static_cast<int64_t>(i);
    putVarint(out, static_cast<uint64_t>(b - prev));
    putVarint(out, counts_[i]);
    prev = b;
  }
}

bool LatencyHistogram::decode(std::string_view& in) {
  *this = LatencyHistogram{};
  uint64_t count, zeros, sum, min, max, nonzero;
  if (!getVarint(in, count)) return false;
  if (count == 0) return true;
  if (!getVarint(in, zeros) || !getVarint(in, sum) || !getVarint(in, min) || !getVarint(in, max) ||
      !getVarint(in, nonzero) || nonzero > kMaxBucket + 1 || zeros > count) {
    return false;
  }
  count_ = count;
  zeros_ = zeros;
  sum_ = static_cast<int64_t>(sum);
  min_ = static_cast<int64_t>(min);
  max_ = static_cast<int64_t>(max);
  uint64_t total = zeros;
  int64_t b = -1;
  for (uint64_t i = 0; i < nonzero; ++i) {
    uint64_t gap, c;
    if (!getVarint(in, gap) || !getVarint(in, c) || gap == 0 || gap > kMaxBucket + 1 || c == 0) {
      return false;
    }
    b += static_cast<int64_t>(gap);
    if (b > kMaxBucket) return false;
    if (counts_.empty()) first_ = static_cast<int32_t>(b);
    counts_.resize(static_cast<size_t>(b - first_) + 1, 0);
    counts_.back() = c;
    total += c;
  }
  return total == count_ && min_ <= max_ && min_ >= 0;
}

// --- segments and frames

std::pair<int64_t, int64_t> RollupSegment::minuteRange() const {
  if (empty()) return {0, -1};
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
  for (const SpanRollup& r : spans) lo = std::min(lo, r.minute), hi = std::max(hi, r.minute);
  for (const EdgeRollup& r : edges) lo = std::min(lo, r.minute), hi = std::max(hi, r.minute);
  return {lo, hi};
}

std::string encodeRollupSegment(const RollupSegment& s) {
  std::string raw;
  putVarint(raw, kSegmentVersion);
  putVarint(raw, s.strings.size());
  for (const std::string& str : s.strings) {
    putVarint(raw, str.size());
    raw.append(str);
  }
  putVarint(raw, s.spans.size());
  int64_t prev = 0;
  for (const SpanRollup& r : s.spans) {
    putVarint(raw, zigzag(static_cast<int64_t>(static_cast<uint64_t>(r.minute) -
                                               static_cast<uint64_t>(prev))));
    prev = r.minute;
    putVarint(raw, r.service);
    putVarint(raw, r.operation);
    putVarint(raw, zigzag(r.kind));
    putVarint(raw, zigzag(r.status));
    putVarint(raw, r.root ? 1 : 0);
    putVarint(raw, r.calls);
    putVarint(raw, r.errors);
    r.latency.encode(raw);
  }
  putVarint(raw, s.edges.size());
  prev = 0;
  for (const EdgeRollup& r : s.edges) {
    putVarint(raw, zigzag(static_cast<int64_t>(static_cast<uint64_t>(r.minute) -
                                               static_cast<uint64_t>(prev))));
    prev = r.minute;
    putVarint(raw, r.parent);
    putVarint(raw, r.child);
    putVarint(raw, r.calls);
    putVarint(raw, r.errors);
  }
  // Rows of one service repeat their strings and neighbouring buckets: zstd takes ~3× off.
  auto z = common::compress(common::Compression::kZstd, raw);
  std::string out;
  if (z.ok() && z->size() < raw.size()) {
    out.push_back('z');
    out.append(*z);
  } else {
    out.push_back('r');
    out.append(raw);
  }
  return out;
}

absl::StatusOr<RollupSegment> decodeRollupSegment(std::string_view bytes) {
  if (bytes.empty()) return absl::DataLossError("empty rollup segment");
  std::string raw;
  std::string_view in;
  if (bytes.front() == 'z') {
    absl::Status st =
        common::decompress(common::Compression::kZstd, bytes.substr(1), kMaxSegmentBytes, raw);
    if (!st.ok()) return absl::DataLossError(strCat("rollup segment: ", st.message()));
    in = raw;
  } else if (bytes.front() == 'r') {
    in = bytes.substr(1);
  } else {
    return absl::DataLossError("rollup segment: unknown encoding");
  }
  const auto bad = [] { return absl::DataLossError("malformed rollup segment"); };
  RollupSegment s;
  uint64_t v, n;
  if (!getVarint(in, v) || v != kSegmentVersion) return bad();
  if (!getVarint(in, n) || n > kMaxStrings || n > in.size()) return bad();
  s.strings.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    if (!getVarint(in, v) || v > in.size()) return bad();
    s.strings.emplace_back(in.substr(0, v));
    in.remove_prefix(v);
  }
  const auto str = [&](uint64_t i) { return i < s.strings.size(); };
  if (!getVarint(in, n) || n > kMaxRows || n > in.size()) return bad();
  s.spans.resize(n);
  int64_t prev = 0;
  for (SpanRollup& r : s.spans) {
    uint64_t minute, service, op, kind, status, root;
    if (!getVarint(in, minute) || !getVarint(in, service) || !getVarint(in, op) ||
        !getVarint(in, kind) || !getVarint(in, status) || !getVarint(in, root) ||
        !getVarint(in, r.calls) || !getVarint(in, r.errors) || !str(service) || !str(op) ||
        root > 1 || !r.latency.decode(in) || r.latency.count() != r.calls || r.errors > r.calls) {
      return bad();
    }
    // Unsigned: a corrupt file must not overflow a signed sum.
    prev =
        static_cast<int64_t>(static_cast<uint64_t>(prev) + static_cast<uint64_t>(unzigzag(minute)));
    r.minute = prev;
    r.service = static_cast<uint32_t>(service);
    r.operation = static_cast<uint32_t>(op);
    r.kind = static_cast<int32_t>(unzigzag(kind));
    r.status = static_cast<int32_t>(unzigzag(status));
    r.root = root == 1;
  }
  if (!getVarint(in, n) || n > kMaxRows || n > in.size()) return bad();
  s.edges.resize(n);
  prev = 0;
  for (EdgeRollup& r : s.edges) {
    uint64_t minute, parent, child;
    if (!getVarint(in, minute) || !getVarint(in, parent) || !getVarint(in, child) ||
        !getVarint(in, r.calls) || !getVarint(in, r.errors) || !str(parent) || !str(child) ||
        r.errors > r.calls) {
      return bad();
    }
    // Unsigned: a corrupt file must not overflow a signed sum.
    prev =
        static_cast<int64_t>(static_cast<uint64_t>(prev) + static_cast<uint64_t>(unzigzag(minute)));
    r.minute = prev;
    r.parent = static_cast<uint32_t>(parent);
    r.child = static_cast<uint32_t>(child);
  }
  if (!in.empty()) return bad();
  return s;
}

// magic u32 | frame size u32 | seq u64 | min minute i64 | max minute i64 | watermark batches u64 |
// name size u16 | name | segment | fnv1a64 of everything before it.
std::string encodeRollupFrame(const RollupFrameHeader& h, const RollupSegment& segment) {
  const std::string body = encodeRollupSegment(segment);
  const std::string_view name = std::string_view(h.watermark_file).substr(0, 0xffff);
  std::string out;
  const size_t total = kRollupFrameFixedBytes + name.size() + body.size() + 8;
  putFixed(out, kFrameMagic, 4);
  putFixed(out, total, 4);
  putFixed(out, h.seq, 8);
  putFixed(out, static_cast<uint64_t>(h.min_minute), 8);
  putFixed(out, static_cast<uint64_t>(h.max_minute), 8);
  putFixed(out, h.watermark_batches, 8);
  putFixed(out, name.size(), 2);
  out.append(name);
  out.append(body);
  putFixed(out, common::fnv1a64(out), 8);
  return out;
}

std::optional<std::pair<RollupFrameHeader, size_t>> peekRollupFrame(std::string_view b) {
  if (b.size() < kRollupFrameFixedBytes || getFixed(b, 0, 4) != kFrameMagic) return std::nullopt;
  const size_t total = getFixed(b, 4, 4);
  const size_t name_size = getFixed(b, 40, 2);
  if (total < kRollupFrameFixedBytes + name_size + 8 + 1 ||
      b.size() < kRollupFrameFixedBytes + name_size) {
    return std::nullopt;
  }
  RollupFrameHeader h;
  h.seq = getFixed(b, 8, 8);
  h.min_minute = static_cast<int64_t>(getFixed(b, 16, 8));
  h.max_minute = static_cast<int64_t>(getFixed(b, 24, 8));
  h.watermark_batches = getFixed(b, 32, 8);
  h.watermark_file = std::string(b.substr(kRollupFrameFixedBytes, name_size));
  return std::make_pair(std::move(h), total);
}

absl::StatusOr<std::pair<RollupFrameHeader, RollupSegment>> decodeRollupFrame(
    std::string_view frame) {
  auto peek = peekRollupFrame(frame);
  if (!peek || peek->second != frame.size()) return absl::DataLossError("not a rollup frame");
  if (getFixed(frame, frame.size() - 8, 8) != common::fnv1a64(frame.substr(0, frame.size() - 8))) {
    return absl::DataLossError("rollup frame checksum mismatch");
  }
  const size_t body_at = kRollupFrameFixedBytes + peek->first.watermark_file.size();
  auto segment = decodeRollupSegment(frame.substr(body_at, frame.size() - 8 - body_at));
  if (!segment.ok()) return segment.status();
  return std::make_pair(std::move(peek->first), *std::move(segment));
}

// --- RollupAccumulator

uint32_t RollupAccumulator::intern(std::string_view s) {
  auto it = string_ids_.find(std::string(s));
  if (it != string_ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(strings_.size());
  strings_.emplace_back(s);
  string_ids_.emplace(strings_.back(), id);
  return id;
}

uint32_t RollupAccumulator::service(std::string_view name) {
  const uint32_t id = intern(name);
  if (services_.contains(id)) return id;
  if (services_.size() >= kMaxServices) {
    ++folded_names_;
    return intern(kOtherServices);
  }
  services_.insert(id);
  return id;
}

uint32_t RollupAccumulator::operation(uint32_t service, std::string_view name) {
  // Looked up before it is interned: a name refused here must not be kept as a string either.
  const auto known = string_ids_.find(std::string(name));
  if (known != string_ids_.end() && operations_.contains(uint64_t{service} << 32 | known->second)) {
    return known->second;
  }
  uint32_t& per_service = operations_per_service_[service];
  if (per_service >= kMaxOperationsPerService || operations_.size() >= kMaxOperations) {
    ++folded_names_;
    return intern(kOtherOperations);
  }
  const uint32_t id = known != string_ids_.end() ? known->second : intern(name);
  operations_.insert(uint64_t{service} << 32 | id);
  ++per_service;
  return id;
}

void RollupAccumulator::addSpans(int64_t minute, uint32_t service, uint32_t operation, int32_t kind,
                                 int32_t status, bool root, uint64_t calls, uint64_t errors,
                                 const LatencyHistogram& latency) {
  SpanValue& v = spans_[SpanKey{minute, service, operation, kind, status, root}];
  v.calls += calls;
  v.errors += errors;
  v.latency.merge(latency);
}

void RollupAccumulator::addEdge(int64_t minute, uint32_t parent, uint32_t child, uint64_t calls,
                                uint64_t errors) {
  EdgeValue& v = edges_[EdgeKey{minute, parent, child}];
  v.calls += calls;
  v.errors += errors;
}

void RollupAccumulator::merge(const RollupSegment& s) {
  std::vector<uint32_t> ids;
  ids.reserve(s.strings.size());
  for (const std::string& str : s.strings) ids.push_back(intern(str));
  for (const SpanRollup& r : s.spans) {
    addSpans(r.minute, ids[r.service], ids[r.operation], r.kind, r.status, r.root, r.calls,
             r.errors, r.latency);
  }
  for (const EdgeRollup& r : s.edges) {
    addEdge(r.minute, ids[r.parent], ids[r.child], r.calls, r.errors);
  }
}

RollupSegment RollupAccumulator::segment() const {
  RollupSegment s;
  // Only the strings the rows use, renumbered.
  std::vector<uint32_t> renumber(strings_.size(), UINT32_MAX);
  auto use = [&](uint32_t id) {
    if (renumber[id] == UINT32_MAX) {
      renumber[id] = static_cast<uint32_t>(s.strings.size());
      s.strings.push_back(strings_[id]);
    }
    return renumber[id];
  };
  s.spans.reserve(spans_.size());
  for (const auto& [k, v] : spans_) {
    SpanRollup r;
    std::tie(r.minute, r.service, r.operation, r.kind, r.status, r.root) = k;
    r.service = use(r.service);
    r.operation = use(r.operation);
    r.calls = v.calls;
    r.errors = v.errors;
    r.latency = v.latency;
    s.spans.push_back(std::move(r));
  }
  s.edges.reserve(edges_.size());
  for (const auto& [k, v] : edges_) {
    EdgeRollup r;
    std::tie(r.minute, r.parent, r.child) = k;
    r.parent = use(r.parent);
    r.child = use(r.child);
    r.calls = v.calls;
    r.errors = v.errors;
    s.edges.push_back(r);
  }
  return s;
}

void RollupAccumulator::clear() {
  spans_.clear();
  edges_.clear();
  services_.clear();
  operations_.clear();
  operations_per_service_.clear();
  // Strings stay: the edge joiner refers to them across takes (clearStrings() when too many).
}

void RollupAccumulator::clearStrings() {
  clear();
  strings_.clear();
  string_ids_.clear();
}

// --- EdgeJoiner

EdgeJoiner::Key EdgeJoiner::keyOf(std::string_view trace_id, std::string_view span_id) {
  Key k{0, 0, 0};
  std::memcpy(k.data(), trace_id.data(), std::min<size_t>(16, trace_id.size()));
  std::memcpy(&k[2], span_id.data(), std::min<size_t>(8, span_id.size()));
  return k;
}

EdgeJoiner::KnownSpans::KnownSpans(size_t max_spans, int64_t window_nanos)
    : tick_nanos_(std::max<int64_t>(1, window_nanos >> 20)) {
  size_t sets = 1;
  while (sets * kWays < max_spans) sets *= 2;
  set_mask_ = sets - 1;
  window_ticks_ = static_cast<uint32_t>(
      std::min<int64_t>(std::max<int64_t>(0, window_nanos) / tick_nanos_, UINT32_MAX / 2));
}

uint32_t EdgeJoiner::KnownSpans::ticksOf(int64_t now_nanos) const {
  // Modulo 2^32: ages are differences of ticks, right across a wrap (14 days of 5-minute windows).
  // Unsigned: a clock that steps back (or a far-off time) wraps instead of overflowing.
  const uint64_t since =
      static_cast<uint64_t>(now_nanos) - static_cast<uint64_t>(base_.value_or(now_nanos));
  return static_cast<uint32_t>(since / static_cast<uint64_t>(tick_nanos_));
}

std::optional<uint32_t> EdgeJoiner::KnownSpans::find(uint64_t hash, int64_t now_nanos) const {
  if (slots_.empty()) return std::nullopt;
  const uint32_t now = ticksOf(now_nanos);
  const Slot* set = &slots_[(hash & set_mask_) * kWays];
  for (size_t i = 0; i < kWays; ++i) {
    if (set[i].hash == hash && live(set[i], now)) return set[i].service;
  }
  return std::nullopt;
}

void EdgeJoiner::KnownSpans::put(uint64_t hash, uint32_t service, int64_t now_nanos) {
  if (slots_.empty()) {
    slots_.resize((set_mask_ + 1) * kWays);
    base_ = now_nanos;
  }
  const uint32_t now = ticksOf(now_nanos);
  Slot* set = &slots_[(hash & set_mask_) * kWays];
  // The same span again, else a free or expired slot, else the oldest of the set.
  Slot* target = nullptr;
  for (size_t i = 0; i < kWays; ++i) {
    if (set[i].hash == hash) {
      target = &set[i];
      break;
    }
    if (!live(set[i], now)) {
      if (target == nullptr || live(*target, now)) target = &set[i];
    } else if (target == nullptr ||
               (live(*target, now) && now - set[i].arrived > now - target->arrived)) {
      target = &set[i];
    }
  }
  *target = Slot{hash, service, now};
}

void EdgeJoiner::KnownSpans::clear() {
  std::fill(slots_.begin(), slots_.end(), Slot{});
}

void EdgeJoiner::prefetch(std::string_view trace_id, std::string_view span_id,
                          std::string_view parent_span_id) const {
  if (span_id.size() == 8) known_.prefetch(hashOf(keyOf(trace_id, span_id)));
  if (parent_span_id.size() == 8) known_.prefetch(hashOf(keyOf(trace_id, parent_span_id)));
}

void EdgeJoiner::add(std::string_view trace_id, std::string_view span_id,
                     std::string_view parent_span_id, uint32_t service, int64_t minute, bool error,
                     int64_t now, RollupAccumulator& out) {
  // The parent first: storing this span may take the slot its parent is in.
  if (parent_span_id.size() == 8) {
    const Key parent = keyOf(trace_id, parent_span_id);
    if (std::optional<uint32_t> parent_service = known_.find(hashOf(parent), now)) {
      ++stats_.joined;
      if (*parent_service != service) {
        out.addEdge(minute, *parent_service, service, 1, error ? 1 : 0);
      }
    } else {
      waitForParent(parent, service, minute, error, now);
    }
  }
  if (span_id.size() != 8) return;
  const Key self = keyOf(trace_id, span_id);
  known_.put(hashOf(self), service, now);
  joinWaitingChildren(self, service, out);
}

void EdgeJoiner::waitForParent(const Key& parent, uint32_t service, int64_t minute, bool error,
                               int64_t now) {
  if (waiting_count_ >= options_.max_waiting) dropOldestWaiting();
  auto [w, inserted] = waiting_.try_emplace(parent);
  if (inserted) {
    w->second.arrived = now;
    waiting_order_.emplace_back(now, parent);
  }
  w->second.children.push_back(Waiting{minute, service, error});
  ++waiting_count_;
}

template <typename K>
void EdgeJoiner::joinWaitingChildren(const K& self, uint32_t service, RollupAccumulator& out) {
  if (waiting_.empty()) return;
  if (auto w = waiting_.find(self); w != waiting_.end()) {
    for (const Waiting& c : w->second.children) {
      ++stats_.joined;
      ++stats_.joined_waiting;
      if (c.service != service) out.addEdge(c.minute, service, c.service, 1, c.error ? 1 : 0);
    }
    waiting_count_ -= w->second.children.size();
    waiting_.erase(w);
  }
}

void EdgeJoiner::addBatch(const std::vector<BatchSpan>& spans, int64_t now,
                          RollupAccumulator& out) {
  const size_t n = spans.size();
  if (n == 0) return;
  self_hashes_.resize(n);
  parent_hashes_.resize(n);
  parent_rows_.assign(n, -1);
  // The batch's spans by key, open addressing at most half full. A slot holds the high half of
  // the key's hash (rows whose halves match are compared in full) and the row + 1.
  size_t slots = 16;
  while (slots < 2 * n) slots *= 2;
  batch_table_.assign(slots, 0);
  const size_t mask = slots - 1;
  const auto slotOf = [mask](uint64_t hash) { return static_cast<size_t>(hash >> 7) & mask; };
  for (size_t i = 0; i < n; ++i) {
    const BatchSpan& s = spans[i];
    self_hashes_[i] = s.span_id.size() == 8 ? KeyHash{}(keyOf(s.trace_id, s.span_id)) : 0;
    parent_hashes_[i] =
        s.parent_span_id.size() == 8 ? KeyHash{}(keyOf(s.trace_id, s.parent_span_id)) : 0;
    if (s.span_id.size() != 8) continue;
    const uint64_t h = self_hashes_[i];
    const uint64_t entry = (h & 0xffffffff00000000ull) | (static_cast<uint64_t>(i) + 1);
    for (size_t slot = slotOf(h);; slot = (slot + 1) & mask) {
      uint64_t& e = batch_table_[slot];
      if (e == 0) {
        e = entry;
        break;
      }
      const size_t row = static_cast<size_t>(e & 0xffffffffu) - 1;
      if ((e >> 32) == (h >> 32) && self_hashes_[row] == h &&
          keyOf(spans[row].trace_id, spans[row].span_id) == keyOf(s.trace_id, s.span_id)) {
        // The same span again: a child after the first is found by add() as well, and
        // one before it waits until the first arrives.
        break;
      }
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const uint64_t h = parent_hashes_[i];
    if (h == 0) continue;
    const BatchSpan& s = spans[i];
    for (size_t slot = slotOf(h);; slot = (slot + 1) & mask) {
      const uint64_t e = batch_table_[slot];
      if (e == 0) break;
      const size_t row = static_cast<size_t>(e & 0xffffffffu) - 1;
      if ((e >> 32) == (h >> 32) && self_hashes_[row] == h &&
          keyOf(spans[row].trace_id, spans[row].span_id) == keyOf(s.trace_id, s.parent_span_id)) {
        // A span that names itself as its parent is looked for among the known spans, as add()
        // does (it is stored only after its parent is looked for).
        if (row != i) parent_rows_[i] = static_cast<int32_t>(row);
        break;
      }
    }
  }
  // Parents: those not in the batch are looked for among the known spans, whose sets are loaded
  // this many rows ahead (only children whose parent is elsewhere read the table).
  constexpr size_t kPrefetchRows = 8;
  size_t ahead = 0;
  const auto prefetchParentsUpTo = [&](size_t row) {
    for (; ahead < n && ahead <= row; ++ahead) {
      if (parent_hashes_[ahead] != 0 && parent_rows_[ahead] < 0) {
        known_.prefetch(parent_hashes_[ahead] | 1);
      }
    }
  };
  for (size_t i = 0; i < n; ++i) {
    prefetchParentsUpTo(i + kPrefetchRows);
    const BatchSpan& s = spans[i];
    if (parent_rows_[i] >= 0) {
      const auto row = static_cast<size_t>(parent_rows_[i]);
      ++stats_.joined;
      if (row > i) ++stats_.joined_waiting;  // add() would have kept it waiting until then
      const uint32_t parent_service = spans[row].service;
      if (parent_service != s.service) {
        out.addEdge(s.minute, parent_service, s.service, 1, s.error ? 1 : 0);
      }
    } else if (parent_hashes_[i] != 0) {
      if (std::optional<uint32_t> parent_service = known_.find(parent_hashes_[i] | 1, now)) {
        ++stats_.joined;
        if (*parent_service != s.service) {
          out.addEdge(s.minute, *parent_service, s.service, 1, s.error ? 1 : 0);
        }
      } else {
        waitForParent(keyOf(s.trace_id, s.parent_span_id), s.service, s.minute, s.error, now);
      }
    }
  }
  // The batch's spans become known, in the order of the table's pages rather than the rows':
  // a put reads a random set of a table of 16 MiB, and in rows' order nearly every put missed the
  // TLB (this machine's page walks made them most of the joiner's time). The parents were all
  // looked for above, so the order is free; a full set forgets its oldest span either way.
  const size_t pages = known_.pages();
  page_starts_.assign(pages + 1, 0);
  for (size_t i = 0; i < n; ++i) {
    if (self_hashes_[i] != 0) ++page_starts_[known_.pageOf(self_hashes_[i] | 1) + 1];
  }
  for (size_t p = 0; p < pages; ++p) page_starts_[p + 1] += page_starts_[p];
  put_order_.resize(page_starts_[pages]);
  for (size_t i = 0; i < n; ++i) {
    if (self_hashes_[i] != 0) {
      put_order_[page_starts_[known_.pageOf(self_hashes_[i] | 1)]++] = static_cast<uint32_t>(i);
    }
  }
  for (size_t k = 0; k < put_order_.size(); ++k) {
    if (k + kPrefetchRows < put_order_.size()) {
      known_.prefetch(self_hashes_[put_order_[k + kPrefetchRows]] | 1);
    }
    const uint32_t i = put_order_[k];
    known_.put(self_hashes_[i] | 1, spans[i].service, now);
  }
  // Children that came in earlier batches, in rows' order.
  for (size_t i = 0; i < n && !waiting_.empty(); ++i) {
    if (self_hashes_[i] == 0) continue;
    joinWaitingChildren(HashedKey{keyOf(spans[i].trace_id, spans[i].span_id), self_hashes_[i]},
                        spans[i].service, out);
  }
}

void EdgeJoiner::dropOldestWaiting() {
  while (!waiting_order_.empty()) {
    auto [arrived, key] = waiting_order_.front();
    waiting_order_.pop_front();
    auto it = waiting_.find(key);
    if (it != waiting_.end() && it->second.arrived == arrived) {
      stats_.late += it->second.children.size();
      waiting_count_ -= it->second.children.size();
      waiting_.erase(it);
      return;
    }
  }
}

void EdgeJoiner::expire(int64_t now) {
  // Known spans expire as they are looked up (KnownSpans::live).
  const int64_t cutoff = now - options_.window_nanos;
  while (!waiting_order_.empty() && waiting_order_.front().first < cutoff) {
    auto [arrived, key] = waiting_order_.front();
    waiting_order_.pop_front();
    auto it = waiting_.find(key);
    if (it != waiting_.end() && it->second.arrived == arrived) {
      stats_.late += it->second.children.size();
      waiting_count_ -= it->second.children.size();
      waiting_.erase(it);
    }
  }
}

void EdgeJoiner::clear() {
  stats_.late += waiting_count_;
  known_.clear();
  waiting_.clear();
  waiting_order_.clear();
  waiting_count_ = 0;
}

// --- SpanRollupBuilder

void SpanRollupBuilder::addBatch(const ColumnTable& t, int64_t now) {
  addRows(t, now, /*count_rows=*/true);
}

void SpanRollupBuilder::primeJoiner(const ColumnTable& t, int64_t now) {
  addRows(t, now, /*count_rows=*/false);
}

void SpanRollupBuilder::addRows(const ColumnTable& t, int64_t now, bool count_rows) {
  const size_t rows = t.rows();
  joiner_.expire(now);
  if (rows == 0) return;
  const Column& start = t.column(span_col::kStartTime);
  const Column& duration = t.column(span_col::kDuration);
  const Column& trace = t.column(span_col::kTraceId);
  const Column& span = t.column(span_col::kSpanId);
  const Column& parent = t.column(kParentSpanIdColumn);
  const Column& name = t.column(span_col::kName);
  const Column& kind = t.column(kKindColumn);
  const Column& service = t.column(span_col::kServiceName);
  const Column& status = t.column(kStatusCodeColumn);
  const Dictionary* service_dict = service.dictionary();
  const Dictionary* name_dict = name.dictionary();
  // Dictionary indices are stable within a file only: the map from them is per batch.
  service_ids_.assign(service_dict ? service_dict->size() : 0, UINT32_MAX);
  // A row's dictionary index, -1 for none (null, or out of range in a corrupt batch).
  const auto indexOf = [](const Column& c, const Dictionary* d, size_t row) -> int32_t {
    if (d == nullptr || c.isNull(row)) return -1;
    int32_t i;
    std::memcpy(&i, c.valuesView().data() + row * 4, 4);
    return i < 0 || static_cast<size_t>(i) >= d->size() ? -1 : i;
  };
  const auto nameAt = [](const Dictionary* d, int32_t i) {
    return i < 0 ? std::string_view() : d->at(static_cast<size_t>(i));
  };
  // Pre-aggregated per batch: a batch has few distinct keys and many spans. Operations are
  // resolved per key afterwards (RollupAccumulator::operation bounds them per service).
  struct Local {
    uint64_t calls = 0, errors = 0;
    LatencyHistogram latency;
  };
  std::map<std::tuple<int64_t, uint32_t, int32_t, int32_t, int32_t, bool>, Local> local;
  // Edges among primed spans were counted before: they go to a scratch accumulator.
  std::optional<RollupAccumulator> uncounted_edges;
  if (!count_rows) uncounted_edges.emplace();
  RollupAccumulator& edges = count_rows ? acc_ : *uncounted_edges;
  const auto idOf = [](const Column& c, size_t row) {
    return c.isNull(row) ? std::string_view() : c.bytesAt(row);
  };
  join_rows_.clear();
  for (size_t row = 0; row < rows; ++row) {
    uint32_t svc;
    if (const int32_t i = indexOf(service, service_dict, row); i < 0) {
      svc = acc_.service("");
    } else {
      uint32_t& id = service_ids_[static_cast<size_t>(i)];
      if (id == UINT32_MAX) id = acc_.service(nameAt(service_dict, i));
      svc = id;
    }
    const int32_t op = indexOf(name, name_dict, row);
    const int64_t minute = minuteOf(start.intAt(row));
    const auto k = static_cast<int32_t>(kind.isNull(row) ? 0 : kind.intAt(row));
    const auto st = static_cast<int32_t>(status.isNull(row) ? 0 : status.intAt(row));
    const bool error = st == 2;
    const std::string_view parent_id = idOf(parent, row);
    if (count_rows) {
      Local& l = local[{minute, svc, op, k, st, parent_id.empty()}];
      ++l.calls;
      l.errors += error ? 1 : 0;
      l.latency.add(duration.intAt(row));
    }
    join_rows_.push_back(
        EdgeJoiner::BatchSpan{idOf(trace, row), idOf(span, row), parent_id, svc, error, minute});
  }
  joiner_.addBatch(join_rows_, now, edges);
  for (const auto& [key, l] : local) {
    const auto& [minute, svc, op_index, k, st, root] = key;
    const uint32_t op = acc_.operation(svc, nameAt(name_dict, op_index));
    acc_.addSpans(minute, svc, op, k, st, root, l.calls, l.errors, l.latency);
  }
}

RollupSegment SpanRollupBuilder::take() {
  RollupSegment s = acc_.segment();
  // The strings (service and operation names) outlive a take for the joiner's sake; so many that
  // names come and go (bounded per take, not over the uptime) are dropped with the joiner's spans.
  if (acc_.stringCount() > kMaxStringsKept) {
    acc_.clearStrings();
    joiner_.clear();
  } else {
    acc_.clear();
  }
  return s;
}

}  // namespace otlpd::store
