#include "gcs/task_event_store.h"

#include <algorithm>
#include <vector>

#include "absl/time/clock.h"
#include "gcs/task_columns.h"

namespace moray::gcs {
namespace {

bool IsTerminal(proto::TaskState state) {
  return state == proto::FINISHED || state == proto::FAILED;
}

// The enum is declared in lifecycle order, so the numeric value is the rank.
int Rank(proto::TaskState state) { return static_cast<int>(state); }

}  // namespace

TaskEventStore::TaskEventStore(TaskEventStoreOptions options)
    : options_{.max_records = std::max<size_t>(1, options.max_records)} {}

void TaskEventStore::AddEvents(const google::protobuf::RepeatedPtrField<proto::TaskEvent>& events,
                               int64_t dropped_by_reporter) {
  absl::MutexLock lock(&mu_);
  num_dropped_ += std::max<int64_t>(0, dropped_by_reporter);
  for (const auto& event : events) {
    if (event.task_id().empty()) {
      ++num_dropped_;  // malformed: nothing to merge it into
      continue;
    }
    Merge(event);
  }
}

TaskEventStore::Entry& TaskEventStore::FindOrInsert(const proto::TaskEvent& event) {
  Key key(event.task_id(), event.attempt_number());
  auto it = records_.find(key);
  if (it != records_.end()) return it->second;
  if (records_.size() >= options_.max_records) EvictOne();
  Entry& entry = records_[key];
  entry.seq = next_seq_++;
  entry.record.set_task_id(event.task_id());
  entry.record.set_attempt_number(event.attempt_number());
  by_seq_.emplace(entry.seq, std::move(key));
  return entry;
}

void TaskEventStore::EvictOne() {
  uint64_t victim = finished_seqs_.empty() ? by_seq_.begin()->first : *finished_seqs_.begin();
  auto it = by_seq_.find(victim);
  records_.erase(it->second);
  by_seq_.erase(it);
  finished_seqs_.erase(victim);
  ++num_dropped_;
}

void TaskEventStore::Merge(const proto::TaskEvent& event) {
  Entry& entry = FindOrInsert(event);
  proto::TaskRecord& r = entry.record;
  if (!event.job_id().empty()) r.set_job_id(event.job_id());
  if (event.has_descriptive_fields()) {
    r.set_name(event.name());
    r.set_func_or_class_name(event.func_or_class_name());
    r.set_type(event.type());
    r.set_parent_task_id(event.parent_task_id());
    r.set_actor_id(event.actor_id());
    *r.mutable_required_resources() = event.required_resources();
  }
  if (!event.node_id().empty()) r.set_node_id(event.node_id());
  if (!event.worker_id().empty()) r.set_worker_id(event.worker_id());
  if (event.worker_pid() != 0) r.set_worker_pid(event.worker_pid());
  if (!event.error_type().empty()) r.set_error_type(event.error_type());
  if (!event.error_message().empty()) r.set_error_message(event.error_message());

  for (const auto& [state, ts] : event.earlier_states()) {
    ApplyState(entry, static_cast<proto::TaskState>(state), ts);
  }
  if (event.state() == proto::TASK_STATE_NIL) return;
  ApplyState(entry, event.state(),
             event.timestamp_ns() != 0 ? event.timestamp_ns() : absl::GetCurrentTimeNanos());
}

void TaskEventStore::ApplyState(Entry& entry, proto::TaskState state, int64_t ts) {
  if (!proto::TaskState_IsValid(state) || state == proto::TASK_STATE_NIL) return;
  proto::TaskRecord& r = entry.record;
  auto& times = *r.mutable_state_times_ns();
  const std::string& state_name = TaskStateName(state);
  auto time_it = times.find(state_name);
  if (time_it == times.end() || ts < time_it->second) times[state_name] = ts;
  if (Rank(state) > Rank(r.state())) {
    r.set_state(state);
    if (IsTerminal(r.state())) finished_seqs_.insert(entry.seq);
  }
}

absl::StatusOr<proto::GetTasksReply> TaskEventStore::GetTasks(
    const proto::GetTasksRequest& request) const {
  std::vector<TaskFilter> filters;
  filters.reserve(request.filters_size());
  for (const auto& f : request.filters()) {
    auto filter = TaskFilter::Create(f);
    if (!filter.ok()) return filter.status();
    filters.push_back(*std::move(filter));
  }
  const int64_t limit = request.limit();
  proto::GetTasksReply reply;
  int64_t total = 0;
  absl::MutexLock lock(&mu_);
  for (const auto& [seq, key] : by_seq_) {
    const proto::TaskRecord& record = records_.at(key).record;
    bool match = std::all_of(filters.begin(), filters.end(),
                             [&](const TaskFilter& f) { return f.Matches(record); });
    if (!match) continue;
    ++total;
    if (limit <= 0 || reply.tasks_size() < limit) *reply.add_tasks() = record;
  }
  reply.set_total(total);
  reply.set_num_truncated(total - reply.tasks_size());
  reply.set_num_dropped(num_dropped_);
  return reply;
}

size_t TaskEventStore::size() const {
  absl::MutexLock lock(&mu_);
  return records_.size();
}

}  // namespace moray::gcs
