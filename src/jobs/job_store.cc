#include "jobs/job_store.h"

#include "gcs/gcs_client.h"

namespace moray::jobs {

absl::StatusOr<bool> GcsJobStore::Add(const JobRecord& job) {
  return client_->KvPut(kJobNamespace, job.submission_id, ToJson(job).dump(),
                        /*overwrite=*/false);
}

absl::Status GcsJobStore::Put(const JobRecord& job) {
  return client_->KvPut(kJobNamespace, job.submission_id, ToJson(job).dump(), /*overwrite=*/true)
      .status();
}

absl::StatusOr<std::optional<JobRecord>> GcsJobStore::Get(const std::string& submission_id) {
  auto value = client_->KvGet(kJobNamespace, submission_id);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::nullopt;
  auto json = nlohmann::json::parse(**value, nullptr, /*allow_exceptions=*/false);
  auto job = JobFromJson(json);
  if (!job.ok()) return job.status();
  return std::optional<JobRecord>(*std::move(job));
}

absl::StatusOr<std::vector<JobRecord>> GcsJobStore::List() {
  auto keys = client_->KvKeys(kJobNamespace, "");
  if (!keys.ok()) return keys.status();
  std::vector<JobRecord> jobs;
  for (const std::string& key : *keys) {
    auto job = Get(key);
    if (job.ok() && job->has_value()) jobs.push_back(**job);
  }
  return jobs;
}

absl::Status GcsJobStore::Delete(const std::string& submission_id) {
  return client_->KvDel(kJobNamespace, submission_id, /*by_prefix=*/false).status();
}

absl::StatusOr<bool> MemoryJobStore::Add(const JobRecord& job) {
  std::lock_guard<std::mutex> lock(mutex_);
  return jobs_.emplace(job.submission_id, job).second;
}

absl::Status MemoryJobStore::Put(const JobRecord& job) {
  std::lock_guard<std::mutex> lock(mutex_);
  jobs_[job.submission_id] = job;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<JobRecord>> MemoryJobStore::Get(const std::string& submission_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = jobs_.find(submission_id);
  if (it == jobs_.end()) return std::nullopt;
  return std::optional<JobRecord>(it->second);
}

absl::StatusOr<std::vector<JobRecord>> MemoryJobStore::List() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<JobRecord> jobs;
  for (const auto& [id, job] : jobs_) jobs.push_back(job);
  return jobs;
}

absl::Status MemoryJobStore::Delete(const std::string& submission_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  jobs_.erase(submission_id);
  return absl::OkStatus();
}

}  // namespace moray::jobs
