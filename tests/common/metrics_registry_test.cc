#include "common/metrics_registry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace otlpd::common {
namespace {

using ProcessMetrics = MetricsRegistry::ProcessMetrics;

// The value of the first sample line of `name` (without labels), or NaN.
double sampleValue(const std::string& text, const std::string& name) {
  const std::string prefix = "\n" + name + " ";
  const size_t pos = text.find(prefix);
  if (pos == std::string::npos) return std::nan("");
  return std::strtod(text.c_str() + pos + prefix.size(), nullptr);
}

TEST(MetricsRegistryTest, RendersGoldenText) {
  MetricsRegistry registry(ProcessMetrics::kExclude);
  registry
      .counter("otlpd_receiver_accepted_spans_total", "Spans accepted by a receiver.",
               {{"receiver", "otlp"}, {"transport", "http"}})
      .add(2);
  registry
      .counter("otlpd_receiver_accepted_spans_total", "Spans accepted by a receiver.",
               {{"receiver", "otlp"}, {"transport", "grpc"}})
      .add(5);
  registry
      .gauge("otlpd_exporter_queue_size", "Batches waiting in the queue.", {{"exporter", "otlp"}})
      .set(3.5);
  registry.counter("a_requests_total", "Requests.").add();
  registry.gauge("z_ratio", "A ratio.").set(0.25);

  EXPECT_EQ(registry.renderPrometheus(),
            "# HELP a_requests_total Requests.\n"
            "# TYPE a_requests_total counter\n"
            "a_requests_total 1\n"
            "# HELP otlpd_exporter_queue_size Batches waiting in the queue.\n"
            "# TYPE otlpd_exporter_queue_size gauge\n"
            "otlpd_exporter_queue_size{exporter=\"otlp\"} 3.5\n"
            "# HELP otlpd_receiver_accepted_spans_total Spans accepted by a receiver.\n"
            "# TYPE otlpd_receiver_accepted_spans_total counter\n"
            "otlpd_receiver_accepted_spans_total{receiver=\"otlp\",transport=\"grpc\"} 5\n"
            "otlpd_receiver_accepted_spans_total{receiver=\"otlp\",transport=\"http\"} 2\n"
            "# HELP z_ratio A ratio.\n"
            "# TYPE z_ratio gauge\n"
            "z_ratio 0.25\n");
}

TEST(MetricsRegistryTest, EmptyRegistryRendersNothingWithoutProcessMetrics) {
  MetricsRegistry registry(ProcessMetrics::kExclude);
  EXPECT_EQ(registry.renderPrometheus(), "");
}

TEST(MetricsRegistryTest, LabelsRenderInGivenOrder) {
  MetricsRegistry registry(ProcessMetrics::kExclude);
  registry.counter("x_total", "X.", {{"zeta", "1"}, {"alpha", "2"}}).add(1);
  EXPECT_NE(registry.renderPrometheus().find("x_total{zeta=\"1\",alpha=\"2\"} 1\n"),
            std::string::npos);
}

TEST(MetricsRegistryTest, EscapesLabelValuesAndHelp) {
  MetricsRegistry registry(ProcessMetrics::kExclude);
  registry
      .counter("e_total", "Help with \\ and\nnewline and \"quotes\".", {{"path", "C:\\dir\n\"x\""}})
      .add(1);
  EXPECT_EQ(registry.renderPrometheus(),
            "# HELP e_total Help with \\\\ and\\nnewline and \"quotes\".\n"
            "# TYPE e_total counter\n"
            "e_total{path=\"C:\\\\dir\\n\\\"x\\\"\"} 1\n");
}

TEST(MetricsRegistryTest, SameNameAndLabelsReturnSameObject) {
  MetricsRegistry registry(ProcessMetrics::kExclude);
  Counter& a = registry.counter("c_total", "C.", {{"k", "v"}});
  Counter& b = registry.counter("c_total", "C.", {{"k", "v"}});
  Counter& other = registry.counter("c_total", "C.", {{"k", "w"}});
  Counter& unlabelled = registry.counter("c_total", "C.");
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &other);
  EXPECT_NE(&a, &unlabelled);
  Gauge& g1 = registry.gauge("g", "G.");
  Gauge& g2 = registry.gauge("g", "G.");
  EXPECT_EQ(&g1, &g2);

  // Many later registrations must not move earlier metrics.
  for (int i = 0; i < 1000; ++i) registry.counter("c_total", "C.", {{"k", std::to_string(i)}});
  a.add(7);
  EXPECT_EQ(registry.counter("c_total", "C.", {{"k", "v"}}).value(), 7u);
}

TEST(MetricsRegistryTest, FirstHelpWins) {
  MetricsRegistry registry(ProcessMetrics::kExclude);
  registry.counter("h_total", "First.", {{"a", "1"}});
  registry.counter("h_total", "Second.", {{"a", "2"}});
  const std::string text = registry.renderPrometheus();
  EXPECT_NE(text.find("# HELP h_total First.\n"), std::string::npos);
  EXPECT_EQ(text.find("Second."), std::string::npos);
}

TEST(MetricsRegistryTest, ConcurrentAddsAreExact) {
  MetricsRegistry registry(ProcessMetrics::kExclude);
  constexpr int kThreads = 8;
  constexpr int kAdds = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&registry] {
      Counter& counter = registry.counter("hits_total", "Hits.", {{"shard", "0"}});
      Gauge& gauge = registry.gauge("level", "Level.");
      for (int i = 0; i < kAdds; ++i) {
        counter.add();
        gauge.add(1.0);
      }
      registry.counter("hits_total", "Hits.", {{"shard", "0"}}).add(kAdds);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(registry.counter("hits_total", "Hits.", {{"shard", "0"}}).value(),
            uint64_t{2} * kThreads * kAdds);
  EXPECT_EQ(registry.gauge("level", "Level.").value(), double{kThreads} * kAdds);
}

TEST(MetricsRegistryTest, ConcurrentRegistrationAndScrape) {
  MetricsRegistry registry;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&registry, t] {
      for (int i = 0; i < 500; ++i) {
        registry.counter("r_total", "R.", {{"t", std::to_string(t)}, {"i", std::to_string(i)}})
            .add();
      }
    });
  }
  threads.emplace_back([&registry] {
    for (int i = 0; i < 50; ++i) EXPECT_FALSE(registry.renderPrometheus().empty());
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(registry.counter("r_total", "R.", {{"t", "3"}, {"i", "499"}}).value(), 1u);
}

TEST(MetricsRegistryTest, GaugeValues) {
  MetricsRegistry registry(ProcessMetrics::kExclude);
  Gauge& g = registry.gauge("g", "G.");
  g.set(10);
  g.add(-2.5);
  EXPECT_EQ(g.value(), 7.5);
  registry.gauge("g", "G.", {{"v", "nan"}}).set(std::nan(""));
  registry.gauge("g", "G.", {{"v", "pinf"}}).set(std::numeric_limits<double>::infinity());
  registry.gauge("g", "G.", {{"v", "ninf"}}).set(-std::numeric_limits<double>::infinity());
  registry.gauge("g", "G.", {{"v", "big"}}).set(1e21);
  registry.gauge("g", "G.", {{"v", "int"}}).set(123456789);
  EXPECT_EQ(registry.renderPrometheus(),
            "# HELP g G.\n"
            "# TYPE g gauge\n"
            "g 7.5\n"
            "g{v=\"big\"} 1e+21\n"
            "g{v=\"int\"} 123456789\n"
            "g{v=\"nan\"} NaN\n"
            "g{v=\"ninf\"} -Inf\n"
            "g{v=\"pinf\"} +Inf\n");
}

TEST(MetricsRegistryTest, CallbackGaugeIsEvaluatedAtScrapeAndRemovable) {
  MetricsRegistry registry(ProcessMetrics::kExclude);
  double queue_size = 3;
  const uint64_t id = registry.callbackGauge("otlpd_queue_size", "Queue size.",
                                             {{"exporter", "otlp"}}, [&] { return queue_size; });
  EXPECT_EQ(registry.renderPrometheus(),
            "# HELP otlpd_queue_size Queue size.\n"
            "# TYPE otlpd_queue_size gauge\n"
            "otlpd_queue_size{exporter=\"otlp\"} 3\n");
  queue_size = 42;
  EXPECT_NE(registry.renderPrometheus().find("otlpd_queue_size{exporter=\"otlp\"} 42\n"),
            std::string::npos);

  registry.removeCallback(id);
  queue_size = std::nan("");  // would show if the callback were still called
  EXPECT_EQ(registry.renderPrometheus(), "");
  registry.removeCallback(id);  // removing twice is harmless
}

TEST(MetricsRegistryTest, CallbackGaugesShareFamilyWithPlainGauges) {
  MetricsRegistry registry(ProcessMetrics::kExclude);
  registry.gauge("q", "Q.", {{"name", "b"}}).set(1);
  registry.callbackGauge("q", "Ignored help.", {{"name", "a"}}, [] { return 2.0; });
  EXPECT_EQ(registry.renderPrometheus(),
            "# HELP q Q.\n"
            "# TYPE q gauge\n"
            "q{name=\"a\"} 2\n"
            "q{name=\"b\"} 1\n");
}

TEST(MetricsRegistryTest, CallbackMayRegisterMetricsAndMayThrow) {
  MetricsRegistry registry(ProcessMetrics::kExclude);
  registry.callbackGauge("reentrant", "R.", {}, [&registry] {
    registry.counter("scrapes_total", "Scrapes.").add();
    return 1.0;
  });
  registry.callbackGauge("throws", "T.", {},
                         []() -> double { throw std::runtime_error("callback failed"); });
  const std::string text = registry.renderPrometheus();
  EXPECT_NE(text.find("reentrant 1\n"), std::string::npos);
  EXPECT_EQ(text.find("throws"), std::string::npos);
  EXPECT_EQ(registry.counter("scrapes_total", "Scrapes.").value(), 1u);
}

TEST(MetricsRegistryTest, ProcessMetricsArePlausible) {
  MetricsRegistry registry;
  registry.counter("otlpd_x_total", "X.").add();
  // Burn a little CPU so the CPU counter has something to show on a coarse clock.
  volatile uint64_t sink = 0;
  for (uint64_t i = 0; i < 20'000'000; ++i) sink = sink + i;
  const std::string text = registry.renderPrometheus();

  for (const char* family : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                             "process_virtual_memory_bytes", "process_open_fds",
                             "process_start_time_seconds", "process_threads"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + family + " "), std::string::npos) << family;
  }
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos);

  const double rss = sampleValue(text, "process_resident_memory_bytes");
  const double vsz = sampleValue(text, "process_virtual_memory_bytes");
  EXPECT_GT(rss, 1024 * 1024);
  EXPECT_GE(vsz, rss);
  EXPECT_GE(sampleValue(text, "process_cpu_seconds_total"), 0.0);
  EXPECT_LT(sampleValue(text, "process_cpu_seconds_total"), 1e6);
  EXPECT_GE(sampleValue(text, "process_open_fds"), 3);
  EXPECT_GE(sampleValue(text, "process_threads"), 1);

  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double start = sampleValue(text, "process_start_time_seconds");
  EXPECT_LE(start, now + 2);
  EXPECT_GT(start, now - 24 * 3600);

  // Sorted with the registered families: "otlpd_" before "process_".
  EXPECT_LT(text.find("otlpd_x_total"), text.find("process_"));
}

TEST(MetricsRegistryTest, OpenFdsFollowsDescriptors) {
  MetricsRegistry registry;
  const double before = sampleValue(registry.renderPrometheus(), "process_open_fds");
  std::vector<int> fds;
  for (int i = 0; i < 5; ++i) fds.push_back(::dup(2));
  const double after = sampleValue(registry.renderPrometheus(), "process_open_fds");
  for (int fd : fds) ::close(fd);
  EXPECT_EQ(after - before, 5);
}

#ifndef NDEBUG
TEST(MetricsRegistryDeathTest, TypeMismatchAsserts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  MetricsRegistry registry(ProcessMetrics::kExclude);
  registry.counter("m_total", "M.");
  EXPECT_DEATH(registry.gauge("m_total", "M."), "different type");
}
#endif

}  // namespace
}  // namespace otlpd::common
