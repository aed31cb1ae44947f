#include "api/task_execution.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "api/actor_exit.h"
#include "api/task_error.h"
#include "common/log_marker.h"
#include "ray/api/serializer.h"

namespace moray::api {
namespace {

using ray::internal::Buffer;

// The actor this worker process hosts (set by its creation task), and whether an actor's factory
// or method runs on this thread (for ray::ExitActor).
std::shared_ptr<void> g_actor_instance;
thread_local bool tl_in_actor = false;

struct InActorScope {
  InActorScope() { tl_in_actor = true; }
  ~InActorScope() { tl_in_actor = false; }
};

// Tells the raylet's log agent whose output follows (common/log_marker.h): when the name of what
// this worker runs changes, C++ and C stdio are flushed and the marker line goes on both streams.
// Actor methods keep the actor's name (its creation's).
void AnnounceRunning(const std::string& name) {
  static std::mutex mutex;
  static std::string running;
  std::lock_guard<std::mutex> lock(mutex);
  if (name == running) return;
  running = name;
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const std::string line = NameMarkerLine(name);
  for (int fd : {1, 2}) {
    std::string_view rest = line;
    while (!rest.empty()) {
      const ssize_t n = write(fd, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      rest.remove_prefix(static_cast<size_t>(n));
    }
  }
}

void FailWith(core::TaskResult* result, proto::ErrorType type, std::string message) {
  result->error.set_type(type);
  result->error.set_message(std::move(message));
}

// A task with num_returns = n > 1 (not expressible in the public C++ API; the core and other
// front ends submit such tasks) returns a tuple or array of n values: each becomes one return.
void SplitReturns(const proto::TaskSpec& spec, core::TaskResult* result) {
  const int n = spec.num_returns();
  if (n <= 1 || result->error.type() != proto::ERROR_NONE || result->returns.size() != 1) return;
  const std::string packed = std::move(result->returns[0]);
  result->returns.clear();
  try {
    msgpack::object_handle handle = msgpack::unpack(packed.data(), packed.size());
    const msgpack::object& values = handle.get();
    if (values.type != msgpack::type::ARRAY || static_cast<int>(values.via.array.size) != n) {
      FailWith(result, proto::TASK_EXECUTION_EXCEPTION,
               absl::StrCat(spec.function_name(), " has num_returns=", n,
                            " and must return a tuple or array of ", n, " values"));
      return;
    }
    for (uint32_t i = 0; i < values.via.array.size; ++i) {
      msgpack::sbuffer out;
      msgpack::pack(out, values.via.array.ptr[i]);
      result->returns.emplace_back(out.data(), out.size());
    }
  } catch (const std::exception& e) {
    FailWith(
        result, proto::TASK_EXECUTION_EXCEPTION,
        absl::StrCat("cannot split the return value of ", spec.function_name(), ": ", e.what()));
  }
}

core::TaskResult ExecuteActorCreation(const proto::TaskSpec& spec,
                                      const std::vector<ray::internal::ArgView>& views) {
  core::TaskResult result;
  const auto* factory =
      ray::internal::FunctionManager::Instance().GetActorFactory(spec.function_name());
  if (!factory) {
    FailWith(&result, proto::FUNCTION_NOT_FOUND,
             absl::StrCat("The actor factory ", spec.function_name(),
                          " is not registered in this worker (pid ", getpid(),
                          "). Please use RAY_REMOTE to register it."));
    return result;
  }
  InActorScope scope;
  try {
    g_actor_instance = (*factory)(views);
    if (!g_actor_instance) {
      FailWith(&result, proto::TASK_EXECUTION_EXCEPTION,
               absl::StrCat("the factory ", spec.function_name(), " returned null"));
    }
  } catch (const ActorExitRequested&) {
    FailWith(&result, proto::ACTOR_DIED,
             absl::StrCat("The actor exited (ray::ExitActor in its factory ", spec.function_name(),
                          ")."));
    result.exit_actor = true;
  } catch (...) {
    FailWith(&result, proto::TASK_EXECUTION_EXCEPTION,
             FormatTaskError(spec.function_name(), std::current_exception()));
  }
  return result;
}

core::TaskResult ExecuteActorMethod(const proto::TaskSpec& spec,
                                    const std::vector<ray::internal::ArgView>& views) {
  core::TaskResult result;
  auto& functions = ray::internal::FunctionManager::Instance();
  const auto* method = functions.GetMemberFunction(spec.function_name());
  if (!method) {
    FailWith(&result, proto::FUNCTION_NOT_FOUND,
             absl::StrCat("The actor method ", spec.function_name(),
                          " is not registered in this worker (pid ", getpid(),
                          "). Please use RAY_REMOTE to register it."));
    return result;
  }
  void* target = g_actor_instance.get();
  if (!target) {
    FailWith(&result, proto::ACTOR_DIED, "This worker hosts no live actor instance.");
    return result;
  }
  if (!spec.adjuster_key().empty()) {
    auto adjust = functions.GetAdjuster(spec.adjuster_key());
    if (!adjust) {
      FailWith(&result, proto::FUNCTION_NOT_FOUND,
               absl::StrCat("The actor's process does not know the base-class conversion ",
                            spec.adjuster_key(), " needed to call ", spec.function_name(),
                            "; make sure the actor runs the same program or libraries as "
                            "the caller."));
      return result;
    }
    target = adjust(target);
  }
  InActorScope scope;
  try {
    result.returns.push_back((*method)(target, views));
    SplitReturns(spec, &result);
  } catch (const ActorExitRequested&) {
    FailWith(&result, proto::ACTOR_DIED,
             absl::StrCat("The actor exited (ray::ExitActor in ", spec.function_name(), ")."));
    result.exit_actor = true;
  } catch (...) {
    FailWith(&result, proto::TASK_EXECUTION_EXCEPTION,
             FormatTaskError(spec.function_name(), std::current_exception()));
    result.app_error = true;
  }
  return result;
}

}  // namespace

core::TaskResult ExecuteRegistered(const proto::TaskSpec& spec,
                                   const std::vector<std::shared_ptr<Buffer>>& args) {
  if (spec.type() == proto::ACTOR_CREATION_TASK) {
    // "ns::Counter.__init__" (or a factory's name) -> "Counter", as Ray shows an actor.
    std::string name = spec.name();
    if (const size_t init = name.rfind(".__init__"); init != std::string::npos) name.resize(init);
    if (const size_t scope = name.rfind("::"); scope != std::string::npos) name.erase(0, scope + 2);
    AnnounceRunning(name);
  } else if (spec.type() != proto::ACTOR_TASK) {
    AnnounceRunning(spec.name());
  }
  if (spec.type() == proto::ACTOR_CREATION_TASK || spec.type() == proto::ACTOR_TASK) {
    std::vector<ray::internal::ArgView> views;
    views.reserve(args.size());
    for (const auto& arg : args) views.push_back({arg->Data(), arg->Size()});
    return spec.type() == proto::ACTOR_CREATION_TASK ? ExecuteActorCreation(spec, views)
                                                     : ExecuteActorMethod(spec, views);
  }
  core::TaskResult result;
  const auto* function =
      ray::internal::FunctionManager::Instance().GetFunction(spec.function_name());
  if (!function) {
    result.error.set_type(proto::FUNCTION_NOT_FOUND);
    result.error.set_message(absl::StrCat(
        "Function ", spec.function_name(), " is not registered in this worker (pid ", getpid(),
        "). Please use RAY_REMOTE to register this function, and make sure the worker runs the "
        "same program or libraries as the driver."));
    return result;
  }
  std::vector<ray::internal::ArgView> views;
  views.reserve(args.size());
  for (const auto& arg : args) views.push_back({arg->Data(), arg->Size()});
  try {
    result.returns.push_back((*function)(views));
    SplitReturns(spec, &result);
  } catch (...) {
    result.error.set_type(proto::TASK_EXECUTION_EXCEPTION);
    result.error.set_message(FormatTaskError(spec.function_name(), std::current_exception()));
    result.app_error = true;
  }
  return result;
}

bool InActorCode() { return tl_in_actor; }

}  // namespace moray::api
