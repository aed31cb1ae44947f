// Task events behind `moray list tasks` / `moray summary tasks`: merges the events of each task
// attempt (owners report submission, executors report execution) into one TaskRecord.
//
// Merge rules: descriptive fields come from events with has_descriptive_fields; execution fields
// (node, worker, pid, error) from any event that sets them; the state is the furthest along the
// lifecycle seen so far, so a late RUNNING never undoes FINISHED; state_times_ns keeps the first
// time each state was reached.
//
// Memory is bounded: past `max_records` the oldest finished (FINISHED/FAILED) record is evicted
// first, else the oldest record; evictions are counted and reported as dropped.
//
//   TaskEventStore store({.max_records = 100000});
//   store.AddEvents(request.events(), request.dropped());
//   auto reply = store.GetTasks(get_tasks_request);  // filtered, then limited
//
// Thread model: thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gcs.pb.h"

namespace moray::gcs {

struct TaskEventStoreOptions {
  // Records kept at most (one per task attempt). At least 1.
  size_t max_records = 100000;
};

class TaskEventStore {
 public:
  explicit TaskEventStore(TaskEventStoreOptions options = {});

  // Merges `events`. `dropped_by_reporter` counts events a reporter could not send (its buffer
  // was full); it adds to the dropped count GetTasks reports.
  void AddEvents(const google::protobuf::RepeatedPtrField<proto::TaskEvent>& events,
                 int64_t dropped_by_reporter);

  // Records matching every filter, oldest first, at most request.limit() of them (<= 0: all).
  // total counts every match; num_truncated the matches left out by the limit.
  // InvalidArgument for an unknown filter key or operator.
  absl::StatusOr<proto::GetTasksReply> GetTasks(const proto::GetTasksRequest& request) const;

  size_t size() const;

 private:
  using Key = std::pair<std::string, int32_t>;  // (task_id, attempt_number)
  struct Entry {
    uint64_t seq = 0;  // insertion order; smaller is older
    proto::TaskRecord record;
  };

  void Merge(const proto::TaskEvent& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyState(Entry& entry, proto::TaskState state, int64_t ts) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Entry& FindOrInsert(const proto::TaskEvent& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EvictOne() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const TaskEventStoreOptions options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<Key, Entry> records_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Key> by_seq_ ABSL_GUARDED_BY(mu_);
  std::set<uint64_t> finished_seqs_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t num_dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace moray::gcs
