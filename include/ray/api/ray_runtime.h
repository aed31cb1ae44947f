// The boundary between the header-only public API (templates in include/ray/) and the runtime in
// libmoray. Everything the templates need from a running Moray goes through RayRuntime; there are
// two implementations: the cluster runtime (src/api/cluster_runtime.*, over the core worker) and the
// local-mode runtime (src/api/local_mode_runtime.*, a thread pool in the driver).
//
// Object ids cross this boundary as opaque binary strings. Values cross it as msgpack bytes.
// Errors: methods throw the exceptions of ray/api/ray_exception.h (this is the public-API side of
// the runtime; nothing inside src/ except src/api throws).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ray/api/placement_group.h"
#include "ray/api/ray_exception.h"
#include "ray/api/scheduling.h"

namespace ray::internal {

// Read-only bytes of one object. Kept alive by the shared_ptr that holds it; for large objects a
// view into shared memory that pins the object while alive.
class Buffer {
 public:
  virtual ~Buffer() = default;
  virtual const char* Data() const = 0;
  virtual size_t Size() const = 0;
};

// A Buffer that owns a std::string.
class StringBuffer final : public Buffer {
 public:
  explicit StringBuffer(std::string data) : data_(std::move(data)) {}
  const char* Data() const override { return data_.data(); }
  size_t Size() const override { return data_.size(); }
  const std::string& str() const { return data_; }

 private:
  std::string data_;
};

// One task argument: a msgpack value, or a reference resolved (to its value) before the task runs.
struct TaskArgument {
  bool is_ref = false;
  std::string value;      // msgpack bytes, when !is_ref
  std::string object_id;  // binary object id, when is_ref
};

// Where a task or actor runs within a placement group (SetPlacementGroup).
struct PlacementOptions {
  std::string group_id;              // hex; empty: not in a group
  int bundle_index = -1;             // -1: any bundle with room
  bool capture_child_tasks = false;  // what it submits goes in the group too
};

// Options of one task submission (TaskCaller setters).
struct TaskOptions {
  std::string name;  // empty: the function name
  std::unordered_map<std::string, double> resources;  // empty: {"CPU": 1}
  int max_retries = 3;  // -1: infinite
  bool retry_exceptions = false;
  ray::SchedulingStrategy strategy;
  PlacementOptions placement;  // not combined with a strategy other than the default
  std::string runtime_env;     // RuntimeEnv::Serialize(); empty: the parent's (job's) env
  // Non-empty: the function is Python's `function_name` of this module (ray::PyFunction), run
  // by a Python worker; values cross as msgpack.
  std::string python_module;
};

// Options of one actor creation (ActorCreator setters).
struct ActorCreationOptions {
  std::string name;           // empty: an anonymous actor
  std::string ray_namespace;  // with a name; empty: the job's namespace
  std::unordered_map<std::string, double> resources;  // empty: {"CPU": 1} to schedule only
  int max_restarts = 0;       // -1: unlimited
  int max_task_retries = 0;   // -1: unlimited
  int max_concurrency = 1;    // > 1: calls run concurrently on that many threads
  std::optional<bool> detached;  // unset: RayConfig::default_actor_lifetime
  std::unordered_map<std::string, int> concurrency_groups;  // group name -> max concurrency
  bool get_if_exists = false;  // a live actor of that name is returned instead of failing
  std::string runtime_env;     // RuntimeEnv::Serialize(); empty: the parent's (job's) env
  std::string class_name;      // the actor's class, for display (`moray list actors`)
  ray::SchedulingStrategy strategy;
  PlacementOptions placement;  // not combined with a strategy other than the default
  // Non-empty: the actor is an instance of Python's class `class_name` of this module
  // (ray::PyActorClass); the factory name is unused.
  std::string python_module;
};

// Options of one actor method call (ActorTaskCaller setters).
struct ActorTaskOptions {
  std::string name;  // empty: the method's registered name
  std::unordered_map<std::string, double> resources;
  std::string concurrency_group;  // empty: the default group
  bool python = false;            // a method of a Python actor (ray::PyActorMethod), called by name
};

// How an actor method reaches its object: the actor holds its instance as the factory's `T*`
// (type-erased to void*); a method of a base class B of T needs the `B*` subobject. `adjust`
// converts (in this binary: static_cast<B*>(static_cast<T*>(instance))); null when B is T. `key`
// names the conversion ("<typeid(T).name()>><typeid(B).name()>", empty when B is T) for runtimes
// that run the call in another process.
struct InstanceAdjuster {
  void* (*adjust)(void* instance) = nullptr;
  std::string key;
};

class RayRuntime {
 public:
  virtual ~RayRuntime() = default;

  // Stores `data` (msgpack bytes) as a new object owned by this process; returns its id.
  virtual std::string Put(std::string data) = 0;

  // Blocks until every object is available, or `timeout_ms` passed (-1: forever). Returns the
  // values in input order. Throws RayTimeoutException on expiry, and the exception an object holds
  // (RayTaskException, RayWorkerException, UnreconstructableException, ...) when it is an error.
  virtual std::vector<std::shared_ptr<Buffer>> Get(const std::vector<std::string>& ids,
                                                   int timeout_ms) = 0;

  // Returns, in input order, which objects are ready once `num_objects` of them are or the time is
  // up (`timeout_ms` -1: forever). An object holding an error counts as ready.
  virtual std::vector<bool> Wait(const std::vector<std::string>& ids, int num_objects,
                                 int timeout_ms) = 0;

  // Submits a call of the registered function `function_name`; returns the id of its return
  // object. Throws RayException for invalid options.
  virtual std::string SubmitTask(const std::string& function_name, std::vector<TaskArgument> args,
                                 const TaskOptions& options) = 0;

  // Counting of ObjectRef handles held by this process. Add on copy/creation, Remove on destruction.
  virtual void AddLocalReference(const std::string& id) = 0;
  virtual void RemoveLocalReference(const std::string& id) = 0;

  // An ObjectRef serialized inside a value carries its owner's address so that the process that
  // deserializes it can reach the owner. Both are opaque strings.
  virtual std::string GetOwnerAddress(const std::string& id) = 0;
  virtual void RegisterBorrowedReference(const std::string& id,
                                         const std::string& owner_address) = 0;

  // Stores an object of `size` serialized bytes written by `write` into memory the runtime
  // provides — in shared memory for large objects, so the bytes are copied once.
  virtual std::string PutWith(size_t size, const std::function<void(char*)>& write) {
    std::string data(size, '\0');
    write(data.data());
    return Put(std::move(data));
  }

  // Objects this process tracks, for moray::GetLocalObjectStats (include/moray/objects.h):
  // {owned, borrowed, values held in memory, bytes used in the node's object store, bytes
  // those in-memory values take}. Runtimes without the notion report zeros.
  virtual std::vector<size_t> LocalObjectCounts() { return {0, 0, 0, 0, 0}; }
  // This process's mapping of its node's shared-memory object store: {base, size}; {nullptr, 0}
  // when there is none.
  virtual std::pair<const char*, size_t> ObjectStoreMapping() { return {nullptr, 0}; }

  // ---- Actors. Defaults throw RayException("actors are not supported by this runtime yet"). ----
  // Ids are opaque binary strings, like object ids.

  // Creates an actor by calling the registered factory `factory_name`; returns its id. Throws
  // RayException for a name already taken in the namespace (unless options.get_if_exists, then
  // the existing actor's id is returned) and for invalid options. A factory that throws does not
  // fail here: the actor is dead and every call to it fails with RayActorException.
  virtual std::string CreateActor(const std::string& factory_name, std::vector<TaskArgument> args,
                                  const ActorCreationOptions& options);

  // Submits a call of the registered member function `method_name` to the actor; returns the id
  // of its return object, which holds RayActorException if the actor is (or becomes) dead and
  // RayTaskException if the method throws.
  virtual std::string SubmitActorTask(const std::string& actor_id, const std::string& method_name,
                                      std::vector<TaskArgument> args,
                                      const ActorTaskOptions& options,
                                      const InstanceAdjuster& adjuster);

  // Cancels the task whose return is `object_id` (ray::Cancel). Default: RayException (local
  // mode runs no cancellable tasks).
  virtual void Cancel(const std::string& object_id, bool force, bool recursive);

  // The id of the live actor named `name` in `ray_namespace` (empty: the job's namespace).
  virtual std::optional<std::string> GetActor(const std::string& name,
                                              const std::string& ray_namespace);

  // Kills the actor; later calls fail with RayActorException. `no_restart` false lets it restart
  // if it has restarts left. Killing a dead actor is harmless.
  virtual void KillActor(const std::string& actor_id, bool no_restart);

  // Ends the actor whose method is running on this thread (does not return normally); throws
  // RayException outside an actor method.
  virtual void ExitActor();

  // Inside an actor method: whether the actor was restarted. false elsewhere.
  virtual bool WasCurrentActorRestarted();

  // The job's namespace (RayConfig::ray_namespace, or a random one chosen at Init).
  virtual std::string GetNamespace();

  // The GPU ids the running task or actor holds (ray::GetGpuIds). Default: none (local mode).
  virtual std::vector<int> GetGpuIds() { return {}; }

  // The cluster's nodes (alive and dead) with their totals, and the resources the alive nodes
  // reported free. Defaults: this process is the only node (local mode).
  virtual std::vector<ray::Node> Nodes() { return {}; }
  virtual std::unordered_map<std::string, double> AvailableResources() { return {}; }

  // ---- Placement groups (ray/api/placement_group.h). Ids are hex, checked and options
  // validated by the public functions before they get here. Defaults throw
  // RayException("placement groups are not supported by this runtime"). ----

  // Starts creating a group (does not wait for it to be placed). RayException for a taken name.
  virtual ray::PlacementGroup CreatePlacementGroup(
      const ray::PlacementGroupCreationOptions& options);
  // Idempotent; unknown ids are fine.
  virtual void RemovePlacementGroup(const std::string& id);
  // Empty groups when there is no such group. `ray_namespace` empty: the job's.
  virtual ray::PlacementGroup GetPlacementGroupById(const std::string& id);
  virtual ray::PlacementGroup GetPlacementGroup(const std::string& name,
                                                const std::string& ray_namespace);
  virtual std::vector<ray::PlacementGroup> GetAllPlacementGroups();
  // Blocks until the group is CREATED or REMOVED or `timeout_seconds` passed; returns its state
  // then (UNRECOGNIZED: not known, e.g. the cluster did not answer in time). RayException for an
  // unknown group.
  virtual ray::PlacementGroupState WaitPlacementGroup(const std::string& id, int timeout_seconds);
  // Whether this process knows the group to be removed (no remote call): SetPlacementGroup
  // refuses such a group at once. Default: false.
  virtual bool IsPlacementGroupRemoved(const std::string& /*id*/) { return false; }
};

namespace detail {
[[noreturn]] inline void ActorsNotSupported() {
  throw RayException("actors are not supported by this runtime yet");
}
}  // namespace detail

inline std::string RayRuntime::CreateActor(const std::string&, std::vector<TaskArgument>,
                                           const ActorCreationOptions&) {
  detail::ActorsNotSupported();
}
inline std::string RayRuntime::SubmitActorTask(const std::string&, const std::string&,
                                               std::vector<TaskArgument>, const ActorTaskOptions&,
                                               const InstanceAdjuster&) {
  detail::ActorsNotSupported();
}
inline std::optional<std::string> RayRuntime::GetActor(const std::string&, const std::string&) {
  detail::ActorsNotSupported();
}
inline void RayRuntime::KillActor(const std::string&, bool) { detail::ActorsNotSupported(); }
inline void RayRuntime::Cancel(const std::string&, bool, bool) {
  throw RayException("ray::Cancel is not supported by this runtime (local mode)");
}
inline void RayRuntime::ExitActor() { detail::ActorsNotSupported(); }
inline bool RayRuntime::WasCurrentActorRestarted() { detail::ActorsNotSupported(); }
inline std::string RayRuntime::GetNamespace() { detail::ActorsNotSupported(); }

namespace detail {
[[noreturn]] inline void PlacementGroupsNotSupported() {
  throw RayException("placement groups are not supported by this runtime");
}
}  // namespace detail

inline ray::PlacementGroup RayRuntime::CreatePlacementGroup(
    const ray::PlacementGroupCreationOptions&) {
  detail::PlacementGroupsNotSupported();
}
inline void RayRuntime::RemovePlacementGroup(const std::string&) {
  detail::PlacementGroupsNotSupported();
}
inline ray::PlacementGroup RayRuntime::GetPlacementGroupById(const std::string&) {
  detail::PlacementGroupsNotSupported();
}
inline ray::PlacementGroup RayRuntime::GetPlacementGroup(const std::string&, const std::string&) {
  detail::PlacementGroupsNotSupported();
}
inline std::vector<ray::PlacementGroup> RayRuntime::GetAllPlacementGroups() {
  detail::PlacementGroupsNotSupported();
}
inline ray::PlacementGroupState RayRuntime::WaitPlacementGroup(const std::string&, int) {
  detail::PlacementGroupsNotSupported();
}

// The runtime of this process, or nullptr before Init / after Shutdown.
RayRuntime* GetRuntimeOrNull();

// The runtime of this process; throws RayException("Ray has not been initialized...") if none.
RayRuntime& GetRuntime();

}  // namespace ray::internal
