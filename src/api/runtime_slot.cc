#include "api/runtime_slot.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "ray/api/ray_exception.h"

namespace moray::api {
namespace {

std::mutex& SlotMutex() {
  static std::mutex* mu = new std::mutex();
  return *mu;
}
std::atomic<ray::internal::RayRuntime*> g_runtime{nullptr};  // owned; released by Uninstall

}  // namespace

void InstallRuntime(std::unique_ptr<ray::internal::RayRuntime> runtime) {
  std::lock_guard<std::mutex> lock(SlotMutex());
  if (g_runtime.load() != nullptr) {
    std::fprintf(stderr, "moray: InstallRuntime called while a runtime is installed\n");
    std::abort();
  }
  g_runtime.store(runtime.release());
}

std::unique_ptr<ray::internal::RayRuntime> UninstallRuntime() {
  std::lock_guard<std::mutex> lock(SlotMutex());
  return std::unique_ptr<ray::internal::RayRuntime>(g_runtime.exchange(nullptr));
}

}  // namespace moray::api

namespace ray::internal {

RayRuntime* GetRuntimeOrNull() { return moray::api::g_runtime.load(std::memory_order_acquire); }

RayRuntime& GetRuntime() {
  RayRuntime* runtime = GetRuntimeOrNull();
  if (runtime == nullptr) {
    throw RayException("Ray has not been initialized. Call ray::Init() first.");
  }
  return *runtime;
}

}  // namespace ray::internal
