// GcsClientAccessor: the GcsAccessor of a real raylet, over moray::gcs::GcsClient (blocking calls on
// the framed channel). Thread model: as GcsClient — thread-safe, blocking; the raylet calls it from
// its GCS thread.
#pragma once

#include <memory>

#include "common/id.h"
#include "gcs/gcs_client.h"
#include "raylet/gcs_accessor.h"

namespace moray::raylet {

class GcsClientAccessor : public GcsAccessor {
 public:
  explicit GcsClientAccessor(std::unique_ptr<gcs::GcsClient> client)
      : client_(std::move(client)), kv_(client_.get()) {}

  absl::Status RegisterNode(const proto::NodeInfo& node) override;
  absl::Status UnregisterNode(const NodeId& node_id, const std::string& reason) override;
  absl::StatusOr<proto::GetClusterStatusReply> ReportResources(
      const proto::NodeResourceReport& report) override;
  absl::StatusOr<JobId> AddJob(const proto::JobInfo& job) override;
  absl::Status MarkJobFinished(const JobId& job_id) override;
  absl::Status AddTaskEvents(std::vector<proto::TaskEvent> events, int64_t dropped) override;
  absl::Status ReportObjects(const std::vector<proto::WorkerObjects>& snapshots,
                             const std::vector<WorkerId>& dead_worker_ids) override;
  runtime_env::KvAccess* PackageStore() override { return &kv_; }
  absl::StatusOr<std::string> GetClusterMetrics() override { return client_->GetClusterMetrics(); }

 private:
  std::unique_ptr<gcs::GcsClient> client_;
  runtime_env::GcsKvAccess kv_;  // over client_
};

}  // namespace moray::raylet
