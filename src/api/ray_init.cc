// ray::Init / IsInitialized / Shutdown: pick the runtime (local mode or cluster) and install it in
// the runtime slot.
#include <cstdlib>
#include <memory>
#include <mutex>

#include "api/cluster_runtime.h"
#include "api/config_flags.h"
#include "api/local_mode_runtime.h"
#include "api/runtime_slot.h"
#include "api/task_pool.h"
#include "ray/api.h"

// TEMPORARY: weak until src/api/cluster_runtime.cc (owned by the core-worker engineer) lands, so
// that libmoray and the API tests link without it. Remove this redeclaration then.
namespace moray::api {
__attribute__((weak)) std::unique_ptr<ray::internal::RayRuntime> CreateClusterRuntime(
    const ray::RayConfig& config);
}  // namespace moray::api

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
  std::lock_guard<std::mutex> lock(InitMutex());
  if (internal::GetRuntimeOrNull() != nullptr) return;
  RayConfig effective = config;
  moray::api::ApplyCommandLineFlags(argc, argv, effective);
  if (effective.address.empty()) {
    if (const char* address = std::getenv("RAY_ADDRESS")) effective.address = address;
  }
  std::unique_ptr<internal::RayRuntime> runtime;
  if (effective.local_mode) {
    runtime = std::make_unique<moray::api::LocalModeRuntime>(moray::api::LocalModeRuntime::Options{});
  } else {
    if (&moray::api::CreateClusterRuntime == nullptr) {
      throw RayException("Cluster mode is not available in this build; set RayConfig::local_mode");
    }
    runtime = moray::api::CreateClusterRuntime(effective);
  }
  moray::api::InstallRuntime(std::move(runtime));
}

bool IsInitialized() { return internal::GetRuntimeOrNull() != nullptr; }

void Shutdown() {
  if (moray::api::TaskPool::OnPoolThread()) {
    throw RayException("ray::Shutdown cannot be called from inside a task");
  }
  std::lock_guard<std::mutex> lock(InitMutex());
  // Destroyed here, after the slot is empty: ObjectRefs released from now on are no-ops.
  std::unique_ptr<internal::RayRuntime> runtime = moray::api::UninstallRuntime();
}

}  // namespace ray
