// The cluster runtime: RayRuntime over the core worker, for drivers and workers of a real cluster.
// ray::Init (src/api/ray_init.cc) calls CreateClusterRuntime; the `moray worker` command calls
// RunWorkerProcess.
#pragma once

#include <memory>

#include "ray/api/ray_config.h"
#include "ray/api/ray_runtime.h"

namespace moray::core {
class CoreWorker;
}  // namespace moray::core

namespace moray::api {

// Connects this process to the cluster `config` names (starting a private one if needed) and
// returns its runtime. Throws RayException with a clear message when that fails. In worker
// processes (started by a raylet, MORAY_WORKER_MODE=1) it runs tasks until the raylet goes away
// and exits the process: it never returns.
std::unique_ptr<ray::internal::RayRuntime> CreateClusterRuntime(const ray::RayConfig& config);

// The core worker under `runtime` if it is the cluster runtime (nullptr in local mode): for code
// inside Moray that needs the core's own API (tests of several returns per task, say).
core::CoreWorker* CoreWorkerOf(ray::internal::RayRuntime& runtime);

// True in a process a raylet started as a worker.
bool IsWorkerProcess();

// Worker processes: connect to the raylet from the environment, run tasks, exit. Never returns.
[[noreturn]] void RunWorkerProcess();

}  // namespace moray::api
