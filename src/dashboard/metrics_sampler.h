// The samples behind the dashboard's live charts. A thread of the dashboard process reads the
// cluster every kSampleInterval (CPU used/total and object store used/capacity from the raylets'
// last reports, task counts by state from the GCS's task records, live actors) into a ring buffer
// of kMaxSamples, so a page opened now shows the last half hour at once.
//
//   MetricsSampler sampler(*gcs);          // starts sampling; the destructor stops and joins
//   nlohmann::json samples = sampler.SamplesSince(last_ms);   // GET /api/v0/metrics?since=
//
// Task counts are those of the records the GCS holds (it evicts finished ones past its budget),
// counted at the source (SUMMARIZE_TASKS) — no record crosses the wire.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gcs/gcs_client.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace moray::dashboard {

inline constexpr absl::Duration kSampleInterval = absl::Seconds(2);
inline constexpr size_t kMaxSamples = 900;  // 30 minutes

struct MetricsSample {
  int64_t time_ms = 0;
  double cpu_used = 0;
  double cpu_total = 0;
  int64_t object_store_used = 0;
  int64_t object_store_capacity = 0;
  int64_t actors_alive = 0;
  std::map<std::string, int64_t> tasks_by_state;  // every TaskState but NIL, zeros included
  int alive_nodes = 0;
};

// Reads one sample from the cluster (each part that fails is left at zero and logged).
MetricsSample TakeSample(gcs::GcsClient& gcs, absl::Time now);

class MetricsSampler {
 public:
  explicit MetricsSampler(gcs::GcsClient& gcs, absl::Duration interval = kSampleInterval);
  ~MetricsSampler();
  MetricsSampler(const MetricsSampler&) = delete;
  MetricsSampler& operator=(const MetricsSampler&) = delete;

  // The samples newer than `since_ms` (all with 0), oldest first, as
  // {"interval_ms": N, "samples": [{"time_ms", "cpu_used", ...}]}.
  nlohmann::json SamplesSince(int64_t since_ms) const;

 private:
  void Run();

  gcs::GcsClient& gcs_;
  const absl::Duration interval_;
  mutable absl::Mutex mu_;
  std::deque<MetricsSample> samples_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// GET /api/v0/metrics?since=MS
void AddMetricsRoutes(httplib::Server& server, const MetricsSampler& sampler);

}  // namespace moray::dashboard
