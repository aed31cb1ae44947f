#include "api/task_cancel.h"

#include "absl/strings/str_cat.h"
#include "ray/api/ray_exception.h"

namespace moray::api {

void CancelledTasks::Mark(const TaskId& task_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (marked_.insert(task_id).second) ++count_;
}

bool CancelledTasks::Contains(const TaskId& task_id) const {
  if (count_.load(std::memory_order_relaxed) == 0 || task_id.IsNil()) return false;
  std::lock_guard<std::mutex> lock(mutex_);
  return marked_.contains(task_id);
}

void CancelledTasks::ThrowIfCancelled(const TaskId& task_id) const {
  if (Contains(task_id)) {
    throw ray::internal::TaskCancelledException(
        absl::StrCat("Task ", task_id.Hex(), " was cancelled (ray::Cancel)."));
  }
}

void CancelledTasks::Forget(const TaskId& task_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (marked_.erase(task_id) > 0) --count_;
}

}  // namespace moray::api
