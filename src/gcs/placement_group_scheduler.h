// PlacementGroupScheduler: places placement groups on the cluster and keeps them there
// (docs/scheduling.md). For each group it asks the cluster's placement policy
// (scheduling::PlaceBundles) over the GCS's view, then runs a two-phase commit with the chosen
// raylets: RAYLET_PREPARE_BUNDLES to each (all reserve, or the attempt is undone with
// RAYLET_RETURN_BUNDLES and retried with back-off), the placement recorded (PREPARED), then
// RAYLET_COMMIT_BUNDLES to each, and CREATED when every commit is answered. A group that cannot be
// placed stays PENDING with the reason (no room now / infeasible) and is tried again when a node
// joins, a report shows resources freed, or its back-off ends. Bundles on a dead node are placed
// again (RESCHEDULING) ahead of PENDING groups. Removal tells every raylet (their requests of the
// group fail, its workers die, its bundles come back) and ends the group's actors.
//
//   PlacementGroupScheduler pgs(&loop, &pool, &groups, &nodes, &actor_scheduler);
//   pgs.Schedule(id);                       // after PlacementGroupManager::Register
//   pgs.Wait(id, timeout, responder);       // answered at CREATED, REMOVED or the timeout
//   pgs.Remove(id, "removed by ...");       // after MarkRemoved
//   pgs.OnNodeDead(node);  pgs.RetryPending();
//
// Thread model: the given event loop's thread only (the GCS's actor loop, which holds the pool
// to the raylets); other threads Post to it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/id.h"
#include "gcs.pb.h"
#include "gcs/actor_scheduler.h"
#include "gcs/node_manager.h"
#include "gcs/placement_group_manager.h"
#include "raylet.pb.h"
#include "rpc/connection_pool.h"
#include "rpc/event_loop.h"
#include "rpc/service.h"
#include "scheduling/bundle_placement.h"

namespace moray::gcs {

struct PlacementGroupSchedulerOptions {
  absl::Duration min_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  // An attempt whose raylets have not all answered by then is undone and retried.
  absl::Duration attempt_timeout = absl::Seconds(10);
};

class PlacementGroupScheduler {
 public:
  // Everything must outlive the scheduler. `pool` belongs to `loop`.
  PlacementGroupScheduler(rpc::EventLoop* loop, rpc::ConnectionPool* pool,
                          PlacementGroupManager* groups, NodeManager* nodes, ActorScheduler* actors,
                          PlacementGroupSchedulerOptions options = {});
  ~PlacementGroupScheduler();

  // A registered group: placed now if it can be, else kept pending.
  void Schedule(const PlacementGroupId& id);
  // A group marked REMOVED: every alive raylet returns its bundles (and fails its work), its
  // actors die, its waiters are answered.
  void Remove(const PlacementGroupId& id, const std::string& reason);
  // Answers `respond` when the group is CREATED (ready) or REMOVED (not ready), or at `timeout`
  // (not ready) — never later. NotFound for an unknown group.
  void Wait(const PlacementGroupId& id, absl::Duration timeout,
            rpc::Responder<proto::WaitPlacementGroupReply> respond);
  // The node is DEAD: its bundles are placed again (their groups RESCHEDULING).
  void OnNodeDead(const NodeId& node_id);
  // Something may have room now (a node joined, resources were freed): pending groups are tried
  // again soon (several calls within a few milliseconds make one pass).
  void RetryPending();
  // Stops acting on anything (before the loop stops).
  void Shutdown();

 private:
  // One try at placing a group's unplaced bundles.
  struct Attempt {
    uint64_t id = 0;
    scheduling::BundleNodes placement;  // the bundles being placed
    std::map<NodeId, std::vector<proto::Bundle>> by_node;
    std::set<NodeId> awaiting;  // prepares (or commits) not answered yet
    std::set<NodeId> prepared;
    bool failed = false;
    bool committing = false;
    std::string why;  // the first failure
    uint64_t timer = 0;
  };
  struct Waiter {
    rpc::Responder<proto::WaitPlacementGroupReply> respond;
    uint64_t timer = 0;
  };

  void TryPlace(const PlacementGroupId& id);
  void Prepare(const PlacementGroupId& id);
  // Sends the attempt's bundles to each of its nodes (prepare or commit); replies go to OnReply.
  void SendPhase(const PlacementGroupId& id, uint16_t method);
  void OnReply(const PlacementGroupId& id, uint64_t attempt, const NodeId& node,
               const absl::Status& status, const proto::BundlesReply& reply);
  void Commit(const PlacementGroupId& id);   // every node prepared: record, then commit
  void Created(const PlacementGroupId& id);  // every node committed
  // Undoes an attempt (returns what was prepared) and keeps the group waiting with `why`.
  void Abandon(const PlacementGroupId& id, std::string why);  // by value: may be the attempt's
  void KeepWaiting(const PlacementGroupId& id, const absl::Status& why);
  void Backoff(const PlacementGroupId& id);
  void Answer(const proto::PlacementGroupInfo& info);
  // Sends `method` to the raylet of `node`; `done` gets its status and reply (or a failure).
  void CallRaylet(const NodeId& node, uint16_t method, const proto::BundlesRequest& request,
                  std::function<void(absl::Status, proto::BundlesReply)> done);
  // The GCS's view, with the bundles of attempts still preparing counted as taken.
  scheduling::ClusterView View() const;

  rpc::EventLoop* const loop_;
  rpc::ConnectionPool* const pool_;
  PlacementGroupManager* const groups_;
  NodeManager* const nodes_;
  ActorScheduler* const actors_;
  const PlacementGroupSchedulerOptions options_;
  uint64_t next_attempt_ = 1;
  std::map<PlacementGroupId, Attempt> attempts_;
  // Groups waiting to be placed: (rescheduling first, then creation order) -> id.
  std::map<std::pair<int, int64_t>, PlacementGroupId> waiting_;
  std::map<PlacementGroupId, std::pair<int, int64_t>> waiting_key_;
  std::map<PlacementGroupId, absl::Duration> backoff_;
  std::map<PlacementGroupId, uint64_t> backoff_timer_;
  std::multimap<PlacementGroupId, Waiter> waiters_;
  // Bundles of removed groups being returned, counted as free in the view until each node's
  // reply brings its fresh resources: (group, node) -> their resources.
  std::map<std::pair<PlacementGroupId, NodeId>, scheduling::ResourceSet> returning_;
  bool retry_posted_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace moray::gcs
