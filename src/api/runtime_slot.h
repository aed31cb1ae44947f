// The slot holding this process's RayRuntime: what ray::internal::GetRuntime() returns. ray::Init
// installs the local-mode or cluster runtime here; in worker processes the cluster runtime installs
// itself. Thread-safe: readers (GetRuntimeOrNull) take no lock.
#pragma once

#include <memory>

#include "ray/api/ray_runtime.h"

namespace moray::api {

// Makes `runtime` the process's runtime. A runtime must not already be installed (aborts: that
// would be a bug in Init or the worker's startup).
void InstallRuntime(std::unique_ptr<ray::internal::RayRuntime> runtime);

// Removes and returns the runtime (nullptr if none). After it returns, GetRuntimeOrNull() is null;
// callers that fetched the pointer earlier may still be using it, so the caller destroys the
// runtime only once they are done (the runtimes' destructors wait for their own threads).
std::unique_ptr<ray::internal::RayRuntime> UninstallRuntime();

}  // namespace moray::api
