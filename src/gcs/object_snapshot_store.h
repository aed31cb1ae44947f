// Object snapshots behind `moray list objects` / `moray summary objects`: the latest full
// snapshot of each core worker's objects (owned and borrowed), as its raylet forwarded it.
//
// A report replaces the worker's previous snapshot. A snapshot goes when its worker dies or
// disconnects (the raylet says so), when its job finishes, or when its node leaves. Reports for a
// finished job are ignored (a late snapshot must not resurrect the job's objects). Memory is
// bounded by the workers' own bound on snapshot size (their num_truncated counts what they left
// out, reported back as num_dropped).
//
//   ObjectSnapshotStore store;
//   store.Report(request);                        // snapshots, then dead workers
//   auto reply = store.GetObjects(get_request);   // filtered, then limited
//
// Thread model: thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/id.h"
#include "gcs.pb.h"

namespace moray::gcs {

class ObjectSnapshotStore {
 public:
  // Replaces the snapshot of each reporting worker, then drops those of the dead workers.
  void Report(const proto::ReportObjectsRequest& request);
  void DropWorker(const WorkerId& worker_id);
  // Drops the job's snapshots and ignores its later reports.
  void DropJob(const JobId& job_id);
  void DropNode(const NodeId& node_id);

  // Objects matching every filter — workers in the order they first reported, each worker's
  // objects in its snapshot's order — at most request.limit() of them (<= 0: all). total counts
  // every match; num_truncated the matches left out by the limit. InvalidArgument for an unknown
  // filter key or operator.
  absl::StatusOr<proto::GetObjectsReply> GetObjects(const proto::GetObjectsRequest& request) const;

  size_t num_workers() const;

 private:
  struct Entry {
    uint64_t seq = 0;
    proto::WorkerObjects snapshot;
  };
  void EraseLocked(const WorkerId& worker_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<WorkerId, Entry> workers_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, WorkerId> by_seq_ ABSL_GUARDED_BY(mu_);  // first report order
  absl::flat_hash_set<JobId> finished_jobs_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace moray::gcs
