// LeaseManager: the node's scheduler. Queues worker-lease requests, grants them when their
// resources fit the node's available set and a worker of their job is idle, and accounts the
// resources of every granted lease until it is returned or its worker dies.
//
//   LeaseManager leases(total, &worker_pool, [&] { report_soon(); });
//   leases.RequestLease(client_id, request, [respond](const auto& reply) { respond(reply); });
//   ...
//   leases.ReturnWorker(client_id, lease_id, /*disconnect_worker=*/false);
//
// Workers are started for requests whose resources are free; for actor requests also ahead of
// their resources (each actor takes a worker for good, so none is started in vain), so an actor
// finds its worker ready when a CPU frees up.
//
// Policy: FIFO with backfill — queued requests are visited in arrival order and each one that can
// be granted now is granted, so a large request waiting for resources does not hold back smaller
// ones behind it. Requests that can never fit the node's *total* resources stay queued (not an
// error) and are reported as infeasible demands. A worker blocked in Get gives back its lease's
// CPU until it is unblocked (the node may then be oversubscribed, like Ray).
//
// GPUs: a lease holding GPU (plain or group-scoped) is granted only when the GpuPool can name
// devices for it; the reply carries their ids (`gpu_ids`), and they are the lease's until it
// ends (returned, its worker dies, its requester disconnects, its group ends). A blocked
// worker keeps them.
//
// Thread model: the raylet's event loop thread only. Reply functions run synchronously inside the
// call that decides them.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/id.h"
#include "raylet.pb.h"
#include "raylet/gpu_pool.h"
#include "raylet/worker_source.h"
#include "scheduling/resource_set.h"

namespace moray::raylet {

class LeaseManager {
 public:
  using ClientId = uint64_t;  // a requester connection, chosen by the caller
  // The reply (granted, or canceled), or why the request was rejected: InvalidArgument (bad
  // resources), AlreadyExists (the lease id is in use), FailedPrecondition (the job's workers
  // cannot be started; FailJobRequests).
  using ReplyFn = std::function<void(const absl::StatusOr<proto::RequestWorkerLeaseReply>&)>;

  // `workers` must outlive this object. `on_change` runs after any change of available
  // resources, queue or leases (for reporting). `gpu_ids` name the node's GPUs (as many as
  // `total` has GPU); empty: 0 .. GPU-1.
  LeaseManager(scheduling::ResourceSet total, WorkerSource* workers,
               std::function<void()> on_change, std::vector<int> gpu_ids = {});

  // Queues a request; `reply` runs exactly once: granted, rejected (a status), or canceled — unless
  // the requester disconnects first. Empty resources mean {CPU: 1}.
  void RequestLease(ClientId client, const proto::RequestWorkerLeaseRequest& request, ReplyFn reply);
  // Drops a queued request (its reply says canceled). No effect on a granted lease.
  void CancelLease(ClientId client, int64_t lease_id);
  // Ends a lease: frees its resources, and the worker goes back to the pool (or is killed; or,
  // with `keep_worker`, stays where it is: an actor's worker that needs no resources while alive).
  void ReturnWorker(ClientId client, int64_t lease_id, bool disconnect_worker,
                    bool keep_worker = false);
  // A leased worker waits in Get: its lease's CPU is released until NotifyUnblocked.
  void NotifyBlocked(const WorkerId& worker_id);
  void NotifyUnblocked(const WorkerId& worker_id);
  // The requester is gone: its queued requests are dropped and the workers it leased are killed.
  void OnClientDisconnected(ClientId client);
  // A worker died: the lease it held (if any) is freed.
  void OnWorkerDied(const WorkerId& worker_id);
  // Workers of `job_id`'s pool `pool_key` (WorkerPoolKey) cannot be started (or the env cannot be
  // set up): every queued request of that job and env fails with `error`.
  void FailJobRequests(const JobId& job_id, const std::string& pool_key, const std::string& error);
  // Tries to grant queued requests (after workers became idle or resources were freed).
  void Schedule();

  // Placement-group bundles (bundle_manager.h). Reserve takes `resources` out of the available
  // set if they are free now (false otherwise); Unreserve gives them back.
  bool Reserve(const scheduling::ResourceSet& resources);
  void Unreserve(const scheduling::ResourceSet& resources);
  // The node's total and available sets grow or shrink by `resources` (committed bundles).
  void AddCapacity(const scheduling::ResourceSet& resources);
  void RemoveCapacity(const scheduling::ResourceSet& resources);
  // Queued requests that ask resources of `group` fail with `error`; the workers of leases that
  // hold any are killed (their owners see them die) and the leases freed.
  void EndGroup(const PlacementGroupId& group, const std::string& error);

  // Queued requests that cannot be granted here now — this node can never run them, or their
  // resources are in use — for another look when the cluster view changes (another node may
  // have joined, or freed up): `place` returns true if it took the request elsewhere (its reply
  // then ran), false to keep it queued here. Requests another raylet sent here (`spilled`) and
  // actor requests (the GCS chose this node) stay unless this node can never run them.
  using PlaceFn = std::function<bool(const proto::RequestWorkerLeaseRequest& request,
                                     const ReplyFn& reply)>;
  void ReplaceWaiting(const PlaceFn& place);

  const scheduling::ResourceSet& total() const { return total_; }
  const scheduling::ResourceSet& available() const { return available_; }
  // Queued requests grouped by resource shape.
  std::vector<proto::ResourceDemand> Demands() const;
  size_t num_queued() const { return queue_.size(); }
  size_t num_leases() const { return leases_.size(); }

 private:
  using Key = std::pair<ClientId, int64_t>;  // (requester, lease id)
  struct Pending {
    Key key;
    JobId job_id;
    scheduling::ResourceSet resources;
    ReplyFn reply;
    bool for_actor = false;  // its worker will be the actor's for good
    proto::RequestWorkerLeaseRequest request;  // as asked (kept for spillback)
  };
  struct Lease {
    WorkerId worker_id;
    scheduling::ResourceSet resources;
    bool blocked = false;  // its CPU is currently given back
    GpuAssignment gpus;    // the devices it holds (kept while blocked)
  };

  // Whether `pending` could be granted now resource-wise (the worker aside).
  bool Fits(const Pending& pending, const scheduling::ResourceSet& unclaimed) const;
  void FreeLease(const Lease& lease);
  scheduling::ResourceSet BlockedPart(const Lease& lease) const;
  void Changed() { on_change_(); }

  scheduling::ResourceSet total_;
  scheduling::ResourceSet available_;
  GpuPool gpus_;
  WorkerSource* const workers_;  // not owned
  std::function<void()> on_change_;

  std::list<Pending> queue_;  // arrival order
  std::map<Key, std::list<Pending>::iterator> queued_;
  std::map<Key, Lease> leases_;
  absl::flat_hash_map<WorkerId, Key> lease_of_worker_;
  bool scheduling_ = false;   // Schedule() is on the stack
  bool reschedule_ = false;   // something changed while it was
};

}  // namespace moray::raylet
