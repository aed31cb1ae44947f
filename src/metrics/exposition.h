// The Prometheus text exposition format, version 0.0.4: the one place in Moray that writes it.
// Every process that exports metrics (raylets, the GCS) fills MetricFamilyData and calls Write.
//
//   MetricFamilyData f{.info = {.name = "moray_tasks", .help = "...", .type = MetricType::kGauge,
//                               .label_names = {"State", "Name"}}};
//   f.samples.push_back({.label_values = {"FINISHED", "f"}, .value = 3});
//   std::string text;
//   WriteFamily(f, &text);
//   // # HELP moray_tasks ...
//   // # TYPE moray_tasks gauge
//   // moray_tasks{State="FINISHED",Name="f"} 3
//
// Label values are escaped (backslash, double quote, newline); help text escapes backslash and
// newline; histograms write cumulative `_bucket{le="..."}` lines ending with le="+Inf", then
// `_sum` and `_count`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace moray::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

struct MetricInfo {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<std::string> label_names;
};

struct Sample {
  std::vector<std::string> label_values;  // in the order of MetricInfo::label_names
  double value = 0;                       // counter, gauge
  // Histograms: the bucket upper bounds, the per-bucket counts (bounds.size() + 1, the last for
  // +Inf; not cumulative: the writer accumulates), the sum and the count.
  std::vector<double> bounds;
  std::vector<uint64_t> buckets;
  double sum = 0;
  uint64_t count = 0;
};

struct MetricFamilyData {
  MetricInfo info;
  std::vector<Sample> samples;
};

// [a-zA-Z_:][a-zA-Z0-9_:]*; InvalidArgument naming the name otherwise.
absl::Status ValidateMetricName(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__", not "le" (histograms use it).
absl::Status ValidateLabelName(std::string_view name);

// Appends the family's HELP, TYPE and sample lines to `out`. A family without samples writes
// only its HELP and TYPE lines.
void WriteFamily(const MetricFamilyData& family, std::string* out);
// A number as Prometheus reads it: integers without a fraction, "+Inf", "-Inf", "NaN".
std::string FormatValue(double value);
// The Content-Type of the format.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace moray::metrics
