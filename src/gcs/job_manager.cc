#include "gcs/job_manager.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/id.h"
#include "spdlog/spdlog.h"

namespace moray::gcs {
namespace {

constexpr std::string_view kJobCounterKey = "job_counter";

}  // namespace

absl::StatusOr<JobId> JobManager::AddJob(proto::JobInfo job) {
  absl::MutexLock lock(&mu_);
  auto stored = storage_->Get(Table::kMeta, kJobCounterKey);
  if (!stored.ok()) return stored.status();
  uint32_t last = 0;
  if (stored->has_value() && !absl::SimpleAtoi(**stored, &last)) {
    return absl::InternalError(absl::StrCat("corrupt job counter in storage: '", **stored, "'"));
  }
  const uint32_t next = last + 1;
  auto put = storage_->Put(Table::kMeta, kJobCounterKey, absl::StrCat(next), /*overwrite=*/true);
  if (!put.ok()) return put.status();

  const JobId job_id = JobIdFromInt(next);
  job.set_job_id(job_id.Binary());
  job.set_is_dead(false);
  if (job.start_time_ms() == 0) job.set_start_time_ms(absl::ToUnixMillis(absl::Now()));
  put = storage_->Put(Table::kJobs, job_id.Binary(), job.SerializeAsString(), /*overwrite=*/true);
  if (!put.ok()) return put.status();
  spdlog::info("job {} added (driver pid {}, {})", job_id.Hex(), job.driver_pid(),
               job.driver_binary());
  return job_id;
}

absl::Status JobManager::MarkJobFinished(const JobId& job_id) {
  absl::MutexLock lock(&mu_);
  auto stored = storage_->Get(Table::kJobs, job_id.Binary());
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) {
    return absl::NotFoundError(absl::StrCat("no job with id ", job_id.Hex()));
  }
  proto::JobInfo job;
  if (!job.ParseFromString(**stored)) {
    return absl::InternalError(absl::StrCat("corrupt job record ", job_id.Hex()));
  }
  if (job.is_dead()) return absl::OkStatus();
  job.set_is_dead(true);
  job.set_end_time_ms(absl::ToUnixMillis(absl::Now()));
  auto put =
      storage_->Put(Table::kJobs, job_id.Binary(), job.SerializeAsString(), /*overwrite=*/true);
  if (!put.ok()) return put.status();
  spdlog::info("job {} finished", job_id.Hex());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<proto::JobInfo>> JobManager::GetAllJobs() {
  auto entries = storage_->Scan(Table::kJobs, "");
  if (!entries.ok()) return entries.status();
  std::vector<proto::JobInfo> jobs;
  jobs.reserve(entries->size());
  for (const auto& [key, value] : *entries) {
    proto::JobInfo job;
    if (!job.ParseFromString(value)) {
      return absl::InternalError(absl::StrCat("corrupt job record ", ToHex(key)));
    }
    jobs.push_back(std::move(job));
  }
  // Storage orders by the id bytes (little-endian); users expect 1, 2, ..., 10.
  std::sort(jobs.begin(), jobs.end(), [](const proto::JobInfo& a, const proto::JobInfo& b) {
    return JobIdToInt(JobId::FromBinary(a.job_id())) < JobIdToInt(JobId::FromBinary(b.job_id()));
  });
  return jobs;
}

}  // namespace moray::gcs
