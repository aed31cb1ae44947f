#include "raylet/lease_manager.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/id.h"
#include "scheduling/group_resources.h"
#include "spdlog/spdlog.h"

namespace moray::raylet {
namespace {

std::string PoolKeyOf(const proto::RequestWorkerLeaseRequest& request) {
  return WorkerPoolKey(request.language(), request.runtime_env().hash());
}

}  // namespace

namespace {

std::vector<int> DefaultGpuIds(const scheduling::ResourceSet& total, std::vector<int> ids) {
  if (!ids.empty()) return ids;
  const int64_t count = total.GetUnits(scheduling::kGPU) / scheduling::kResourceUnit;
  for (int i = 0; i < count; ++i) ids.push_back(i);
  return ids;
}

}  // namespace

LeaseManager::LeaseManager(scheduling::ResourceSet total, WorkerSource* workers,
                           std::function<void()> on_change, std::vector<int> gpu_ids)
    : total_(total),
      available_(total),
      gpus_(DefaultGpuIds(total, std::move(gpu_ids))),
      workers_(workers),
      on_change_(std::move(on_change)) {}

void LeaseManager::RequestLease(ClientId client, const proto::RequestWorkerLeaseRequest& request,
                                ReplyFn reply) {
  std::map<std::string, double> asked(request.resources().begin(), request.resources().end());
  if (asked.empty()) asked[scheduling::kCPU] = 1;
  absl::StatusOr<scheduling::ResourceSet> resources = scheduling::ResourceSet::FromMap(asked);
  if (!resources.ok()) {
    reply(absl::InvalidArgumentError(
        absl::StrCat("invalid lease request: ", resources.status().message())));
    return;
  }
  const Key key{client, request.lease_id()};
  if (queued_.contains(key) || leases_.contains(key)) {
    reply(absl::AlreadyExistsError(absl::StrCat("lease id ", request.lease_id(), " is already in use")));
    return;
  }
  queue_.push_back(Pending{key, JobId::FromBinary(request.job_id()), *std::move(resources),
                           std::move(reply), !request.actor_id().empty(), request});
  queued_[key] = std::prev(queue_.end());
  Schedule();
  Changed();
}

void LeaseManager::CancelLease(ClientId client, int64_t lease_id) {
  auto it = queued_.find({client, lease_id});
  if (it == queued_.end()) return;  // granted already, or unknown: nothing to do
  Pending pending = std::move(*it->second);
  queue_.erase(it->second);
  queued_.erase(it);
  proto::RequestWorkerLeaseReply reply;
  reply.set_lease_id(lease_id);
  reply.set_canceled(true);
  pending.reply(reply);
  Changed();
}

void LeaseManager::ReturnWorker(ClientId client, int64_t lease_id, bool disconnect_worker,
                                bool keep_worker) {
  auto it = leases_.find({client, lease_id});
  if (it == leases_.end()) {
    // Expected in a race: the GCS returns the lease of an actor worker whose connection closed,
    // while this raylet freed it already because the process exited.
    spdlog::debug("ReturnWorker for unknown lease {} of client {}", lease_id, client);
    return;
  }
  Lease lease = std::move(it->second);
  leases_.erase(it);
  lease_of_worker_.erase(lease.worker_id);
  FreeLease(lease);
  if (keep_worker && !disconnect_worker) {
    Schedule();
    Changed();
    return;
  }
  workers_->ReturnWorker(lease.worker_id, /*reuse=*/!disconnect_worker);
  Schedule();
  Changed();
}

scheduling::ResourceSet LeaseManager::BlockedPart(const Lease& lease) const {
  // Its CPU, plain or of a placement group's bundle (so a task blocked on a child in the same
  // bundle does not starve it).
  scheduling::ResourceSet cpu;
  for (const auto& [name, units] : lease.resources.units()) {
    if (name == scheduling::kCPU ||
        (absl::StartsWith(name, "CPU_group_") && scheduling::IsGroupScoped(name))) {
      cpu.SetUnits(name, units);
    }
  }
  return cpu;
}

bool LeaseManager::Fits(const Pending& pending, const scheduling::ResourceSet& unclaimed) const {
  return unclaimed.Contains(pending.resources) && gpus_.CanAssign(GpuUnitsOf(pending.resources));
}

void LeaseManager::FreeLease(const Lease& lease) {
  gpus_.Release(lease.gpus);
  scheduling::ResourceSet held = lease.resources;
  if (lease.blocked) held.Subtract(BlockedPart(lease));  // already given back
  available_.Add(held);
}

void LeaseManager::NotifyBlocked(const WorkerId& worker_id) {
  auto it = lease_of_worker_.find(worker_id);
  if (it == lease_of_worker_.end()) return;  // a driver, or a worker without a lease
  Lease& lease = leases_.at(it->second);
  if (lease.blocked) return;
  lease.blocked = true;
  available_.Add(BlockedPart(lease));
  Schedule();
  Changed();
}

void LeaseManager::NotifyUnblocked(const WorkerId& worker_id) {
  auto it = lease_of_worker_.find(worker_id);
  if (it == lease_of_worker_.end()) return;
  Lease& lease = leases_.at(it->second);
  if (!lease.blocked) return;
  lease.blocked = false;
  available_.Subtract(BlockedPart(lease));  // may oversubscribe the node for a while
  Changed();
}

void LeaseManager::OnClientDisconnected(ClientId client) {
  bool changed = false;
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (it->key.first == client) {
      queued_.erase(it->key);
      it = queue_.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  std::vector<WorkerId> orphans;
  for (auto it = leases_.lower_bound({client, INT64_MIN});
       it != leases_.end() && it->first.first == client;) {
    FreeLease(it->second);
    lease_of_worker_.erase(it->second.worker_id);
    orphans.push_back(it->second.worker_id);
    it = leases_.erase(it);
    changed = true;
  }
  // Their owner is gone, so nobody will push tasks to or return these workers.
  for (const WorkerId& worker_id : orphans) workers_->KillWorker(worker_id, kSystemError);
  if (changed) {
    Schedule();
    Changed();
  }
}

void LeaseManager::OnWorkerDied(const WorkerId& worker_id) {
  auto it = lease_of_worker_.find(worker_id);
  if (it == lease_of_worker_.end()) return;
  auto lease = leases_.find(it->second);
  FreeLease(lease->second);
  leases_.erase(lease);
  lease_of_worker_.erase(it);
  Schedule();
  Changed();
}

void LeaseManager::FailJobRequests(const JobId& job_id, const std::string& pool_key,
                                   const std::string& error) {
  std::vector<Pending> failed;
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (it->job_id == job_id && PoolKeyOf(it->request) == pool_key) {
      queued_.erase(it->key);
      failed.push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  // A runtime env's setup failure keeps its own text ("runtime env setup failed: ..."), which
  // owners recognise.
  for (Pending& pending : failed) pending.reply(absl::FailedPreconditionError(error));
  if (!failed.empty()) Changed();
}

void LeaseManager::Schedule() {
  if (scheduling_) {
    reschedule_ = true;
    return;
  }
  scheduling_ = true;
  bool granted_any = false;
  do {
    reschedule_ = false;
    // What would remain if every request waiting only for a worker got one: bounds how many
    // workers are worth starting.
    scheduling::ResourceSet unclaimed = available_;
    // Per (job, worker pool): how many workers, and the env (copied: a granted request goes).
    struct Wanted {
      int count = 0;
      proto::RuntimeEnvInfo env;
      proto::Language language = proto::CPP;
    };
    std::map<std::pair<JobId, std::string>, Wanted> workers_wanted;
    auto want = [&](const Pending& pending) {
      auto [w, added] =
          workers_wanted.try_emplace(std::make_pair(pending.job_id, PoolKeyOf(pending.request)));
      if (added) {
        if (pending.request.has_runtime_env()) w->second.env = pending.request.runtime_env();
        w->second.language = pending.request.language();
      }
      ++w->second.count;
    };
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (!total_.Contains(it->resources)) {
        ++it;  // infeasible
        continue;
      }
      if (!Fits(*it, unclaimed)) {
        if (it->for_actor) want(*it);  // its worker starts meanwhile
        ++it;  // waiting for resources
        continue;
      }
      std::optional<LeasableWorker> worker =
          workers_->PopIdleWorker(it->job_id, PoolKeyOf(it->request));
      if (!worker) {
        want(*it);
        unclaimed.Subtract(it->resources);
        ++it;
        continue;
      }
      Pending pending = std::move(*it);
      queued_.erase(pending.key);
      it = queue_.erase(it);
      available_.Subtract(pending.resources);
      unclaimed.Subtract(pending.resources);
      // Fits() said the pool can name them, and nothing took any since.
      GpuAssignment gpus = gpus_.Assign(GpuUnitsOf(pending.resources)).value_or(GpuAssignment{});
      std::vector<int> gpu_ids = gpus.ids();
      leases_[pending.key] = Lease{worker->worker_id, pending.resources, false, std::move(gpus)};
      lease_of_worker_[worker->worker_id] = pending.key;
      granted_any = true;
      proto::RequestWorkerLeaseReply reply;
      reply.set_lease_id(pending.key.second);
      reply.set_granted(true);
      *reply.mutable_worker_address() = worker->address;
      reply.set_worker_pid(worker->pid);
      for (int id : gpu_ids) reply.add_gpu_ids(id);
      spdlog::debug("granted lease {} of client {} ({}) to worker {} pid {}", pending.key.second,
                    pending.key.first, pending.resources.DebugString(), worker->worker_id.Hex(),
                    worker->pid);
      pending.reply(reply);
    }
    for (const auto& [key, wanted] : workers_wanted) {
      workers_->StartWorkers(key.first, wanted.env, wanted.language, wanted.count);
    }
  } while (reschedule_);
  scheduling_ = false;
  if (granted_any) Changed();
}

bool LeaseManager::Reserve(const scheduling::ResourceSet& resources) {
  if (!available_.Contains(resources)) return false;
  available_.Subtract(resources);
  Changed();
  return true;
}

void LeaseManager::Unreserve(const scheduling::ResourceSet& resources) {
  available_.Add(resources);
  Schedule();
  Changed();
}

void LeaseManager::AddCapacity(const scheduling::ResourceSet& resources) {
  total_.Add(resources);
  available_.Add(resources);
  Schedule();
  Changed();
}

void LeaseManager::RemoveCapacity(const scheduling::ResourceSet& resources) {
  total_.Subtract(resources);
  available_.Subtract(resources);
  Changed();
}

void LeaseManager::EndGroup(const PlacementGroupId& group, const std::string& error) {
  auto uses = [&](const scheduling::ResourceSet& r) {
    return !scheduling::OfGroup(r, group).empty();
  };
  std::vector<Pending> failed;
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (uses(it->resources)) {
      queued_.erase(it->key);
      failed.push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  std::vector<WorkerId> killed;
  for (auto it = leases_.begin(); it != leases_.end();) {
    if (!uses(it->second.resources)) {
      ++it;
      continue;
    }
    FreeLease(it->second);
    lease_of_worker_.erase(it->second.worker_id);
    killed.push_back(it->second.worker_id);
    it = leases_.erase(it);
  }
  for (Pending& pending : failed) pending.reply(absl::FailedPreconditionError(error));
  for (const WorkerId& worker_id : killed) workers_->KillWorker(worker_id, kSystemError);
  if (!failed.empty() || !killed.empty()) {
    spdlog::info("placement group {}: {} queued requests failed, {} workers killed ({})",
                 group.Hex(), failed.size(), killed.size(), error);
    Changed();
  }
}

void LeaseManager::ReplaceWaiting(const PlaceFn& place) {
  bool changed = false;
  for (auto it = queue_.begin(); it != queue_.end();) {
    const bool feasible = total_.Contains(it->resources);
    // A request another raylet sent here stays if it can run here one day; one that cannot
    // (its node died while it was being sent: the owner queued it here) must move on.
    const bool stays = (feasible && (it->request.spilled() || it->for_actor)) ||
                       available_.Contains(it->resources);  // only waits for a worker
    if (stays || !place(it->request, it->reply)) {
      ++it;
      continue;
    }
    queued_.erase(it->key);
    it = queue_.erase(it);
    changed = true;
  }
  if (changed) Changed();
}

std::vector<proto::ResourceDemand> LeaseManager::Demands() const {
  std::map<std::map<std::string, int64_t>, proto::ResourceDemand> by_shape;
  for (const Pending& pending : queue_) {
    proto::ResourceDemand& demand = by_shape[pending.resources.units()];
    if (demand.num_ready_requests() == 0) {
      for (const auto& [name, value] : pending.resources.ToMap()) {
        (*demand.mutable_shape())[name] = value;
      }
      demand.set_infeasible(!total_.Contains(pending.resources));
    }
    demand.set_num_ready_requests(demand.num_ready_requests() + 1);
  }
  std::vector<proto::ResourceDemand> demands;
  for (auto& [shape, demand] : by_shape) demands.push_back(std::move(demand));
  return demands;
}

}  // namespace moray::raylet
