#include "gcs/object_snapshot_store.h"

#include <algorithm>
#include <vector>

#include "gcs/object_columns.h"

namespace moray::gcs {

void ObjectSnapshotStore::Report(const proto::ReportObjectsRequest& request) {
  absl::MutexLock lock(&mu_);
  for (const auto& snapshot : request.snapshots()) {
    const WorkerId worker_id = WorkerId::FromBinary(snapshot.worker_id());
    if (worker_id.IsNil() || finished_jobs_.contains(JobId::FromBinary(snapshot.job_id())))
      continue;
    auto [it, inserted] = workers_.try_emplace(worker_id);
    if (inserted) {
      it->second.seq = next_seq_++;
      by_seq_.emplace(it->second.seq, worker_id);
    }
    it->second.snapshot = snapshot;
  }
  for (const auto& worker_id : request.dead_worker_ids())
    EraseLocked(WorkerId::FromBinary(worker_id));
}

void ObjectSnapshotStore::EraseLocked(const WorkerId& worker_id) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return;
  by_seq_.erase(it->second.seq);
  workers_.erase(it);
}

void ObjectSnapshotStore::DropWorker(const WorkerId& worker_id) {
  absl::MutexLock lock(&mu_);
  EraseLocked(worker_id);
}

void ObjectSnapshotStore::DropJob(const JobId& job_id) {
  absl::MutexLock lock(&mu_);
  finished_jobs_.insert(job_id);
  std::vector<WorkerId> doomed;
  for (const auto& [worker_id, entry] : workers_) {
    if (JobId::FromBinary(entry.snapshot.job_id()) == job_id) doomed.push_back(worker_id);
  }
  for (const auto& worker_id : doomed) EraseLocked(worker_id);
}

void ObjectSnapshotStore::DropNode(const NodeId& node_id) {
  absl::MutexLock lock(&mu_);
  std::vector<WorkerId> doomed;
  for (const auto& [worker_id, entry] : workers_) {
    if (NodeId::FromBinary(entry.snapshot.node_id()) == node_id) doomed.push_back(worker_id);
  }
  for (const auto& worker_id : doomed) EraseLocked(worker_id);
}

absl::StatusOr<proto::GetObjectsReply> ObjectSnapshotStore::GetObjects(
    const proto::GetObjectsRequest& request) const {
  std::vector<ObjectFilter> filters;
  filters.reserve(request.filters_size());
  for (const auto& f : request.filters()) {
    auto filter = ObjectFilter::Create(f);
    if (!filter.ok()) return filter.status();
    filters.push_back(*std::move(filter));
  }
  const int64_t limit = request.limit();
  proto::GetObjectsReply reply;
  int64_t total = 0;
  int64_t dropped = 0;
  absl::MutexLock lock(&mu_);
  for (const auto& [seq, worker_id] : by_seq_) {
    const proto::WorkerObjects& w = workers_.at(worker_id).snapshot;
    dropped += w.num_truncated();
    for (const auto& object : w.objects()) {
      // The process fields, as every row shows them.
      proto::ObjectRecord record = object;
      record.set_worker_id(w.worker_id());
      record.set_node_id(w.node_id());
      record.set_job_id(w.job_id());
      record.set_pid(w.pid());
      record.set_ip(w.ip());
      record.set_type(w.is_driver() ? "DRIVER" : "WORKER");
      bool match = std::all_of(filters.begin(), filters.end(),
                               [&](const ObjectFilter& f) { return f.Matches(record); });
      if (!match) continue;
      ++total;
      if (limit <= 0 || reply.objects_size() < limit) *reply.add_objects() = std::move(record);
    }
  }
  reply.set_total(total);
  reply.set_num_truncated(total - reply.objects_size());
  reply.set_num_dropped(dropped);
  return reply;
}

size_t ObjectSnapshotStore::num_workers() const {
  absl::MutexLock lock(&mu_);
  return workers_.size();
}

}  // namespace moray::gcs
