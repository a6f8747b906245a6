#include "exporters/loadbalancing/hash_ring.h"

#include <algorithm>
#include <numeric>

namespace otlpd::exporters::loadbalancing {

HashRing::HashRing(std::vector<std::string> endpoints) : endpoints_(std::move(endpoints)) {
  std::sort(endpoints_.begin(), endpoints_.end());
  endpoints_.erase(std::unique(endpoints_.begin(), endpoints_.end()), endpoints_.end());
  struct Point {
    uint64_t position;
    uint32_t owner;
  };
  std::vector<Point> points;
  points.reserve(endpoints_.size() * kPointsPerBackend);
  for (uint32_t b = 0; b < endpoints_.size(); ++b) {
    for (uint32_t i = 0; i < kPointsPerBackend; ++i) {
      points.push_back({stableHash(endpoints_[b], i), b});
    }
  }
  // Ties (equal positions of two backends) go to the smaller endpoint on every instance alike.
  std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
    return a.position != b.position ? a.position < b.position : a.owner < b.owner;
  });
  points_.reserve(points.size());
  owners_.reserve(points.size());
  for (const Point& p : points) {
    points_.push_back(p.position);
    owners_.push_back(p.owner);
  }
  constexpr size_t kBuckets = size_t{1} << kIndexBits;
  index_.assign(kBuckets + 1, static_cast<uint32_t>(points_.size()));
  size_t at = 0;
  for (size_t bucket = 0; bucket < kBuckets; ++bucket) {
    while (at < points_.size() && (points_[at] >> (64 - kIndexBits)) < bucket) ++at;
    index_[bucket] = static_cast<uint32_t>(at);
  }
}

size_t HashRing::owner(uint64_t key_hash) const {
  const size_t bucket = key_hash >> (64 - kIndexBits);
  const auto first = points_.begin() + index_[bucket];
  const auto last = points_.begin() + index_[bucket + 1];
  // The first point at or after the key; past the bucket's last point the next bucket's first
  // point (index_[bucket + 1]) is the answer, and past the ring's end its start.
  size_t at = static_cast<size_t>(std::lower_bound(first, last, key_hash) - points_.begin());
  if (at == points_.size()) at = 0;
  return owners_[at];
}

}  // namespace otlpd::exporters::loadbalancing
