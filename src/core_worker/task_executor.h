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

class TaskExecutor {
 public:
  using ExecuteFn = std::function<TaskResult(
      const proto::TaskSpec& spec, const std::vector<std::shared_ptr<ray::internal::Buffer>>& args)>;
  // Fetches argument values from their owners, blocking: the CoreWorker's Get.
  using GetArgsFn = std::function<absl::StatusOr<std::vector<StoredObject>>(
      const std::vector<std::string>& ids, const std::vector<proto::Address>& owners)>;

  TaskExecutor(CoreContext* context, GetArgsFn get_args);

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

  CoreContext* const context_;  // not owned; outlives this
  const GetArgsFn get_args_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Queued> queue_;     // guarded by mutex_
  bool stopped_ = false;         // guarded by mutex_
  std::string current_task_id_;  // guarded by mutex_
};

}  // namespace moray::core
