#include "core_worker/task_event_buffer.h"

#include <chrono>

namespace moray::core {

void TaskEventBuffer::Record(const TaskId& task_id, int32_t attempt,
                             absl::FunctionRef<void(proto::TaskEvent&)> fill) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find(std::pair<TaskId, int32_t>(task_id, attempt));
  if (it != index_.end()) {
    // A later change of the same attempt: its current state becomes an earlier one.
    proto::TaskEvent& event = *building_.mutable_events(it->second);
    if (event.state() != proto::TASK_STATE_NIL) {
      event.mutable_earlier_states()->insert({event.state(), event.timestamp_ns()});
    }
    fill(event);
    return;
  }
  if (static_cast<size_t>(building_.events_size()) >= capacity_) {
    ++dropped_;
    return;
  }
  proto::TaskEvent& event = *building_.add_events();  // a cleared event of an earlier batch
  event.set_task_id(task_id.Binary());
  event.set_attempt_number(attempt);
  fill(event);
  index_.emplace(std::pair<TaskId, int32_t>(task_id, attempt), building_.events_size() - 1);
}

void TaskEventBuffer::Flush(absl::FunctionRef<void(const proto::ReportTaskEventsRequest&)> send) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (building_.events_size() == 0 && dropped_ == 0) return;
    building_.set_dropped(dropped_);
    dropped_ = 0;
    index_.clear();
    building_.Swap(&sending_);  // building_ gets the last batch's cleared events to reuse
  }
  send(sending_);
  sending_.Clear();  // keeps the event objects for reuse
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace moray::core
