#include "metrics/metrics.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <type_traits>

namespace moray::metrics {
namespace {
// Metric names, labels and bounds are constants of the code: a wrong one is a programming error.
void Require(bool condition, const std::string& what) {
  if (condition) return;
  std::fprintf(stderr, "metrics: bad or conflicting definition of %s\n", what.c_str());
  std::abort();
}
}  // namespace

void HistogramCell::Observe(double value) {
  const size_t bucket =
      std::lower_bound(bounds_->begin(), bounds_->end(), value) - bounds_->begin();
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  CounterCell::AtomicAdd(sum_, value);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> HistogramCell::Buckets() const {
  std::vector<uint64_t> out;
  out.reserve(buckets_.size());
  for (const auto& bucket : buckets_) out.push_back(bucket.load(std::memory_order_relaxed));
  return out;
}

template <typename Cell>
Cell* Family<Cell>::NewCell() {
  if constexpr (std::is_same_v<Cell, HistogramCell>) {
    return new HistogramCell(&bounds_);
  } else {
    return new Cell();
  }
}

template <typename Cell>
Cell* Family<Cell>::Series(std::vector<std::string> label_values) {
  label_values.resize(info_.label_names.size());
  absl::MutexLock lock(&mutex_);
  auto& slot = series_[std::move(label_values)];
  if (!slot) slot.reset(NewCell());
  return slot.get();
}

template <typename Cell>
void Family<Cell>::Clear() {
  absl::MutexLock lock(&mutex_);
  series_.clear();
}

template <typename Cell>
void Family<Cell>::Collect(MetricFamilyData* out) const {
  out->info = info_;
  absl::MutexLock lock(&mutex_);
  for (const auto& [labels, cell] : series_) {
    Sample sample;
    sample.label_values = labels;
    if constexpr (std::is_same_v<Cell, HistogramCell>) {
      sample.bounds = bounds_;
      sample.buckets = cell->Buckets();
      sample.sum = cell->Sum();
      sample.count = cell->Count();
    } else {
      sample.value = cell->Value();
    }
    out->samples.push_back(std::move(sample));
  }
}

template class Family<CounterCell>;
template class Family<GaugeCell>;
template class Family<HistogramCell>;

const std::vector<double>& LatencyBounds() {
  static const auto* bounds =
      new std::vector<double>{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                              0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return *bounds;
}

template <typename F>
F& Registry::Add(std::map<std::string, std::unique_ptr<F>>& families, MetricInfo info,
                 std::vector<double> bounds) {
  Require(ValidateMetricName(info.name).ok(), info.name);
  for (const auto& label : info.label_names) Require(ValidateLabelName(label).ok(), label);
  Require(std::is_sorted(bounds.begin(), bounds.end()), info.name);
  auto& slot = families[info.name];
  if (slot) {
    Require(slot->info().label_names == info.label_names, info.name);
    return *slot;
  }
  slot = std::make_unique<F>(std::move(info), std::move(bounds));
  return *slot;
}

Counter& Registry::AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names) {
  absl::MutexLock lock(&mutex_);
  Require(!gauges_.contains(name) && !histograms_.contains(name), name);
  return Add(counters_, {name, help, MetricType::kCounter, std::move(label_names)}, {});
}

Gauge& Registry::AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names) {
  absl::MutexLock lock(&mutex_);
  Require(!counters_.contains(name) && !histograms_.contains(name), name);
  return Add(gauges_, {name, help, MetricType::kGauge, std::move(label_names)}, {});
}

Histogram& Registry::AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names,
                                  std::vector<double> bounds) {
  absl::MutexLock lock(&mutex_);
  Require(!counters_.contains(name) && !gauges_.contains(name), name);
  return Add(histograms_, {name, help, MetricType::kHistogram, std::move(label_names)},
             std::move(bounds));
}

std::vector<MetricFamilyData> Registry::Collect() const {
  std::vector<MetricFamilyData> out;
  absl::MutexLock lock(&mutex_);
  auto collect = [&](const auto& families) {
    for (const auto& [name, family] : families) {
      out.emplace_back();
      family->Collect(&out.back());
    }
  };
  collect(counters_);
  collect(gauges_);
  collect(histograms_);
  std::sort(out.begin(), out.end(), [](const MetricFamilyData& a, const MetricFamilyData& b) {
    return a.info.name < b.info.name;
  });
  return out;
}

std::string Registry::Exposition() const {
  std::string text;
  for (const MetricFamilyData& family : Collect()) WriteFamily(family, &text);
  return text;
}

}  // namespace moray::metrics
