#include "metrics/metrics.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace moray::metrics {
namespace {

TEST(MetricsTest, CounterSeriesByLabels) {
  Registry registry;
  Counter& counter = registry.AddCounter("moray_done_total", "Done.", {"Name"});
  CounterCell* f = counter.Series({"f"});
  f->Add(2);
  counter.Series({"g"})->Add(1);
  EXPECT_EQ(counter.Series({"f"}), f);  // the same series
  f->Add(0.5);
  EXPECT_EQ(registry.Exposition(),
            "# HELP moray_done_total Done.\n# TYPE moray_done_total counter\n"
            "moray_done_total{Name=\"f\"} 2.5\nmoray_done_total{Name=\"g\"} 1\n");
}

TEST(MetricsTest, GaugeSetAndAddAndClear) {
  Registry registry;
  Gauge& gauge = registry.AddGauge("g", "G.", {});
  gauge.Series({})->Set(5);
  gauge.Series({})->Add(-2);
  EXPECT_EQ(gauge.Series({})->Value(), 3);
  gauge.Clear();
  EXPECT_EQ(registry.Exposition(), "# HELP g G.\n# TYPE g gauge\n");
}

TEST(MetricsTest, HistogramBuckets) {
  Registry registry;
  Histogram& histogram = registry.AddHistogram("h", "H.", {"M"}, {1, 2});
  HistogramCell* cell = histogram.Series({"m"});
  for (double v : {0.5, 1.0, 1.5, 3.0, 100.0}) cell->Observe(v);
  EXPECT_EQ(cell->Buckets(), (std::vector<uint64_t>{2, 1, 2}));  // le is inclusive
  EXPECT_EQ(cell->Count(), 5u);
  EXPECT_DOUBLE_EQ(cell->Sum(), 106);
  EXPECT_NE(registry.Exposition().find("h_bucket{M=\"m\",le=\"+Inf\"} 5\n"), std::string::npos);
}

TEST(MetricsTest, SameNameReturnsTheFamilyAndOutputIsSortedByName) {
  Registry registry;
  Counter& a = registry.AddCounter("b_total", "B.", {"x"});
  EXPECT_EQ(&registry.AddCounter("b_total", "B.", {"x"}), &a);
  registry.AddGauge("a", "A.", {});
  std::vector<MetricFamilyData> families = registry.Collect();
  ASSERT_EQ(families.size(), 2u);
  EXPECT_EQ(families[0].info.name, "a");
  EXPECT_EQ(families[1].info.name, "b_total");
}

TEST(MetricsDeathTest, ConflictingDefinitionAborts) {
  Registry registry;
  registry.AddCounter("c_total", "C.", {"x"});
  EXPECT_DEATH(registry.AddGauge("c_total", "C.", {}), "c_total");
  EXPECT_DEATH(registry.AddCounter("bad-name", "", {}), "bad-name");
}

TEST(MetricsTest, ConcurrentBumpsAreNotLost) {
  Registry registry;
  Counter& counter = registry.AddCounter("n_total", "N.", {});
  Histogram& histogram = registry.AddHistogram("l", "L.", {}, LatencyBounds());
  CounterCell* cell = counter.Series({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        cell->Add(1);
        histogram.Series({})->Observe(0.001);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(cell->Value(), 40000);
  EXPECT_EQ(histogram.Series({})->Count(), 40000u);
}

}  // namespace
}  // namespace moray::metrics
