#include "jobs/job_record.h"

#include <sys/random.h>

#include <array>

#include "absl/strings/str_cat.h"

namespace moray::jobs {
namespace {

constexpr std::array<std::string_view, 5> kStatusNames = {"PENDING", "RUNNING", "SUCCEEDED",
                                                          "FAILED", "STOPPED"};

template <typename T>
absl::Status Read(const nlohmann::json& json, const char* key, T* out, bool required = true) {
  auto it = json.find(key);
  if (it == json.end() || it->is_null()) {
    return required ? absl::InvalidArgumentError(absl::StrCat("job record without '", key, "'"))
                    : absl::OkStatus();
  }
  try {
    *out = it->get<T>();
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError(absl::StrCat("job record: '", key, "' has the wrong type"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view JobStatusName(JobStatus status) {
  return kStatusNames[static_cast<size_t>(status)];
}

std::optional<JobStatus> ParseJobStatus(std::string_view name) {
  for (size_t i = 0; i < kStatusNames.size(); ++i) {
    if (kStatusNames[i] == name) return static_cast<JobStatus>(i);
  }
  return std::nullopt;
}

bool IsTerminal(JobStatus status) {
  return status == JobStatus::kSucceeded || status == JobStatus::kFailed ||
         status == JobStatus::kStopped;
}

nlohmann::ordered_json ToJson(const JobRecord& job) {
  nlohmann::ordered_json json;
  json["type"] = "SUBMISSION";
  json["job_id"] = nullptr;  // the Ray job id of the driver; not tracked
  json["submission_id"] = job.submission_id;
  json["driver_info"] = nullptr;
  json["status"] = JobStatusName(job.status);
  json["entrypoint"] = job.entrypoint;
  json["message"] = job.message;
  json["error_type"] =
      job.error_type.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(job.error_type);
  json["start_time"] = job.start_time_ms;
  json["end_time"] = job.end_time_ms > 0 ? nlohmann::ordered_json(job.end_time_ms) : nullptr;
  json["metadata"] = job.metadata;
  json["runtime_env"] = job.runtime_env;
  json["driver_agent_http_address"] = nullptr;
  json["driver_node_id"] = nullptr;
  json["driver_exit_code"] =
      job.driver_exit_code ? nlohmann::ordered_json(*job.driver_exit_code) : nullptr;
  json["entrypoint_num_cpus"] = job.entrypoint_num_cpus;
  return json;
}

absl::StatusOr<JobRecord> JobFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return absl::InvalidArgumentError("job record is not a JSON object");
  JobRecord job;
  std::string status;
  int exit_code = 0;
  bool has_exit = json.contains("driver_exit_code") && !json["driver_exit_code"].is_null();
  for (absl::Status s :
       {Read(json, "submission_id", &job.submission_id), Read(json, "status", &status),
        Read(json, "entrypoint", &job.entrypoint), Read(json, "message", &job.message, false),
        Read(json, "error_type", &job.error_type, false),
        Read(json, "start_time", &job.start_time_ms, false),
        Read(json, "end_time", &job.end_time_ms, false),
        Read(json, "metadata", &job.metadata, false),
        Read(json, "runtime_env", &job.runtime_env, false),
        Read(json, "driver_exit_code", &exit_code, false),
        Read(json, "entrypoint_num_cpus", &job.entrypoint_num_cpus, false)}) {
    if (!s.ok()) return s;
  }
  auto parsed = ParseJobStatus(status);
  if (!parsed) return absl::InvalidArgumentError(absl::StrCat("job record: bad status ", status));
  job.status = *parsed;
  if (has_exit) job.driver_exit_code = exit_code;
  return job;
}

std::string NewSubmissionId() {
  static constexpr std::string_view kAlphabet =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::array<unsigned char, 16> random{};
  size_t got = 0;
  while (got < random.size()) {
    ssize_t n = getrandom(random.data() + got, random.size() - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  std::string id = "raysubmit_";
  // 62 letters: the slight bias of % does not matter for an identifier.
  for (unsigned char byte : random) id += kAlphabet[byte % kAlphabet.size()];
  return id;
}

absl::Status CheckSubmissionId(std::string_view id) {
  bool ok = !id.empty() && id.size() <= 128 && id[0] != '.';
  for (char c : id) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "submission id '", std::string(id),
      "' is not allowed: use 1 to 128 letters, digits, '_', '-' or '.', not starting with '.'"));
}

}  // namespace moray::jobs
