// The GCS's part of the cluster's metrics (docs/observability.md, "Metrics"):
//   - moray_tasks{State,Name}: task attempts by state and name since the GCS started, kept by the
//     task event store apart from its records (so they outlive jobs and evicted records);
//   - moray_actors{State,Name}: actors by state and class, from the actor table at the call;
//   - the GCS's own registry (the latencies of its methods).
// GET_CLUSTER_METRICS answers them as Prometheus text; the head's raylet appends it to its
// /metrics at each scrape. And the Prometheus file-SD list of every ALIVE node's endpoint.
//
//   AddMetricsMethods(managers, &service);
//   DiscoveryFile discovery(session_dir + "/prom_metrics_service_discovery.json");
//   discovery.Write(nodes.GetAllNodes());   // when a node registers or dies
//
// Thread model: ClusterMetricsText and DiscoveryFile are safe from any thread.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "gcs.pb.h"
#include "gcs/actor_manager.h"
#include "gcs/gcs_service.h"
#include "gcs/task_event_store.h"
#include "metrics/metrics.h"

namespace moray::gcs {

// The name of the discovery file in the head's session directory (Ray's name).
inline constexpr char kDiscoveryFileName[] = "prom_metrics_service_discovery.json";

// moray_tasks and moray_actors (HELP and TYPE lines even without samples), then `registry`'s
// families (may be null).
std::string ClusterMetricsText(const TaskEventStore& tasks, const ActorManager& actors,
                               const metrics::Registry* registry);

// GET_CLUSTER_METRICS (any member).
void AddMetricsMethods(const GcsManagers& managers, const metrics::Registry* registry,
                       rpc::Service* service);

// Prometheus file-SD JSON: [{"labels": {"job": "moray"}, "targets": ["ip:port", ...]}], each
// ALIVE node with a metrics port, in registration order.
std::string DiscoveryJson(const std::vector<proto::NodeInfo>& nodes);

class DiscoveryFile {
 public:
  explicit DiscoveryFile(std::string path) : path_(std::move(path)) {}
  // Replaces the file (a temporary file renamed over it, so Prometheus never reads half of it).
  // An empty path writes nothing. The error names the file.
  absl::Status Write(const std::vector<proto::NodeInfo>& nodes);
  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  absl::Mutex mu_;  // one writer at a time
};

}  // namespace moray::gcs
