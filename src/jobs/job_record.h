// A submitted job as the dashboard keeps it and Ray's Jobs REST API shows it (JobDetails): its
// status, entrypoint, times and outcome, as one JSON object per job in the GCS KV (namespace
// "job_submissions", key = submission id).
//
//   JobRecord job{.submission_id = NewSubmissionId(), .entrypoint = "echo hi"};
//   std::string text = ToJson(job).dump();          // what the KV and GET /api/jobs/<id> hold
//   absl::StatusOr<JobRecord> back = JobFromJson(nlohmann::json::parse(text));
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace moray::jobs {

// Ray's job states. PENDING until the entrypoint runs; then RUNNING; then one of the terminal
// three.
enum class JobStatus { kPending, kRunning, kSucceeded, kFailed, kStopped };

std::string_view JobStatusName(JobStatus status);  // "PENDING", ...
std::optional<JobStatus> ParseJobStatus(std::string_view name);
bool IsTerminal(JobStatus status);

struct JobRecord {
  std::string submission_id;
  JobStatus status = JobStatus::kPending;
  std::string entrypoint;
  std::string message;
  std::string error_type;     // Ray's names: JOB_ENTRYPOINT_COMMAND_ERROR, ...; empty: none
  int64_t start_time_ms = 0;  // submission time (Unix ms)
  int64_t end_time_ms = 0;    // 0 until terminal
  nlohmann::json metadata = nlohmann::json::object();     // string -> string
  nlohmann::json runtime_env = nlohmann::json::object();  // as the entrypoint gets it
  std::optional<int> driver_exit_code;  // the entrypoint's exit code; -N: killed by signal N
  double entrypoint_num_cpus = 0;       // recorded, not reserved
};

// Ray's JobDetails shape: type SUBMISSION, submission_id, status, entrypoint, message,
// error_type, start_time, end_time (ms; null while not ended), metadata, runtime_env,
// driver_exit_code, entrypoint_num_cpus, and Ray's fields Moray does not fill as null.
nlohmann::ordered_json ToJson(const JobRecord& job);
// InvalidArgument when a field is missing or of the wrong type.
absl::StatusOr<JobRecord> JobFromJson(const nlohmann::json& json);

// "raysubmit_" + 16 random letters and digits (Ray's form).
std::string NewSubmissionId();
// A submission id names a log file: 1-128 of [A-Za-z0-9_.-], not starting with '.'.
// InvalidArgument saying so otherwise.
absl::Status CheckSubmissionId(std::string_view id);

}  // namespace moray::jobs
