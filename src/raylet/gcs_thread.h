// GcsThread: the raylet's one background thread for GCS calls. GCS calls are blocking round
// trips; the event loop must never wait on them, so it hands them here.
//
//   GcsThread gcs_thread(gcs_accessor, options);
//   gcs_thread.Start();
//   gcs_thread.Post([](GcsAccessor& gcs) { (void)gcs.MarkJobFinished(job_id); });
//   gcs_thread.SubmitReport(report);      // latest report wins; at most one is waiting
//   gcs_thread.AddTaskEvents(events, 0);  // buffered, flushed every flush_period in one batch
//   gcs_thread.ReportObjects(snapshot);   // latest per worker wins; flushed with the events
//   gcs_thread.DropObjects(worker_id);    // the worker is gone: its snapshot goes too
//   gcs_thread.Stop();                    // runs what was posted, flushes events, joins
//
// Results that the event loop needs travel back by the caller posting to the loop from inside the
// posted function. Thread model: every public method is thread-safe; posted functions run on the
// GCS thread, in order.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/id.h"
#include "raylet/gcs_accessor.h"

namespace moray::raylet {

class GcsThread {
 public:
  struct Options {
    absl::Duration flush_period = absl::Milliseconds(100);  // task events
    size_t max_buffered_events = 100000;                    // beyond this, events are dropped
    // Receives the cluster view the GCS returns for each report (on the GCS thread).
    std::function<void(proto::GetClusterStatusReply)> on_cluster_view;
    // Called (on the GCS thread) when the GCS refuses a report because it declared this node
    // dead, with its reason.
    std::function<void(const std::string&)> on_declared_dead;
  };

  // `gcs` must outlive this object.
  GcsThread(GcsAccessor* gcs, Options options);
  ~GcsThread();  // Stop()

  void Start();
  // Runs the functions already posted, sends the last report and the buffered events, then joins.
  void Stop();

  void Post(std::function<void(GcsAccessor&)> fn);
  void SubmitReport(proto::NodeResourceReport report);
  void AddTaskEvents(std::vector<proto::TaskEvent> events, int64_t dropped);

  // A core worker's object snapshot; replaces one of the same worker not sent yet.
  void ReportObjects(proto::WorkerObjects snapshot);
  // The worker is gone: forgets a snapshot not sent yet and tells the GCS to drop its snapshot.
  void DropObjects(const WorkerId& worker_id);

  int64_t dropped_task_events() const;

 private:
  void Run();
  void FlushTaskEvents();
  void FlushObjects();

  GcsAccessor* const gcs_;  // not owned
  const Options options_;
  std::thread thread_;

  mutable absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::deque<std::function<void(GcsAccessor&)>> queue_ ABSL_GUARDED_BY(mutex_);
  std::optional<proto::NodeResourceReport> report_ ABSL_GUARDED_BY(mutex_);
  std::vector<proto::TaskEvent> events_ ABSL_GUARDED_BY(mutex_);
  int64_t events_dropped_unsent_ ABSL_GUARDED_BY(mutex_) = 0;  // dropped, not yet told to the GCS
  int64_t events_dropped_total_ ABSL_GUARDED_BY(mutex_) = 0;
  std::map<WorkerId, proto::WorkerObjects> objects_ ABSL_GUARDED_BY(mutex_);
  std::vector<WorkerId> dead_object_workers_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace moray::raylet
