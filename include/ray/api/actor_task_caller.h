// ActorTaskCaller<F>: what handle.Task(&Class::Method) returns. Set options, then Remote(args...)
// submits the call and returns an ObjectRef to its result.
//
//   ray::ActorHandle<Counter> counter = ray::Actor(CreateCounter).Remote(0);
//   ray::ObjectRef<int> sum = counter.Task(&Counter::Add).SetName("add").Remote(5);
//
// Arguments are checked at compile time against the method's parameters exactly as for
// ray::Task(f) (an ObjectRef<T> argument counts as a T and is resolved before the call). Calls from
// one caller run in submission order on a non-threaded actor. If the actor is dead (killed, exited,
// its factory threw) the returned object holds RayActorException; if the method throws, a
// RayTaskException. Remote() throws RayException for invalid resources.
#pragma once

#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ray/api/function_traits.h"
#include "ray/api/object_ref.h"
#include "ray/api/ray_runtime.h"
#include "ray/api/task_caller.h"

namespace ray::internal {

template <typename F>
class ActorTaskCaller {
  using Traits = FunctionTraits<F>;
  using ArgsTuple = typename Traits::ArgsTuple;
  using R = std::decay_t<typename Traits::ReturnType>;

 public:
  ActorTaskCaller(std::string actor_id, std::string method_name, InstanceAdjuster adjuster)
      : actor_id_(std::move(actor_id)),
        method_name_(std::move(method_name)),
        adjuster_(std::move(adjuster)) {
    options_.python = kIsXlang<F>;  // a PyActorMethod<R>: a Python actor's method by name
  }

  // A display name for the call; default: the method's registered name.
  ActorTaskCaller& SetName(std::string name) {
    options_.name = std::move(name);
    return *this;
  }
  ActorTaskCaller& SetResources(std::unordered_map<std::string, double> resources) {
    options_.resources = std::move(resources);
    return *this;
  }
  ActorTaskCaller& SetResource(const std::string& name, double value) {
    options_.resources[name] = value;
    return *this;
  }
  // Beyond Ray's C++ API: run the call in the actor's concurrency group `group`
  // (ActorCreator::SetConcurrencyGroups); unknown groups run in the default group.
  ActorTaskCaller& SetConcurrencyGroup(std::string group) {
    options_.concurrency_group = std::move(group);
    return *this;
  }

  template <typename... Args>
  ObjectRef<R> Remote(Args&&... args) {
    static_assert(kIsXlang<F> || sizeof...(Args) == Traits::kArity,
                  "actor.Task(&Class::Method).Remote(args...): the number of arguments differs "
                  "from the number of the method's parameters");
    if constexpr (kIsXlang<F>) {
      ValidateResources(options_.resources);
      std::string id = GetRuntime().SubmitActorTask(
          actor_id_, method_name_, BuildXlangArguments(std::forward<Args>(args)...), options_,
          adjuster_);
      return ObjectRef<R>(std::move(id));
    } else if constexpr (sizeof...(Args) == Traits::kArity) {  // no errors after the above
      static_assert(AllArgumentsMatch<ArgsTuple, Args...>());
      ValidateResources(options_.resources);
      std::vector<TaskArgument> task_args =
          BuildTaskArguments<ArgsTuple>(std::forward<Args>(args)...);
      std::string id = GetRuntime().SubmitActorTask(actor_id_, method_name_, std::move(task_args),
                                                    options_, adjuster_);
      return ObjectRef<R>(std::move(id));
    } else {
      return ObjectRef<R>();
    }
  }

 private:
  std::string actor_id_;
  std::string method_name_;
  InstanceAdjuster adjuster_;
  ActorTaskOptions options_;
};

}  // namespace ray::internal
