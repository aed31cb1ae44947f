// ray::Metric and its kinds over the process's user metrics (src/core_worker/user_metrics.h).
#include "ray/api/metric.h"

#include <map>

#include "core_worker/user_metrics.h"
#include "ray/api/ray_exception.h"

namespace ray {

Metric::Metric(const std::string& name, const std::string& description, const std::string& unit,
               int kind, const std::vector<double>& boundaries,
               const std::vector<std::string>& tag_keys)
    : name_(name) {
  auto defined = moray::core::UserMetrics::Process().Define(
      {.name = name,
       .description = description,
       .unit = unit,
       .kind = static_cast<moray::proto::UserMetric::Kind>(kind),
       .boundaries = boundaries,
       .tag_keys = tag_keys});
  if (!defined.ok()) throw ray::internal::RayException(std::string(defined.status().message()));
  metric_ = *defined;
}

void Metric::Record(double value, const std::unordered_map<std::string, std::string>& tags) {
  static_cast<moray::core::UserMetric*>(metric_)->Record(
      value, std::map<std::string, std::string>(tags.begin(), tags.end()));
}

Gauge::Gauge(const std::string& name, const std::string& description, const std::string& unit,
             const std::vector<std::string>& tag_keys)
    : Metric(name, description, unit, moray::proto::UserMetric::GAUGE, {}, tag_keys) {}
void Gauge::Set(double value, const std::unordered_map<std::string, std::string>& tags) {
  Record(value, tags);
}

Histogram::Histogram(const std::string& name, const std::string& description,
                     const std::string& unit, const std::vector<double> boundaries,
                     const std::vector<std::string>& tag_keys)
    : Metric(name, description, unit, moray::proto::UserMetric::HISTOGRAM, boundaries, tag_keys) {}
void Histogram::Observe(double value, const std::unordered_map<std::string, std::string>& tags) {
  Record(value, tags);
}

Counter::Counter(const std::string& name, const std::string& description, const std::string& unit,
                 const std::vector<std::string>& tag_keys)
    : Metric(name, description, unit, moray::proto::UserMetric::COUNTER, {}, tag_keys) {}
void Counter::Inc(double value, const std::unordered_map<std::string, std::string>& tags) {
  Record(value, tags);
}

Sum::Sum(const std::string& name, const std::string& description, const std::string& unit,
         const std::vector<std::string>& tag_keys)
    : Metric(name, description, unit, moray::proto::UserMetric::SUM, {}, tag_keys) {}

}  // namespace ray
