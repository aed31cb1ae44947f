// What both submitters (normal_task_submitter.h, actor_task_submitter.h) do the same way: wait
// for locally owned arguments, store a finished task's returns, and record task events.
//
// Thread model: the core worker's I/O loop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/id.h"
#include "core_worker/context.h"
#include "worker.pb.h"

namespace moray::core {

// Inlines the small values of arguments this process owns into the spec, and calls `done` (on
// the loop thread) once every owned argument is ready — at once when none is pending. Large
// values stay references (the executor reads them from the object store). `done` receives the
// first error an argument holds (type ERROR_NONE if none). Pending arguments are inlined into
// `lookup()` when they become ready; `lookup` returns nullptr once the task is gone (nothing
// runs then).
void ResolveLocalDependencies(CoreContext* context, proto::TaskSpec* spec,
                              std::function<proto::TaskSpec*()> lookup,
                              std::function<void(const proto::ErrorInfo&)> done);

// The common case first: inlines what is ready and returns true (with `*error` set to the first
// error an argument holds) if no owned argument is pending; false otherwise (then call
// ResolveLocalDependencies, which finishes the job).
bool ResolveReadyDependencies(CoreContext* context, proto::TaskSpec* spec,
                              proto::ErrorInfo* error);

// The error a cancelled task's returns hold (TASK_CANCELLED, naming the task), wherever it was
// cancelled: in the owner's queue, on the worker, or while it ran.
proto::ErrorInfo TaskCancelledError(const proto::TaskSpec& spec);

// Stores the returns of a finished task in the memory store: the reply's values, or `error` (or
// the reply's error) in every return slot. Then releases the task's hold on its arguments.
void StoreTaskReturns(CoreContext* context, const proto::TaskSpec& spec,
                      const proto::TaskReply* reply, const proto::ErrorInfo* error);

// Puts a return value `id` of `spec` into the node's store on `owner`'s behalf and returns the
// stored value's size. The id may be there already: an earlier attempt sealed it before its
// reply was lost, or a copy was pulled here before the task ran again to rebuild the object.
// That copy is the object's value (readers may have seen it), so it stays and this succeeds. A
// copy still being written (a transfer, another attempt) is waited for up to `unsealed_wait`;
// one abandoned meanwhile is replaced. Blocks on the store: not for the I/O loop unless
// `unsealed_wait` is zero.
absl::StatusOr<int64_t> StoreReturnValue(object_store::StoreClient& store, const ObjectId& id,
                                         const std::string& data, const proto::TaskSpec& spec,
                                         const proto::Address& owner, absl::Duration unsealed_wait);
// The error a return holds when it could not be stored (OBJECT_STORE_FULL when the store is).
proto::ErrorInfo ReturnStoreError(const proto::TaskSpec& spec, size_t size,
                                  const absl::Status& status);

// Releases the task's hold on its arguments (by reference and nested in values).
void ReleaseTaskArgs(CoreContext* context, const proto::TaskSpec& spec);
// The opposite: holds the spec's argument refs (and refs nested in by-value arguments) once more.
void HoldTaskArgs(CoreContext* context, const proto::TaskSpec& spec);

// Records one state change of the task's current attempt; `descriptive` adds the fields that
// describe the task (name, type, resources, ...), sent once per attempt.
void RecordTaskEvent(CoreContext* context, const proto::TaskSpec& spec, proto::TaskState state,
                     bool descriptive = false, const proto::ErrorInfo* error = nullptr);

}  // namespace moray::core
