// RayConfig: how ray::Init connects this program to Moray. Fill the fields you need and pass it to
// ray::Init; command-line flags (--ray_address, ...) given to Init(config, argc, argv) override them.
//
//   ray::RayConfig config;
//   config.local_mode = true;  // no cluster: tasks run on a thread pool in this process
//   ray::Init(config);
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ray/api/runtime_env.h"

namespace ray {

// Whether an actor outlives the job (driver) that created it.
enum class ActorLifetime {
  NON_DETACHED,  // destroyed when its job ends
  DETACHED,      // lives until killed or the cluster stops
};

class RayConfig {
 public:
  // Cluster to join: "ip:port", "host:port" or "auto" (the cluster `moray start` left on this
  // machine). Empty: $RAY_ADDRESS, else start a private local cluster, stopped at Shutdown.
  std::string address = "";

  // true: no cluster at all; tasks run on a thread pool in this process (for debugging).
  bool local_mode = false;

  // Shared libraries (or directories of them) holding the RAY_REMOTE functions workers run.
  // Empty: workers run this program's own executable.
  std::vector<std::string> code_search_path;

  // Extra `moray start --head` arguments used when Init starts the private local cluster.
  std::vector<std::string> head_args = {};

  // Lifetime of actors that do not set one.
  ActorLifetime default_actor_lifetime = ActorLifetime::NON_DETACHED;

  // Job-level runtime environment; none by default.
  std::optional<RuntimeEnv> runtime_env;

  // Password of the cluster's control store, if it has one.
  std::optional<std::string> redis_password_;

  // Namespace of named actors created by this job. Empty: a random one.
  std::string ray_namespace = "";

  // Moray: print the job's worker output on this driver's stdout/stderr, prefixed with
  // "(name pid=N)" and repeats folded (Ray's log_to_driver). Flag: --ray_log_to_driver=false.
  bool log_to_driver = true;
};

}  // namespace ray
