// GcsAccessor: the raylet's own narrow view of the GCS — only the calls a raylet makes. The real
// implementation (GcsClientAccessor) adapts moray::gcs::GcsClient; FakeGcsAccessor records calls
// for tests, so the whole raylet runs in one test binary without a GCS.
//
// Every method blocks (a network round trip). The raylet calls them only from its GCS thread
// (gcs_thread.h), never from its event loop.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common.pb.h"
#include "common/id.h"
#include "gcs.pb.h"
#include "runtime_env/package_store.h"

namespace moray::raylet {

class GcsAccessor {
 public:
  virtual ~GcsAccessor() = default;

  [[nodiscard]] virtual absl::Status RegisterNode(const proto::NodeInfo& node) = 0;
  [[nodiscard]] virtual absl::Status UnregisterNode(const NodeId& node_id,
                                                    const std::string& reason) = 0;
  // Returns the cluster view (every node and its latest report) as of this report.
  [[nodiscard]] virtual absl::StatusOr<proto::GetClusterStatusReply> ReportResources(
      const proto::NodeResourceReport& report) = 0;
  // Registers a job; the GCS assigns and returns its id (kJobIdSize bytes).
  [[nodiscard]] virtual absl::StatusOr<JobId> AddJob(const proto::JobInfo& job) = 0;
  [[nodiscard]] virtual absl::Status MarkJobFinished(const JobId& job_id) = 0;
  [[nodiscard]] virtual absl::Status AddTaskEvents(std::vector<proto::TaskEvent> events,
                                                   int64_t dropped) = 0;
  // Object snapshots of this node's core workers (each replaces the worker's previous one), then
  // the workers whose snapshots are to be dropped.
  [[nodiscard]] virtual absl::Status ReportObjects(
      const std::vector<proto::WorkerObjects>& snapshots,
      const std::vector<WorkerId>& dead_worker_ids) = 0;
  // The package store in the GCS KV, for the code agent's thread (unlike the rest, safe from any
  // thread). Null: none (tests without a GCS).
  virtual runtime_env::KvAccess* PackageStore() { return nullptr; }
  // The GCS's cluster-wide metrics as Prometheus text, for the head's /metrics. Unlike the rest,
  // safe from any thread (the metrics server's). Unimplemented: none (tests without a GCS).
  virtual absl::StatusOr<std::string> GetClusterMetrics() {
    return absl::UnimplementedError("no GCS metrics here");
  }
};

}  // namespace moray::raylet
