// The CLI's side of a job's working_dir: a local directory (or .zip / .tar.gz file) packed and
// uploaded to the cluster's package store, so the job's runtime env can name it as
// pkg://<sha256> and the dashboard unpack it on the head node.
//
//   env["working_dir"] = *UploadWorkingDir(gcs, jobs, env);   // "pkg://ab12..."
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace moray::gcs {
class GcsClient;
}

namespace moray::jobs {

class JobClient;

// Packs env["working_dir"] (with env["excludes"]) and uploads it: into the GCS KV through `gcs`
// when the CLI reached the cluster by its GCS address (referenced by `pending_owner`, a
// runtime_env::NewPendingRefOwner() the caller drops with DropPendingRef once the job is
// submitted: the job supervisor then holds the submission's own ref), else through the
// dashboard (`jobs`). Returns the package URI. The packer's errors (NotFound, over the size
// limit, ...).
absl::StatusOr<std::string> UploadWorkingDir(gcs::GcsClient* gcs, JobClient& jobs,
                                             const nlohmann::json& env,
                                             const std::string& pending_owner);
// Drops the ref UploadWorkingDir recorded for `uri` (nothing for the dashboard path).
absl::Status DropPendingRef(gcs::GcsClient* gcs, const std::string& uri,
                            const std::string& pending_owner);

}  // namespace moray::jobs
