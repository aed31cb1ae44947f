#include "gcs/actor_scheduler.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/id_status.h"
#include "runtime_env/runtime_env.h"
#include "scheduling/cluster_view.h"
#include "scheduling/group_resources.h"
#include "spdlog/spdlog.h"

namespace moray::gcs {
namespace {

constexpr int kMaxCreationAttempts = 3;  // workers lost before the factory returned
constexpr absl::Duration kRetryDelay = absl::Milliseconds(500);
// What the actor's lease asks: its resources, or, in a placement group, the bundle's
// group-scoped ones (scheduling/group_resources.h).
absl::StatusOr<scheduling::ResourceSet> LeaseResources(const proto::TaskSpec& spec) {
  auto resources = scheduling::ResourceSet::FromMap(
      std::map<std::string, double>(spec.resources().begin(), spec.resources().end()));
  if (!resources.ok()) return resources.status();
  const auto& strategy = spec.scheduling_strategy();
  if (strategy.kind() != proto::SchedulingStrategy::PLACEMENT_GROUP) return resources;
  auto group = RequiredId<PlacementGroupId>(strategy.placement_group_id(), "placement_group_id");
  if (!group.ok()) return group.status();
  return scheduling::GroupScoped(*resources, *group, strategy.bundle_index());
}

}  // namespace

ActorScheduler::ActorScheduler(rpc::EventLoop* loop, rpc::ConnectionPool* pool,
                               ActorManager* actors, NodeManager* nodes, JobManager* jobs)
    : loop_(loop), pool_(pool), actors_(actors), nodes_(nodes), jobs_(jobs) {}

ActorScheduler::~ActorScheduler() { *alive_ = false; }

void ActorScheduler::AddMethods(rpc::Service* pool_service) {
  pool_service->OneWay<proto::TaskRepliesRequest>(
      proto::WORKER_TASK_REPLIES, rpc::kCalledPeer,
      [this, alive = alive_](const rpc::Peer& peer, proto::TaskRepliesRequest&& replies) {
        ActorId actor_id;
        if (!*alive || !RecordOfWorker(peer.conn, &actor_id) || replies.replies_size() == 0) {
          return;
        }
        OnCreationReply(actor_id, replies.replies(0));
      });
  pool_service->OneWay<proto::ActorExitingRequest>(
      proto::WORKER_ACTOR_EXITING, rpc::kCalledPeer,
      [this, alive = alive_](const rpc::Peer& peer, proto::ActorExitingRequest&& request) {
        ActorId actor_id;
        if (!*alive || !RecordOfWorker(peer.conn, &actor_id)) return;
        MarkDead(actor_id, proto::ACTOR_DEATH_EXITED,
                 request.reason().empty() ? "The actor exited (ray::ExitActor)."
                                          : request.reason());
      });
}

void ActorScheduler::Shutdown() {
  *alive_ = false;
  records_.clear();
  workers_.clear();
}

void ActorScheduler::Schedule(proto::TaskSpec spec) {
  const ActorId actor_id = ActorId::FromBinary(spec.actor_id());
  Record& record = records_[actor_id];
  record.spec = std::move(spec);
  Place(actor_id);
}

void ActorScheduler::RetryLater(const ActorId& actor_id) {
  loop_->RunAfter(kRetryDelay, [this, actor_id, alive = alive_] {
    if (*alive) Place(actor_id);
  });
}

void ActorScheduler::Place(const ActorId& actor_id) {
  auto it = records_.find(actor_id);
  if (it == records_.end() || it->second.dead) return;
  Record& record = it->second;
  if (record.lease_id != 0 || record.worker) return;  // placed already
  auto info = actors_->Get(actor_id);
  if (!info.ok() || info->state() == proto::DEAD) {
    records_.erase(it);
    return;
  }
  // The cluster's one policy (scheduling/policy.h) over the GCS's view; an actor in a
  // placement group asks its bundle's group-scoped resources.
  auto asked = LeaseResources(record.spec);
  if (!asked.ok()) {
    MarkDead(actor_id, proto::ACTOR_DEATH_CREATION_FAILED,
             absl::StrCat("The actor could not be placed: ", asked.status().message()));
    return;
  }
  const auto& strategy = record.spec.scheduling_strategy();
  const scheduling::ClusterView view =
      nodes_->ResourceView(strategy.kind() == proto::SchedulingStrategy::PLACEMENT_GROUP);
  const scheduling::Placement placement =
      policy_.Pick(view, {.resources = *asked, .strategy = strategy});
  if (!placement.error.empty() && strategy.kind() == proto::SchedulingStrategy::NODE_AFFINITY &&
      !strategy.soft()) {
    MarkDead(actor_id, proto::ACTOR_DEATH_CREATION_FAILED,
             absl::StrCat("The actor could not be placed: ", placement.error, "."));
    return;
  }
  const scheduling::NodeView* best = view.Find(placement.node);
  if (!best && !placement.feasible && placement.error.empty() && !view.empty()) {
    // No node can ever host it: it waits at one, where it shows as an infeasible demand.
    best = &view.nodes().begin()->second;
  }
  if (!best) {
    RetryLater(actor_id);  // no live node yet
    return;
  }
  auto raylet = RayletConnection(best->info);
  if (!raylet) {
    RetryLater(actor_id);
    return;
  }
  proto::RequestWorkerLeaseRequest request;
  record.lease_id = next_lease_id_++;
  record.lease_granted = false;
  record.raylet = raylet;
  request.set_lease_id(record.lease_id);
  request.set_job_id(record.spec.job_id());
  // The raylet queues it (DEFAULT), or answers with another node, which makes the GCS place the
  // actor again from a fresher view: the GCS's choice, strategy and all, stands.
  for (const auto& [name, amount] : asked->ToMap()) (*request.mutable_resources())[name] = amount;
  request.set_scheduling_key(absl::StrCat("actor ", record.spec.function_name()));
  request.set_actor_id(actor_id.Binary());
  request.set_detached_actor(record.spec.actor_creation().detached());
  if (record.spec.has_runtime_env()) *request.mutable_runtime_env() = record.spec.runtime_env();
  request.set_language(record.spec.language());
  if (auto jobs = jobs_->GetAllJobs(); jobs.ok()) {
    for (const auto& job : *jobs) {
      if (job.job_id() == record.spec.job_id()) *request.mutable_job() = job;
    }
  }
  raylet->Call(proto::RAYLET_REQUEST_WORKER_LEASE, request,
               [this, actor_id, lease_id = record.lease_id, raylet, alive = alive_](
                   absl::Status s, rpc::Frame&& frame) {
                 if (*alive) OnLeaseReply(actor_id, lease_id, raylet, s, std::move(frame));
               });
}

std::shared_ptr<rpc::Connection> ActorScheduler::RayletConnection(const proto::NodeInfo& node) {
  auto conn = pool_->Get(rpc::Endpoint{node.node_ip(), node.raylet_port()});
  if (!conn.ok()) {
    spdlog::warn("cannot reach the raylet of node {}: {}", ToHex(node.node_id()),
                 conn.status().ToString());
    return nullptr;
  }
  return *conn;
}

void ActorScheduler::OnLeaseReply(const ActorId& actor_id, int64_t lease_id,
                                  const std::shared_ptr<rpc::Connection>& raylet,
                                  absl::Status status, rpc::Frame&& frame) {
  auto it = records_.find(actor_id);
  proto::RequestWorkerLeaseReply reply;
  bool parsed = status.ok() && frame.ParseBody(&reply).ok();
  if (it == records_.end() || it->second.lease_id != lease_id || it->second.dead) {
    // Not wanted any more: hand a granted worker back (it never ran the factory).
    if (parsed && reply.granted()) {
      proto::ReturnWorkerRequest ret;
      ret.set_lease_id(lease_id);
      ret.set_disconnect_worker(true);
      raylet->Send(proto::RAYLET_RETURN_WORKER, ret);
    }
    return;
  }
  Record& record = it->second;
  if (!status.ok() && !rpc::IsConnectionFailure(*raylet, status)) {
    record.lease_id = 0;
    if (runtime_env::IsSetupFailure(status)) {
      MarkDead(actor_id, proto::ACTOR_DEATH_RUNTIME_ENV_FAILED,
               absl::StrCat("The actor could not be created: its ", status.message()));
      return;
    }
    MarkDead(actor_id, proto::ACTOR_DEATH_CREATION_FAILED,
             absl::StrCat("The actor could not be created: no worker could be leased for it: ",
                          status.message()));
    return;
  }
  if (!parsed) {
    // The raylet went away before answering: place the actor again.
    record.lease_id = 0;
    record.raylet.reset();
    RetryLater(actor_id);
    return;
  }
  if (!reply.granted()) {
    record.lease_id = 0;
    if (!reply.canceled()) RetryLater(actor_id);
    return;
  }
  record.lease_granted = true;
  const rpc::Endpoint endpoint = rpc::EndpointOf(reply.worker_address());
  auto worker = pool_->Get(endpoint);
  if (!worker.ok()) {
    spdlog::warn("cannot reach the worker leased for actor {}: {}", actor_id.Hex(),
                 worker.status().ToString());
    ReleaseLease(record, /*kill_worker=*/true);
    RetryLater(actor_id);
    return;
  }
  record.worker = *worker;
  record.worker_address = rpc::Address::FromProto(reply.worker_address());
  record.worker_pid = reply.worker_pid();
  workers_[endpoint] = actor_id;
  pool_->OnClose(
      endpoint, [this, actor_id, conn = record.worker, alive = alive_](const absl::Status&) {
        if (*alive) OnWorkerClosed(actor_id, conn);
      });
  if (!records_.contains(actor_id) || !record.worker) return;  // closed already
  auto info = actors_->Get(actor_id);
  proto::PushTasksRequest push;
  *push.mutable_gpu_ids() = reply.gpu_ids();  // the actor's for its whole life
  proto::TaskSpec* spec = push.add_tasks();
  *spec = record.spec;
  int restarts = info.ok() ? info->num_restarts() : 0;
  spec->mutable_actor_creation()->set_num_restarts(restarts);
  spec->set_attempt_number(restarts + record.creation_attempts);
  record.worker->Send(proto::WORKER_PUSH_TASKS, push);
}

ActorScheduler::Record* ActorScheduler::RecordOfWorker(const std::shared_ptr<rpc::Connection>& conn,
                                                       ActorId* actor_id) {
  auto endpoint = rpc::Endpoint::Parse(conn->peer());
  if (!endpoint.ok()) return nullptr;
  auto worker = workers_.find(*endpoint);
  if (worker == workers_.end()) return nullptr;
  auto it = records_.find(worker->second);
  if (it == records_.end() || it->second.worker != conn) return nullptr;
  *actor_id = it->first;
  return &it->second;
}

void ActorScheduler::OnCreationReply(const ActorId& actor_id, const proto::TaskReply& reply) {
  Record& record = records_.at(actor_id);
  const proto::ErrorInfo* error = nullptr;
  if (reply.error().type() != proto::ERROR_NONE) error = &reply.error();
  if (!error && reply.returns_size() > 0 && reply.returns(0).error().type() != proto::ERROR_NONE) {
    error = &reply.returns(0).error();
  }
  if (error) {
    std::string message = error->type() == proto::ACTOR_DIED
                              ? error->message()
                              : absl::StrCat("The actor's creation failed: ", error->message());
    MarkDead(actor_id,
             error->type() == proto::ACTOR_DIED ? proto::ACTOR_DEATH_EXITED
                                                : proto::ACTOR_DEATH_CREATION_FAILED,
             message);
    return;
  }
  if (!record.spec.actor_creation().hold_resources() && record.lease_granted && record.raylet) {
    // The resources only scheduled the creation: free them, keep the worker for the actor.
    proto::ReturnWorkerRequest ret;
    ret.set_lease_id(record.lease_id);
    ret.set_keep_worker(true);
    record.raylet->Send(proto::RAYLET_RETURN_WORKER, ret);
    record.lease_id = 0;
    record.lease_granted = false;
  }
  record.creation_attempts = 0;
  proto::UpdateActorRequest update;
  update.set_actor_id(actor_id.Binary());
  update.set_state(proto::ALIVE);
  record.worker_address.ToProto(update.mutable_address());
  update.set_pid(record.worker_pid);
  auto updated = actors_->Update(update);
  if (!updated.ok()) {
    // Killed meanwhile (DEAD cannot become ALIVE): OnActorChanged has told the worker to exit.
    spdlog::info("actor {} finished creation but cannot become ALIVE: {}", actor_id.Hex(),
                 updated.status().ToString());
  }
}

void ActorScheduler::OnWorkerClosed(const ActorId& actor_id,
                                    const std::shared_ptr<rpc::Connection>& conn) {
  auto it = records_.find(actor_id);
  if (it == records_.end() || it->second.worker != conn) return;
  Record& record = it->second;
  record.worker.reset();
  if (auto w = workers_.find(record.worker_address.endpoint);
      w != workers_.end() && w->second == actor_id) {
    workers_.erase(w);
  }
  // A lease still held goes back marked broken: the connection may have closed with the process
  // still running (a dropped network, a refused handshake), and the raylet must kill it and free
  // its resources. If the process did exit, the raylet has freed the lease already and ignores
  // this.
  ReleaseLease(record, /*kill_worker=*/true);
  record.raylet.reset();
  auto info = actors_->Get(actor_id);
  if (!info.ok() || info->state() == proto::DEAD || record.dead) {
    records_.erase(it);
    return;
  }
  std::string why = record.restart_reason.empty()
                        ? absl::StrCat("The actor's worker process (pid ", record.worker_pid,
                                       ") died unexpectedly")
                        : record.restart_reason;
  record.restart_reason.clear();
  if (info->state() != proto::ALIVE) {
    // Lost before the factory returned: try another worker a few times.
    if (++record.creation_attempts >= kMaxCreationAttempts) {
      MarkDead(actor_id, proto::ACTOR_DEATH_WORKER_DIED,
               absl::StrCat(why, " while creating the actor, ", record.creation_attempts,
                            " times."));
      return;
    }
    Place(actor_id);
    return;
  }
  bool can_restart = info->max_restarts() < 0 || info->num_restarts() < info->max_restarts();
  if (!can_restart) {
    MarkDead(actor_id, proto::ACTOR_DEATH_WORKER_DIED,
             absl::StrCat(why, ", and the actor has no restarts left (max_restarts=",
                          info->max_restarts(), ")."));
    return;
  }
  proto::UpdateActorRequest update;
  update.set_actor_id(actor_id.Binary());
  update.set_state(proto::RESTARTING);
  if (auto s = actors_->Update(update); !s.ok()) {
    spdlog::warn("cannot restart actor {}: {}", actor_id.Hex(), s.status().ToString());
    return;
  }
  spdlog::info("actor {} restarting: {}", actor_id.Hex(), why);
  Place(actor_id);
}

void ActorScheduler::Kill(const ActorId& actor_id, bool no_restart,
                          proto::ActorDeathReason reason) {
  auto info = actors_->Get(actor_id);
  if (!info.ok() || info->state() == proto::DEAD) return;
  if (reason == proto::ACTOR_DEATH_OUT_OF_SCOPE && info->is_detached()) return;
  std::string message =
      reason == proto::ACTOR_DEATH_OUT_OF_SCOPE
          ? "The actor is dead because all references to it were removed (its handles went out "
            "of scope)."
          : "The actor was killed (ActorHandle::Kill).";
  if (no_restart) {
    MarkDead(actor_id, reason, message);
    return;
  }
  auto it = records_.find(actor_id);
  if (it == records_.end() || !it->second.worker) return;  // not running: nothing to restart
  it->second.restart_reason = "The actor was killed (ActorHandle::Kill(no_restart=false))";
  proto::ExitWorkerRequest exit;
  exit.set_reason(it->second.restart_reason);
  it->second.worker->Send(proto::WORKER_EXIT, exit);
}

void ActorScheduler::EndGroupActors(const PlacementGroupId& group, const std::string& reason) {
  std::vector<ActorId> doomed;
  for (const auto& [actor_id, record] : records_) {
    const auto& strategy = record.spec.scheduling_strategy();
    if (!record.dead && strategy.kind() == proto::SchedulingStrategy::PLACEMENT_GROUP &&
        PlacementGroupId::FromBinary(strategy.placement_group_id()) == group) {
      doomed.push_back(actor_id);
    }
  }
  for (const ActorId& actor_id : doomed) {
    MarkDead(actor_id, proto::ACTOR_DEATH_KILLED,
             absl::StrCat("The actor is dead because its ", reason, "."));
  }
}

void ActorScheduler::MarkDead(const ActorId& actor_id, proto::ActorDeathReason reason,
                              const std::string& message) {
  proto::UpdateActorRequest update;
  update.set_actor_id(actor_id.Binary());
  update.set_state(proto::DEAD);
  update.mutable_death_cause()->set_reason(reason);
  update.mutable_death_cause()->set_message(message);
  auto updated = actors_->Update(update);
  if (!updated.ok()) {
    spdlog::debug("actor {}: {}", actor_id.Hex(), updated.status().ToString());
    return;
  }
  OnActorChanged(*updated);  // act now; the listener's later call finds nothing left to do
}

void ActorScheduler::OnActorChanged(const proto::ActorInfo& info) {
  if (info.state() != proto::DEAD) return;
  auto it = records_.find(ActorId::FromBinary(info.actor_id()));
  if (it == records_.end() || it->second.dead) return;
  Record& record = it->second;
  record.dead = true;
  if (record.worker) {
    proto::ExitWorkerRequest exit;
    exit.set_reason(info.death_cause().message());
    record.worker->Send(proto::WORKER_EXIT, exit);
    // The record goes when the worker's connection closes.
  } else {
    ReleaseLease(record, /*kill_worker=*/true);
    records_.erase(it);
  }
}

void ActorScheduler::ReleaseLease(Record& record, bool kill_worker) {
  if (record.lease_id == 0 || !record.raylet) return;
  if (record.lease_granted) {
    proto::ReturnWorkerRequest ret;
    ret.set_lease_id(record.lease_id);
    ret.set_disconnect_worker(kill_worker);
    record.raylet->Send(proto::RAYLET_RETURN_WORKER, ret);
  } else {
    proto::CancelWorkerLeaseRequest cancel;
    cancel.set_lease_id(record.lease_id);
    record.raylet->Send(proto::RAYLET_CANCEL_WORKER_LEASE, cancel);
  }
  record.lease_id = 0;
  record.lease_granted = false;
}

}  // namespace moray::gcs
