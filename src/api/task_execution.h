// The bridge from the core worker to the function registry on a worker: runs the task a spec
// names (a RAY_REMOTE function, an actor's factory or one of its methods) over its arguments and
// turns what happens into a TaskResult (the value, or the error type and message the caller's
// Get raises). The actor a worker hosts lives here, set by its creation task.
//
//   worker.RunTaskLoop(&ExecuteRegistered);
//
// Thread model: the worker's task threads (an actor's calls may run on several at once).
#pragma once

#include <memory>
#include <vector>

#include "common.pb.h"
#include "core_worker/core_worker.h"
#include "ray/api/function_manager.h"

namespace moray::api {

core::TaskResult ExecuteRegistered(const proto::TaskSpec& spec,
                                   const std::vector<std::shared_ptr<ray::internal::Buffer>>& args);

// Whether an actor's factory or method runs on this thread (ray::ExitActor may be called).
bool InActorCode();

}  // namespace moray::api
