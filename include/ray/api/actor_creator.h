// ActorCreator<F>: what ray::Actor(factory) returns. Set options, then Remote(args...) creates the
// actor by calling `factory` (a RAY_REMOTE-registered function returning T*) with the arguments,
// and returns its ActorHandle<T>.
//
//   Counter* CreateCounter(int start) { return new Counter(start); }
//   RAY_REMOTE(CreateCounter, &Counter::Add);
//
//   ray::ActorHandle<Counter> counter =
//       ray::Actor(CreateCounter).SetName("counter").SetMaxRestarts(1).Remote(10);
//
// Arguments are checked at compile time as for ray::Task(f). Remote() throws RayException for
// invalid resources and for a name already taken in the namespace (unless SetGetIfExists(true)).
// A factory that throws does not fail Remote(): every call to the actor fails with
// RayActorException carrying the factory's error.
//
// SetPlacementGroup(pg, bundle_index[, capture_child_tasks]) places the actor in a bundle of a
// placement group, as for tasks (ray/api/task_caller.h): its resources — by default the 1 CPU
// an actor needs to be scheduled, so an actor for a bundle without CPU asks e.g.
// SetResource("CPU", 0) or SetResource("GPU", 1) — must fit in the bundle, and with
// capture_child_tasks the tasks and actors its methods submit go into the group too.
#pragma once

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ray/api/actor_handle.h"
#include "ray/api/function_traits.h"
#include "ray/api/placement_group.h"
#include "ray/api/ray_config.h"
#include "ray/api/ray_exception.h"
#include "ray/api/ray_runtime.h"
#include "ray/api/runtime_env.h"
#include "ray/api/task_caller.h"

namespace ray::internal {

// The readable name of T ("Counter", "ns::Counter").
template <typename T>
std::string DemangledName() {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(typeid(T).name(), nullptr, nullptr, &status), std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(typeid(T).name());
}

// F: a RAY_REMOTE factory, or ray::PyActorClass (xlang_function.h; T is XlangActor and the
// handle an ActorHandleXlang), which accepts any arguments.
template <typename F>
class ActorCreator {
  using Traits = FunctionTraits<F>;
  using ArgsTuple = typename Traits::ArgsTuple;
  using T = std::remove_pointer_t<typename Traits::ReturnType>;

 public:
  explicit ActorCreator(std::string factory_name) : factory_name_(std::move(factory_name)) {}
  // A Python class (ray::Actor(PyActorClass{module, class_name})).
  ActorCreator(std::string class_name, std::string python_module) : factory_name_(class_name) {
    options_.class_name = std::move(class_name);
    options_.python_module = std::move(python_module);
  }

  // A name other processes can find the actor by (ray::GetActor), in the job's namespace or in
  // `ray_namespace`.
  ActorCreator& SetName(std::string name) {
    options_.name = std::move(name);
    return *this;
  }
  ActorCreator& SetName(std::string name, std::string ray_namespace) {
    options_.name = std::move(name);
    options_.ray_namespace = std::move(ray_namespace);
    return *this;
  }
  // Resources held for the actor's life (default: 1 CPU to schedule it, released once alive).
  ActorCreator& SetResources(std::unordered_map<std::string, double> resources) {
    options_.resources = std::move(resources);
    return *this;
  }
  ActorCreator& SetResource(const std::string& name, double value) {
    options_.resources[name] = value;
    return *this;
  }
  // Restarts after the actor's process dies (default 0; -1 unlimited).
  ActorCreator& SetMaxRestarts(int max_restarts) {
    options_.max_restarts = max_restarts;
    return *this;
  }
  // > 1: a threaded actor running up to that many calls at once (no ordering between them).
  ActorCreator& SetMaxConcurrency(int max_concurrency) {
    options_.max_concurrency = max_concurrency;
    return *this;
  }
  // The actor's runtime env, merged over its parent's (as for tasks, ray/api/task_caller.h).
  ActorCreator& SetRuntimeEnv(const RuntimeEnv& runtime_env) {
    options_.runtime_env = runtime_env.Serialize();
    return *this;
  }
  // Beyond Ray: retries of calls lost to an actor restart (default 0; -1 unlimited).
  ActorCreator& SetMaxTaskRetries(int max_task_retries) {
    options_.max_task_retries = max_task_retries;
    return *this;
  }
  // Beyond Ray: DETACHED actors outlive the job (default: RayConfig::default_actor_lifetime).
  ActorCreator& SetLifetime(ActorLifetime lifetime) {
    options_.detached = lifetime == ActorLifetime::DETACHED;
    return *this;
  }
  // Beyond Ray: named groups of concurrent calls, group name -> max concurrency.
  ActorCreator& SetConcurrencyGroups(std::unordered_map<std::string, int> groups) {
    options_.concurrency_groups = std::move(groups);
    return *this;
  }
  // Beyond Ray: where the actor may be placed (ray/api/scheduling.h).
  ActorCreator& SetSchedulingStrategy(SchedulingStrategy strategy) {
    options_.strategy = std::move(strategy);
    return *this;
  }
  // Places the actor in bundle `bundle_index` of `group` (-1: any bundle with room); beyond Ray,
  // `capture_child_tasks` (see the top of this file).
  ActorCreator& SetPlacementGroup(const PlacementGroup& group, int bundle_index,
                                  bool capture_child_tasks = false) {
    CheckPlacementGroupUse(group, bundle_index);
    placement_group_ = group;
    options_.placement = {group.GetID(), bundle_index, capture_child_tasks};
    return *this;
  }
  // Beyond Ray: with a name, return the live actor of that name instead of failing.
  ActorCreator& SetGetIfExists(bool get_if_exists) {
    options_.get_if_exists = get_if_exists;
    return *this;
  }

  template <typename... Args>
  ActorHandle<T> Remote(Args&&... args) {
    static_assert(kIsXlang<F> || sizeof...(Args) == Traits::kArity,
                  "ray::Actor(factory).Remote(args...): the number of arguments differs from the "
                  "number of the factory's parameters");
    if constexpr (kIsXlang<F> || sizeof...(Args) == Traits::kArity) {  // no follow-up errors
      if constexpr (!kIsXlang<F>) static_assert(AllArgumentsMatch<ArgsTuple, Args...>());
      ValidateResources(options_.resources);
      if (options_.max_concurrency < 1) {
        throw RayException("SetMaxConcurrency: must be at least 1, got " +
                           std::to_string(options_.max_concurrency));
      }
      if (options_.max_restarts < -1 || options_.max_task_retries < -1) {
        throw RayException("SetMaxRestarts / SetMaxTaskRetries: must be -1 or more");
      }
      if (!options_.ray_namespace.empty() && options_.name.empty()) {
        throw RayException("SetName: the actor name must not be empty");
      }
      for (const auto& [group, limit] : options_.concurrency_groups) {
        if (group.empty() || limit < 1) {
          throw RayException("SetConcurrencyGroups: group names must not be empty and limits must "
                             "be at least 1 (group '" + group + "': " + std::to_string(limit) + ")");
        }
      }
      if (options_.class_name.empty()) options_.class_name = DemangledName<T>();
      CheckPlacement(placement_group_, options_.placement, options_.strategy,
                     options_.resources.empty()
                         ? std::unordered_map<std::string, double>{{"CPU", 1}}
                         : options_.resources,
                     "actor " + options_.class_name);
      std::vector<TaskArgument> task_args;
      if constexpr (kIsXlang<F>) {
        task_args = BuildXlangArguments(std::forward<Args>(args)...);
      } else {
        task_args = BuildTaskArguments<ArgsTuple>(std::forward<Args>(args)...);
      }
      std::string id = GetRuntime().CreateActor(factory_name_, std::move(task_args), options_);
      return ActorHandle<T>(std::move(id));
    } else {
      return ActorHandle<T>();
    }
  }

 private:
  std::string factory_name_;
  ActorCreationOptions options_;
  PlacementGroup placement_group_;  // as given to SetPlacementGroup, for Remote()'s check
};

}  // namespace ray::internal
