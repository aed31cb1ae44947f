// Where job records live: the GCS KV, namespace "job_submissions", one JSON object per
// submission id, so they outlive the dashboard that wrote them. An interface, so the supervisor
// can be tested against MemoryJobStore.
//
//   GcsJobStore store(gcs_client);                 // borrows the client
//   absl::StatusOr<bool> added = store.Add(job);   // false: the id is taken
//   store.Put(job);                                // later states
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "jobs/job_record.h"

namespace moray::gcs {
class GcsClient;
}

namespace moray::jobs {

inline constexpr char kJobNamespace[] = "job_submissions";

// Thread-safe implementations.
class JobStore {
 public:
  virtual ~JobStore() = default;
  // Stores a new record; false (and nothing written) if its submission id is already taken.
  virtual absl::StatusOr<bool> Add(const JobRecord& job) = 0;
  // Replaces the record of job.submission_id.
  virtual absl::Status Put(const JobRecord& job) = 0;
  // nullopt when there is no such record.
  virtual absl::StatusOr<std::optional<JobRecord>> Get(const std::string& submission_id) = 0;
  // Every record, by submission id (records that do not parse are skipped).
  virtual absl::StatusOr<std::vector<JobRecord>> List() = 0;
  virtual absl::Status Delete(const std::string& submission_id) = 0;
};

// Over the GCS KV; `client` must outlive the store.
class GcsJobStore : public JobStore {
 public:
  explicit GcsJobStore(gcs::GcsClient* client) : client_(client) {}
  absl::StatusOr<bool> Add(const JobRecord& job) override;
  absl::Status Put(const JobRecord& job) override;
  absl::StatusOr<std::optional<JobRecord>> Get(const std::string& submission_id) override;
  absl::StatusOr<std::vector<JobRecord>> List() override;
  absl::Status Delete(const std::string& submission_id) override;

 private:
  gcs::GcsClient* client_;
};

// In memory, for tests.
class MemoryJobStore : public JobStore {
 public:
  absl::StatusOr<bool> Add(const JobRecord& job) override;
  absl::Status Put(const JobRecord& job) override;
  absl::StatusOr<std::optional<JobRecord>> Get(const std::string& submission_id) override;
  absl::StatusOr<std::vector<JobRecord>> List() override;
  absl::Status Delete(const std::string& submission_id) override;

 private:
  std::mutex mutex_;
  std::map<std::string, JobRecord> jobs_;
};

}  // namespace moray::jobs
