// Remote write encoding decoded back by the hand decoder (field numbers from the specification),
// snappy round trips and the splitting of series into requests by size.
#include "prometheus/remote_write.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "otlp/wire_reader.h"

namespace otlpd::prometheus::remote_write {
namespace {

Series makeSeries(std::vector<std::pair<std::string, std::string>> labels,
                  std::vector<Sample> samples) {
  Series s;
  for (const auto& [n, v] : labels) appendLabel(n, v, s.encoded_labels);
  s.samples = std::move(samples);
  return s;
}

TEST(RemoteWrite, EncodesWhatTheSpecificationSays) {
  std::vector<Series> series = {
      makeSeries({{"__name__", "up"}, {"job", "api"}}, {{1, 1700000000000}, {0, 1700000015000}}),
      makeSeries({{"__name__", "x"}}, {{-2.5, 0}}),
  };
  const std::string bytes = encodeRequest(series, {{0, 0, 2}, {1, 0, 1}});
  // Byte-exact start: WriteRequest.timeseries (1, LEN), TimeSeries.labels (1, LEN), Label.name
  // (1, LEN) "__name__".
  ASSERT_GE(bytes.size(), 6u);
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), 0x0a);
  EXPECT_EQ(static_cast<uint8_t>(bytes[2]), 0x0a);
  EXPECT_EQ(static_cast<uint8_t>(bytes[4]), 0x0a);
  EXPECT_EQ(static_cast<uint8_t>(bytes[5]), 8);
  EXPECT_EQ(bytes.substr(6, 8), "__name__");

  auto decoded = decodeRequest(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->size(), 2u);
  const DecodedSeries& a = (*decoded)[0];
  ASSERT_EQ(a.labels.size(), 2u);
  EXPECT_EQ(a.labels[0], (std::pair<std::string, std::string>{"__name__", "up"}));
  EXPECT_EQ(a.labels[1], (std::pair<std::string, std::string>{"job", "api"}));
  ASSERT_EQ(a.samples.size(), 2u);
  EXPECT_EQ(a.samples[0], (Sample{1, 1700000000000}));
  EXPECT_EQ(a.samples[1], (Sample{0, 1700000015000}));
  EXPECT_EQ((*decoded)[1].samples[0], (Sample{-2.5, 0}));
  // The sizes the packer works with are the sizes written.
  EXPECT_EQ(chunkBytes(series, {0, 0, 2}) + chunkBytes(series, {1, 0, 1}), bytes.size());
}

TEST(RemoteWrite, KeepsStaleMarkerBits) {
  const uint64_t stale_bits = 0x7ff0000000000002ULL;
  double stale;
  std::memcpy(&stale, &stale_bits, 8);
  std::vector<Series> series = {makeSeries({{"__name__", "gone"}}, {{stale, 5}})};
  auto decoded = decodeRequest(encodeRequest(series, {{0, 0, 1}}));
  ASSERT_TRUE(decoded.ok());
  uint64_t bits;
  std::memcpy(&bits, &(*decoded)[0].samples[0].value, 8);
  EXPECT_EQ(bits, stale_bits);
}

TEST(RemoteWrite, SnappyRoundTrip) {
  std::string raw;
  for (int i = 0; i < 5000; ++i)
    raw += std::string("http_requests_total{job=\"api\"} ") + std::to_string(i);
  const std::string compressed = snappyCompress(raw);
  EXPECT_LT(compressed.size(), raw.size() / 3);
  auto back = snappyUncompress(compressed, raw.size());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, raw);
  EXPECT_FALSE(snappyUncompress(compressed, raw.size() - 1).ok());  // beyond the limit
  EXPECT_FALSE(snappyUncompress("\xff\xff\xff\xff\xff garbage", 1 << 20).ok());
  EXPECT_EQ(*snappyUncompress(snappyCompress(""), 10), "");
}

TEST(RemoteWrite, PacksSeriesBelowTheLimitInOrder) {
  std::vector<Series> series;
  for (int i = 0; i < 100; ++i) {
    std::vector<Sample> samples;
    for (int j = 0; j < 10; ++j) samples.push_back({double(j), 1000 + j});
    series.push_back(makeSeries({{"__name__", "m"}, {"i", std::to_string(i)}}, samples));
  }
  const size_t one = chunkBytes(series, {0, 0, 10});
  const size_t limit = one * 7 + one / 2;
  auto requests = packRequests(series, limit);
  size_t total_series = 0;
  uint32_t expected_next = 0;
  for (const auto& r : requests) {
    EXPECT_LE(encodeRequest(series, r).size(), limit);
    for (const Chunk& c : r) {
      EXPECT_EQ(c.series, expected_next++);
      EXPECT_EQ(c.begin, 0u);
      EXPECT_EQ(c.end, 10u);
      ++total_series;
    }
  }
  EXPECT_EQ(total_series, 100u);
  EXPECT_EQ(requests.size(), 15u);  // 7 a request
}

TEST(RemoteWrite, CutsASeriesLargerThanARequestBetweenSamplesInTimestampOrder) {
  std::vector<Sample> samples;
  for (int j = 0; j < 1000; ++j) samples.push_back({double(j), 1700000000000 + j * 1000});
  std::vector<Series> series = {makeSeries({{"__name__", "small"}}, {{1, 1}}),
                                makeSeries({{"__name__", "big"}, {"a", "b"}}, samples),
                                makeSeries({{"__name__", "after"}}, {{2, 2}})};
  const size_t limit = 2048;
  auto requests = packRequests(series, limit);
  ASSERT_GT(requests.size(), 5u);
  int64_t last_ts = 0;
  size_t big_samples = 0;
  for (const auto& r : requests) {
    const std::string bytes = encodeRequest(series, r);
    EXPECT_LE(bytes.size(), limit);
    auto decoded = decodeRequest(bytes);
    ASSERT_TRUE(decoded.ok());
    for (const DecodedSeries& d : *decoded) {
      if (d.labels[0].second != "big") continue;
      EXPECT_EQ(d.labels.size(), 2u);  // every piece carries the labels
      for (const Sample& s : d.samples) {
        EXPECT_GT(s.timestamp_ms, last_ts);
        last_ts = s.timestamp_ms;
        ++big_samples;
      }
    }
  }
  EXPECT_EQ(big_samples, 1000u);
  // A limit below one sample still sends it, alone.
  auto tiny = packRequests(series, 1);
  EXPECT_EQ(tiny.size(), 1002u);
}

}  // namespace
}  // namespace otlpd::prometheus::remote_write
