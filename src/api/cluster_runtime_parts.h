// What the cluster runtime's two halves share (src/api internal): cluster_runtime.cc holds the
// RayRuntime over the core worker; cluster_connect.cc connects a process to a cluster — a driver
// (starting a private cluster if needed) or a worker — and makes that runtime.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "api/code_upload.h"
#include "api/runtime_env_resolver.h"
#include "api/task_cancel.h"
#include "common/head_launcher.h"
#include "core_worker/core_worker.h"
#include "ray/api/ray_runtime.h"

namespace moray::api {

// Defaults a process applies to the actors it creates.
struct ActorDefaults {
  std::string ray_namespace;  // the job's
  bool detached = false;      // RayConfig::default_actor_lifetime
};

// What a cluster runtime owns.
struct ClusterRuntimeParts {
  std::unique_ptr<core::CoreWorker> worker;
  std::optional<StartedHead> embedded;  // the private cluster this driver started, if any
  ActorDefaults defaults;
  std::unique_ptr<RuntimeEnvResolver> envs;  // this process's base env
  // Workers: the tasks cancelled while they ran (task_cancel.h); null in a driver.
  std::shared_ptr<CancelledTasks> cancelled;
  // Drivers: the background upload of their code, stopped before the cluster at shutdown.
  std::unique_ptr<CodeUpload> code_upload;
};

std::unique_ptr<ray::internal::RayRuntime> MakeClusterRuntime(ClusterRuntimeParts parts);

// Stops a private cluster this process started: forgets it as the current one, then stops its
// raylet and GCS (SIGTERM, SIGKILL after `grace`).
void StopEmbeddedCluster(const StartedHead& head, absl::Duration grace);

// The environment variable `name`, or `fallback` when unset.
std::string EnvOr(const char* name, const std::string& fallback = "");

}  // namespace moray::api
