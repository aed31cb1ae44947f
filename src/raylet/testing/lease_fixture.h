// A LeaseManager over fake workers ("w1" of job "J"), for the lease and bundle tests.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/testing/named_ids.h"
#include "gtest/gtest.h"
#include "raylet/lease_manager.h"
#include "raylet/worker_source.h"

namespace moray::raylet::testing {

using moray::testing::NamedId;
inline WorkerId W(std::string_view name) { return NamedId<WorkerId>(name); }
inline JobId J(std::string_view name) { return NamedId<JobId>(name); }
// The name a test gave an id (its bytes up to the padding).
template <typename T>
inline std::string NameOf(const T& id) {
  std::string bytes(id.View());
  return bytes.substr(0, bytes.find('\0'));
}

// Workers by name ("w1"), of jobs by name ("J").
class FakeWorkers : public WorkerSource {
 public:
  std::optional<LeasableWorker> PopIdleWorker(const JobId& job_id, const std::string&) override {
    auto& idle = idle_[NameOf(job_id)];
    if (idle.empty()) return std::nullopt;
    LeasableWorker worker = idle.front();
    idle.pop_front();
    return worker;
  }
  void StartWorkers(const JobId& job_id, const proto::RuntimeEnvInfo&, proto::Language,
                    int wanted) override {
    wanted_[NameOf(job_id)] = wanted;
  }
  void ReturnWorker(const WorkerId& worker_id, bool reuse) override {
    returned.emplace_back(NameOf(worker_id), reuse);
    if (reuse) AddIdle(job_of_.at(NameOf(worker_id)), NameOf(worker_id));
  }
  void KillWorker(const WorkerId& worker_id, const std::string&) override {
    killed.push_back(NameOf(worker_id));
  }

  void AddIdle(const std::string& job_id, const std::string& worker_id) {
    LeasableWorker worker;
    worker.worker_id = W(worker_id);
    worker.pid = 1000 + static_cast<int>(worker_id.back());
    worker.address.set_port(2000 + static_cast<int>(worker_id.back()));
    job_of_[worker_id] = job_id;
    idle_[job_id].push_back(worker);
  }
  int wanted(const std::string& job_id) { return wanted_[job_id]; }

  std::vector<std::pair<std::string, bool>> returned;
  std::vector<std::string> killed;

 private:
  std::map<std::string, std::deque<LeasableWorker>> idle_;
  std::map<std::string, int> wanted_;
  std::map<std::string, std::string> job_of_;
};

class LeaseManagerTest : public ::testing::Test {
 protected:
  // `gpu_ids`: the node's GPU ids (empty: 0 .. GPU-1).
  void MakeNode(const std::map<std::string, double>& total, std::vector<int> gpu_ids = {}) {
    manager_ = std::make_unique<LeaseManager>(
        *scheduling::ResourceSet::FromMap(total), &workers_, [this] { ++changes_; },
        std::move(gpu_ids));
  }
  // Requests a lease; its reply lands in replies_[lease_id].
  void Request(LeaseManager::ClientId client, int64_t lease_id,
               const std::map<std::string, double>& resources, const std::string& job = "J") {
    proto::RequestWorkerLeaseRequest request;
    request.set_lease_id(lease_id);
    request.set_job_id(J(job).Binary());
    for (const auto& [name, value] : resources) (*request.mutable_resources())[name] = value;
    manager_->RequestLease(client, request, [this, lease_id](const Reply& reply) {
      EXPECT_FALSE(replies_.contains(lease_id)) << "replied twice";
      replies_.emplace(lease_id, reply);
    });
  }
  bool Granted(int64_t lease_id) {
    auto it = replies_.find(lease_id);
    return it != replies_.end() && it->second.ok() && it->second->granted();
  }

  // The GPU ids a granted lease's reply carries.
  std::vector<int> GpuIdsOf(int64_t lease_id) {
    EXPECT_TRUE(Granted(lease_id)) << "lease " << lease_id;
    if (!Granted(lease_id)) return {};
    const auto& ids = replies_.at(lease_id)->gpu_ids();
    return std::vector<int>(ids.begin(), ids.end());
  }

  FakeWorkers workers_;
  std::unique_ptr<LeaseManager> manager_;
  using Reply = absl::StatusOr<proto::RequestWorkerLeaseReply>;
  std::map<int64_t, Reply> replies_;  // by lease id
  int changes_ = 0;
};

}  // namespace moray::raylet::testing
