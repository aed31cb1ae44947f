// The user metrics (ray::Counter & co.) that this node's core workers report
// (RAYLET_REPORT_METRICS), kept per worker for the node's /metrics endpoint. Each report replaces
// the worker's previous one. A worker's series stay exported for `retention` after its
// connection closed (so a scrape every 15 to 60 s still sees its last values), then go.
//
//   UserMetricsStore store(absl::Seconds(60));
//   store.Report(worker_id, std::move(request));      // loop thread, on each report
//   store.WorkerGone(worker_id, absl::Now());          // loop thread, when its connection closes
//   for (auto& family : store.Collect(absl::Now())) metrics::WriteFamily(family, &text);
//
// Exported as moray_<name> (counters and sums: moray_<name>_total) with the metric's tags and
// WorkerId as labels. A name that two workers define with different kinds or tag keys is
// exported as the first (in worker order) defines it; the others' series of it are left out.
//
// Thread model: thread-safe (one mutex; reports are rare, once a second per worker at most).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/id.h"
#include "metrics/exposition.h"
#include "raylet.pb.h"

namespace moray::raylet {

class UserMetricsStore {
 public:
  explicit UserMetricsStore(absl::Duration retention) : retention_(retention) {}
  void Report(const WorkerId& worker_id, proto::ReportMetricsRequest request);
  void WorkerGone(const WorkerId& worker_id, absl::Time now);
  // Drops workers gone for longer than the retention, then writes the rest's families.
  std::vector<metrics::MetricFamilyData> Collect(absl::Time now);

 private:
  struct Entry {
    proto::ReportMetricsRequest metrics;
    absl::Time gone = absl::InfiniteFuture();
  };
  const absl::Duration retention_;
  absl::Mutex mu_;
  std::map<WorkerId, Entry> workers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace moray::raylet
