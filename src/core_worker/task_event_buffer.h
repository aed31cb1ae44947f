// TaskEventBuffer: task state changes recorded by this core worker, sent in batches (straight to
// the GCS, or through the raylet), so nothing per task touches the GCS synchronously. Changes of
// one task attempt recorded between two batches travel as one event (the earlier states in
// TaskEvent::earlier_states): most tasks cost one event per process, not one per state.
//
// Events are written in place into the batch being built, and the event objects of a sent batch
// are reused (with their strings' capacity) by the next ones: recording allocates little.
//
//   buffer.Record(spec.task_id(), spec.attempt_number(), [&](proto::TaskEvent& e) {
//     e.set_state(proto::RUNNING);
//     e.set_timestamp_ns(NowNs());
//   });
//   buffer.Flush([&](const proto::ReportTaskEventsRequest& batch) { send(batch); });
//
// Thread model: Record is thread-safe and cheap (a lock and in-place writes); Flush runs on one
// thread (the I/O loop).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "common/id.h"
#include "gcs.pb.h"

namespace moray::core {

class TaskEventBuffer {
 public:
  explicit TaskEventBuffer(size_t capacity = 200000) : capacity_(capacity) {}

  // Records a change of the attempt (task_id, attempt). `fill` sets the state, timestamp and the
  // fields it knows on the attempt's event: a fresh one, or the one recorded since the last
  // batch (its state has then moved to earlier_states). `fill` only sets fields, never clears
  // them, and never touches task_id or attempt_number; setting
  // has_descriptive_fields replaces the descriptive ones. Past `capacity` events
  // in a batch, new attempts are counted as dropped.
  void Record(const TaskId& task_id, int32_t attempt,
              absl::FunctionRef<void(proto::TaskEvent&)> fill);
  // Off: Record does nothing (MORAY_ENABLE_TASK_EVENTS=0; set before the first Record).
  void set_enabled(bool enabled) { enabled_ = enabled; }

  // Hands everything recorded since the last Flush (and the number of events dropped) to `send`,
  // unless there is nothing at all.
  void Flush(absl::FunctionRef<void(const proto::ReportTaskEventsRequest&)> send);

 private:
  const size_t capacity_;
  bool enabled_ = true;
  std::mutex mutex_;
  proto::ReportTaskEventsRequest building_;  // guarded by mutex_
  // (task id, attempt) -> its event's index in building_.
  absl::flat_hash_map<std::pair<TaskId, int32_t>, int> index_;  // guarded by mutex_
  int64_t dropped_ = 0;                                         // guarded by mutex_
  proto::ReportTaskEventsRequest sending_;  // Flush's thread: the last batch, cleared for reuse
};

// Nanoseconds since the epoch, for event timestamps.
int64_t NowNs();

}  // namespace moray::core
