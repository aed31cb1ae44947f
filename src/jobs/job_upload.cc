#include "jobs/job_upload.h"

namespace moray::jobs {

absl::StatusOr<std::string> UploadWorkingDir(gcs::GcsClient*, JobClient&, const nlohmann::json&) {
  return absl::UnimplementedError("uploading a working_dir is not supported by this build yet");
}

}  // namespace moray::jobs
