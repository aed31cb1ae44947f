#include "core_worker/task_event_buffer.h"

#include <chrono>

namespace moray::core {

void TaskEventBuffer::Record(proto::TaskEvent event) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (events_.size() >= capacity_) {
    ++dropped_;
    return;
  }
  events_.push_back(std::move(event));
}

std::vector<proto::TaskEvent> TaskEventBuffer::TakeBatch(int64_t* dropped) {
  std::lock_guard<std::mutex> lock(mutex_);
  *dropped = dropped_;
  dropped_ = 0;
  std::vector<proto::TaskEvent> batch;
  batch.swap(events_);
  return batch;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace moray::core
