// FakeGcsAccessor: an in-memory GcsAccessor for tests. Records what the raylet sent and lets a
// test wait (with a deadline) until a condition on that record holds.
//
//   auto gcs = std::make_unique<FakeGcsAccessor>();
//   FakeGcsAccessor* fake = gcs.get();
//   ... start a Raylet with std::move(gcs) ...
//   ASSERT_TRUE(fake->WaitFor([](const FakeGcsAccessor::State& s) { return s.reports.size() > 2; },
//                             absl::Seconds(5)));
//
// Thread model: all methods are thread-safe (one mutex).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/id.h"
#include "raylet/gcs_accessor.h"

namespace moray::raylet {

class FakeGcsAccessor : public GcsAccessor {
 public:
  struct State {
    std::vector<proto::NodeInfo> registered_nodes;
    std::vector<NodeId> unregistered_nodes;
    std::vector<proto::NodeResourceReport> reports;
    std::map<JobId, proto::JobInfo> jobs;
    std::vector<JobId> finished_jobs;
    std::vector<proto::TaskEvent> task_events;
    int64_t dropped_task_events = 0;
    std::map<WorkerId, proto::WorkerObjects> objects;  // latest snapshot of each worker
    std::vector<WorkerId> dropped_object_workers;
    uint32_t next_job = 1;
    absl::Status add_job_error;  // when not OK, AddJob fails with it
  };

  absl::Status RegisterNode(const proto::NodeInfo& node) override {
    return Update([&](State& s) { s.registered_nodes.push_back(node); });
  }
  absl::Status UnregisterNode(const NodeId& node_id, const std::string&) override {
    return Update([&](State& s) { s.unregistered_nodes.push_back(node_id); });
  }
  absl::StatusOr<proto::GetClusterStatusReply> ReportResources(
      const proto::NodeResourceReport& report) override {
    absl::Status status = Update([&](State& s) { s.reports.push_back(report); });
    if (!status.ok()) return status;
    return proto::GetClusterStatusReply();  // no other nodes
  }
  absl::StatusOr<JobId> AddJob(const proto::JobInfo& job) override {
    absl::MutexLock lock(&mutex_);
    if (!state_.add_job_error.ok()) return state_.add_job_error;
    const JobId id = JobIdFromInt(state_.next_job++);
    proto::JobInfo stored = job;
    stored.set_job_id(id.Binary());
    state_.jobs[id] = stored;
    return id;
  }
  absl::Status MarkJobFinished(const JobId& job_id) override {
    return Update([&](State& s) {
      s.finished_jobs.push_back(job_id);
      s.jobs[job_id].set_is_dead(true);
    });
  }
  absl::Status AddTaskEvents(std::vector<proto::TaskEvent> events, int64_t dropped) override {
    return Update([&](State& s) {
      s.task_events.insert(s.task_events.end(), events.begin(), events.end());
      s.dropped_task_events += dropped;
    });
  }

  absl::Status ReportObjects(const std::vector<proto::WorkerObjects>& snapshots,
                             const std::vector<WorkerId>& dead_worker_ids) override {
    return Update([&](State& s) {
      for (const auto& snapshot : snapshots) {
        s.objects[WorkerId::FromBinary(snapshot.worker_id())] = snapshot;
      }
      for (const auto& id : dead_worker_ids) {
        s.objects.erase(id);
        s.dropped_object_workers.push_back(id);
      }
    });
  }

  // Runs `fn` on the state under the lock.
  absl::Status Update(const std::function<void(State&)>& fn) {
    absl::MutexLock lock(&mutex_);
    fn(state_);
    return absl::OkStatus();
  }
  // Waits until `condition` holds or `timeout` passes; returns whether it holds.
  bool WaitFor(const std::function<bool(const State&)>& condition, absl::Duration timeout) {
    absl::MutexLock lock(&mutex_);
    auto holds = [&] { return condition(state_); };
    return mutex_.AwaitWithTimeout(absl::Condition(&holds), timeout);
  }
  State Snapshot() {
    absl::MutexLock lock(&mutex_);
    return state_;
  }

 private:
  absl::Mutex mutex_;
  State state_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace moray::raylet
