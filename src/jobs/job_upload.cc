#include "jobs/job_upload.h"

#include "jobs/job_client.h"
#include "runtime_env/package.h"
#include "runtime_env/package_store.h"

namespace moray::jobs {

absl::StatusOr<std::string> UploadWorkingDir(gcs::GcsClient* gcs, JobClient& jobs,
                                             const nlohmann::json& env) {
  std::vector<std::string> excludes;
  if (env.contains("excludes")) excludes = env["excludes"].get<std::vector<std::string>>();
  auto package = runtime_env::PackWorkingDir(env["working_dir"].get<std::string>(), excludes,
                                             runtime_env::DefaultMaxPackageBytes());
  if (!package.ok()) return package.status();
  if (gcs != nullptr) {
    runtime_env::GcsKvAccess kv(gcs);
    // No Ray job exists yet: the ref is the submitter's (nil job), which no job's end drops, so
    // the package stays while the job (and its driver, which adds its own ref) needs it.
    if (auto uploaded = runtime_env::UploadPackage(kv, *package, JobId()); !uploaded.ok()) {
      return uploaded;
    }
  } else if (auto uploaded = jobs.UploadPackage(package->hash, package->bytes); !uploaded.ok()) {
    return uploaded;
  }
  return runtime_env::PackageUri(package->hash);
}

}  // namespace moray::jobs
