// The CLI's side of a job's working_dir: a local directory (or .zip / .tar.gz file) packed and
// uploaded to the cluster's package store, so the job's runtime env can name it as
// pkg://<sha256> and the dashboard unpack it on the head node.
//
//   env["working_dir"] = *UploadWorkingDir(gcs, jobs, env);   // "pkg://ab12..."
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace moray::gcs {
class GcsClient;
}

namespace moray::jobs {

class JobClient;

// Packs env["working_dir"] (with env["excludes"]) and uploads it: into the GCS KV through `gcs`
// when the CLI reached the cluster by its GCS address, else through the dashboard (`jobs`).
// Returns the package URI. The packer's errors (NotFound, over the size limit, ...).
absl::StatusOr<std::string> UploadWorkingDir(gcs::GcsClient* gcs, JobClient& jobs,
                                             const nlohmann::json& env);

}  // namespace moray::jobs
