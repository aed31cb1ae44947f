#include "metrics/exposition.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace moray::metrics {
namespace {

TEST(ExpositionTest, GaugeWithEscapedLabelsAndHelp) {
  MetricFamilyData family{.info = {.name = "moray_tasks",
                                   .help = "Tasks by state\\name\nsecond line",
                                   .type = MetricType::kGauge,
                                   .label_names = {"State", "Name"}}};
  family.samples.push_back({.label_values = {"FINISHED", "f"}, .value = 3});
  family.samples.push_back({.label_values = {"FAILED", "a\\b\"c\nd"}, .value = 0.25});
  std::string text;
  WriteFamily(family, &text);
  EXPECT_EQ(text,
            "# HELP moray_tasks Tasks by state\\\\name\\nsecond line\n"
            "# TYPE moray_tasks gauge\n"
            "moray_tasks{State=\"FINISHED\",Name=\"f\"} 3\n"
            "moray_tasks{State=\"FAILED\",Name=\"a\\\\b\\\"c\\nd\"} 0.25\n");
}

TEST(ExpositionTest, CounterWithoutLabels) {
  MetricFamilyData family{
      .info = {.name = "moray_x_total", .help = "X.", .type = MetricType::kCounter}};
  family.samples.push_back({.value = 7});
  std::string text;
  WriteFamily(family, &text);
  EXPECT_EQ(text, "# HELP moray_x_total X.\n# TYPE moray_x_total counter\nmoray_x_total 7\n");
}

TEST(ExpositionTest, HistogramIsCumulativeWithInfSumAndCount) {
  MetricFamilyData family{.info = {.name = "moray_latency_seconds",
                                   .help = "Latency.",
                                   .type = MetricType::kHistogram,
                                   .label_names = {"Method"}}};
  family.samples.push_back({.label_values = {"m"},
                            .bounds = {0.5, 1, 2.5},
                            .buckets = {2, 1, 0, 3},
                            .sum = 12.5,
                            .count = 6});
  std::string text;
  WriteFamily(family, &text);
  EXPECT_EQ(text,
            "# HELP moray_latency_seconds Latency.\n"
            "# TYPE moray_latency_seconds histogram\n"
            "moray_latency_seconds_bucket{Method=\"m\",le=\"0.5\"} 2\n"
            "moray_latency_seconds_bucket{Method=\"m\",le=\"1\"} 3\n"
            "moray_latency_seconds_bucket{Method=\"m\",le=\"2.5\"} 3\n"
            "moray_latency_seconds_bucket{Method=\"m\",le=\"+Inf\"} 6\n"
            "moray_latency_seconds_sum{Method=\"m\"} 12.5\n"
            "moray_latency_seconds_count{Method=\"m\"} 6\n");
}

TEST(ExpositionTest, HistogramWithoutLabels) {
  MetricFamilyData family{.info = {.name = "h", .help = "", .type = MetricType::kHistogram}};
  family.samples.push_back({.bounds = {1}, .buckets = {1, 1}, .sum = 3, .count = 2});
  std::string text;
  WriteFamily(family, &text);
  EXPECT_EQ(text,
            "# HELP h \n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
            "h_sum 3\nh_count 2\n");
}

TEST(ExpositionTest, FormatsSpecialValues) {
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
  EXPECT_EQ(FormatValue(-2), "-2");
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(1e20), "1e+20");
  EXPECT_EQ(FormatValue(1.0 / 3), "0.3333333333333333");  // shortest that reads back
}

TEST(ExpositionTest, ValidatesNames) {
  EXPECT_TRUE(ValidateMetricName("moray_tasks").ok());
  EXPECT_TRUE(ValidateMetricName("a:b_c9").ok());
  EXPECT_FALSE(ValidateMetricName("").ok());
  EXPECT_FALSE(ValidateMetricName("9lives").ok());
  absl::Status bad = ValidateMetricName("my-metric");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("my-metric"), std::string::npos) << bad;
  EXPECT_TRUE(ValidateLabelName("State").ok());
  EXPECT_FALSE(ValidateLabelName("le").ok());
  EXPECT_FALSE(ValidateLabelName("__x").ok());
  EXPECT_FALSE(ValidateLabelName("a:b").ok());
  EXPECT_FALSE(ValidateLabelName("").ok());
}

}  // namespace
}  // namespace moray::metrics
