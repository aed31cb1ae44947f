// TaskCaller<F>: what ray::Task(f) returns. Set options, then Remote(args...) submits the task and
// returns an ObjectRef to its result.
//
//   ray::ObjectRef<int> sum = ray::Task(Plus)
//                                 .SetName("plus")
//                                 .SetResource("CPU", 2)
//                                 .SetMaxRetries(5)
//                                 .Remote(1, ray::Put(2));  // an ObjectRef<int> counts as an int
//
// Arguments are checked at compile time against F's parameters. A top-level ObjectRef<T> argument
// is resolved to its value before the task runs (it travels by reference); a parameter declared as
// ObjectRef<T> receives the reference itself (borrowed). Other arguments are converted to the
// parameter type, then msgpack-serialized. Remote() throws RayException for invalid resources
// (empty name, value <= 0, or a fractional value above 1).
//
// In a placement group (ray/api/placement_group.h):
//
//   ray::Task(f).SetPlacementGroup(pg, 0).Remote();   // in bundle 0; -1: any bundle with room
//   ray::Task(f).SetPlacementGroup(pg, -1, /*capture_child_tasks=*/true).Remote();
//
// SetPlacementGroup throws RayException for an empty or removed group or an index out of range;
// Remote() when the task's resources (default {"CPU": 1}) exceed the bundle (for -1: every
// bundle), or when a scheduling strategy was set too. Beyond Ray's C++ API, capture_child_tasks
// puts the tasks and actors this task submits without a placement group or strategy of their own
// in the group as well (any bundle), and so on down.
#pragma once

#include <cmath>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "ray/api/function_traits.h"
#include "ray/api/object_ref.h"
#include "ray/api/placement_group.h"
#include "ray/api/ray_exception.h"
#include "ray/api/ray_runtime.h"
#include "ray/api/runtime_env.h"
#include "ray/api/serializer.h"
#include "ray/api/xlang_function.h"

namespace ray::internal {

template <typename T>
struct IsObjectRef : std::false_type {};
template <typename T>
struct IsObjectRef<ObjectRef<T>> : std::true_type {
  using ValueType = T;
};

// Whether an argument of type Arg may be passed for a parameter of type Param.
template <typename Param, typename Arg>
constexpr bool ArgumentMatches() {
  using P = std::decay_t<Param>;
  using A = std::decay_t<Arg>;
  if constexpr (IsObjectRef<A>::value && IsObjectRef<P>::value) {
    return std::is_same_v<A, P>;  // the reference itself
  } else if constexpr (IsObjectRef<A>::value) {
    return std::is_convertible_v<typename IsObjectRef<A>::ValueType, P>;  // its value
  } else {
    return std::is_convertible_v<Arg, P>;
  }
}

// A static_assert per argument, so the compiler names the argument index and types.
template <size_t ArgumentIndex, typename Param, typename Arg>
struct CheckArgument {
  static_assert(ArgumentMatches<Param, Arg>(),
                "Remote(args...): this argument cannot be converted to the type of the "
                "function's parameter (an ObjectRef<T> argument counts as a T). The template arguments "
                "of CheckArgument in this message give the 0-based index, parameter and argument.");
  static constexpr bool kOk = true;
};

// Throws RayException unless every resource has a non-empty name and a non-negative quantity
// that is a whole number when above 1. Zero asks for none of it (SetResource("CPU", 0): a task
// that takes no CPU slot, as num_cpus=0 in Ray).
inline void ValidateResources(const std::unordered_map<std::string, double>& resources) {
  for (const auto& [name, value] : resources) {
    std::ostringstream quantity;
    quantity << value;
    if (name.empty()) {
      throw RayException("Resource name must not be empty (quantity " + quantity.str() + ")");
    }
    if (!(value >= 0) || std::isinf(value)) {
      throw RayException("Resource " + name + " must be a non-negative quantity, got " +
                         quantity.str());
    }
    if (value > 1 && value != std::floor(value)) {
      throw RayException("Resource " + name +
                         " above 1 must be a whole number, got " + quantity.str());
    }
  }
}

// Remote()'s checks of a placement group set with SetPlacementGroup: no scheduling strategy on
// top, and `resources` (what the task or actor will ask) fit in the bundle.
inline void CheckPlacement(const PlacementGroup& group, const PlacementOptions& placement,
                           const SchedulingStrategy& strategy,
                           const std::unordered_map<std::string, double>& resources,
                           const std::string& who) {
  if (placement.group_id.empty()) return;
  if (!std::holds_alternative<DefaultSchedulingStrategy>(strategy)) {
    throw RayException("SetPlacementGroup and SetSchedulingStrategy cannot be combined (" + who +
                       ")");
  }
  CheckFitsInBundle(group, placement.bundle_index, resources, who);
}

// Whether every argument matches its parameter (a static_assert per mismatch, naming it).
template <typename ArgsTuple, typename... Args, size_t... I>
constexpr bool AllArgumentsMatchImpl(std::index_sequence<I...>) {
  return (CheckArgument<I, std::tuple_element_t<I, ArgsTuple>, Args>::kOk && ... && true);
}
template <typename ArgsTuple, typename... Args>
constexpr bool AllArgumentsMatch() {
  return AllArgumentsMatchImpl<ArgsTuple, Args...>(std::index_sequence_for<Args...>{});
}

// One argument for a parameter of type Param: a reference to resolve (an ObjectRef<T> for a T
// parameter), else the value converted to Param and serialized.
template <typename Param, typename Arg>
TaskArgument MakeTaskArgument(size_t index, Arg&& arg) {
  using P = std::decay_t<Param>;
  using A = std::decay_t<Arg>;
  TaskArgument out;
  if constexpr (IsObjectRef<A>::value && !IsObjectRef<P>::value) {
    if (arg.BinaryID().empty()) {
      throw RayException("argument " + std::to_string(index + 1) +
                         " is an empty ObjectRef (default-constructed or moved from)");
    }
    out.is_ref = true;
    out.object_id = arg.BinaryID();
  } else if constexpr (std::is_same_v<A, P>) {
    out.value = Serializer::Serialize(arg);
  } else {
    const P converted = std::forward<Arg>(arg);
    out.value = Serializer::Serialize(converted);
  }
  return out;
}

template <typename ArgsTuple, size_t... I, typename... Args>
void BuildTaskArgumentsImpl(std::vector<TaskArgument>& out, std::index_sequence<I...>,
                            Args&&... args) {
  (out.push_back(
       MakeTaskArgument<std::tuple_element_t<I, ArgsTuple>>(I, std::forward<Args>(args))),
   ...);
}

// The arguments of a call of a function whose parameters are ArgsTuple (arity already checked).
template <typename ArgsTuple, typename... Args>
std::vector<TaskArgument> BuildTaskArguments(Args&&... args) {
  std::vector<TaskArgument> out;
  out.reserve(sizeof...(Args));
  BuildTaskArgumentsImpl<ArgsTuple>(out, std::index_sequence_for<Args...>{},
                                    std::forward<Args>(args)...);
  return out;
}

// The arguments of a call of Python code (xlang_function.h): each one by reference (a top-level
// ObjectRef<T>) or as msgpack; string literals travel as strings.
template <typename Arg>
TaskArgument MakeXlangArgument(size_t index, Arg&& arg) {
  using A = std::decay_t<Arg>;
  if constexpr (IsObjectRef<A>::value) {
    return MakeTaskArgument<typename IsObjectRef<A>::ValueType>(index, std::forward<Arg>(arg));
  } else if constexpr (std::is_convertible_v<const A&, std::string_view> &&
                       !std::is_same_v<A, std::string>) {
    return MakeTaskArgument<std::string>(index, std::string(std::string_view(arg)));
  } else {
    return MakeTaskArgument<A>(index, std::forward<Arg>(arg));
  }
}
template <typename... Args, size_t... I>
std::vector<TaskArgument> BuildXlangArgumentsImpl(std::index_sequence<I...>, Args&&... args) {
  std::vector<TaskArgument> out;
  out.reserve(sizeof...(Args));
  (out.push_back(MakeXlangArgument(I, std::forward<Args>(args))), ...);
  return out;
}
template <typename... Args>
std::vector<TaskArgument> BuildXlangArguments(Args&&... args) {
  return BuildXlangArgumentsImpl(std::index_sequence_for<Args...>{}, std::forward<Args>(args)...);
}

// F: a RAY_REMOTE function pointer, or ray::PyFunction<R> (xlang_function.h), which accepts any
// arguments.
template <typename F>
class TaskCaller {
  using Traits = FunctionTraits<F>;
  using ArgsTuple = typename Traits::ArgsTuple;
  using R = std::decay_t<typename Traits::ReturnType>;

 public:
  explicit TaskCaller(std::string function_name) : function_name_(std::move(function_name)) {}
  // A Python function (ray::Task(PyFunction<R>{module, name})).
  TaskCaller(std::string function_name, std::string python_module)
      : function_name_(std::move(function_name)) {
    options_.python_module = std::move(python_module);
  }

  // A display name for the task (logs, dashboards); default: the function name.
  TaskCaller& SetName(std::string name) {
    options_.name = std::move(name);
    return *this;
  }
  // Replaces the resources the task needs (default {"CPU": 1}).
  TaskCaller& SetResources(std::unordered_map<std::string, double> resources) {
    options_.resources = std::move(resources);
    return *this;
  }
  TaskCaller& SetResource(const std::string& name, double value) {
    options_.resources[name] = value;
    return *this;
  }
  // Beyond Ray's C++ API: where the task may run (ray/api/scheduling.h).
  TaskCaller& SetSchedulingStrategy(SchedulingStrategy strategy) {
    options_.strategy = std::move(strategy);
    return *this;
  }
  // Runs the task in bundle `bundle_index` of `group` (-1: any bundle with room); beyond Ray,
  // `capture_child_tasks` (see the top of this file).
  TaskCaller& SetPlacementGroup(const PlacementGroup& group, int bundle_index,
                                bool capture_child_tasks = false) {
    CheckPlacementGroupUse(group, bundle_index);
    placement_group_ = group;
    options_.placement = {group.GetID(), bundle_index, capture_child_tasks};
    return *this;
  }
  // The task's runtime env, merged over its parent's (the job's, or the submitting task's):
  // field by field, env_vars key by key, this one winning. Remote() throws
  // RayRuntimeEnvException for an unsupported field (e.g. pip), a working_dir that does not
  // exist or packs over the size limit.
  TaskCaller& SetRuntimeEnv(const RuntimeEnv& runtime_env) {
    options_.runtime_env = runtime_env.Serialize();
    return *this;
  }
  // Retries when the worker or node dies (default 3; -1 infinite; 0 none).
  TaskCaller& SetMaxRetries(int max_retries) {
    options_.max_retries = max_retries;
    return *this;
  }
  // Also retry (within max_retries) when the function throws.
  TaskCaller& SetRetryExceptions(bool retry_exceptions) {
    options_.retry_exceptions = retry_exceptions;
    return *this;
  }

  template <typename... Args>
  ObjectRef<R> Remote(Args&&... args) {
    static_assert(kIsXlang<F> || sizeof...(Args) == Traits::kArity,
                  "ray::Task(f).Remote(args...): the number of arguments differs from the number "
                  "of f's parameters");
    if constexpr (kIsXlang<F>) {
      ValidateResources(options_.resources);
      CheckPlacement(placement_group_, options_.placement, options_.strategy,
                     options_.resources.empty()
                         ? std::unordered_map<std::string, double>{{"CPU", 1}}
                         : options_.resources,
                     "task " + function_name_);
      std::string id = GetRuntime().SubmitTask(
          function_name_, BuildXlangArguments(std::forward<Args>(args)...), options_);
      return ObjectRef<R>(std::move(id));
    } else if constexpr (sizeof...(Args) == Traits::kArity) {  // no errors after the above
      static_assert(AllArgumentsMatch<ArgsTuple, Args...>());
      ValidateResources(options_.resources);
      CheckPlacement(placement_group_, options_.placement, options_.strategy,
                     options_.resources.empty()
                         ? std::unordered_map<std::string, double>{{"CPU", 1}}
                         : options_.resources,
                     "task " + function_name_);
      std::vector<TaskArgument> task_args =
          BuildTaskArguments<ArgsTuple>(std::forward<Args>(args)...);
      std::string id = GetRuntime().SubmitTask(function_name_, std::move(task_args), options_);
      return ObjectRef<R>(std::move(id));
    } else {
      return ObjectRef<R>();
    }
  }

 private:
  std::string function_name_;
  TaskOptions options_;
  PlacementGroup placement_group_;  // as given to SetPlacementGroup, for Remote()'s check
};

}  // namespace ray::internal
