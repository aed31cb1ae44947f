// TaskExecutor: the worker's side of a task. Owners push tasks over their connection; the executor
// queues them (in arrival order per owner) and runs them one at a time on the thread that calls
// RunLoop (the worker's main thread), then sends each reply back on the owner's connection.
//
// Thread model: OnPushTasks/OnOwnerDisconnected run on the I/O loop; RunLoop on the main thread;
// Stop and CurrentTaskId from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core_worker/context.h"
#include "node.pb.h"

namespace moray::core {

// What running a task produced: its return value (msgpack) or an error.
struct TaskResult {
  std::string data;
  proto::ErrorInfo error;   // type != ERROR_NONE: failed
  bool app_error = false;   // user code threw (retried only with retry_exceptions)
};

// What the executor needs from the rest of the core worker (implemented by CoreWorker).
class TaskExecutionHost {
 public:
  virtual ~TaskExecutionHost() = default;
  // Fetches argument values from their owners, blocking.
  virtual absl::StatusOr<std::vector<StoredObject>> GetArgs(
      const std::vector<std::string>& ids, const std::vector<proto::Address>& owners) = 0;
  // Before the task runs: hold its by-reference and nested arguments here (registering this
  // process as a borrower where needed), and start collecting refs the task's return holds.
  virtual void AcquireTaskRefs(const proto::TaskSpec& spec) = 0;
  // After the reply is sent.
  virtual void ReleaseTaskRefs(const proto::TaskSpec& spec) = 0;
  // The refs serialized into the return value, each registered for `receiver` with its owner.
  virtual std::vector<proto::NestedRef> TakeReturnRefs(const proto::Address& receiver) = 0;
};

class TaskExecutor {
 public:
  using ExecuteFn = std::function<TaskResult(
      const proto::TaskSpec& spec, const std::vector<std::shared_ptr<ray::internal::Buffer>>& args)>;

  TaskExecutor(CoreContext* context, TaskExecutionHost* host);

  void OnPushTasks(const std::shared_ptr<rpc::Connection>& owner, rpc::Frame&& frame);
  void OnOwnerDisconnected(const std::shared_ptr<rpc::Connection>& owner);

  // Runs tasks until Stop().
  void RunLoop(const ExecuteFn& execute);
  void Stop();

  // The task running now, or empty.
  std::string CurrentTaskId() const;
  bool InTask() const;

 private:
  struct Queued {
    std::shared_ptr<rpc::Connection> owner;
    proto::TaskSpec spec;
  };
  proto::TaskReply Execute(const Queued& item, const ExecuteFn& execute);
  void RecordState(const proto::TaskSpec& spec, proto::TaskState state,
                   const proto::ErrorInfo* error = nullptr);

  CoreContext* const context_;      // not owned; outlives this
  TaskExecutionHost* const host_;   // not owned; outlives this
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Queued> queue_;     // guarded by mutex_
  bool stopped_ = false;         // guarded by mutex_
  std::string current_task_id_;  // guarded by mutex_
};

}  // namespace moray::core
