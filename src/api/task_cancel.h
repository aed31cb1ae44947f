// Cancel inside C++ tasks: the core worker's cancel hook (CoreWorkerOptions::on_cancel_running)
// marks the running task here, and the task's next runtime call from any of its threads (Get,
// Wait, Put, a Remote) throws ray::TaskCancelledException — C++ cannot interrupt a thread, so the
// task stops at its next call into Moray (or, with force, its worker is killed).
//
//   auto cancelled = std::make_shared<CancelledTasks>();
//   options.on_cancel_running = [cancelled](const TaskId& id) { cancelled->Mark(id); };
//   ...
//   cancelled->ThrowIfCancelled(worker.CurrentTaskId());  // in each runtime call
//
// Thread model: thread-safe; Mark runs on the core worker's I/O thread, the rest on task threads.
#pragma once

#include <atomic>
#include <mutex>
#include <unordered_set>

#include "absl/base/thread_annotations.h"
#include "common/id.h"

namespace moray::api {

class CancelledTasks {
 public:
  void Mark(const TaskId& task_id);
  // Throws ray::internal::TaskCancelledException if `task_id` was marked.
  void ThrowIfCancelled(const TaskId& task_id) const;
  bool Contains(const TaskId& task_id) const;
  // The task ended: its mark goes.
  void Forget(const TaskId& task_id);

 private:
  std::atomic<int> count_{0};  // marked tasks: the common case (none) takes no lock
  mutable std::mutex mutex_;
  std::unordered_set<TaskId> marked_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace moray::api
