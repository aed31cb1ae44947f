// TaskEventBuffer: task state changes recorded by this core worker, sent to its raylet in batches
// (the raylet forwards them to the GCS), so nothing per task touches the GCS synchronously.
// Changes of one task attempt recorded between two batches travel as one event (the earlier
// states in TaskEvent::earlier_states): most tasks cost one event per process, not one per state.
//
// Thread model: Record is thread-safe and cheap (a lock and a push); TakeBatch runs on the I/O loop.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common.pb.h"

namespace moray::core {

class TaskEventBuffer {
 public:
  explicit TaskEventBuffer(size_t capacity = 200000) : capacity_(capacity) {}

  void Record(proto::TaskEvent event);
  // Moves out everything recorded so far and the number of events dropped since the last batch.
  std::vector<proto::TaskEvent> TakeBatch(int64_t* dropped);

 private:
  const size_t capacity_;
  std::mutex mutex_;
  std::vector<proto::TaskEvent> events_;  // guarded by mutex_
  // (task id, attempt) -> its event in events_; guarded by mutex_.
  std::unordered_map<std::string, size_t> index_;
  int64_t dropped_ = 0;                   // guarded by mutex_
};

// Nanoseconds since the epoch, for event timestamps.
int64_t NowNs();

}  // namespace moray::core
