// A job's working_dir on the head node: the package its runtime env names (pkg://<sha256>),
// fetched from the GCS package store and unpacked once under a cache directory
// (<session>/runtime_resources/pkg/<hash>), where the job's entrypoint then runs.
//
//   absl::StatusOr<std::string> dir = FetchWorkingDir(gcs, "pkg://ab12...", cache_root);
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace moray::gcs {
class GcsClient;
}

namespace moray::jobs {

// The directory holding the package's files; reused if already unpacked. InvalidArgument for a
// URI that is not pkg://<hash>; the package store's errors (NotFound: never uploaded).
absl::StatusOr<std::string> FetchWorkingDir(gcs::GcsClient& gcs, const std::string& uri,
                                            const std::string& cache_root);

}  // namespace moray::jobs
