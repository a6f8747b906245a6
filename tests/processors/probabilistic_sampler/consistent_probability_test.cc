// The consistent probability numbers against the specification's worked examples (the 1-in-N
// table of trace/tracestate-probability-sampling.md at precision 3, 4 and 5), the `th`/`rv`
// encodings, and the hash_seed mode's bucket arithmetic against the Collector's known values.
#include "processors/probabilistic_sampler/consistent_probability.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

namespace otlpd::processors::probabilistic_sampler {
namespace {

std::string th(double probability, int precision) {
  std::optional<Threshold> t = probabilityToThreshold(probability, precision);
  return t ? t->tvalue() : "<out of range>";
}

std::string bytesFromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(ConsistentProbability, SpecificationTableOfOneInN) {
  struct Row {
    double probability;
    const char* p3;
    const char* p4;
    const char* p5;
  };
  const Row rows[] = {
      {1, "0", "0", "0"},
      {0.5, "8", "8", "8"},
      {1.0 / 3, "aab", "aaab", "aaaab"},
      {0.25, "c", "c", "c"},
      {0.2, "ccd", "cccd", "ccccd"},
      {0.125, "e", "e", "e"},
      {0.1, "e66", "e666", "e6666"},
      {0.0625, "f", "f", "f"},
      {0.01, "fd71", "fd70a", "fd70a4"},
      {0.001, "ffbe7", "ffbe77", "ffbe76d"},
      {0.0001, "fff972", "fff9724", "fff97247"},
      {0.00001, "ffff584", "ffff583a", "ffff583a5"},
      {0.000001, "ffffef4", "ffffef39", "ffffef391"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.probability);
    EXPECT_EQ(th(row.probability, 3), row.p3);
    EXPECT_EQ(th(row.probability, 4), row.p4);
    EXPECT_EQ(th(row.probability, 5), row.p5);
  }
}

TEST(ConsistentProbability, ActualProbabilityOfTheTableThresholds) {
  // The table's "actual probability" column: what the rounded threshold really keeps.
  EXPECT_DOUBLE_EQ(probabilityToThreshold(1.0 / 3, 3)->probability(), 0.333251953125);
  EXPECT_DOUBLE_EQ(probabilityToThreshold(0.1, 4)->probability(), 0.100006103515625);
  EXPECT_DOUBLE_EQ(probabilityToThreshold(0.01, 3)->probability(), 0.0099945068359375);
  EXPECT_DOUBLE_EQ(Threshold::always().probability(), 1.0);
}

TEST(ConsistentProbability, PrecisionLimitsAndRange) {
  EXPECT_EQ(th(0.1, 14), "e6666666666666");
  EXPECT_EQ(th(0.1, 0), "e6666666666666");  // 0: full precision
  EXPECT_EQ(th(0.1, 1), "e");
  // Near 1 the leading zeros do not count either (the Collector's choice; the spec leaves it).
  EXPECT_EQ(th(1 - 0x1p-20, 4), "00001");
  // The smallest probability there is: every randomness but the largest is rejected.
  EXPECT_EQ(th(0x1p-56, 4), "ffffffffffffff");
  EXPECT_EQ(th(0x1p-57, 4), "<out of range>");
  EXPECT_EQ(th(0, 4), "<out of range>");
  EXPECT_EQ(th(1.5, 4), "<out of range>");
  EXPECT_EQ(th(std::nan(""), 4), "<out of range>");
}

TEST(ConsistentProbability, ThresholdDecidesByRandomnessAtLeastThreshold) {
  Threshold half;
  ASSERT_EQ(parseTValue("8", half), ValueError::kNone);
  EXPECT_EQ(half.unsignedValue(), 1ULL << 55);
  EXPECT_TRUE(half.shouldSample(Randomness{1ULL << 55}));
  EXPECT_FALSE(half.shouldSample(Randomness{(1ULL << 55) - 1}));
  EXPECT_TRUE(Threshold::always().shouldSample(Randomness{0}));
  EXPECT_FALSE(Threshold::never().shouldSample(kAllProbabilitiesRandomness));
  EXPECT_TRUE(Threshold::always() < half);
  EXPECT_EQ(Threshold::never().tvalue(), "");  // "never" has no encoding
}

TEST(ConsistentProbability, TValueEncodingDropsTrailingZeros) {
  Threshold t;
  ASSERT_EQ(parseTValue("80000000000000", t), ValueError::kNone);
  EXPECT_EQ(t.tvalue(), "8");
  ASSERT_EQ(parseTValue("0", t), ValueError::kNone);
  EXPECT_EQ(t, Threshold::always());
  EXPECT_EQ(t.tvalue(), "0");
  ASSERT_EQ(parseTValue("00000cccccccd", t), ValueError::kNone);
  EXPECT_EQ(t.tvalue(), "00000cccccccd");
  ASSERT_EQ(parseTValue("FD70A", t), ValueError::kNone);  // upper case is read, not written
  EXPECT_EQ(t.tvalue(), "fd70a");
  ASSERT_EQ(parseTValue("ffffffffffffff", t), ValueError::kNone);
  EXPECT_EQ(t.unsignedValue(), kMaxAdjustedCount - 1);
}

TEST(ConsistentProbability, MalformedValues) {
  Threshold t;
  Randomness r;
  EXPECT_EQ(parseTValue("", t), ValueError::kTValueEmpty);
  EXPECT_EQ(parseTValue("abababababababab", t), ValueError::kTValueSize);
  EXPECT_EQ(parseTValue("-1", t), ValueError::kSyntax);
  EXPECT_EQ(parseTValue("8g", t), ValueError::kSyntax);
  EXPECT_EQ(parseRValue("abababababababab", r), ValueError::kRValueSize);
  EXPECT_EQ(parseRValue("1234", r), ValueError::kRValueSize);
  EXPECT_EQ(parseRValue("", r), ValueError::kRValueSize);
  EXPECT_EQ(parseRValue("zzzzzzzzzzzzzz", r), ValueError::kSyntax);
  EXPECT_EQ(valueErrorMessage(ValueError::kRValueSize), "r-value must have 14 hex digits");
}

TEST(ConsistentProbability, RValueRoundTrip) {
  Randomness r;
  ASSERT_EQ(parseRValue("9b8233f7e3a151", r), ValueError::kNone);
  EXPECT_EQ(r.value, 0x9b8233f7e3a151ULL);
  EXPECT_EQ(rvalue(r), "9b8233f7e3a151");
  EXPECT_EQ(rvalue(Randomness{0x42}), "00000000000042");  // leading zeros kept
  ASSERT_EQ(parseRValue("FD70A3D70A3D71", r), ValueError::kNone);
  EXPECT_EQ(rvalue(r), "fd70a3d70a3d71");
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; ++i) {
    const Randomness in{rng() & (kMaxAdjustedCount - 1)};
    Randomness out;
    ASSERT_EQ(parseRValue(rvalue(in), out), ValueError::kNone);
    EXPECT_EQ(out, in);
  }
}

TEST(ConsistentProbability, TValueRoundTripsAtEveryPrecision) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> unit(0x1p-56, 1);
  for (int i = 0; i < 2000; ++i) {
    const double p = unit(rng);
    for (int precision = 1; precision <= kHexDigits; ++precision) {
      const Threshold t = *probabilityToThreshold(p, precision);
      Threshold back;
      ASSERT_EQ(parseTValue(t.tvalue(), back), ValueError::kNone) << t.tvalue();
      EXPECT_EQ(back, t);
      // Rounding moves the probability by at most half a unit of the last digit kept.
      EXPECT_LE(std::fabs(t.probability() - p), 0.5 * std::pow(16.0, -precision) + 0x1p-52)
          << precision;
    }
  }
}

TEST(ConsistentProbability, TraceIdRandomnessIsTheLastSevenBytes) {
  EXPECT_EQ(randomnessFromTraceId(bytesFromHex("fefefefefefefefefe80000000000000")).value,
            0x80000000000000ULL);
  EXPECT_EQ(randomnessFromTraceId(bytesFromHex("111111111111111111ffffffffffffff")),
            kAllProbabilitiesRandomness);
  EXPECT_TRUE(isValidTraceId(bytesFromHex("00000000000000000000000000000001")));
  EXPECT_FALSE(isValidTraceId(std::string(16, '\0')));
  EXPECT_FALSE(isValidTraceId(std::string(8, '\1')));
}

TEST(HashSeed, FnvMatchesTheCollectorsKnownBuckets) {
  // The Collector's test values: seed 0 over nothing and over 16 zero bytes.
  EXPECT_EQ(fnvHash("", 0) & (kHashBuckets - 1), 0x3515u);
  EXPECT_EQ(fnvHash(std::string(16, '\0'), 0) & (kHashBuckets - 1), 0x2455u);
  // FNV-1a 32 of four zero bytes (the seed) continues from the standard offset basis.
  EXPECT_EQ(fnvHash("", 0), 0x4b95f515u);
  EXPECT_NE(fnvHash("a", 1), fnvHash("a", 2));
}

TEST(HashSeed, ThresholdsOfTheCollector) {
  // 14-bit buckets, percentage scaled in float32 and truncated: 10% is e668, not e666.
  EXPECT_EQ(hashSeedThreshold(100)->tvalue(), "0");
  EXPECT_EQ(hashSeedThreshold(75)->tvalue(), "4");
  EXPECT_EQ(hashSeedThreshold(50)->tvalue(), "8");
  EXPECT_EQ(hashSeedThreshold(25)->tvalue(), "c");
  EXPECT_EQ(hashSeedThreshold(10)->tvalue(), "e668");
  EXPECT_EQ(hashSeedThreshold(100.0f / 3)->tvalue(), "aaac");
  EXPECT_EQ(hashSeedThreshold(15.3f)->unsignedValue(),
            static_cast<uint64_t>(16384 - 2506) << 42);  // 15.3 * 163.84 = 2506.75
  EXPECT_FALSE(hashSeedThreshold(0.006f));               // less than one bucket
  EXPECT_TRUE(hashSeedThreshold(0.0062f));               // one bucket
}

TEST(HashSeed, RandomnessAgreesWithTheBucketDecision) {
  // The original decision "bucket < accepted buckets" and "R >= T" agree for every input.
  std::mt19937_64 rng(3);
  for (float percentage : {0.01f, 1.0f, 10.0f, 33.3f, 50.0f, 99.9f, 100.0f}) {
    const Threshold t = *hashSeedThreshold(percentage);
    const auto accepted = static_cast<uint32_t>(percentage * (16384.0f / 100.0f));
    for (int i = 0; i < 5000; ++i) {
      std::string id(16, '\0');
      for (char& c : id) c = static_cast<char>(rng());
      const uint32_t seed = static_cast<uint32_t>(rng());
      const bool by_bucket = (fnvHash(id, seed) & (kHashBuckets - 1)) < accepted;
      ASSERT_EQ(t.shouldSample(hashSeedRandomness(id, seed)), by_bucket);
    }
  }
}

TEST(HashSeed, RandomnessLayout) {
  const std::string id = bytesFromHex("0102030405060708090a0b0c0d0e0f10");
  const uint32_t hash = fnvHash(id, 22);
  const Randomness r = hashSeedRandomness(id, 22);
  EXPECT_LT(r.value, kMaxAdjustedCount);
  EXPECT_EQ(r.value >> 42, 16383u - (hash & 16383u));  // top 14 bits: the reversed bucket
  EXPECT_EQ(r.value & 16383u, hash & 16383u);          // bottom 14 bits: the bucket
}

}  // namespace
}  // namespace otlpd::processors::probabilistic_sampler
