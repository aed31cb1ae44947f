// PackageFetcher: how the raylet's RuntimeEnvAgent gets a working_dir package onto the node —
// from the GCS's package store (src/runtime_env/package_store.h) over a GCS connection of its
// own (so a large download never holds up the raylet's GCS thread), waiting for a package whose
// upload has not finished (no meta yet) until the caller cancels.
//
//   RayletOptions options;
//   options.fetch_package = MakePackageFetcher(gcs_address);
//
// Thread model: the returned function is called on the agent's preparation threads, possibly
// several at once; the connection is shared under a mutex-free GcsClient (thread-safe).
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"

namespace moray::raylet {

using FetchPackageFn = std::function<absl::Status(
    const std::string& uri, const std::string& dest_dir, const std::function<bool()>& cancelled)>;

FetchPackageFn MakePackageFetcher(std::string gcs_address);

}  // namespace moray::raylet
