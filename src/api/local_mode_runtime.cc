#include "api/local_mode_runtime.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <utility>

#include "api/actor_exit.h"
#include "api/task_error.h"
#include "common/id.h"
#include "ray/api/function_manager.h"
#include "ray/api/ray_exception.h"
#include "ray/api/util.h"
#include "runtime_env/runtime_env.h"
#include "spdlog/spdlog.h"

namespace moray::api {
namespace {

using ray::internal::ArgView;
using ray::internal::Buffer;
using ray::internal::StringBuffer;

constexpr char kOwnerAddress[] = "local-mode";

size_t DefaultThreads(size_t requested) {
  if (requested > 0) return requested;
  return std::max<size_t>(2, std::thread::hardware_concurrency());
}

std::string Hex(const std::string& id) { return ray::internal::BinaryToHex(id); }


// The actor whose method (or factory) runs on this thread, if any.
struct CurrentActor {
  const void* runtime = nullptr;
  std::string actor_id;
};
thread_local CurrentActor* current_actor = nullptr;

class CurrentActorScope {
 public:
  CurrentActorScope(const void* runtime, const std::string& actor_id)
      : actor_{runtime, actor_id}, previous_(current_actor) {
    current_actor = &actor_;
  }
  ~CurrentActorScope() { current_actor = previous_; }
  CurrentActorScope(const CurrentActorScope&) = delete;
  CurrentActorScope& operator=(const CurrentActorScope&) = delete;

 private:
  CurrentActor actor_;
  CurrentActor* previous_;
};

std::string NamespaceOrRandom(const std::string& ray_namespace) {
  if (!ray_namespace.empty()) return ray_namespace;
  return "anonymous_namespace_" + ToHex(RandomBytes(8));
}


}  // namespace

LocalModeRuntime::LocalModeRuntime(Options options)
    : job_id_(JobIdFromInt(1)),
      driver_task_id_(NewTaskId(job_id_)),
      namespace_(NamespaceOrRandom(options.ray_namespace)),
      pool_(DefaultThreads(options.num_threads)) {}

LocalModeRuntime::~LocalModeRuntime() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
  }
  ready_cv_.notify_all();
  pool_.Stop();
  std::unordered_map<std::string, std::shared_ptr<Actor>> actors;
  {
    std::lock_guard<std::mutex> lock(mu_);
    actors.swap(actors_);
    named_actors_.clear();
  }
  actors.clear();  // instances are destroyed outside mu_
}

void LocalModeRuntime::ThrowIfShuttingDownLocked() const {
  if (shutting_down_) throw ray::internal::RayException("Moray (local mode) is shutting down");
}

std::string LocalModeRuntime::Put(std::string data) {
  std::lock_guard<std::mutex> lock(mu_);
  ThrowIfShuttingDownLocked();
  std::string id = ObjectIdForPut(driver_task_id_, next_put_index_++).Binary();
  Object& object = objects_[id];
  object.ready = true;
  object.value = std::make_shared<StringBuffer>(std::move(data));
  return id;
}

std::vector<std::shared_ptr<Buffer>> LocalModeRuntime::Get(const std::vector<std::string>& ids,
                                                           int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  auto all_ready = [&] {
    return std::all_of(ids.begin(), ids.end(), [&](const std::string& id) {
      auto it = objects_.find(id);
      return it == objects_.end() || it->second.ready;  // unknown ids fail below
    });
  };
  if (!shutting_down_ && !all_ready()) {
    BlockingScope blocking(pool_);
    auto done = [&] { return shutting_down_ || all_ready(); };
    if (timeout_ms < 0) {
      ready_cv_.wait(lock, done);
    } else if (!ready_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), done)) {
      for (const std::string& id : ids) {
        auto it = objects_.find(id);
        if (it != objects_.end() && !it->second.ready) {
          throw ray::internal::RayTimeoutException("Get timed out after " +
                                                   std::to_string(timeout_ms) + " ms: object " +
                                                   Hex(id) + " is not ready");
        }
      }
    }
  }
  ThrowIfShuttingDownLocked();
  std::vector<std::shared_ptr<Buffer>> values;
  values.reserve(ids.size());
  std::exception_ptr first_error;
  for (const std::string& id : ids) {
    auto it = objects_.find(id);
    if (it == objects_.end()) {
      throw ray::internal::UnreconstructableException(
          "Object " + Hex(id) + " is unknown to this runtime or was already freed");
    }
    it->second.fetched = true;
    if (it->second.error && !first_error) first_error = it->second.error;
    values.push_back(it->second.value);
  }
  if (first_error) std::rethrow_exception(first_error);
  return values;
}

std::vector<bool> LocalModeRuntime::Wait(const std::vector<std::string>& ids, int num_objects,
                                         int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<bool> ready(ids.size(), false);
  auto enough_ready = [&] {
    int count = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      auto it = objects_.find(ids[i]);
      ready[i] = it == objects_.end() || it->second.ready;  // unknown: Get fails at once
      count += ready[i] ? 1 : 0;
    }
    return count >= num_objects;
  };
  if (!enough_ready()) {
    BlockingScope blocking(pool_);
    auto done = [&] { return shutting_down_ || enough_ready(); };
    if (timeout_ms < 0) {
      ready_cv_.wait(lock, done);
    } else {
      ready_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), done);
    }
  }
  ThrowIfShuttingDownLocked();
  return ready;
}

namespace {
[[noreturn]] void RefusePython() {
  throw ray::internal::RayException(
      "cross-language calls (ray::PyFunction, ray::PyActorClass, ray::PyActorMethod) need a "
      "cluster: local mode runs only this program's C++ functions");
}
}  // namespace

void CheckLocalModeRuntimeEnv(const std::string& env_json) {
  absl::StatusOr<runtime_env::RuntimeEnvSpec> env = runtime_env::RuntimeEnvSpec::Parse(env_json);
  if (!env.ok()) throw ray::internal::RayRuntimeEnvException(std::string(env.status().message()));
  if (!env->Empty()) {
    // Applying variables or a directory to one task in a shared process would leak into every
    // other task: refused rather than silently ignored.
    throw ray::internal::RayRuntimeEnvException(
        "runtime envs are not applied in local mode (tasks and actors run in the driver's "
        "process); run against a cluster, or leave the runtime env out");
  }
}

std::string LocalModeRuntime::SubmitTask(const std::string& function_name,
                                         std::vector<ray::internal::TaskArgument> args,
                                         const ray::internal::TaskOptions& options) {
  CheckLocalModeRuntimeEnv(options.runtime_env);
  if (!options.python_module.empty()) RefusePython();
  auto task = std::make_shared<Task>();
  task->function_name = function_name;
  task->args = std::move(args);
  task->options = options;
  task->return_id = ObjectIdForReturn(NewTaskId(job_id_), 1).Binary();
  // One count per unresolved argument plus one for this function; whoever drops it to zero posts.
  auto unresolved = std::make_shared<std::atomic<int>>(1);
  auto post_when_resolved = [this, task, unresolved] {
    if (unresolved->fetch_sub(1) == 1) pool_.Post([this, task] { Execute(*task); });
  };
  {
    std::lock_guard<std::mutex> lock(mu_);
    ThrowIfShuttingDownLocked();
    objects_[task->return_id];
    for (const auto& arg : task->args) {
      if (!arg.is_ref) continue;
      auto it = objects_.find(arg.object_id);
      if (it == objects_.end()) continue;  // Execute reports it
      ++it->second.references;             // pinned until the task ran
      if (!it->second.ready) {
        unresolved->fetch_add(1);
        it->second.on_ready.push_back(post_when_resolved);
      }
    }
  }
  post_when_resolved();
  return task->return_id;
}

void LocalModeRuntime::Execute(const Task& task) {
  std::vector<std::shared_ptr<Buffer>> held;  // keeps argument values alive during the call
  std::vector<ArgView> views;
  std::exception_ptr error;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& arg : task.args) {
      if (!arg.is_ref) {
        views.push_back({arg.value.data(), arg.value.size()});
        continue;
      }
      auto it = objects_.find(arg.object_id);
      if (it == objects_.end()) {
        error = std::make_exception_ptr(ray::internal::UnreconstructableException(
            "Argument object " + Hex(arg.object_id) + " of " + task.function_name +
            " is unknown to this runtime or was already freed"));
        break;
      }
      if (it->second.error) {
        error = it->second.error;  // the upstream failure becomes this task's result
        break;
      }
      held.push_back(it->second.value);
      views.push_back({held.back()->Data(), held.back()->Size()});
    }
  }
  std::string result;
  if (!error) error = Run(task, views, result);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& arg : task.args) {
      if (arg.is_ref) ReleaseLocked(arg.object_id);
    }
  }
  Seal(task.return_id, error ? nullptr : std::make_shared<StringBuffer>(std::move(result)), error);
}

std::exception_ptr LocalModeRuntime::Run(const Task& task, const std::vector<ArgView>& args,
                                         std::string& result) {
  const ray::internal::RemoteFunction* function =
      ray::internal::FunctionManager::Instance().GetFunction(task.function_name);
  if (function == nullptr) {
    return std::make_exception_ptr(ray::internal::RayFunctionNotFound(
        "Function " + task.function_name + " is not registered with RAY_REMOTE"));
  }
  for (int attempt = 0;; ++attempt) {
    try {
      result = (*function)(args);
      return nullptr;
    } catch (...) {
      const int max_retries = task.options.max_retries;
      bool retry = task.options.retry_exceptions && (max_retries < 0 || attempt < max_retries);
      if (!retry) {
        return std::make_exception_ptr(ray::internal::RayTaskException(
            FormatTaskError(task.function_name, std::current_exception())));
      }
    }
  }
}

void LocalModeRuntime::Seal(const std::string& id, std::shared_ptr<Buffer> value,
                            std::exception_ptr error) {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) return;  // every reference was dropped before it finished
    Object& object = it->second;
    object.ready = true;
    object.value = std::move(value);
    object.error = error;
    callbacks.swap(object.on_ready);
  }
  ready_cv_.notify_all();
  for (auto& callback : callbacks) callback();
}

void LocalModeRuntime::AddLocalReference(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(id);
  if (it != objects_.end()) ++it->second.references;
}

void LocalModeRuntime::RemoveLocalReference(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ReleaseLocked(id);
}

void LocalModeRuntime::ReleaseLocked(const std::string& id) {
  auto it = objects_.find(id);
  if (it == objects_.end() || --it->second.references > 0 || it->second.escaped) return;
  if (it->second.error && !it->second.fetched) {
    try {
      std::rethrow_exception(it->second.error);
    } catch (const std::exception& e) {
      spdlog::warn("An error in object {} was never retrieved: {}", Hex(id), e.what());
    } catch (...) {
      spdlog::warn("An error in object {} was never retrieved", Hex(id));
    }
  }
  objects_.erase(it);
}

std::string LocalModeRuntime::GetOwnerAddress(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(id);
  if (it != objects_.end()) it->second.escaped = true;
  return kOwnerAddress;
}

void LocalModeRuntime::RegisterBorrowedReference(const std::string& /*id*/,
                                                 const std::string& /*owner_address*/) {
  // One process owns everything in local mode.
}

std::string LocalModeRuntime::StoreResult(std::string value, std::exception_ptr error) {
  std::lock_guard<std::mutex> lock(mu_);
  ThrowIfShuttingDownLocked();
  std::string id = ObjectIdForReturn(NewTaskId(job_id_), 1).Binary();
  Object& object = objects_[id];
  object.ready = true;
  if (error) {
    object.error = error;
  } else {
    object.value = std::make_shared<StringBuffer>(std::move(value));
  }
  return id;
}

std::exception_ptr LocalModeRuntime::ResolveArguments(
    const std::vector<ray::internal::TaskArgument>& args, std::vector<std::shared_ptr<Buffer>>& held,
    std::vector<ArgView>& views) {
  std::vector<std::string> ref_ids;
  for (const auto& arg : args) {
    if (arg.is_ref) ref_ids.push_back(arg.object_id);
  }
  if (!ref_ids.empty()) {
    try {
      held = Get(ref_ids, -1);  // the caller's ObjectRefs keep the objects alive meanwhile
    } catch (...) {
      return std::current_exception();  // the upstream failure becomes this call's result
    }
  }
  size_t next_ref = 0;
  for (const auto& arg : args) {
    if (arg.is_ref) {
      const Buffer& buffer = *held.at(next_ref++);
      views.push_back({buffer.Data(), buffer.Size()});
    } else {
      views.push_back({arg.value.data(), arg.value.size()});
    }
  }
  return nullptr;
}

std::shared_ptr<void> LocalModeRuntime::MarkDeadLocked(const std::string& actor_id, Actor& actor,
                                                       const std::string& cause) {
  if (actor.dead) return nullptr;
  actor.dead = true;
  actor.death_cause = cause;
  if (!actor.name.empty()) {
    auto it = named_actors_.find({actor.ray_namespace, actor.name});
    if (it != named_actors_.end() && it->second == actor_id) named_actors_.erase(it);
  }
  return std::move(actor.instance);
}

std::string LocalModeRuntime::CreateActor(const std::string& factory_name,
                                          std::vector<ray::internal::TaskArgument> args,
                                          const ray::internal::ActorCreationOptions& options) {
  CheckLocalModeRuntimeEnv(options.runtime_env);
  if (!options.python_module.empty()) RefusePython();
  auto actor = std::make_shared<Actor>();
  actor->name = options.name;
  actor->ray_namespace = options.ray_namespace.empty() ? namespace_ : options.ray_namespace;
  actor->max_concurrency = options.max_concurrency;
  const std::string actor_id = NewActorId(job_id_).Binary();
  {
    std::lock_guard<std::mutex> lock(mu_);
    ThrowIfShuttingDownLocked();
    if (!actor->name.empty()) {
      auto [it, inserted] =
          named_actors_.try_emplace({actor->ray_namespace, actor->name}, actor_id);
      if (!inserted) {
        if (options.get_if_exists) return it->second;
        throw ray::internal::RayException("An actor named '" + actor->name +
                                          "' already exists in namespace '" +
                                          actor->ray_namespace + "'");
      }
    }
    actors_[actor_id] = actor;
  }
  std::vector<std::shared_ptr<Buffer>> held;
  std::vector<ArgView> views;
  std::exception_ptr error = ResolveArguments(args, held, views);
  std::shared_ptr<void> instance;
  std::string cause;
  if (error) {
    cause = "The actor's creation failed: an argument of " + factory_name + " holds an error";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      cause += std::string(": ") + e.what();
    } catch (...) {
    }
  } else if (const ray::internal::ActorFactory* factory =
                 ray::internal::FunctionManager::Instance().GetActorFactory(factory_name)) {
    CurrentActorScope scope(this, actor_id);
    try {
      instance = (*factory)(views);
    } catch (const ActorExitRequested&) {
      cause = "The actor exited (ray::ExitActor) in its factory " + factory_name;
    } catch (...) {
      cause = "The actor's factory threw: " + FormatTaskError(factory_name, std::current_exception());
    }
    if (!instance && cause.empty()) cause = "The actor's factory " + factory_name + " returned null";
  } else {
    cause = "The actor's factory " + factory_name + " is not registered with RAY_REMOTE";
  }
  std::shared_ptr<void> to_destroy;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cause.empty() && !actor->dead) {
      actor->instance = std::move(instance);
    } else if (!actor->dead) {
      to_destroy = MarkDeadLocked(actor_id, *actor, cause);
    }
  }
  return actor_id;  // `instance` (killed meanwhile) and `to_destroy` go here, outside mu_
}

std::string LocalModeRuntime::SubmitActorTask(const std::string& actor_id,
                                              const std::string& method_name,
                                              std::vector<ray::internal::TaskArgument> args,
                                              const ray::internal::ActorTaskOptions& options,
                                              const ray::internal::InstanceAdjuster& adjuster) {
  if (options.python) RefusePython();
  std::shared_ptr<Actor> actor;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ThrowIfShuttingDownLocked();
    auto it = actors_.find(actor_id);
    if (it != actors_.end()) actor = it->second;
  }
  if (!actor) {
    return StoreResult("", std::make_exception_ptr(ray::internal::RayActorException(
                               "The actor " + Hex(actor_id) + " is unknown to this runtime")));
  }
  std::vector<std::shared_ptr<Buffer>> held;
  std::vector<ArgView> views;
  std::exception_ptr error = ResolveArguments(args, held, views);
  if (error) return StoreResult("", error);

  std::unique_lock<std::recursive_mutex> call_lock(actor->call_mu, std::defer_lock);
  if (actor->max_concurrency <= 1) call_lock.lock();
  std::shared_ptr<void> instance;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (actor->dead) {
      error = std::make_exception_ptr(ray::internal::RayActorException(
          "The actor " + Hex(actor_id) + " is dead: " + actor->death_cause));
    }
    instance = actor->instance;
  }
  if (error) return StoreResult("", error);
  const ray::internal::RemoteMemberFunction* method =
      ray::internal::FunctionManager::Instance().GetMemberFunction(method_name);
  if (method == nullptr) {
    return StoreResult("", std::make_exception_ptr(ray::internal::RayFunctionNotFound(
                               "Function " + method_name + " is not registered with RAY_REMOTE")));
  }
  void* target = adjuster.adjust ? adjuster.adjust(instance.get()) : instance.get();
  std::string result;
  std::shared_ptr<void> to_destroy;
  {
    CurrentActorScope scope(this, actor_id);
    try {
      result = (*method)(target, views);
    } catch (const ActorExitRequested&) {
      const std::string cause = "The actor exited (ray::ExitActor in " + method_name + ")";
      {
        std::lock_guard<std::mutex> lock(mu_);
        to_destroy = MarkDeadLocked(actor_id, *actor, cause);
      }
      error = std::make_exception_ptr(
          ray::internal::RayActorException("The actor " + Hex(actor_id) + " is dead: " + cause));
    } catch (...) {
      error = std::make_exception_ptr(ray::internal::RayTaskException(
          FormatTaskError(method_name, std::current_exception())));
    }
  }
  instance.reset();
  to_destroy.reset();  // the instance of an exited actor goes once its last call returned
  return StoreResult(std::move(result), error);
}

std::optional<std::string> LocalModeRuntime::GetActor(const std::string& name,
                                                      const std::string& ray_namespace) {
  std::lock_guard<std::mutex> lock(mu_);
  ThrowIfShuttingDownLocked();
  auto it = named_actors_.find({ray_namespace.empty() ? namespace_ : ray_namespace, name});
  if (it == named_actors_.end()) return std::nullopt;
  return it->second;
}

void LocalModeRuntime::KillActor(const std::string& actor_id, bool /*no_restart*/) {
  std::shared_ptr<void> to_destroy;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ThrowIfShuttingDownLocked();
    auto it = actors_.find(actor_id);
    if (it == actors_.end()) return;
    to_destroy = MarkDeadLocked(actor_id, *it->second, "The actor was killed (ActorHandle::Kill)");
  }
}

void LocalModeRuntime::ExitActor() {
  if (current_actor == nullptr || current_actor->runtime != this) {
    throw ray::internal::RayException("ray::ExitActor can only be called inside an actor method");
  }
  throw ActorExitRequested{};
}

bool LocalModeRuntime::WasCurrentActorRestarted() { return false; }  // no restarts here

std::string LocalModeRuntime::GetNamespace() { return namespace_; }

size_t LocalModeRuntime::NumObjects() const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.size();
}

}  // namespace moray::api
