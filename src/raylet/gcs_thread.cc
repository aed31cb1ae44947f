#include "raylet/gcs_thread.h"

#include <algorithm>
#include <utility>

#include "spdlog/spdlog.h"

namespace moray::raylet {

GcsThread::GcsThread(GcsAccessor* gcs, Options options) : gcs_(gcs), options_(options) {}

GcsThread::~GcsThread() { Stop(); }

void GcsThread::Start() { thread_ = std::thread([this] { Run(); }); }

void GcsThread::Stop() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void GcsThread::Post(std::function<void(GcsAccessor&)> fn) {
  absl::MutexLock lock(&mutex_);
  queue_.push_back(std::move(fn));
}

void GcsThread::SubmitReport(proto::NodeResourceReport report) {
  absl::MutexLock lock(&mutex_);
  report_ = std::move(report);
}

void GcsThread::AddTaskEvents(std::vector<proto::TaskEvent> events, int64_t dropped) {
  absl::MutexLock lock(&mutex_);
  events_dropped_unsent_ += dropped;
  events_dropped_total_ += dropped;
  for (auto& event : events) {
    if (events_.size() >= options_.max_buffered_events) {
      ++events_dropped_unsent_;
      ++events_dropped_total_;
      continue;
    }
    events_.push_back(std::move(event));
  }
}

void GcsThread::ReportObjects(proto::WorkerObjects snapshot) {
  absl::MutexLock lock(&mutex_);
  const WorkerId worker_id = WorkerId::FromBinary(snapshot.worker_id());
  objects_[worker_id] = std::move(snapshot);
}

void GcsThread::DropObjects(const WorkerId& worker_id) {
  absl::MutexLock lock(&mutex_);
  objects_.erase(worker_id);
  dead_object_workers_.push_back(worker_id);
}

void GcsThread::FlushObjects() {
  std::map<WorkerId, proto::WorkerObjects> snapshots;
  std::vector<WorkerId> dead;
  {
    absl::MutexLock lock(&mutex_);
    snapshots.swap(objects_);
    dead.swap(dead_object_workers_);
  }
  if (snapshots.empty() && dead.empty()) return;
  std::vector<proto::WorkerObjects> batch;
  batch.reserve(snapshots.size());
  for (auto& [id, snapshot] : snapshots) batch.push_back(std::move(snapshot));
  absl::Status status = gcs_->ReportObjects(batch, dead);
  if (!status.ok()) {
    spdlog::warn("ReportObjects failed ({} snapshots): {}", batch.size(), status.ToString());
    // Retried with the next flush, unless newer snapshots or drops of the same workers came in.
    absl::MutexLock lock(&mutex_);
    for (auto& snapshot : batch) {
      const WorkerId worker_id = WorkerId::FromBinary(snapshot.worker_id());
      bool dropped = std::find(dead_object_workers_.begin(), dead_object_workers_.end(),
                               worker_id) != dead_object_workers_.end();
      if (!dropped) objects_.try_emplace(worker_id, std::move(snapshot));
    }
    dead_object_workers_.insert(dead_object_workers_.begin(), dead.begin(), dead.end());
  }
}

int64_t GcsThread::dropped_task_events() const {
  absl::MutexLock lock(&mutex_);
  return events_dropped_total_;
}

void GcsThread::FlushTaskEvents() {
  std::vector<proto::TaskEvent> batch;
  int64_t dropped = 0;
  {
    absl::MutexLock lock(&mutex_);
    batch.swap(events_);
    dropped = std::exchange(events_dropped_unsent_, 0);
  }
  if (batch.empty() && dropped == 0) return;
  const size_t batch_size = batch.size();
  absl::Status status = gcs_->AddTaskEvents(std::move(batch), dropped);
  if (!status.ok()) {
    spdlog::warn("dropping {} task events: AddTaskEvents failed: {}", batch_size,
                 status.ToString());
    absl::MutexLock lock(&mutex_);
    events_dropped_unsent_ += dropped + static_cast<int64_t>(batch_size);
    events_dropped_total_ += static_cast<int64_t>(batch_size);
  }
}

void GcsThread::Run() {
  absl::Time next_flush = absl::Now() + options_.flush_period;
  while (true) {
    std::function<void(GcsAccessor&)> fn;
    std::optional<proto::NodeResourceReport> report;
    bool stopping = false;
    {
      absl::MutexLock lock(&mutex_);
      auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
        return stopping_ || !queue_.empty() || report_.has_value();
      };
      mutex_.AwaitWithDeadline(absl::Condition(&has_work), next_flush);
      // The report first: a newer one replaces it anyway, and it must not trail an
      // UnregisterNode posted at shutdown.
      if (report_.has_value()) {
        report = std::move(report_);
        report_.reset();
      } else if (!queue_.empty()) {
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      stopping = stopping_ && !fn && !report;
    }
    if (fn) fn(*gcs_);
    if (report) {
      auto cluster = gcs_->ReportResources(*report);
      if (!cluster.ok() && absl::IsFailedPrecondition(cluster.status()) &&
          options_.on_declared_dead) {
        options_.on_declared_dead(std::string(cluster.status().message()));
      } else if (!cluster.ok()) {
        spdlog::warn("ReportResources failed: {}", cluster.status().ToString());
      } else if (options_.on_cluster_view) {
        options_.on_cluster_view(*std::move(cluster));
      }
    }
    if (stopping || absl::Now() >= next_flush) {
      FlushTaskEvents();
      FlushObjects();
      next_flush = absl::Now() + options_.flush_period;
    }
    if (stopping) return;
  }
}

}  // namespace moray::raylet
