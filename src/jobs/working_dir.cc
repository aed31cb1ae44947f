#include "jobs/working_dir.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "jobs/job_runtime_env.h"

namespace moray::jobs {

absl::StatusOr<std::string> FetchWorkingDir(gcs::GcsClient&, const std::string& uri,
                                            const std::string&) {
  if (!absl::StartsWith(uri, kPackageScheme)) {
    return absl::InvalidArgumentError(absl::StrCat("'", uri, "' is not a pkg:// URI"));
  }
  return absl::UnimplementedError("packages are not supported by this build yet");
}

}  // namespace moray::jobs
