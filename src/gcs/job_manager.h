// The job table. Every driver registers a job and gets its id from here: ids are assigned from a
// counter starting at 1 (moray::JobIdFromInt), kept in storage so a restarted GCS never reuses one.
//
//   JobManager jobs(&storage);
//   auto id = jobs.AddJob(info);        // -> JobIdFromInt(1), then 2, ...
//   jobs.MarkJobFinished(*id);
//
// Thread model: thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/id.h"
#include "gcs.pb.h"
#include "gcs/gcs_table_storage.h"

namespace moray::gcs {

class JobManager {
 public:
  // `storage` must outlive the manager.
  explicit JobManager(GcsTableStorage* storage) : storage_(storage) {}

  // Stores `job` under a fresh id (its job_id field is ignored) and returns the id. Fills
  // start_time_ms with now when unset.
  absl::StatusOr<JobId> AddJob(proto::JobInfo job);
  // Marks the job dead with end_time_ms now. NotFound for an unknown id; finishing a finished
  // job is a no-op (drivers may report twice when they exit during shutdown).
  absl::Status MarkJobFinished(const JobId& job_id);
  // All jobs in id order.
  absl::StatusOr<std::vector<proto::JobInfo>> GetAllJobs();

 private:
  GcsTableStorage* storage_;
  // Serializes the read-increment-write of the counter and the read-modify-write of a job.
  absl::Mutex mu_;
};

}  // namespace moray::gcs
