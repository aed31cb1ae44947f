// LocalModeRuntime: the RayRuntime of RayConfig::local_mode. No cluster and no other process:
// objects live in an in-process map, tasks run on a TaskPool in this process. Meant for debugging
// and unit tests; semantics follow the cluster (argument resolution, error propagation, Get
// timeouts, Wait, RayTaskException messages, retries of exceptions when asked).
//
//   moray::api::InstallRuntime(std::make_unique<moray::api::LocalModeRuntime>(
//       moray::api::LocalModeRuntime::Options{}));
//
// References: an object is freed when its last local reference (ObjectRef) and the last pending
// task using it as an argument are gone, unless it was ever serialized inside another value
// (then it is kept until shutdown: local mode does not track nested references). Unknown ids are
// ignored by Add/RemoveLocalReference and raise UnreconstructableException in Get.
//
// Actors live in this process: CreateActor runs the factory, and each method call runs in the
// caller's thread before SubmitActorTask returns (its ObjectRef arguments are waited for first), so
// calls from one caller run in order. Calls to one actor are serialized by a per-actor recursive
// mutex unless its max_concurrency > 1 (an actor may call itself). Names are per namespace and
// freed when the actor dies; actors die when killed, when a method calls ExitActor, when the
// factory throws, or at shutdown (no restarts, handles are not reference-counted). Options beyond
// the name, get_if_exists and max_concurrency (resources, lifetime, restarts, groups) are accepted
// and ignored. Runtime envs are validated and, when not empty, refused with
// RayRuntimeEnvException (CheckLocalModeRuntimeEnv): one process cannot give each task its own
// variables or directory, and an option that silently does nothing is worse than an error.
//
// Placement groups (local_placement_groups.h) are CREATED at once and only checked: tasks and
// actors in them run as any other.
//
// Thread-safe. Destruction fails pending Gets with RayException, drops queued tasks and waits for
// running ones; it must not happen on a pool thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/local_placement_groups.h"
#include "api/task_pool.h"
#include "common/id.h"
#include "ray/api/function_manager.h"
#include "ray/api/ray_runtime.h"

namespace moray::api {

// Throws RayRuntimeEnvException unless `env_json` (RuntimeEnv::Serialize text) is valid and empty.
void CheckLocalModeRuntimeEnv(const std::string& env_json);

class LocalModeRuntime final : public ray::internal::RayRuntime {
 public:
  struct Options {
    // Threads kept available to run tasks; 0: the number of cores (at least 2).
    size_t num_threads = 0;
    // The job's namespace (RayConfig::ray_namespace); empty: a random one.
    std::string ray_namespace;
  };

  explicit LocalModeRuntime(Options options);
  ~LocalModeRuntime() override;

  std::string Put(std::string data) override;
  std::vector<std::shared_ptr<ray::internal::Buffer>> Get(const std::vector<std::string>& ids,
                                                          int timeout_ms) override;
  std::vector<bool> Wait(const std::vector<std::string>& ids, int num_objects,
                         int timeout_ms) override;
  std::string SubmitTask(const std::string& function_name,
                         std::vector<ray::internal::TaskArgument> args,
                         const ray::internal::TaskOptions& options) override;
  void AddLocalReference(const std::string& id) override;
  void RemoveLocalReference(const std::string& id) override;
  std::string GetOwnerAddress(const std::string& id) override;
  void RegisterBorrowedReference(const std::string& id, const std::string& owner_address) override;

  std::string CreateActor(const std::string& factory_name,
                          std::vector<ray::internal::TaskArgument> args,
                          const ray::internal::ActorCreationOptions& options) override;
  std::string SubmitActorTask(const std::string& actor_id, const std::string& method_name,
                              std::vector<ray::internal::TaskArgument> args,
                              const ray::internal::ActorTaskOptions& options,
                              const ray::internal::InstanceAdjuster& adjuster) override;
  std::optional<std::string> GetActor(const std::string& name,
                                      const std::string& ray_namespace) override;
  void KillActor(const std::string& actor_id, bool no_restart) override;
  void ExitActor() override;
  bool WasCurrentActorRestarted() override;
  std::string GetNamespace() override;

  ray::PlacementGroup CreatePlacementGroup(
      const ray::PlacementGroupCreationOptions& options) override {
    return placement_groups_.Create(options);
  }
  void RemovePlacementGroup(const std::string& id) override { placement_groups_.Remove(id); }
  ray::PlacementGroup GetPlacementGroupById(const std::string& id) override {
    return placement_groups_.GetById(id);
  }
  ray::PlacementGroup GetPlacementGroup(const std::string& name,
                                        const std::string& ray_namespace) override {
    return placement_groups_.GetByName(name, ray_namespace);
  }
  std::vector<ray::PlacementGroup> GetAllPlacementGroups() override {
    return placement_groups_.GetAll();
  }
  ray::PlacementGroupState WaitPlacementGroup(const std::string& id, int) override {
    return placement_groups_.Wait(id);
  }
  bool IsPlacementGroupRemoved(const std::string& id) override {
    return placement_groups_.IsRemoved(id);
  }

  // For tests: objects currently held, and threads the pool has started.
  size_t NumObjects() const;
  size_t NumThreads() const { return pool_.NumThreads(); }

 private:
  struct Object {
    bool ready = false;
    std::shared_ptr<ray::internal::Buffer> value;  // when ready without error
    std::exception_ptr error;                       // when ready with an error
    int64_t references = 0;  // ObjectRefs + pending tasks taking it as an argument
    bool escaped = false;    // serialized inside another value: never freed
    bool fetched = false;    // Get returned (or threw) it: no "unretrieved error" log
    std::vector<std::function<void()>> on_ready;  // run outside mu_ once ready
  };

  struct Actor {
    std::string name;  // empty: anonymous
    std::string ray_namespace;
    int max_concurrency = 1;
    std::recursive_mutex call_mu;    // held around each call when max_concurrency == 1
    std::shared_ptr<void> instance;  // guarded by mu_; null once dead
    bool dead = false;               // guarded by mu_
    std::string death_cause;         // guarded by mu_
  };

  struct Task {
    std::string function_name;
    std::vector<ray::internal::TaskArgument> args;
    ray::internal::TaskOptions options;
    std::string return_id;
  };

  void Execute(const Task& task);
  // Runs the function (retrying exceptions when asked); returns the error to store, if any.
  std::exception_ptr Run(const Task& task, const std::vector<ray::internal::ArgView>& args,
                         std::string& result);
  // Makes `id` ready with a value or an error; a no-op if it was freed meanwhile.
  void Seal(const std::string& id, std::shared_ptr<ray::internal::Buffer> value,
            std::exception_ptr error);
  void ReleaseLocked(const std::string& id);  // requires mu_
  // A new ready object holding `value` or `error`; returns its id.
  std::string StoreResult(std::string value, std::exception_ptr error);
  // Waits for the ObjectRef arguments; fills `views` (backed by `held` and `args`). Returns the
  // error of an argument, if any.
  std::exception_ptr ResolveArguments(const std::vector<ray::internal::TaskArgument>& args,
                                      std::vector<std::shared_ptr<ray::internal::Buffer>>& held,
                                      std::vector<ray::internal::ArgView>& views);
  // Marks the actor dead with `cause` and frees its name; returns the instance to destroy (outside
  // mu_).
  std::shared_ptr<void> MarkDeadLocked(const std::string& actor_id, Actor& actor,
                                       const std::string& cause);  // requires mu_
  void ThrowIfShuttingDownLocked() const;     // requires mu_

  // Ids here are the public API's (their bytes): local mode implements that interface directly.
  const JobId job_id_;
  const TaskId driver_task_id_;  // parent of Put objects
  const std::string namespace_;
  LocalPlacementGroups placement_groups_{job_id_, namespace_};

  mutable std::mutex mu_;
  std::condition_variable ready_cv_;  // an object became ready, or shutdown began
  std::unordered_map<std::string, Object> objects_;  // guarded by mu_
  uint32_t next_put_index_ = 0;                      // guarded by mu_
  bool shutting_down_ = false;                       // guarded by mu_
  std::unordered_map<std::string, std::shared_ptr<Actor>> actors_;  // guarded by mu_
  // (namespace, name) -> id of the live actor holding that name; guarded by mu_
  std::map<std::pair<std::string, std::string>, std::string> named_actors_;

  TaskPool pool_;  // stopped explicitly in the destructor, before the members above go
};

}  // namespace moray::api
