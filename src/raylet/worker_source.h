// WorkerSource: what the lease manager needs from the worker pool — idle workers of a job, new
// ones started on demand, and a way to hand them back. WorkerPool implements it; lease manager
// tests use a fake.
//
// Thread model: the raylet's event loop thread only.
#pragma once

#include <optional>
#include <string>

#include "common.pb.h"
#include "common/id.h"

namespace moray::raylet {

// Why a worker process ended, as the state API shows it (gcs.proto WorkerInfo.exit_type).
inline constexpr char kIntendedUserExit[] = "INTENDED_USER_EXIT";
inline constexpr char kSystemError[] = "SYSTEM_ERROR";
inline constexpr char kIdleExit[] = "IDLE_EXIT";

// Workers are pooled per (job, runtime env, language). A pool's key within its job: the env
// hash ("" for none) for C++ workers, "python:<hash>" for Python workers.
std::string WorkerPoolKey(proto::Language language, const std::string& env_hash);

struct LeasableWorker {
  WorkerId worker_id;
  proto::Address address;
  int pid = 0;
};

class WorkerSource {
 public:
  virtual ~WorkerSource() = default;
  // Takes an idle registered worker of `job_id` from the pool `pool_key` (WorkerPoolKey), if
  // there is one.
  virtual std::optional<LeasableWorker> PopIdleWorker(const JobId& job_id,
                                                      const std::string& pool_key) = 0;
  // Asks for `wanted` workers of (`job_id`, `env`, `language`) to be starting (counting those
  // already starting); an env is prepared first. Completion is asynchronous: the pool re-runs
  // scheduling when a worker registers, and fails the pool's requests if workers cannot be
  // started or the env cannot be set up.
  virtual void StartWorkers(const JobId& job_id, const proto::RuntimeEnvInfo& env,
                            proto::Language language, int wanted) = 0;
  // Hands a leased worker back: to the idle list, or (reuse == false) killed.
  virtual void ReturnWorker(const WorkerId& worker_id, bool reuse) = 0;
  // Ends a worker process (SIGTERM, then SIGKILL after a grace period).
  virtual void KillWorker(const WorkerId& worker_id, const std::string& exit_type) = 0;
};

}  // namespace moray::raylet
