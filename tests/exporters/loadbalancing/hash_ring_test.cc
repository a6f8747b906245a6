#include "exporters/loadbalancing/hash_ring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "common/strings.h"

namespace otlpd::exporters::loadbalancing {
namespace {

std::vector<std::string> endpoints(int n, int first = 0) {
  std::vector<std::string> out;
  for (int i = first; i < first + n; ++i) out.push_back(strCat("10.1.0.", i + 1, ":4317"));
  return out;
}

// Hashes of random 16-byte trace ids.
std::vector<uint64_t> traceKeys(size_t n) {
  std::mt19937_64 rng(42);
  std::vector<uint64_t> keys;
  keys.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    char id[16];
    for (char& c : id) c = static_cast<char>(rng());
    keys.push_back(stableHash(std::string_view(id, sizeof id)));
  }
  return keys;
}

// Owners by endpoint name, so rings of other sizes can be compared.
std::vector<std::string> owners(const HashRing& ring, const std::vector<uint64_t>& keys) {
  std::vector<std::string> out;
  out.reserve(keys.size());
  for (uint64_t k : keys) out.push_back(ring.endpoints()[ring.owner(k)]);
  return out;
}

TEST(StableHash, IsTheSameInEveryProcessAndVersion) {
  // Two otlpd instances in front of the same backends must agree on every key: these values are
  // part of the wire contract between instances, and changing them moves every trace at upgrade.
  EXPECT_EQ(stableHash(""), 0x48218226ff3cd4bfULL) << std::hex << stableHash("");
  EXPECT_EQ(stableHash("checkout-service"), 0x7489b2b68c0631e5ULL)
      << std::hex << stableHash("checkout-service");
  const std::string trace_id("\x5b\x8e\xff\xf7\x98\x03\x81\x03\xd2\x69\xb6\x33\x81\x3f\xc6\x0c",
                             16);
  EXPECT_EQ(stableHash(trace_id), 0x4dd01d915dfcdcbbULL) << std::hex << stableHash(trace_id);
}

TEST(StableHash, EveryByteMatters) {
  const std::string base(16, 'a');
  const uint64_t h = stableHash(base);
  for (size_t i = 0; i < base.size(); ++i) {
    std::string other = base;
    other[i] = 'b';
    EXPECT_NE(stableHash(other), h) << i;
  }
  EXPECT_NE(stableHash(std::string(15, 'a')), h);
  EXPECT_NE(stableHash(std::string("a\0", 2)), stableHash("a"));
}

TEST(HashRing, SpreadsTraceIdsEvenly) {
  const std::vector<uint64_t> keys = traceKeys(200000);
  for (int n : {2, 3, 5, 10}) {
    HashRing ring(endpoints(n));
    std::vector<size_t> counts(n);
    for (uint64_t k : keys) ++counts[ring.owner(k)];
    const double mean = static_cast<double>(keys.size()) / n;
    double variance = 0, worst = 0;
    for (size_t c : counts) {
      const double d = (static_cast<double>(c) - mean) / mean;
      variance += d * d;
      worst = std::max(worst, std::abs(d));
    }
    const double stddev = std::sqrt(variance / n);
    // The Collector documents a standard deviation under 5%; 2048 points per backend keep it.
    EXPECT_LT(stddev, 0.05) << n << " backends";
    EXPECT_LT(worst, 0.08) << n << " backends";
  }
}

TEST(HashRing, AJoiningBackendTakesAboutOneNthAndOnlyForItself) {
  const std::vector<uint64_t> keys = traceKeys(100000);
  for (int n : {2, 3, 5, 9}) {
    const std::vector<std::string> before_list = endpoints(n);
    std::vector<std::string> after_list = endpoints(n + 1);
    HashRing before(before_list), after(after_list);
    const std::string& joined = after_list.back();
    const auto a = owners(before, keys), b = owners(after, keys);
    size_t moved = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (a[i] == b[i]) continue;
      ++moved;
      EXPECT_EQ(b[i], joined) << "a key moved between two backends that both stayed";
    }
    const double share = static_cast<double>(moved) / keys.size();
    const double ideal = 1.0 / (n + 1);
    EXPECT_NEAR(share, ideal, ideal * 0.25) << n << " -> " << n + 1;
  }
}

TEST(HashRing, ALeavingBackendsKeysAreTheOnlyOnesThatMove) {
  const std::vector<uint64_t> keys = traceKeys(100000);
  for (int n : {3, 4, 10}) {
    std::vector<std::string> list = endpoints(n);
    HashRing before(list);
    const std::string gone = list[1];
    list.erase(list.begin() + 1);
    HashRing after(list);
    const auto a = owners(before, keys), b = owners(after, keys);
    size_t moved = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (a[i] != b[i]) {
        ++moved;
        EXPECT_EQ(a[i], gone);
      } else {
        EXPECT_NE(a[i], gone);
      }
    }
    EXPECT_NEAR(static_cast<double>(moved) / keys.size(), 1.0 / n, 0.25 / n) << n;
  }
}

TEST(HashRing, DependsOnTheSetNotTheOrder) {
  std::vector<std::string> list = endpoints(6);
  HashRing ring(list);
  std::reverse(list.begin(), list.end());
  list.push_back(list.front());  // a duplicate changes nothing either
  HashRing shuffled(list);
  EXPECT_EQ(shuffled.endpoints(), ring.endpoints());
  const std::vector<uint64_t> keys = traceKeys(5000);
  EXPECT_EQ(owners(ring, keys), owners(shuffled, keys));
}

TEST(HashRing, OneBackendOwnsEverythingAndExtremeHashesWrap) {
  HashRing one({"a:1"});
  EXPECT_EQ(one.owner(0), 0u);
  EXPECT_EQ(one.owner(UINT64_MAX), 0u);
  HashRing two({"a:1", "b:1"});
  // Past the last point the key belongs to the first point's backend.
  EXPECT_EQ(two.owner(UINT64_MAX), two.owner(0));
}

}  // namespace
}  // namespace otlpd::exporters::loadbalancing
