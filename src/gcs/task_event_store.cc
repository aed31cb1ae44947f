#include "gcs/task_event_store.h"

#include <algorithm>
#include <cstring>

#include "absl/time/clock.h"
#include "gcs/task_columns.h"
#include "gcs/task_record_match.h"

namespace moray::gcs {
namespace {

bool IsTerminal(proto::TaskState state) {
  return state == proto::FINISHED || state == proto::FAILED;
}

// The enum is declared in lifecycle order, so the numeric value is the rank.
int Rank(proto::TaskState state) { return static_cast<int>(state); }

// How many recently used shared values are compared before making a new one.
constexpr size_t kRecentShared = 4;

// Finds a recent value equal to what `equal` looks for, moving it to the front; or puts
// `make()` in front (dropping the least recently used past kRecentShared).
template <typename T, typename Equal, typename Make>
std::shared_ptr<const T> Share(std::vector<std::shared_ptr<const T>>& recent, Equal equal,
                               Make make) {
  for (size_t i = 0; i < recent.size(); ++i) {
    if (!equal(*recent[i])) continue;
    std::rotate(recent.begin(), recent.begin() + static_cast<long>(i),
                recent.begin() + static_cast<long>(i) + 1);
    return recent.front();
  }
  if (recent.size() == kRecentShared) recent.pop_back();
  recent.insert(recent.begin(), std::make_shared<const T>(make()));
  return recent.front();
}

}  // namespace

TaskEventStore::TaskEventStore(TaskEventStoreOptions options)
    : options_{.max_records = std::max<size_t>(1, options.max_records)} {}

void TaskEventStore::AddEvents(const google::protobuf::RepeatedPtrField<proto::TaskEvent>& events,
                               int64_t dropped_by_reporter) {
  absl::MutexLock lock(&mu_);
  num_events_dropped_ += std::max<int64_t>(0, dropped_by_reporter);
  for (const auto& event : events) {
    const Key key{TaskId::FromBinary(event.task_id()), event.attempt_number()};
    if (key.task_id.IsNil()) {
      ++num_events_dropped_;  // malformed: nothing to merge it into
      continue;
    }
    Merge(event, key);
  }
}

std::pair<uint64_t, TaskEventStore::Record*> TaskEventStore::FindOrInsert(const Key& key) {
  auto it = index_.find(key);
  if (it != index_.end()) return {it->second, &records_.at(it->second)};
  if (records_.size() >= options_.max_records) EvictOne();
  const uint64_t seq = next_seq_++;
  index_.emplace(key, seq);
  Record& record = records_.emplace_hint(records_.end(), seq, Record{})->second;
  record.key = key;
  return {seq, &record};
}

void TaskEventStore::EvictOne() {
  uint64_t victim = finished_seqs_.empty() ? records_.begin()->first : *finished_seqs_.begin();
  auto it = records_.find(victim);
  index_.erase(it->second.key);
  records_.erase(it);
  finished_seqs_.erase(victim);
  ++num_evicted_;
}

std::shared_ptr<const TaskEventStore::Descriptive> TaskEventStore::ShareDescriptive(
    const proto::TaskEvent& e) {
  auto equal = [&e](const Descriptive& d) {
    if (d.type != e.type() || d.name != e.name() ||
        d.func_or_class_name != e.func_or_class_name() ||
        d.parent_task_id != TaskId::FromBinary(e.parent_task_id()) ||
        d.actor_id != ActorId::FromBinary(e.actor_id()) ||
        d.resources.size() != e.required_resources().size()) {
      return false;
    }
    for (const auto& [name, amount] : d.resources) {
      auto it = e.required_resources().find(name);
      if (it == e.required_resources().end() || it->second != amount) return false;
    }
    return true;
  };
  auto make = [&e] {
    Descriptive d{e.name(),
                  e.func_or_class_name(),
                  TaskId::FromBinary(e.parent_task_id()),
                  ActorId::FromBinary(e.actor_id()),
                  e.type(),
                  {}};
    d.resources.assign(e.required_resources().begin(), e.required_resources().end());
    std::sort(d.resources.begin(), d.resources.end());
    return d;
  };
  return Share(recent_descriptive_, equal, make);
}

std::shared_ptr<const TaskEventStore::Execution> TaskEventStore::ShareExecution(Execution wanted) {
  auto equal = [&wanted](const Execution& x) {
    return x.worker_pid == wanted.worker_pid && x.node_id == wanted.node_id &&
           x.worker_id == wanted.worker_id;
  };
  return Share(recent_execution_, equal, [&wanted] { return std::move(wanted); });
}

void TaskEventStore::Merge(const proto::TaskEvent& event, const Key& key) {
  auto [seq, record] = FindOrInsert(key);
  Record& r = *record;
  if (!event.job_id().empty()) r.job_id = JobId::FromBinary(event.job_id());
  if (event.has_descriptive_fields()) r.descriptive = ShareDescriptive(event);
  if (!event.node_id().empty() || !event.worker_id().empty() || event.worker_pid() != 0) {
    Execution x = r.execution ? *r.execution : Execution{};
    if (!event.node_id().empty()) x.node_id = NodeId::FromBinary(event.node_id());
    if (!event.worker_id().empty()) x.worker_id = WorkerId::FromBinary(event.worker_id());
    if (event.worker_pid() != 0) x.worker_pid = event.worker_pid();
    r.execution = ShareExecution(std::move(x));
  }
  if (!event.error_type().empty() || !event.error_message().empty()) {
    if (!r.error) r.error = std::make_unique<std::pair<std::string, std::string>>();
    if (!event.error_type().empty()) r.error->first = event.error_type();
    if (!event.error_message().empty()) r.error->second = event.error_message();
  }
  for (const auto& [state, ts] : event.earlier_states()) {
    ApplyState(seq, r, static_cast<proto::TaskState>(state), ts);
  }
  if (event.state() == proto::TASK_STATE_NIL) return;
  ApplyState(seq, r, event.state(),
             event.timestamp_ns() != 0 ? event.timestamp_ns() : absl::GetCurrentTimeNanos());
}

void TaskEventStore::ApplyState(uint64_t seq, Record& r, proto::TaskState state, int64_t ts) {
  if (!proto::TaskState_IsValid(state) || state == proto::TASK_STATE_NIL) return;
  int64_t& first = r.first_ns[static_cast<size_t>(state)];
  if (first == 0 || ts < first) first = ts;
  if (Rank(state) > Rank(r.state)) {
    r.state = state;
    if (IsTerminal(r.state)) finished_seqs_.insert(seq);
  }
}

proto::TaskRecord TaskEventStore::ToProto(const Record& r) {
  proto::TaskRecord out;
  out.set_task_id(r.key.task_id.Binary());
  out.set_attempt_number(r.key.attempt);
  out.set_state(r.state);
  out.set_job_id(r.job_id.Binary());
  if (const Descriptive* d = r.descriptive.get()) {
    out.set_name(d->name);
    out.set_func_or_class_name(d->func_or_class_name);
    out.set_type(d->type);
    out.set_parent_task_id(d->parent_task_id.Binary());
    out.set_actor_id(d->actor_id.Binary());
    out.mutable_required_resources()->insert(d->resources.begin(), d->resources.end());
  }
  if (const Execution* x = r.execution.get()) {
    out.set_node_id(x->node_id.Binary());
    out.set_worker_id(x->worker_id.Binary());
    out.set_worker_pid(x->worker_pid);
  }
  if (r.error) {
    out.set_error_type(r.error->first);
    out.set_error_message(r.error->second);
  }
  for (int state = 0; state < task_event_store_internal::kNumStates; ++state) {
    if (r.first_ns[state] == 0) continue;
    (*out.mutable_state_times_ns())[TaskStateName(static_cast<proto::TaskState>(state))] =
        r.first_ns[state];
  }
  return out;
}

absl::StatusOr<proto::GetTasksReply> TaskEventStore::GetTasks(
    const proto::GetTasksRequest& request) const {
  auto matcher = TaskRecordMatcher::Create(request.filters());
  if (!matcher.ok()) return matcher.status();
  const int64_t offset = std::max<int64_t>(0, request.offset());
  const int64_t limit = request.limit();
  proto::GetTasksReply reply;
  int64_t total = 0;
  absl::MutexLock lock(&mu_);
  if (matcher->empty()) {
    // Every record matches: jump to the page instead of walking to it.
    total = static_cast<int64_t>(records_.size());
    int64_t skipped = 0;
    auto it = records_.begin();
    if (offset >= total) {
      it = records_.end();
    } else if (offset > total / 2) {
      it = records_.end();
      for (int64_t back = total - offset; back > 0; --back) --it;
    } else {
      for (; skipped < offset; ++skipped) ++it;
    }
    for (; it != records_.end() && (limit <= 0 || reply.tasks_size() < limit); ++it) {
      *reply.add_tasks() = ToProto(it->second);
    }
  } else {
    for (const auto& [seq, stored] : records_) {
      if (!matcher->Matches(stored)) continue;
      ++total;
      if (total > offset && (limit <= 0 || reply.tasks_size() < limit)) {
        *reply.add_tasks() = ToProto(stored);
      }
    }
  }
  reply.set_total(total);
  reply.set_num_truncated(total - reply.tasks_size());
  reply.set_num_evicted(num_evicted_);
  reply.set_num_events_dropped(num_events_dropped_);
  reply.set_num_dropped(num_evicted_ + num_events_dropped_);
  return reply;
}

proto::SummarizeTasksReply TaskEventStore::SummarizeTasks() const {
  struct Group {
    std::string_view name;
    proto::TaskType type = proto::NORMAL_TASK;
    std::array<int64_t, task_event_store_internal::kNumStates> counts{};
    int64_t total = 0;
    size_t first_seen = 0;
  };
  proto::SummarizeTasksReply reply;
  absl::MutexLock lock(&mu_);
  // Records share their Descriptive, so the group of most records is found by pointer; the
  // (name, type) map is consulted once per distinct Descriptive.
  std::vector<Group> groups;
  absl::flat_hash_map<std::pair<std::string_view, int>, size_t> by_key;
  absl::flat_hash_map<const Descriptive*, size_t> by_descriptive;
  static const std::string kEmpty;
  for (const auto& [seq, r] : records_) {
    const Descriptive* d = r.descriptive.get();
    auto [cached, fresh] = by_descriptive.try_emplace(d, 0);
    if (fresh) {
      std::pair<std::string_view, int> key{d ? std::string_view(d->func_or_class_name) : kEmpty,
                                           d ? static_cast<int>(d->type) : 0};
      auto [it, inserted] = by_key.try_emplace(key, groups.size());
      if (inserted) {
        groups.push_back({.name = key.first,
                          .type = static_cast<proto::TaskType>(key.second),
                          .first_seen = groups.size()});
      }
      cached->second = it->second;
    }
    Group& group = groups[cached->second];
    ++group.counts[static_cast<size_t>(r.state)];
    ++group.total;
  }
  std::vector<const Group*> ordered;
  ordered.reserve(groups.size());
  for (const Group& group : groups) ordered.push_back(&group);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const Group* a, const Group* b) { return a->total > b->total; });
  for (const Group* group : ordered) {
    switch (group->type) {
      case proto::ACTOR_CREATION_TASK:
        reply.set_total_actor_scheduled(reply.total_actor_scheduled() + group->total);
        break;
      case proto::ACTOR_TASK:
        reply.set_total_actor_tasks(reply.total_actor_tasks() + group->total);
        break;
      default:
        reply.set_total_tasks(reply.total_tasks() + group->total);
        break;
    }
    proto::TaskSummaryGroup* out = reply.add_groups();
    out->set_func_or_class_name(std::string(group->name));
    out->set_type(group->type);
    out->set_total(group->total);
    for (size_t state = 0; state < group->counts.size(); ++state) {
      if (group->counts[state] == 0) continue;
      proto::TaskStateCount* count = out->add_state_counts();
      count->set_state(static_cast<proto::TaskState>(state));
      count->set_count(group->counts[state]);
    }
  }
  reply.set_num_evicted(num_evicted_);
  reply.set_num_events_dropped(num_events_dropped_);
  reply.set_num_dropped(num_evicted_ + num_events_dropped_);
  return reply;
}

size_t TaskEventStore::size() const {
  absl::MutexLock lock(&mu_);
  return records_.size();
}

}  // namespace moray::gcs
