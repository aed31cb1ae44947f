// Metrics of one process: counters, gauges and histograms with label sets, read when scraped.
//
//   metrics::Registry registry;
//   metrics::Counter& done = registry.AddCounter("moray_x_total", "Things done.", {"Name"});
//   metrics::CounterCell* cell = done.Series({"f"});   // once: takes a lock, may allocate
//   cell->Add(1);                                      // hot path: one relaxed atomic add
//   std::string text = registry.Exposition();          // Prometheus text format 0.0.4
//
// A family (one name, its help, its kind, its label names) owns its series; a series is created on
// first use of its label values and lives as long as the family (families live as long as the
// registry). Pointers to cells stay valid: bump them without any lock. Thread safety: every method
// is safe from any thread. Cells use relaxed atomics, so a scrape sees each value as of some moment
// but a histogram's buckets, sum and count need not be from one instant.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "metrics/exposition.h"

namespace moray::metrics {

// A value that only goes up (a double, bumped with a compare-and-swap loop).
class CounterCell {
 public:
  void Add(double delta) { AtomicAdd(value_, delta); }
  double Value() const { return value_.load(std::memory_order_relaxed); }
  static void AtomicAdd(std::atomic<double>& target, double delta) {
    double old = target.load(std::memory_order_relaxed);
    while (!target.compare_exchange_weak(old, old + delta, std::memory_order_relaxed)) {
    }
  }

 private:
  std::atomic<double> value_{0};
};

// A value set, or moved up and down.
class GaugeCell {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double delta) { CounterCell::AtomicAdd(value_, delta); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted in fixed buckets (upper bounds, ascending; +Inf implied).
class HistogramCell {
 public:
  explicit HistogramCell(const std::vector<double>* bounds)
      : bounds_(bounds), buckets_(bounds->size() + 1) {}
  void Observe(double value);
  // Per bucket (not cumulative), bounds.size() + 1 of them.
  std::vector<uint64_t> Buckets() const;
  double Sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double>* bounds_;  // the family's; outlives the cell
  std::vector<std::atomic<uint64_t>> buckets_;
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
};

// One metric name and its series, keyed by label values (in the order of label_names).
template <typename Cell>
class Family {
 public:
  Family(MetricInfo info, std::vector<double> bounds = {})
      : info_(std::move(info)), bounds_(std::move(bounds)) {}
  // The series for `label_values` (as many as label names; else the call is a programming error
  // and gets a series with the values padded or cut). Takes the family's lock.
  Cell* Series(std::vector<std::string> label_values);
  // Drops every series (values that are recomputed per scrape).
  void Clear();
  const MetricInfo& info() const { return info_; }
  // Appends the family's samples to `out` (under the lock).
  void Collect(MetricFamilyData* out) const;

 private:
  Cell* NewCell();
  const MetricInfo info_;
  const std::vector<double> bounds_;
  mutable absl::Mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Cell>> series_ ABSL_GUARDED_BY(mutex_);
};

using Counter = Family<CounterCell>;
using Gauge = Family<GaugeCell>;
using Histogram = Family<HistogramCell>;

// Latency buckets in seconds: 100 us to 10 s.
const std::vector<double>& LatencyBounds();

// The families of a process. Adding a name twice returns the first family if the kind and
// labels agree (CHECK otherwise: names are constants of the code). Invalid names CHECK too; use
// ValidateMetricName first for names from users.
class Registry {
 public:
  Counter& AddCounter(const std::string& name, const std::string& help,
                      std::vector<std::string> label_names);
  Gauge& AddGauge(const std::string& name, const std::string& help,
                  std::vector<std::string> label_names);
  Histogram& AddHistogram(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names, std::vector<double> bounds);
  // Every family's samples, in name order.
  std::vector<MetricFamilyData> Collect() const;
  // Collect(), written as Prometheus text.
  std::string Exposition() const;

 private:
  template <typename F>
  F& Add(std::map<std::string, std::unique_ptr<F>>& families, MetricInfo info,
         std::vector<double> bounds);
  mutable absl::Mutex mutex_;
  std::map<std::string, std::unique_ptr<Counter>> counters_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, std::unique_ptr<Gauge>> gauges_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, std::unique_ptr<Histogram>> histograms_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace moray::metrics
