// ray::Init / IsInitialized / Shutdown: pick the runtime (local mode or cluster) and install it in
// the runtime slot.
#include <cstdlib>
#include <memory>
#include <mutex>
#include <utility>

#include "api/cluster_runtime.h"
#include "api/config_flags.h"
#include "api/local_mode_runtime.h"
#include "api/runtime_slot.h"
#include "api/task_pool.h"
#include "ray/api.h"

namespace ray {
namespace {

// Serializes Init and Shutdown.
std::mutex& InitMutex() {
  static std::mutex* mu = new std::mutex();
  return *mu;
}

}  // namespace

void Init() {
  RayConfig config;
  Init(config, 0, nullptr);
}

void Init(RayConfig& config) { Init(config, 0, nullptr); }

void Init(RayConfig& config, int argc, char** argv) {
  // Checked before locking too: in a worker process the main thread stays inside Init (running
  // the task loop) while holding the lock, and tasks may call Init.
  if (internal::GetRuntimeOrNull() != nullptr) return;
  std::lock_guard<std::mutex> lock(InitMutex());
  if (internal::GetRuntimeOrNull() != nullptr) return;
  RayConfig effective = config;
  moray::api::ApplyCommandLineFlags(argc, argv, effective);
  if (effective.address.empty()) {
    if (const char* address = std::getenv("RAY_ADDRESS")) effective.address = address;
  }
  std::unique_ptr<internal::RayRuntime> runtime;
  if (effective.local_mode) {
    if (effective.runtime_env)
      moray::api::CheckLocalModeRuntimeEnv(effective.runtime_env->Serialize());
    moray::api::LocalModeRuntime::Options options;
    options.ray_namespace = effective.ray_namespace;
    runtime = std::make_unique<moray::api::LocalModeRuntime>(std::move(options));
  } else {
    runtime = moray::api::CreateClusterRuntime(effective);  // never returns in worker processes
  }
  moray::api::InstallRuntime(std::move(runtime));
}

bool IsInitialized() { return internal::GetRuntimeOrNull() != nullptr; }

void Shutdown() {
  if (moray::api::TaskPool::OnPoolThread()) {
    throw RayException("ray::Shutdown cannot be called from inside a task");
  }
  std::unique_lock<std::mutex> lock(InitMutex(), std::try_to_lock);
  if (!lock.owns_lock()) {
    // Init is running: on another thread of a driver (a race in the program), or this is a worker
    // process, whose main thread runs tasks inside Init and owns the runtime.
    throw RayException("ray::Shutdown cannot run while ray::Init is running (or inside a worker)");
  }
  // Destroyed here, after the slot is empty: ObjectRefs released from now on are no-ops.
  std::unique_ptr<internal::RayRuntime> runtime = moray::api::UninstallRuntime();
}

}  // namespace ray
