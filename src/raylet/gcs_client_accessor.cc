#include "raylet/gcs_client_accessor.h"

namespace moray::raylet {

absl::Status GcsClientAccessor::RegisterNode(const proto::NodeInfo& node) {
  return client_->RegisterNode(node);
}

absl::Status GcsClientAccessor::UnregisterNode(const NodeId& node_id, const std::string& reason) {
  return client_->UnregisterNode(node_id, reason);
}

absl::StatusOr<proto::GetClusterStatusReply> GcsClientAccessor::ReportResources(
    const proto::NodeResourceReport& report) {
  proto::GetClusterStatusReply cluster;
  if (auto s = client_->ReportResources(report, &cluster); !s.ok()) return s;
  return cluster;
}

absl::StatusOr<JobId> GcsClientAccessor::AddJob(const proto::JobInfo& job) {
  return client_->AddJob(job);
}

absl::Status GcsClientAccessor::MarkJobFinished(const JobId& job_id) {
  return client_->MarkJobFinished(job_id);
}

absl::Status GcsClientAccessor::AddTaskEvents(std::vector<proto::TaskEvent> events,
                                              int64_t dropped) {
  return client_->ReportTaskEvents(std::move(events), dropped);
}

absl::Status GcsClientAccessor::ReportObjects(const std::vector<proto::WorkerObjects>& snapshots,
                                              const std::vector<WorkerId>& dead_worker_ids) {
  return client_->ReportObjects(snapshots, dead_worker_ids);
}

}  // namespace moray::raylet
