#include "core_worker/task_event_buffer.h"

#include <chrono>

namespace moray::core {

namespace {

// Folds `later` (a later change of the same attempt) into `into`.
void Coalesce(proto::TaskEvent& into, proto::TaskEvent&& later) {
  auto& earlier = *into.mutable_earlier_states();
  if (into.state() != proto::TASK_STATE_NIL && !earlier.contains(into.state())) {
    earlier[into.state()] = into.timestamp_ns();
  }
  for (const auto& [state, ts] : later.earlier_states()) earlier.insert({state, ts});
  into.set_state(later.state());
  into.set_timestamp_ns(later.timestamp_ns());
  if (later.has_descriptive_fields()) {
    into.set_has_descriptive_fields(true);
    into.set_name(std::move(*later.mutable_name()));
    into.set_func_or_class_name(std::move(*later.mutable_func_or_class_name()));
    into.set_type(later.type());
    into.set_parent_task_id(std::move(*later.mutable_parent_task_id()));
    into.set_actor_id(std::move(*later.mutable_actor_id()));
    *into.mutable_required_resources() = std::move(*later.mutable_required_resources());
  }
  if (!later.node_id().empty()) into.set_node_id(std::move(*later.mutable_node_id()));
  if (!later.worker_id().empty()) into.set_worker_id(std::move(*later.mutable_worker_id()));
  if (later.worker_pid() != 0) into.set_worker_pid(later.worker_pid());
  if (!later.error_type().empty()) into.set_error_type(std::move(*later.mutable_error_type()));
  if (!later.error_message().empty()) {
    into.set_error_message(std::move(*later.mutable_error_message()));
  }
}

}  // namespace

void TaskEventBuffer::Record(proto::TaskEvent event) {
  std::string key = event.task_id();
  const int32_t attempt = event.attempt_number();
  key.append(reinterpret_cast<const char*>(&attempt), sizeof(attempt));
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find(key);
  if (it != index_.end()) {
    Coalesce(events_[it->second], std::move(event));
    return;
  }
  if (events_.size() >= capacity_) {
    ++dropped_;
    return;
  }
  index_.emplace(std::move(key), events_.size());
  events_.push_back(std::move(event));
}

std::vector<proto::TaskEvent> TaskEventBuffer::TakeBatch(int64_t* dropped) {
  std::lock_guard<std::mutex> lock(mutex_);
  *dropped = dropped_;
  dropped_ = 0;
  std::vector<proto::TaskEvent> batch;
  batch.swap(events_);
  index_.clear();
  return batch;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace moray::core
