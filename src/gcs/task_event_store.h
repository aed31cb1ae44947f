// Task events behind `moray list tasks` / `moray summary tasks`: merges the events of each task
// attempt (owners report submission, executors report execution) into one record.
//
// Merge rules: descriptive fields come from events with has_descriptive_fields; execution fields
// (node, worker, pid, error) from any event that sets them; the state is the furthest along the
// lifecycle seen so far, so a late RUNNING never undoes FINISHED; state times keep the first
// time each state was reached.
//
// Memory is bounded: past `max_records` the oldest finished (FINISHED/FAILED) record is evicted
// first, else the oldest record; evictions are counted (num_evicted) apart from the events
// reporters dropped (num_events_dropped), and both are reported by GetTasks and SummarizeTasks.
//
// Queries scan the records in insertion order and test filters on the compact records
// (task_record_match.h); only returned records become protos, so filtering, paging to a deep
// offset and summarising a million records take milliseconds.
//
// Every task event of the cluster passes through here, so records are compact: descriptive and
// execution fields are shared between records with the same values (a driver's many calls of
// one function, a worker's many tasks), state times are an array, and a record becomes a
// proto::TaskRecord only when listed.
//
//   TaskEventStore store({.max_records = 100000});
//   store.AddEvents(request.events(), request.dropped());
//   auto reply = store.GetTasks(get_tasks_request);  // filtered, then offset, then limited
//   auto summary = store.SummarizeTasks();            // counts by function and state
//
// Thread model: thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/id.h"
#include "gcs.pb.h"

namespace moray::gcs {

struct TaskEventStoreOptions {
  // Records kept at most (one per task attempt). At least 1.
  size_t max_records = 100000;
};

namespace task_event_store_internal {

// (task id, attempt).
struct Key {
  TaskId task_id;
  int32_t attempt = 0;
  friend bool operator==(const Key&, const Key&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Key& k) {
    return H::combine(std::move(h), k.task_id, k.attempt);
  }
};
// Fields set at submission, alike for many tasks: shared by their records.
struct Descriptive {
  std::string name, func_or_class_name;
  TaskId parent_task_id;
  ActorId actor_id;
  proto::TaskType type = proto::NORMAL_TASK;
  std::vector<std::pair<std::string, double>> resources;  // sorted by name
};
// Where an attempt ran, alike for a worker's tasks: shared by their records.
struct Execution {
  NodeId node_id;
  WorkerId worker_id;
  int32_t worker_pid = 0;
};
inline constexpr int kNumStates = proto::TaskState_ARRAYSIZE;
struct Record {
  Key key;
  proto::TaskState state = proto::TASK_STATE_NIL;
  JobId job_id;
  std::shared_ptr<const Descriptive> descriptive;
  std::shared_ptr<const Execution> execution;
  std::unique_ptr<std::pair<std::string, std::string>> error;  // type, message; rare
  std::array<int64_t, kNumStates> first_ns{};                  // 0: not reached
};

}  // namespace task_event_store_internal

class TaskEventStore {
 public:
  explicit TaskEventStore(TaskEventStoreOptions options = {});

  // Merges `events`. `dropped_by_reporter` counts events a reporter could not send (its buffer
  // was full); it adds to the dropped count GetTasks reports. An event without a task id, or
  // with one of the wrong size, is malformed and counted as dropped.
  void AddEvents(const google::protobuf::RepeatedPtrField<proto::TaskEvent>& events,
                 int64_t dropped_by_reporter);

  // Records matching every filter, oldest first: the first request.offset() matches skipped,
  // then at most request.limit() of them (<= 0: all). total counts every match; num_truncated
  // the matches not returned (skipped or past the limit).
  // InvalidArgument for an unknown filter key or operator.
  absl::StatusOr<proto::GetTasksReply> GetTasks(const proto::GetTasksRequest& request) const;

  // Every record counted by (func_or_class_name, type) and state, as `moray summary tasks`
  // shows them: groups largest first, ties in the order their first record arrived.
  proto::SummarizeTasksReply SummarizeTasks() const;

  size_t size() const;

 private:
  using Key = task_event_store_internal::Key;
  using Descriptive = task_event_store_internal::Descriptive;
  using Execution = task_event_store_internal::Execution;
  using Record = task_event_store_internal::Record;

  void Merge(const proto::TaskEvent& event, const Key& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyState(uint64_t seq, Record& record, proto::TaskState state, int64_t ts)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::pair<uint64_t, Record*> FindOrInsert(const Key& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EvictOne() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A shared Descriptive / Execution equal to the wanted fields: one recently used, or new.
  std::shared_ptr<const Descriptive> ShareDescriptive(const proto::TaskEvent& event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::shared_ptr<const Execution> ShareExecution(Execution wanted)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static proto::TaskRecord ToProto(const Record& record);

  const TaskEventStoreOptions options_;
  mutable absl::Mutex mu_;
  absl::btree_map<uint64_t, Record> records_ ABSL_GUARDED_BY(mu_);  // by insertion order
  absl::flat_hash_map<Key, uint64_t> index_ ABSL_GUARDED_BY(mu_);    // -> its seq
  absl::btree_set<uint64_t> finished_seqs_ ABSL_GUARDED_BY(mu_);
  // The few Descriptive / Execution values used last (most recent first).
  std::vector<std::shared_ptr<const Descriptive>> recent_descriptive_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<const Execution>> recent_execution_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t num_evicted_ ABSL_GUARDED_BY(mu_) = 0;         // records evicted past the cap
  int64_t num_events_dropped_ ABSL_GUARDED_BY(mu_) = 0;  // by reporters, and malformed
};

}  // namespace moray::gcs
