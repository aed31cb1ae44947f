// ActorScheduler: brings actors to life and keeps them there (docs/actors.md). For each actor it
// picks a node, leases a worker from that node's raylet over the framed channel (as a core worker
// would), pushes the creation task to the worker, and records the actor ALIVE at the worker's
// address. It watches the worker's connection: when it closes, the actor restarts on a fresh
// lease (within max_restarts) or becomes DEAD with the cause. Kill and ExitActor end up here too.
//
// Its connections to raylets and workers come from the GCS's one pool (shared with the health
// checks): connects never block the loop, a raylet that refuses is backed off, and the frames a
// worker sends back (the creation's TASK_REPLIES, ACTOR_EXITING) arrive through the pool's service.
//
//   ActorScheduler scheduler(&loop, &pool, &actors, &nodes, &jobs);
//   scheduler.AddMethods(&pool_service);        // what workers send back on pooled connections
//   scheduler.Schedule(creation_spec);          // after ActorManager::Register
//   scheduler.Kill(actor_id, /*no_restart=*/true, proto::ACTOR_DEATH_KILLED);
//   scheduler.OnActorChanged(info);             // from the ActorManager listener
//
// Resources: the creation's resources are leased; unless the actor asked for them explicitly
// (ActorCreationSpec::hold_resources) the lease's resources are released once the actor is alive
// while the worker stays dedicated to it (RETURN_WORKER with keep_worker).
//
// Thread model: the given event loop's thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/id.h"
#include "gcs/actor_manager.h"
#include "gcs/job_manager.h"
#include "gcs/node_manager.h"
#include "raylet.pb.h"
#include "rpc/channel.h"
#include "rpc/connection_pool.h"
#include "rpc/event_loop.h"
#include "rpc/service.h"
#include "scheduling/policy.h"
#include "worker.pb.h"

namespace moray::gcs {

class ActorScheduler {
 public:
  // Everything must outlive the scheduler. `pool` belongs to `loop`.
  ActorScheduler(rpc::EventLoop* loop, rpc::ConnectionPool* pool, ActorManager* actors,
                 NodeManager* nodes, JobManager* jobs);
  ~ActorScheduler();

  // Adds TASK_REPLIES and ACTOR_EXITING (from an actor's worker) to the service of `pool`.
  void AddMethods(rpc::Service* pool_service);

  // Starts creating the registered actor `spec.actor_id()` (an ACTOR_CREATION_TASK).
  void Schedule(proto::TaskSpec spec);
  // Kills the actor: DEAD with `reason` (no_restart), or its worker exits and it restarts if it
  // has restarts left. No effect on a dead or unknown actor.
  void Kill(const ActorId& actor_id, bool no_restart, proto::ActorDeathReason reason);
  // The actors created in placement group `group` die (no restart): "The actor is dead because
  // its <reason>." — reason e.g. "placement group <hex> was removed".
  void EndGroupActors(const PlacementGroupId& group, const std::string& reason);
  // Follows the table: a DEAD actor's worker is told to exit and its pending lease is withdrawn.
  void OnActorChanged(const proto::ActorInfo& info);
  // Stops acting on anything (before the loop stops; the pool closes the connections).
  void Shutdown();

 private:
  struct Record {
    proto::TaskSpec spec;  // the creation task
    int64_t lease_id = 0;  // the lease requested or held for this actor; 0: none
    bool lease_granted = false;
    std::shared_ptr<rpc::Connection> raylet;  // where the lease was requested
    std::shared_ptr<rpc::Connection> worker;  // the actor's worker, once leased (pooled)
    rpc::Address worker_address;
    int worker_pid = 0;
    std::string restart_reason;  // set by Kill(no_restart=false): why the worker goes away
    int creation_attempts = 0;   // workers lost before the factory finished
    bool dead = false;
  };

  void Place(const ActorId& actor_id);
  void RetryLater(const ActorId& actor_id);
  void OnLeaseReply(const ActorId& actor_id, int64_t lease_id,
                    const std::shared_ptr<rpc::Connection>& raylet, absl::Status status,
                    rpc::Frame&& frame);
  // The actor whose worker is at the other end of `conn`, or nullptr.
  Record* RecordOfWorker(const std::shared_ptr<rpc::Connection>& conn, ActorId* actor_id);
  void OnCreationReply(const ActorId& actor_id, const proto::TaskReply& reply);
  void OnWorkerClosed(const ActorId& actor_id, const std::shared_ptr<rpc::Connection>& conn);
  void MarkDead(const ActorId& actor_id, proto::ActorDeathReason reason,
                const std::string& message);
  // Frees the lease (returned to the raylet, or withdrawn if still pending).
  void ReleaseLease(Record& record, bool kill_worker);
  // The pooled connection to the raylet of `node`, or nullptr (backing off after a failure).
  std::shared_ptr<rpc::Connection> RayletConnection(const proto::NodeInfo& node);

  rpc::EventLoop* const loop_;
  rpc::ConnectionPool* const pool_;
  ActorManager* const actors_;
  NodeManager* const nodes_;
  JobManager* const jobs_;
  int64_t next_lease_id_ = 1;
  scheduling::SchedulingPolicy policy_;  // the cluster's one placement policy
  std::unordered_map<ActorId, Record> records_;
  // Actor workers by where they listen (a worker serves one actor).
  std::unordered_map<rpc::Endpoint, ActorId, absl::Hash<rpc::Endpoint>> workers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace moray::gcs
