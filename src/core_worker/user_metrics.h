// User metrics of this process (ray::Counter, ray::Gauge, ray::Histogram, ray::Sum): their
// current values per tag set, and whether anything changed since the last report. The core worker
// sends a snapshot to its raylet (RAYLET_REPORT_METRICS) at most once a second when something
// changed; the raylet exports them on its /metrics endpoint.
//
//   UserMetric* m = UserMetrics::Process().Define(
//       {.name = "requests", .kind = proto::UserMetric::COUNTER, .tag_keys = {"route"}});
//   m->Record(1, {{"route", "/"}});
//   if (UserMetrics::Process().TakeChanged()) send(UserMetrics::Process().Snapshot());
//
// Process-wide: Ray's metric objects are made by user code with no handle on a runtime (a global
// like Ray's own). Thread model: everything is thread-safe; Record takes the metric's lock.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "raylet.pb.h"

namespace moray::core {

struct UserMetricSpec {
  std::string name, description, unit;
  proto::UserMetric::Kind kind = proto::UserMetric::GAUGE;
  std::vector<double> boundaries;  // histograms: ascending
  std::vector<std::string> tag_keys;
};

class UserMetric {
 public:
  explicit UserMetric(UserMetricSpec spec, std::atomic<bool>* changed)
      : spec_(std::move(spec)), changed_(changed) {}
  // Gauge: sets; counter and sum: adds (a negative counter increment is ignored); histogram:
  // observes. Tags not among the tag keys are ignored; keys without a value are "".
  void Record(double value, const std::map<std::string, std::string>& tags);
  const UserMetricSpec& spec() const { return spec_; }
  void AppendTo(proto::ReportMetricsRequest* out) const;

 private:
  struct Series {
    double value = 0;
    std::vector<uint64_t> buckets;
    double sum = 0;
    uint64_t count = 0;
  };
  const UserMetricSpec spec_;
  std::atomic<bool>* const changed_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, Series> series_;  // by tag values in tag_keys order
};

class UserMetrics {
 public:
  static UserMetrics& Process();
  // The metric named spec.name: a new one, or the one defined before if it has the same kind
  // and tag keys. InvalidArgument for a bad name, tag key or boundaries, or a clash.
  absl::StatusOr<UserMetric*> Define(UserMetricSpec spec);
  // True once after any Record since the last call.
  bool TakeChanged() { return changed_.exchange(false); }
  proto::ReportMetricsRequest Snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<UserMetric>> metrics_;  // never removed: stable pointers
  std::atomic<bool> changed_{false};
};

}  // namespace moray::core
