#include "jobs/job_upload.h"

#include "jobs/job_client.h"
#include "runtime_env/package.h"
#include "runtime_env/package_store.h"

namespace moray::jobs {

absl::StatusOr<std::string> UploadWorkingDir(gcs::GcsClient* gcs, JobClient& jobs,
                                             const nlohmann::json& env,
                                             const std::string& pending_owner) {
  std::vector<std::string> excludes;
  if (env.contains("excludes")) excludes = env["excludes"].get<std::vector<std::string>>();
  auto package = runtime_env::PackWorkingDir(env["working_dir"].get<std::string>(), excludes,
                                             runtime_env::DefaultMaxPackageBytes());
  if (!package.ok()) return package.status();
  if (gcs != nullptr) {
    runtime_env::GcsKvAccess kv(gcs);
    // No submission exists yet: the ref is this upload's own until the supervisor records the
    // submission's.
    if (auto uploaded = runtime_env::UploadPackage(kv, *package, pending_owner); !uploaded.ok()) {
      return uploaded;
    }
  } else if (auto uploaded = jobs.UploadPackage(package->hash, package->bytes); !uploaded.ok()) {
    return uploaded;
  }
  return runtime_env::PackageUri(package->hash);
}

absl::Status DropPendingRef(gcs::GcsClient* gcs, const std::string& uri,
                            const std::string& pending_owner) {
  std::optional<std::string> hash = runtime_env::HashOfUri(uri);
  if (gcs == nullptr || !hash) return absl::OkStatus();
  runtime_env::GcsKvAccess kv(gcs);
  return runtime_env::DropPackageRef(kv, *hash, pending_owner);
}

}  // namespace moray::jobs
