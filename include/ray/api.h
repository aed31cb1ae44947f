// The Moray C++ API, source-compatible with Ray's (`#include <ray/api.h>`). This is the only header
// user programs include.
//
//   #include <ray/api.h>
//
//   int Plus(int a, int b) { return a + b; }
//   RAY_REMOTE(Plus);
//
//   int main(int argc, char** argv) {
//     ray::RayConfig config;
//     ray::Init(config, argc, argv);
//     auto sum = ray::Task(Plus).Remote(1, 2);
//     std::cout << *ray::Get(sum) << "\n";  // 3
//     ray::Shutdown();
//   }
//
// Errors are exceptions of ray/api/ray_exception.h. Every function here is thread-safe once Init
// has returned; Init and Shutdown must not race with each other or with other calls.
#pragma once

#include <cstring>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "ray/api/actor_creator.h"
#include "ray/api/actor_handle.h"
#include "ray/api/actor_task_caller.h"
#include "ray/api/byte_header.h"
#include "ray/api/function_manager.h"
#include "ray/api/logging.h"
#include "ray/api/metric.h"
#include "ray/api/object_ref.h"
#include "ray/api/placement_group.h"
#include "ray/api/ray_config.h"
#include "ray/api/ray_exception.h"
#include "ray/api/ray_remote.h"
#include "ray/api/ray_runtime.h"
#include "ray/api/runtime_env.h"
#include "ray/api/scheduling.h"
#include "ray/api/serializer.h"
#include "ray/api/task_caller.h"
#include "ray/api/xlang_function.h"

namespace ray {

// Connects this process to Moray (or, with config.local_mode, starts the in-process runtime).
// Flags in argv (--ray_address, --ray_code_search_path, --ray_head_args,
// --ray_default_actor_lifetime, --ray_job_namespace, --ray_redis_password; as --flag=value or
// --flag value) override config fields; other arguments are left alone. A no-op when already
// initialized. Throws RayException on a bad flag value or when the cluster cannot be reached.
void Init();
void Init(RayConfig& config);
void Init(RayConfig& config, int argc, char** argv);

// True between Init and Shutdown, and inside workers.
bool IsInitialized();

// Disconnects (stopping the private local cluster Init started, if any). ObjectRefs still alive
// become inert. Init may be called again afterwards.
void Shutdown();

// Stores `value` as a new immutable object owned by this process.
template <typename T>
ObjectRef<T> Put(const T& value) {
  if constexpr (internal::IsByteContainer<T>::value) {
    // Bytes go straight into the object's memory: one copy, even for large buffers.
    const bool str = internal::kPacksAsStr<T>;
    size_t header = internal::ByteHeaderSize(value.size(), str);
    std::string id = internal::GetRuntime().PutWith(header + value.size(), [&](char* out) {
      internal::WriteByteHeader(out, value.size(), str);
      if (!value.empty()) std::memcpy(out + header, value.data(), value.size());
    });
    return ObjectRef<T>(std::move(id));
  } else {
    std::string id = internal::GetRuntime().Put(internal::Serializer::Serialize(value));
    return ObjectRef<T>(std::move(id));
  }
}

// The value of `object` (blocking). Throws the error the object holds (RayTaskException, ...);
// with `timeout_ms` (-1: forever), RayTimeoutException when it is not ready in time.
template <typename T>
std::shared_ptr<T> Get(const ObjectRef<T>& object) {
  return object.Get();
}
template <typename T>
std::shared_ptr<T> Get(const ObjectRef<T>& object, const int& timeout_ms) {
  return object.Get(timeout_ms);
}
inline void Get(const ObjectRef<void>& object) { object.Get(); }
inline void Get(const ObjectRef<void>& object, const int& timeout_ms) { object.Get(timeout_ms); }

// The values of `objects`, in input order.
template <typename T>
std::vector<std::shared_ptr<T>> Get(const std::vector<ObjectRef<T>>& objects,
                                    const int& timeout_ms) {
  std::vector<std::string> ids;
  ids.reserve(objects.size());
  for (const auto& object : objects) ids.push_back(object.BinaryID());
  auto buffers = internal::GetRuntime().Get(ids, timeout_ms);
  std::vector<std::shared_ptr<T>> values;
  if constexpr (std::is_void_v<T>) {
    values.resize(buffers.size());  // void results: only the errors matter
  } else {
    values.reserve(buffers.size());
    for (size_t i = 0; i < buffers.size(); ++i) {
      values.push_back(internal::ObjectReader<T>::Read(ids[i], buffers[i]));
    }
  }
  return values;
}
template <typename T>
std::vector<std::shared_ptr<T>> Get(const std::vector<ObjectRef<T>>& objects) {
  return Get(objects, -1);
}

// Waits until `num_objects` of `objects` are ready (an error counts as ready) or `timeout_ms`
// passed (-1: forever). At most `num_objects` are marked ready, as in Ray: when that many or more
// are ready, `ready` holds exactly the first `num_objects` of them in input order and every other
// object is in `unready` (also in input order), ready or not. Throws RayException unless
// 0 <= num_objects <= objects.size().
template <typename T>
WaitResult<T> Wait(const std::vector<ObjectRef<T>>& objects, int num_objects, int timeout_ms) {
  if (num_objects < 0 || static_cast<size_t>(num_objects) > objects.size()) {
    throw RayException("Wait: num_objects must be between 0 and the number of objects (" +
                       std::to_string(objects.size()) + "), got " + std::to_string(num_objects));
  }
  std::vector<std::string> ids;
  ids.reserve(objects.size());
  for (const auto& object : objects) ids.push_back(object.BinaryID());
  std::vector<bool> ready = internal::GetRuntime().Wait(ids, num_objects, timeout_ms);
  WaitResult<T> result;
  for (size_t i = 0; i < objects.size(); ++i) {
    const bool marked = ready.at(i) && result.ready.size() < static_cast<size_t>(num_objects);
    (marked ? result.ready : result.unready).push_back(objects[i]);
  }
  return result;
}

// Starts building a task that calls `f`, which must be registered with RAY_REMOTE. Throws
// RayException("Function not found. Please use RAY_REMOTE to register this function.") otherwise.
template <typename F>
internal::TaskCaller<F> Task(F f) {
  static_assert(!std::is_member_function_pointer_v<F>,
                "ray::Task takes a free or static member function; call methods through an actor");
  static_assert(!std::is_pointer_v<typename internal::FunctionTraits<F>::ReturnType>,
                "a function returning a pointer is an actor factory: use ray::Actor");
  std::string name =
      internal::FunctionManager::Instance().GetFunctionName(internal::FunctionKey(f));
  if (name.empty()) {
    throw RayException("Function not found. Please use RAY_REMOTE to register this function.");
  }
  return internal::TaskCaller<F>(std::move(name));
}

// Calls of Python code (ray/api/xlang_function.h, docs/python.md "Across languages"): a Python
// function, and an actor of a Python class, by module and name; msgpack both ways.
//   auto sum = ray::Task(ray::PyFunction<int>{"tasks", "add"}).Remote(1, 2);
//   ray::ActorHandleXlang counter = ray::Actor(ray::PyActorClass{"tasks", "Counter"}).Remote(0);
//   auto total = counter.Task(ray::PyActorMethod<int>{"add"}).Remote(5);
// The job's code_search_path directories are on the Python workers' sys.path. Throws
// RayException for an empty module or name.
template <typename R>
internal::TaskCaller<PyFunction<R>> Task(PyFunction<R> func) {
  if (func.module_name.empty() || func.function_name.empty()) {
    throw RayException("PyFunction: the module and function names must not be empty");
  }
  return internal::TaskCaller<PyFunction<R>>(std::move(func.function_name),
                                             std::move(func.module_name));
}
inline internal::ActorCreator<PyActorClass> Actor(PyActorClass actor_class) {
  if (actor_class.module_name.empty() || actor_class.class_name.empty()) {
    throw RayException("PyActorClass: the module and class names must not be empty");
  }
  return internal::ActorCreator<PyActorClass>(std::move(actor_class.class_name),
                                              std::move(actor_class.module_name));
}

// Starts building an actor created by `factory`, a function (free or static member) registered with
// RAY_REMOTE that returns a T*. Throws RayException("Function not found. ...") if unregistered.
template <typename F>
internal::ActorCreator<F> Actor(F factory) {
  static_assert(!std::is_member_function_pointer_v<F>,
                "ray::Actor takes a factory: a free or static member function returning T*");
  using R = typename internal::FunctionTraits<F>::ReturnType;
  static_assert(std::is_pointer_v<R> && std::is_class_v<std::remove_pointer_t<R>>,
                "ray::Actor(factory): the factory must return a pointer to the actor's class");
  std::string name =
      internal::FunctionManager::Instance().GetFunctionName(internal::FunctionKey(factory));
  if (name.empty()) {
    throw RayException("Function not found. Please use RAY_REMOTE to register this function.");
  }
  return internal::ActorCreator<F>(std::move(name));
}

// The live actor named `name` in the job's namespace (or `ray_namespace`); empty if there is none.
// T must be the actor's class (not checked).
template <typename T>
std::optional<ActorHandle<T>> GetActor(const std::string& name) {
  std::optional<std::string> id = internal::GetRuntime().GetActor(name, "");
  if (!id) return std::nullopt;
  return ActorHandle<T>(std::move(*id));
}
template <typename T>
std::optional<ActorHandle<T>> GetActor(const std::string& name, const std::string& ray_namespace) {
  std::optional<std::string> id = internal::GetRuntime().GetActor(name, ray_namespace);
  if (!id) return std::nullopt;
  return ActorHandle<T>(std::move(*id));
}

// Beyond Ray's C++ API (Ray has it in Python, ray.cancel): cancels the task that returns `ref`,
// which this process submitted, and the tasks it submitted that are still pending. A task still
// waiting to be scheduled never runs; one queued on its worker is dropped; a running task is
// interrupted at its next runtime call (Get, Wait, Put or a Remote throws TaskCancelledException
// inside it; a task that makes none runs to its end), or with `force` its worker process is
// killed. Get of `ref` then throws TaskCancelledException, and the task is never retried
// (whatever SetMaxRetries says). If the task finished first, nothing happens and Get returns its
// value. Actor calls: only a call not yet running is cancelled (a running one finishes); `force`
// throws RayException for them, as for a ref that is no task's return owned here (a Put, or a
// ref received from elsewhere). Cancel does not wait: Get the ref to see the outcome. Local mode
// has no cancel (RayException).
//   auto ref = ray::Task(LongJob).Remote();
//   ray::Cancel(ref);
//   try { ray::Get(ref); } catch (const ray::TaskCancelledException&) { /* cancelled */ }
template <typename T>
void Cancel(const ObjectRef<T>& ref, bool force = false) {
  internal::GetRuntime().Cancel(ref.BinaryID(), force, /*recursive=*/true);
}

// Inside an actor method: ends the actor (the method does not return; callers of this and later
// calls get RayActorException). Outside an actor it throws RayException.
inline void ExitActor() { internal::GetRuntime().ExitActor(); }

// Inside an actor method: whether the actor has been restarted. false elsewhere.
inline bool WasCurrentActorRestarted() { return internal::GetRuntime().WasCurrentActorRestarted(); }

// The namespace of this job (RayConfig::ray_namespace, or a random one chosen at Init).
inline std::string GetNamespace() { return internal::GetRuntime().GetNamespace(); }

// Beyond Ray's C++ API: the GPU ids the calling task or actor holds, as its raylet assigned
// them. A task or actor that asked for GPU gets distinct ids for whole GPUs (a fraction may
// share its id with other fractions); its worker's CUDA_VISIBLE_DEVICES lists the same ids
// while it runs (for an actor, for its whole life). Empty in a driver, in a task or actor
// without GPUs, and in local mode.
//   std::vector<int> gpus = ray::GetGpuIds();  // e.g. {1} inside a task with SetResource("GPU", 1)
inline std::vector<int> GetGpuIds() { return internal::GetRuntime().GetGpuIds(); }

// Beyond Ray's C++ API (ray/api/scheduling.h): the cluster's nodes, its total resources over the
// alive nodes, and what they last reported free.
inline std::vector<Node> Nodes() { return internal::GetRuntime().Nodes(); }
inline std::unordered_map<std::string, double> ClusterResources() {
  std::unordered_map<std::string, double> total;
  for (const Node& node : Nodes()) {
    if (!node.alive) continue;
    for (const auto& [name, amount] : node.resources) total[name] += amount;
  }
  return total;
}
inline std::unordered_map<std::string, double> AvailableResources() {
  return internal::GetRuntime().AvailableResources();
}

}  // namespace ray
