// The cluster runtime: RayRuntime over the core worker, for drivers and workers of a real cluster.
// ray::Init (src/api/ray_init.cc) calls CreateClusterRuntime; the `moray worker` command calls
// RunWorkerProcess.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core_worker/core_worker.h"
#include "gcs/gcs_client.h"
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

// What a driver that is not a C++ program tells the cluster about itself (the Python front end,
// docs/python.md): the interpreter and sys.path its Python workers start with. Such a driver
// ships no code of its own (C++ tasks it calls run from the job's code_search_path).
struct DriverIdentity {
  std::string python_executable;
  std::vector<std::string> python_path;
};
// As CreateClusterRuntime, for such a driver; never becomes a worker.
std::unique_ptr<ray::internal::RayRuntime> CreateDriverRuntime(const ray::RayConfig& config,
                                                               const DriverIdentity& identity);

// The installed cluster runtime's core worker and GCS client (connected on first use; throws
// RayException if unreachable); nullptr / throws without a cluster runtime.
core::CoreWorker* InstalledCoreWorker();
gcs::GcsClient& InstalledGcsClient();
// The complete runtime env of a task or actor whose own env is `env_json` (merged over this
// process's, paths packed and uploaded) into `spec`; nothing for the empty env. Throws
// RayRuntimeEnvException naming what is wrong, or RayException without a cluster runtime.
void ResolveRuntimeEnvInto(const std::string& env_json, proto::TaskSpec* spec);

// Worker processes: connect to the raylet from the environment and run each task pushed here
// with `execute` until the raylet goes away; then flush and say goodbye. Returns the process's
// exit code (2: a bad environment, 1: could not connect). Installs the runtime (so the C++ API
// works inside tasks) and leaves it installed: other threads may still be inside user code.
// A task cancelled while it runs is marked for the C++ API (task_cancel.h) and `on_cancel`, if
// set, is called on the I/O thread (it must not block): the language's own way to interrupt it.
int ServeAsWorker(const core::TaskExecutor::ExecuteFn& execute,
                  const core::TaskExecutor::CancelHook& on_cancel = nullptr);

// The core worker under `runtime` if it is the cluster runtime (nullptr in local mode): for code
// inside Moray that needs the core's own API (tests of several returns per task, say).
core::CoreWorker* CoreWorkerOf(ray::internal::RayRuntime& runtime);

// True in a process a raylet started as a worker.
bool IsWorkerProcess();

// Worker processes: connect to the raylet from the environment, run tasks, exit. Never returns.
// Worker processes: connect to the raylet from the environment, run tasks, exit. Never returns.
[[noreturn]] void RunWorkerProcess();

}  // namespace moray::api
